"""What a student changed that they must not change, and the notebook put back as released.

`cell_changes(submitted, released)` compares a submission with the notebook students were given
(exercises/<a>/<a>.ipynb) and describes, one line each, every change to the locked cells, the
test cells, the nbgrader metadata, the order of the graded cells and the kernel. Answer cells
(`solution: true`) may be edited: that is the student's work, not a change. Cells are matched by
nbgrader grade_id; a cell whose nbgrader metadata was removed is recognised by its source (or,
for an edited one, by its place between the cells around it and a similar source).

`restore_from_release(submitted, released)` returns the submission with every released cell back
in place, in the released order: locked and test cells as released, answer cells with the
student's source under the released nbgrader metadata and cell type, the student's own cells
where they were (after the same cell), and nothing nbgrader's sanitize pass cannot digest. It
exists because nbgrader 0.9 (OverwriteCells with add_missing_cells=True, DeduplicateIds,
CheckCellMetadata) fails to grade a submission with a duplicated cell, a renamed or added
grade_id, a test cell whose grade/solution flags were flipped, or a deleted cell that followed a
locked markdown cell, and does not put back a deleted locked cell (the setup cell: every test
then fails) or a test cell moved above its answer. Use it as the first sanitize step:

    Autograde.sanitize_preprocessors = [RestoreFromRelease, ClearOutput, DeduplicateIds, ...]

Neither function raises on a malformed notebook: they do what they can with what is there.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict

METADATA_KEYS = ("grade", "solution", "locked", "task", "points", "cell_type", "checksum")
"""nbgrader metadata a student must not change (grade_id is how cells are matched)."""

RESTORED_NOTE = (
    "*This answer cell was missing from the submission; it was put back as released.*\n\n"
)
"""Opens a deleted written answer put back (so it goes to manual grading, not to 0 points)."""

_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_SIMILAR = 0.6  # difflib ratio above which an edited locked cell without metadata is recognised
_SIMILAR_ANSWER = 0.3
_NEARBY = 20  # cells compared with a released cell whose metadata was lost


@dataclass(frozen=True)
class Change:
    """One change to what the student must not change, described in one line."""

    text: str
    cell: str = ""  # grade_id of the released cell concerned, if any
    info: bool = False  # no effect on grading (kernelspec, cell ids, cells added by the student)
    kind: str = ""  # "deleted", "metadata removed", ...: like changes are summed up in one line

    def __str__(self) -> str:
        return self.text + (" (info)" if self.info else "")


# Reading cells without trusting them.


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part if isinstance(part, str) else str(part) for part in value)
    return ""


def _cells(nb: Any) -> list[dict]:
    cells = nb.get("cells") if isinstance(nb, dict) else None
    return [c if isinstance(c, dict) else {} for c in cells] if isinstance(cells, list) else []


def _nbgrader(cell: dict) -> dict:
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def _grade_id(cell: dict) -> str | None:
    value = _nbgrader(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def _source(cell: dict) -> str:
    return _text(cell.get("source"))


def _type(cell: dict) -> str:
    kind = cell.get("cell_type")
    return kind if isinstance(kind, str) else "unknown"


def _role(meta: dict) -> str:
    """Return "answer", "test", "task", "locked" or "" (a cell nbgrader does not protect)."""
    if meta.get("solution") is True:
        return "answer"
    if meta.get("grade") is True:
        return "test"
    if meta.get("task") is True:
        return "task"
    if meta.get("locked") is True:
        return "locked"
    return ""


def _similarity(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if max(len(a), len(b)) > 5_000:  # ratio() is quadratic: an upper bound is enough here
        return matcher.quick_ratio()
    return matcher.ratio()


# Matching submitted cells to released cells.


@dataclass
class _Released:
    index: int
    cell: dict
    grade_id: str
    role: str
    copies: list[int] = field(default_factory=list)  # submitted cells with this grade_id
    primary: int | None = None  # the submitted cell that stands for it
    how: str = ""  # "id", "source" (metadata removed), "place" (removed and edited), "renamed"

    @property
    def protected(self) -> bool:
        """Return True when the student may not change the cell's source."""
        return self.role in ("test", "task", "locked")


