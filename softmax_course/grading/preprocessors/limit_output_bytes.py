"""Cap cell outputs by size in bytes, without changing any cell's grade.

nbgrader's LimitOutput counts lines only: one 100 MB `print` without a newline lands whole in the
autograded notebook, the gradebook's coordinator and the feedback page. `LimitOutputBytes` keeps
at most `max_bytes_per_output` bytes (UTF-8) of each output, `max_bytes_per_cell` of each cell and
`max_bytes_per_notebook` of the notebook, and says what it cut with a marker such as
"… [output truncated: 104,857,600 bytes, the limit is 100,000 bytes per output]".

What nbgrader grades is kept as it is (`nbgrader.utils.determine_grade` gives the same result
before and after): a stderr stream stays a stderr stream of the same name, an error stays an
error, and an execute_result's text/plain keeps the number nbgrader reads as partial credit
(a number padded to 100 MB is replaced by the same number, written short). Only stdout streams,
display_data outputs and outputs after a cell's first error, stderr and execute_result can be
removed when a cell or the notebook is over its budget; one stdout note then says so.

Per output type:
- stream: text cut at a UTF-8 character boundary, marker on its own line. Consecutive streams of
  the same name are merged first when they are over the limit together (as Jupyter shows them).
- error: ename and evalue cut; traceback keeps its first entries and its last one (the message).
- display_data / execute_result: text/plain cut with the marker; other mime types (HTML, images,
  JSON, ...) that do not fit are removed whole (half an image or half a page of HTML is worse
  than none) and the marker says which; large output metadata is dropped.

Use: as an nbgrader preprocessor on the worker, after Execute and IgnorePattern (IgnorePattern
must see a warnings-only stderr whole, or it would no longer drop it) and before LimitOutput
(which splits every stream into lines):

    WORKER_STEPS = (Execute, IgnorePattern, LimitOutputBytes, LimitOutput)

or per cell while executing (nbclient's `on_cell_executed` hook), so that a notebook's outputs
never pile up: `limiter.preprocess_cell(cell, resources, index)` with one `LimitOutputBytes` per
notebook (the notebook budget is per instance, reset by `preprocess`). A limit of -1 means none.
Markers fit within the limits of what they cut, so a second pass changes nothing, except where a
cell or the notebook ran out of budget (then it may reword a marker): apply it once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, TraitError, validate

MIN_LIMIT = 1_000
"""Smallest limit accepted (besides -1): room for a marker and a little text."""

NOTE_MIN = 200
"""Below this many bytes left, a removable output is removed instead of cut."""

ENAME_MAX = 200
"""Most bytes kept of an error's name, whatever the budget (the report quotes it)."""

_CHUNK = 1 << 20  # characters encoded at a time to count the bytes of a non-ASCII string
# A superset of what float() accepts: only such text is worth handing to float(), whose error
# message would otherwise repeat a 100 MB text.
_MAYBE_FLOAT = re.compile(r"[\s\d_.eE+-]+|\s*[+-]?(?i:inf|infinity|nan)\s*")


def nbytes(text: str) -> int:
    """Return the UTF-8 size of `text` in bytes (O(1) for ASCII; chunked, so no big copy)."""
    if text.isascii():
        return len(text)
    return sum(
        len(text[i : i + _CHUNK].encode("utf-8", "surrogatepass"))
        for i in range(0, len(text), _CHUNK)
    )


def clip(text: str, limit: int) -> str:
    """Return the longest prefix of `text` whose UTF-8 size is at most `limit` bytes."""
    if limit <= 0:
        return ""
    head = text[:limit]  # a character is at least one byte: the prefix is within these
    if head.isascii():
        return head
    encoded = head.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return head
    cut = limit
    while cut > 0 and (encoded[cut] & 0xC0) == 0x80:  # back to the start of a character
        cut -= 1
    return encoded[:cut].decode("utf-8", "surrogatepass")


def marker(size: int, limit: int, scope: str, what: str = "") -> str:
    """Return the note that replaces what was cut."""
    subject = f"{what} of {size:,} bytes removed" if what else f"{size:,} bytes"
    return f"… [output truncated: {subject}, the limit is {limit:,} bytes per {scope}]"


