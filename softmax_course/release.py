"""Generate the student notebooks in exercises/ from solutions/ with nbgrader."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from softmax_course.course import ASSIGNMENTS, CourseError, nbgrader_api


def release(
    root: Path, *, assignments: Iterable[str] = ASSIGNMENTS, release_dir: Path | None = None
) -> list[Path]:
    """Run nbgrader's generate_assignment for each assignment; return the student notebooks.

    The student versions go to `release_dir` (default: the course's exercises/). A throwaway
    gradebook is used, so releasing never touches the instructor's grades.
    """
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(release_dir or root / "exercises").resolve()
        api = nbgrader_api(
            root,
            CourseDirectory={
                "release_directory": str(target),
                "db_url": f"sqlite:///{Path(scratch) / 'gradebook.db'}",
            },
        )
        written = []
        for name in assignments:
            if not (root / "solutions" / name).is_dir():
                raise CourseError(f"no assignment '{name}' in {root / 'solutions'}")
            shutil.rmtree(target / name, ignore_errors=True)
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise CourseError(f"nbgrader could not release '{name}':\n{result.get('log', '')}")
            written += sorted((target / name).glob("*.ipynb"))
    return written