@dataclass
class _Matching:
    released: list[_Released]
    submitted: list[dict]
    owner: dict[int, _Released]  # submitted index -> the released cell it stands for or copies
    foreign: list[int]  # submitted cells with a grade_id that is not in the release
    added: list[int]  # submitted cells the student added


def _match(submitted: Any, released: Any) -> _Matching:
    sub = _cells(submitted)
    rel = _released_cells(released)
    owner, loose = _match_by_id(rel, sub)
    _match_by_source(rel, sub, owner, loose)
    _match_by_place(rel, sub, owner, loose)
    foreign = [i for i in loose if i not in owner and _grade_id(sub[i])]
    added = [i for i in loose if i not in owner and not _grade_id(sub[i])]
    return _Matching(rel, sub, owner, foreign, added)


def _released_cells(released: Any) -> list[_Released]:
    """Return the released cells with a grade_id, in order (the first of a duplicated id)."""
    by_id: dict[str, _Released] = {}
    for index, cell in enumerate(_cells(released)):
        grade_id = _grade_id(cell)
        if grade_id and grade_id not in by_id:
            by_id[grade_id] = _Released(index, cell, grade_id, _role(_nbgrader(cell)))
    return list(by_id.values())


def _match_by_id(rel: list[_Released], sub: list[dict]) -> tuple[dict[int, _Released], list[int]]:
    """Match submitted cells by grade_id; return the owners and the cells left loose."""
    by_id = {r.grade_id: r for r in rel}
    owner: dict[int, _Released] = {}
    loose: list[int] = []  # no grade_id, or one the release does not have
    for index, cell in enumerate(sub):
        grade_id = _grade_id(cell)
        if grade_id in by_id:
            by_id[grade_id].copies.append(index)
            owner[index] = by_id[grade_id]
        else:
            loose.append(index)
    for r in rel:
        if r.copies:  # nbgrader's DeduplicateIds keeps the last copy
            r.primary, r.how = r.copies[-1], "id"
    return owner, loose


def _match_by_source(
    rel: list[_Released], sub: list[dict], owner: dict[int, _Released], loose: list[int]
) -> None:
    """Match released cells still unmatched to loose cells with the same source (metadata lost)."""
    for r in rel:
        source = _source(r.cell).strip()
        if r.primary is None and source:
            for index in loose:
                if index not in owner and _source(sub[index]).strip() == source:
                    r.primary, r.how = index, "renamed" if _grade_id(sub[index]) else "source"
                    owner[index] = r
                    break


def _match_by_place(
    rel: list[_Released], sub: list[dict], owner: dict[int, _Released], loose: list[int]
) -> None:
    """Match released cells still unmatched to a similar loose cell in their place (edited too)."""
    for position, r in enumerate(rel):
        if r.primary is None and r.role:
            before = [x.primary for x in rel[:position] if x.primary is not None]
            after = [x.primary for x in rel[position + 1 :] if x.primary is not None]
            low, high = (before[-1] if before else -1), (after[0] if after else len(sub))
            candidates = [i for i in loose if i not in owner and low < i < high]
            found = _in_place(r, sub, candidates[:_NEARBY])
            if found is not None:
                r.primary = found
                r.how = "renamed" if _grade_id(sub[found]) else "place"
                owner[found] = r


def _in_place(r: _Released, sub: list[dict], candidates: list[int]) -> int | None:
    """Return the candidate that is released cell `r` with its metadata lost, if one is."""
    source = _source(r.cell)
    scored = [(_similarity(source, _source(sub[i])), i) for i in candidates]
    if r.protected:
        best = max(scored, default=(0.0, None))
        return best[1] if best[0] >= _SIMILAR else None
    same_type = [(score, i) for score, i in scored if _type(sub[i]) == _type(r.cell)]
    best = max(same_type, default=(0.0, None))
    return best[1] if best[0] >= _SIMILAR_ANSWER or len(same_type) == 1 else None