def _text(value: Any) -> str:
    """Return a multiline-string field (str, or list of str as in .ipynb files) as one str."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part if isinstance(part, str) else str(part) for part in value)
    return "" if value is None else str(value)


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return nbytes(value)
    if isinstance(value, list):
        try:  # str.isascii raises TypeError on anything but a str: C speed for a list of str
            if all(map(str.isascii, value)):
                return sum(map(len, value))
            return sum(map(nbytes, value))
        except TypeError:
            pass
    try:
        return len(json.dumps(value, default=str).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError, RecursionError):
        return len(repr(value))


def output_size(output: Any) -> int:
    """Return the bytes an output's content takes (its text, data, traceback and metadata)."""
    if not isinstance(output, dict):
        return 0
    kind = output.get("output_type")
    if kind == "stream":
        return _value_size(output.get("text", ""))
    if kind == "error":
        traceback = output.get("traceback")
        return (
            _value_size(output.get("ename", ""))
            + _value_size(output.get("evalue", ""))
            + (_value_size(traceback) if isinstance(traceback, list) else 0)
        )
    if kind in ("display_data", "execute_result"):
        data = output.get("data")
        size = sum(_value_size(v) for v in data.values()) if isinstance(data, dict) else 0
        metadata = output.get("metadata")
        return size + (_value_size(metadata) if metadata else 0)
    return _value_size(output)


def _clip_with_marker(text: str, size: int, limit: int, scope: str, allowance: int) -> str:
    note = marker(size, limit, scope)
    kept = clip(text, allowance - nbytes(note) - 1)
    return kept + ("" if not kept or kept.endswith("\n") else "\n") + note


def _clip_pieces(pieces: list[str], size: int, limit: int, scope: str, allowance: int) -> str:
    """Cut a stream made of several texts without joining more than what is kept."""
    note = marker(size, limit, scope)
    room = allowance - nbytes(note) - 1
    kept: list[str] = []
    for piece in pieces:
        part = clip(piece, room)
        kept.append(part)
        room -= nbytes(part)
        if len(part) < len(piece) or room <= 0:
            break
    text = "".join(kept)
    return text + ("" if not text or text.endswith("\n") else "\n") + note


