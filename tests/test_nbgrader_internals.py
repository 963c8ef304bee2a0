"""nbgrader's private names that grading/nbgrader_internals.py relies on are still there.

A newer nbgrader that changes them fails here, naming that module, before any grade is wrong.
"""

from __future__ import annotations

import inspect

import nbgrader.api
import pytest
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter

from softmax_course.grading import nbgrader_internals
from softmax_course.grading.nbgrader_internals import PRIVATE_NAMES

MODULE = "softmax_course/grading/nbgrader_internals.py"


@pytest.mark.parametrize(
    ("owner", "name"),
    [(owner, name) for owner, names in PRIVATE_NAMES.items() for name in names],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_each_private_name_still_exists(owner: object, name: str) -> None:
    has = hasattr(owner, name) or name in inspect.getsource(owner)  # type: ignore[arg-type]
    assert has, f"nbgrader no longer has {owner!r}.{name}: update {MODULE}"


def test_autograde_still_switches_passes_with_the_sanitizing_flag() -> None:
    switching = inspect.getsource(Autograde._init_preprocessors)
    assert "self._sanitizing" in switching and "sanitize_preprocessors" in switching, (
        f"Autograde._init_preprocessors no longer chooses its pass by _sanitizing: update {MODULE}"
    )
    both = inspect.getsource(Autograde.convert_single_notebook)
    assert both.count("super(Autograde, self).convert_single_notebook") == 2, (
        f"Autograde.convert_single_notebook no longer runs two passes through BaseConverter: "
        f"update {MODULE}"
    )


def test_folders_are_still_properties_the_staged_passes_can_override() -> None:
    for name in ("_input_directory", "_output_directory"):
        assert isinstance(inspect.getattr_static(BaseConverter, name), property), (
            f"BaseConverter.{name} is no longer a property: update {MODULE}"
        )


def test_the_gradebook_still_opens_its_engine_through_nbgrader_api() -> None:
    opening = inspect.getsource(nbgrader.api.Gradebook.__init__)
    assert "create_engine(" in opening, (
        f"nbgrader's Gradebook no longer calls nbgrader.api.create_engine: update {MODULE}"
    )
    with nbgrader_internals.one_engine_per_database():
        assert nbgrader.api.create_engine("sqlite://") is nbgrader.api.create_engine("sqlite://")