# Describing the changes.


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _describe_edit(old: str, new: str, role: str) -> str:
    what = "test " if role == "test" else ""
    short = new.strip()
    if not short:
        return f"{what}emptied" if what else "emptied"
    if "\n" not in short and len(short) <= 40:
        return f"{what}replaced by `{short}`"
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    parts = [f"{_plural(added, 'line')} added"] if added else []
    parts += [f"{_plural(removed, 'line') if not added else removed} removed"] if removed else []
    return ", ".join(parts) or "blank space changed"


def _value(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _same(a: Any, b: Any) -> bool:
    try:
        return a == b or float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _metadata_changes(released: dict, submitted: dict) -> list[str]:
    changes = []
    for key in METADATA_KEYS:
        old, new = released.get(key), submitted.get(key)
        if key == "checksum" and old is None:
            continue
        if not _same(old, new):
            changes.append(
                "checksum changed" if key == "checksum" else f"{key} {_value(old)} → {_value(new)}"
            )
    return changes


def _order_changes(matching: _Matching) -> list[Change]:
    placed = [r for r in matching.released if r.primary is not None and r.role]
    by_position = sorted(placed, key=lambda r: r.primary or 0)
    # The longest run already in released order stays; every other cell was moved.
    ranks = [r.index for r in by_position]
    best: list[list[int]] = []
    for i, rank in enumerate(ranks):
        chains = [chain for j, chain in enumerate(best) if ranks[j] < rank]
        best.append([*max(chains, key=len, default=[]), i])
    stay = set(max(best, key=len, default=[]))
    changes = []
    for i, moved in enumerate(by_position):
        if i in stay:
            continue
        crossed = [
            by_position[j]
            for j in stay
            if (j < i) != (by_position[j].index < moved.index)  # their order was swapped
        ]
        if len(crossed) == 1:
            first, second = sorted((moved, crossed[0]), key=lambda r: r.index)
            text = f"cells {first.grade_id} and {second.grade_id} are in a different order"
        else:
            before = by_position[i - 1].grade_id if i else ""
            after = by_position[i + 1].grade_id if i + 1 < len(by_position) else ""
            where = (
                f"now between {before} and {after}"
                if before and after
                else f"now after {before}"
                if before
                else f"now before {after}"
            )
            text = f"cell {moved.grade_id} was moved ({where})"
        changes.append(Change(text, moved.grade_id))
    return changes


def _cell_changes(r: _Released, matching: _Matching) -> Iterable[Change]:
    name, role = r.grade_id, r.role
    if r.primary is None:
        yield Change(f"{role} cell {name} was deleted", name, kind="deleted")
        return
    cell = matching.submitted[r.primary]
    if len(r.copies) > 1:
        times = "twice" if len(r.copies) == 2 else f"{len(r.copies)} times"
        yield Change(f"cell {name} appears {times}", name)
    if r.how in ("source", "place"):
        yield Change(
            f"nbgrader metadata of {role} cell {name} was removed", name, kind="metadata removed"
        )
    elif r.how == "renamed":
        yield Change(f"grade_id of {role} cell {name} was changed to '{_grade_id(cell)}'", name)
    if _type(cell) != _type(r.cell):
        yield Change(f"{role} cell {name} was turned into {_type(cell)}", name)
    if r.protected and _source(cell) != _source(r.cell):
        edit = _describe_edit(_source(r.cell), _source(cell), role)
        yield Change(f"locked cell {name} was edited ({edit})", name)
    if r.how in ("id", "renamed"):
        changed = _metadata_changes(_nbgrader(r.cell), _nbgrader(cell))
        if changed:
            yield Change(
                f"nbgrader metadata of cell {name} was changed ({', '.join(changed)})", name
            )


def _summed_up(changes: list[Change], most: int = 3) -> list[Change]:
    """Return `changes` with more than `most` of one kind said in one line, where the first was."""
    kinds: dict[str, list[Change]] = {}
    for change in changes:
        if change.kind:
            kinds.setdefault(change.kind, []).append(change)
    result = []
    for change in changes:
        same = kinds.get(change.kind, [])
        if len(same) <= most:
            result.append(change)
        elif change is same[0]:
            names = ", ".join(c.cell for c in same)
            verb = "were deleted" if change.kind == "deleted" else "lost their nbgrader metadata"
            result.append(Change(f"{len(same)} cells {verb}: {names}", kind=change.kind))
    return result


def _id_changes(matching: _Matching) -> list[Change]:
    moved = []
    for r in matching.released:
        if r.primary is not None:
            old, new = r.cell.get("id"), matching.submitted[r.primary].get("id")
            if old and old != new:
                moved.append((r.grade_id, old, new))
    if len(moved) > 3:
        return [Change(f"cell ids of {len(moved)} cells changed", info=True)]
    return [
        Change(f"cell id of {name} changed ({old} → {new or 'none'})", name, info=True)
        for name, old, new in moved
    ]


def _kernel(nb: Any) -> str:
    metadata = nb.get("metadata") if isinstance(nb, dict) else None
    spec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) else ""


