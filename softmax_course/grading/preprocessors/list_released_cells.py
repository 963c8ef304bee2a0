"""A release lists its cells in each notebook's metadata, for the student's self-check.

`softmax-course check` runs where only the student's notebook is at hand. Each locked cell's
nbgrader checksum already shows an edit; a deleted cell leaves no trace. This preprocessor runs
last in nbgrader's generate_assignment (see nbgrader_config.py) and stores a copy of every
nbgrader cell's metadata (grade_id, flags, points, checksum) under the notebook metadata key
`softmax_course`, so that the self-check can name a released cell that is missing.
"""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from softmax_course.notebooks import METADATA_KEY, released_cells


class ListReleasedCells(NbGraderPreprocessor):
    """Stores the nbgrader metadata of every released cell in the notebook's metadata."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Add the list of released cells to `nb`'s metadata."""
        nb.metadata[METADATA_KEY] = {"released_cells": released_cells(nb)}
        return nb, resources
