"""nbgrader's check of the cells' nbgrader metadata, with its JSON schema compiled once.

nbgrader's CheckCellMetadata makes a new validator for every notebook, and checks the schema
itself again for every cell (`jsonschema.validate`): about 60 ms of a grading run's coordinator
per notebook, twice per submission. `CheckCellMetadataOnce` makes the same checks, in the same
order and with the same errors, with one validator for the whole process.
"""

from __future__ import annotations

import functools
import traceback

import jsonschema
from jsonschema.exceptions import best_match
from nbformat.notebooknode import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata


class _SchemaCompiledOnce(BaseMetadataValidator):
    """The per-cell schema check of nbgrader's BaseMetadataValidator, with a compiled schema."""

    def __init__(self) -> None:
        super().__init__()
        checker = jsonschema.validators.validator_for(self.schema)
        checker.check_schema(self.schema)
        self._checker = checker(self.schema)

    def validate_cell(self, cell: NotebookNode) -> None:
        """Check one cell's metadata against the schema (nbgrader's own errors otherwise)."""
        if "nbgrader" not in cell.metadata:
            return
        if cell.metadata["nbgrader"].get("schema_version", 0) != self.schema_version:
            super().validate_cell(cell)  # nbgrader's "too old" / "too new" errors
            return
        error = best_match(self._checker.iter_errors(cell.metadata["nbgrader"]))
        if error is not None:
            raise error


class _Validator(MetadataValidator, _SchemaCompiledOnce):
    """nbgrader's current MetadataValidator; its base check is `_SchemaCompiledOnce`'s."""


@functools.cache
def _validator() -> _Validator:
    return _Validator()


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's CheckCellMetadata, with one compiled validator for every notebook."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        """Raise ValidationError, logging why, when nbgrader's metadata is not valid."""
        try:
            _validator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            msg = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(msg)
            raise ValidationError(msg) from None
        return nb, resources