def find_changes(submitted: NotebookNode, released: NotebookNode) -> list[Change]:
    """Return every change to what the student must not change, in released cell order."""
    changes: list[Change] = []
    try:
        kernel = _kernel(submitted)
        if kernel != _kernel(released):
            changes.append(Change(f"kernelspec changed to {kernel or 'none'}", info=True))
        matching = _match(submitted, released)
        per_cell = [c for r in matching.released if r.role for c in _cell_changes(r, matching)]
        changes.extend(_summed_up(per_cell))
        changes.extend(_order_changes(matching))
        for index in matching.foreign:
            meta = _nbgrader(matching.submitted[index])
            points = f", {_value(meta.get('points'))} points" if meta.get("grade") else ""
            changes.append(
                Change(
                    f"a cell with grade_id '{_grade_id(matching.submitted[index])}', which is not "
                    f"in the release, was added{points}"
                )
            )
        changes.extend(_id_changes(matching))
        released_plain = {_source(c).strip() for c in _cells(released) if _grade_id(c) is None}
        added = [
            i
            for i in matching.added
            if _source(matching.submitted[i]).strip() not in released_plain
        ]
        if added:
            changes.append(Change(f"added {_plural(len(added), 'cell')}", info=True))
    except Exception as exc:  # a notebook malformed beyond what the readers above expect
        changes.append(
            Change(f"the notebooks could not be compared completely ({type(exc).__name__}: {exc})")
        )
    return changes


def cell_changes(submitted: NotebookNode, released: NotebookNode) -> list[str]:
    """Return one line per change to what the student must not change ([] when none)."""
    return [str(change) for change in find_changes(submitted, released)]


def graded_changes(submitted: NotebookNode, released: NotebookNode) -> list[str]:
    """Return one line per change that grading undoes (changes marked info left out)."""
    return [change.text for change in find_changes(submitted, released) if not change.info]


# Putting the notebook back as released.


def _as_type(cell: dict, cell_type: str) -> dict:
    """Return `cell` as a valid cell of `cell_type` (nbgrader's OverwriteCells does the same)."""
    if _type(cell) == cell_type:
        return cell
    cell["cell_type"] = cell_type
    if cell_type == "code":
        cell.pop("attachments", None)
        cell["outputs"], cell["execution_count"] = [], None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    return cell


def _student_cell(cell: dict) -> dict:
    """Return a cell the student added, without nbgrader metadata (it grades nothing)."""
    cell = copy.deepcopy(cell)
    metadata = cell.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("nbgrader", None)
    else:
        cell["metadata"] = {}
    if not isinstance(cell.get("cell_type"), str) or cell["cell_type"] not in (
        "code",
        "markdown",
        "raw",
    ):
        cell = {"cell_type": "raw", "metadata": cell["metadata"], "source": _source(cell)}
    cell["source"] = _source(cell)
    if cell["cell_type"] == "code":
        return _code(cell)
    cell.pop("outputs", None)
    cell.pop("execution_count", None)
    return cell


def _code(cell: dict) -> dict:
    if not isinstance(cell.get("outputs"), list):
        cell["outputs"] = []
    cell.setdefault("execution_count", None)
    return cell