def _plain_for_grade(value: Any, size: int, limit: int, scope: str, allowance: int) -> Any:
    """Cut an execute_result's text/plain so that nbgrader reads the same partial credit."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and _MAYBE_FLOAT.fullmatch(value):
        try:
            number = float(value)  # what nbgrader.utils.get_partial_grade reads
        except ValueError:
            pass
        else:
            return repr(number)  # float(repr(x)) == x: the same grade, in a few bytes
    # Not a number (or a list of several texts): nbgrader gives full points, as it will for
    # the cut text, which ends with the marker and so never reads as a number.
    return _clip_with_marker(_text(value), size, limit, scope, allowance)


@dataclass
class _Budget:
    """Bytes left in the cell and the notebook; which limit binds an output."""

    per_output: int
    cell_left: int
    cell_limit: int
    notebook_left: int
    notebook_limit: int

    def allowance(self) -> tuple[int, int, str]:
        """Return (bytes allowed, the limit that binds, its scope) for the next output."""
        options = [(self.per_output, self.per_output, "output")]
        if self.cell_limit >= 0:
            options.append((self.cell_left, self.cell_limit, "cell"))
        if self.notebook_limit >= 0:
            options.append((self.notebook_left, self.notebook_limit, "notebook"))
        options = [option for option in options if option[1] >= 0]
        if not options:
            return -1, -1, ""
        return min(options, key=lambda option: option[0])

    def spend(self, size: int) -> None:
        """Count `size` bytes kept."""
        self.cell_left -= size
        self.notebook_left -= size


def _note(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text + "\n")


def _cut_error(output: Mapping, size: int, limit: int, scope: str, allowance: int) -> NotebookNode:
    note = marker(size, limit, scope)
    ename = clip(_text(output.get("ename", "")), ENAME_MAX)
    room = allowance - nbytes(ename)
    evalue = _text(output.get("evalue", ""))
    if nbytes(evalue) > room // 2:
        evalue = _clip_with_marker(evalue, size, limit, scope, room // 2)
    room -= nbytes(evalue)
    raw = output.get("traceback")
    lines = raw if isinstance(raw, list) else []
    if _value_size(lines) <= room:
        traceback = [_text(line) for line in lines]
    elif room < 2 * NOTE_MIN or not lines:
        traceback = [note]
    else:
        last = _text(lines[-1])  # "AssertionError: <message>": the line that says what failed
        if nbytes(last) > room // 2:
            last = _clip_with_marker(last, size, limit, scope, room // 2)
        room -= nbytes(last) + nbytes(note)
        head = []
        for line in islice(lines, len(lines) - 1):  # stops at the first line that does not fit
            text = _text(line)
            if len(text) > room or nbytes(text) > room:
                break
            head.append(text)
            room -= nbytes(text)
        traceback = [*head, note, last]
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=traceback)


def _cut_bundle(
    output: Mapping, size: int, limit: int, scope: str, allowance: int
) -> list[NotebookNode]:
    kind = output.get("output_type")
    data = dict(output.get("data") or {}) if isinstance(output.get("data"), Mapping) else {}
    metadata = output.get("metadata") if isinstance(output.get("metadata"), Mapping) else {}
    room = max(allowance, 0)
    notes = []
    metadata_size = _value_size(metadata) if metadata else 0
    if metadata_size > room // 10:
        if metadata_size:
            notes.append(marker(metadata_size, limit, scope, "output metadata"))
        metadata = {}
    else:
        room -= metadata_size
    sizes = {mime: _value_size(value) for mime, value in data.items()}
    others = sorted((m for m in data if m != "text/plain"), key=lambda m: sizes[m])
    reserve = sum(nbytes(marker(sizes[m], limit, scope, m)) + 1 for m in others)
    room -= reserve  # room for the notes, so that the result fits its allowance
    if "text/plain" in data:
        if sizes["text/plain"] > room:
            plain, plain_size = data["text/plain"], sizes["text/plain"]
            data["text/plain"] = (
                _plain_for_grade(plain, plain_size, limit, scope, room)
                if kind == "execute_result"
                else _clip_with_marker(_text(plain), plain_size, limit, scope, room)
            )
        room -= _value_size(data["text/plain"])
    for mime in others:
        if sizes[mime] <= room:
            room -= sizes[mime]
        else:
            del data[mime]
            notes.append(marker(sizes[mime], limit, scope, mime))
    fields: dict[str, Any] = {"data": data, "metadata": metadata}
    if kind == "execute_result":
        fields["execution_count"] = output.get("execution_count")
        # text/plain carries the grade: notes about the rest go in a stdout stream after it.
        result = nbformat.from_dict({"output_type": kind, **fields})
        return [result, *([_note("\n".join(notes))] if notes else [])]
    if notes:
        plain = _text(data.get("text/plain", ""))
        data["text/plain"] = (plain + "\n" if plain and not plain.endswith("\n") else plain) + (
            "\n".join(notes)
        )
    return [nbformat.from_dict({"output_type": kind, **fields})]


def _groups(outputs: list[Any]) -> list[list[Any]]:
    """Split outputs into runs: consecutive streams of one name together, the rest alone."""
    groups: list[list[Any]] = []
    run: list[Any] = []
    run_name: Any = None
    for output in outputs:
        if type(output) is not dict and not isinstance(output, dict):
            name = None
        elif output.get("output_type") == "stream":
            name = ("stream", output.get("name"))
        else:
            name = None
        if name is not None and name == run_name:
            run.append(output)
            continue
        run = [output]
        run_name = name
        groups.append(run)
    return groups


def _limit_outputs(outputs: list[Any], budget: _Budget) -> list[Any]:
    """Return `outputs` cut to fit `budget` (spent as it goes), keeping what decides the grade."""
    result: list[Any] = []
    seen = {"decisive": False, "error": False, "stderr": False}
    dropped, dropped_bytes, drop_at, drop_limit, drop_scope = 0, 0, -1, 0, ""
    for group in _groups(outputs):
        output = group[0]
        if not isinstance(output, dict):
            result.append(output)
            continue
        kind = output.get("output_type")
        if len(group) > 1:  # a run of streams
            size = _value_size([member.get("text", "") for member in group])
        else:
            size = output_size(output)
        is_stderr = kind == "stream" and output.get("name") != "stdout"
        decisive = kind in ("error", "execute_result") or is_stderr
        # What nbgrader grades and what the report quotes: the first error/stderr/result.
        needed = decisive and (
            not seen["decisive"]
            or (kind == "error" and not seen["error"])
            or (is_stderr and not seen["stderr"])
        )
        allowance, limit, scope = budget.allowance()
        kept: list[Any]
        if limit < 0 or size <= allowance:
            kept = group
        elif kind == "stream" and (needed or allowance >= NOTE_MIN):
            pieces = [_text(member.get("text")) for member in group]
            text = _clip_pieces(pieces, size, limit, scope, allowance)
            kept = [NotebookNode(output_type="stream", name=output.get("name"), text=text)]
        elif kind == "error" and (needed or allowance >= NOTE_MIN):
            kept = [_cut_error(output, size, limit, scope, allowance)]
        elif kind in ("display_data", "execute_result") and (needed or allowance >= NOTE_MIN):
            kept = _cut_bundle(output, size, limit, scope, allowance)
        else:  # removable: nothing grades it, or the cell's grade is already decided
            dropped, dropped_bytes = dropped + len(group), dropped_bytes + size
            if drop_at < 0:
                drop_at, drop_limit, drop_scope = len(result), limit, scope
            continue
        if decisive:
            seen["decisive"] = True
            seen["error"] |= kind == "error"
            seen["stderr"] |= is_stderr
        budget.spend(size if kept is group else sum(output_size(o) for o in kept))
        result.extend(kept)
    if dropped:
        what = f"{dropped} more output{'s' if dropped > 1 else ''}"
        result.insert(drop_at, _note(marker(dropped_bytes, drop_limit, drop_scope, what)))
    return result


class LimitOutputBytes(NbGraderPreprocessor):
    """Cap each output, cell and notebook to a number of bytes; grades stay the same."""

    max_bytes_per_output = Integer(
        100_000, help="Most bytes kept of one output (-1 means no limit)"
    ).tag(config=True)
    max_bytes_per_cell = Integer(
        1_000_000, help="Most bytes kept of one cell's outputs (-1 means no limit)"
    ).tag(config=True)
    max_bytes_per_notebook = Integer(
        5_000_000, help="Most bytes kept of all the notebook's outputs (-1 means no limit)"
    ).tag(config=True)

    @validate("max_bytes_per_output", "max_bytes_per_cell", "max_bytes_per_notebook")
    def _check_limit(self, proposal: Any) -> int:
        value = proposal["value"]
        if value != -1 and value < MIN_LIMIT:
            raise TraitError(f"{proposal['trait'].name} must be -1 or at least {MIN_LIMIT}")
        return value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.notebook_left = self.max_bytes_per_notebook

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Cap every code cell's outputs, with a fresh notebook budget."""
        self.notebook_left = self.max_bytes_per_notebook
        return super().preprocess(nb, resources)

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Cap one cell's outputs, spending this notebook's budget."""
        outputs = cell.get("outputs") if isinstance(cell, Mapping) else None
        if not isinstance(outputs, list) or not outputs:
            return cell, resources
        budget = _Budget(
            per_output=self.max_bytes_per_output,
            cell_left=self.max_bytes_per_cell,
            cell_limit=self.max_bytes_per_cell,
            notebook_left=self.notebook_left,
            notebook_limit=self.max_bytes_per_notebook,
        )
        cell["outputs"] = _limit_outputs(outputs, budget)
        self.notebook_left = budget.notebook_left
        return cell, resources