def restore_from_release(submitted: NotebookNode, released: NotebookNode) -> NotebookNode:
    """Return the submission with every released cell back, as released, in released order."""
    matching = _match(submitted, released)
    if not matching.released:  # not a release (no nbgrader cells): nothing to go by
        return nbformat.from_dict(
            copy.deepcopy(dict(submitted) if isinstance(submitted, dict) else {})
        )
    after: dict[int, list[dict]] = {}  # cells the student added, by the released cell before
    anchor = -1
    for index, cell in enumerate(matching.submitted):
        r = matching.owner.get(index)
        if r is not None and r.primary == index:
            anchor = r.index
            continue
        if r is not None and r.protected and _source(cell) == _source(r.cell):
            continue  # a plain duplicate of a locked cell
        after.setdefault(anchor, []).append(_student_cell(cell))
    students = {id(cell) for cells in after.values() for cell in cells}
    cells: list[dict] = list(after.get(-1, []))
    for r in matching.released:
        if r.primary is not None and r.role == "answer":
            cell = copy.deepcopy(matching.submitted[r.primary])
            if not isinstance(cell.get("metadata"), dict):
                cell["metadata"] = {}
            cell["metadata"]["nbgrader"] = copy.deepcopy(_nbgrader(r.cell))
            cell["source"] = _source(cell)
            if "id" in r.cell:
                cell["id"] = r.cell["id"]
            cell = _as_type(cell, _type(r.cell))
            cells.append(_code(cell) if _type(r.cell) == "code" else cell)
        elif r.primary is not None or r.protected:
            cells.append(copy.deepcopy(r.cell))
        elif r.role == "answer" and _nbgrader(r.cell).get("grade") is True:
            # A deleted written answer: back, but not as the untouched stub nbgrader scores 0.
            cell = copy.deepcopy(r.cell)
            cell["source"] = RESTORED_NOTE + _source(cell)
            cells.append(cell)
        # A deleted code answer is not put back: its stub would replace a function the student
        # may have written in a cell of their own.
        cells.extend(after.get(r.index, []))
    metadata = submitted.get("metadata") if isinstance(submitted, dict) else None
    metadata = copy.deepcopy(metadata) if isinstance(metadata, dict) else {}
    released_metadata = released.get("metadata") if isinstance(released, dict) else None
    spec = released_metadata.get("kernelspec") if isinstance(released_metadata, dict) else None
    if isinstance(spec, dict):
        metadata["kernelspec"] = copy.deepcopy(spec)
    # The released cells keep their ids; a student's cell whose id is taken gets a new one.
    order = sorted(range(len(cells)), key=lambda i: id(cells[i]) in students)
    _unique_ids([cells[i] for i in order])
    return nbformat.from_dict(
        {
            "cells": cells,
            "metadata": metadata,
            "nbformat": 4,
            "nbformat_minor": max(_minor(submitted), 5),
        }
    )


def _minor(nb: Any) -> int:
    minor = nb.get("nbformat_minor") if isinstance(nb, dict) else None
    return minor if isinstance(minor, int) else 5


def _unique_ids(cells: list[dict]) -> None:
    seen: set[str] = set()
    for cell in cells:
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or cell_id in seen:
            cell_id = nbformat.v4.nbbase.random_cell_id()
            while cell_id in seen:
                cell_id = nbformat.v4.nbbase.random_cell_id()
            cell["id"] = cell_id
        seen.add(cell_id)


class RestoreFromRelease(NbGraderPreprocessor):
    """Sanitize step: put a submission back as released, then let nbgrader check it."""

    released = Dict(
        help="Release notebooks by name (read once per run); others are read from the release "
        "folder"
    )

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Restore `nb` from its release notebook (exercises/<assignment>/<notebook>.ipynb)."""
        info = resources.get("nbgrader", {})
        released = self.released.get(info.get("notebook", ""))
        if released is None:
            coursedir = CourseDirectory(config=self.config)
            folder = coursedir.format_path(
                coursedir.release_directory, ".", info.get("assignment", "")
            )
            try:
                released = nbformat.read(
                    Path(folder) / f"{info.get('notebook', '')}.ipynb", as_version=4
                )
            except Exception as exc:
                self.log.warning("Not restored from the release (%s: %s)", type(exc).__name__, exc)
                return nb, resources
        return restore_from_release(nb, released), resources
