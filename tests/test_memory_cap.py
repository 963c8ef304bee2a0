"""memory_cap: one cgroup caps the memory of a kernel's processes together, not one by one."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from softmax_course.sandbox.memory_cap import cap_memory, memory_hierarchy

MiB = 1 << 20

pytestmark = pytest.mark.skipif(
    memory_hierarchy() is None, reason="no writable memory cgroup on this machine"
)


def peak_bytes(group: Path) -> int | None:
    """Return the most memory the group has used, where the kernel tells (None otherwise)."""
    for name in ("memory.peak", "memory.max_usage_in_bytes"):
        try:
            return int((group / name).read_text())
        except (OSError, ValueError):
            continue
    return None


def remove_group(group: Path, attempts: int = 40) -> bool:
    """Remove a group once its processes are gone; return whether it is gone."""
    for _ in range(attempts):
        try:
            group.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:  # an exiting process is still counted in it
            time.sleep(0.05)
    return False


def run_capped(limit: int, code: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run Python `code` in a process that first joins a new group capped at `limit` bytes."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    prologue = (
        "import sys\nfrom softmax_course.sandbox.memory_cap import cap_memory\n"
        f"group = cap_memory({name!r}, {limit})\nassert group is not None\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prologue + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=120,
    )
    found = memory_hierarchy()
    assert found is not None
    return done, found[1] / "softmax-course" / name


def test_one_process_over_the_cap_is_stopped() -> None:
    done, group = run_capped(200 * MiB, """
        block = bytearray(1 << 30)  # pages are counted once touched
        block[::4096] = b"x" * len(block[::4096])
        print("survived")
    """)
    assert done.returncode == -9 and "survived" not in done.stdout
    assert peak_bytes(group) <= 200 * MiB
    assert remove_group(group) and not group.exists()


def test_processes_are_capped_together() -> None:
    """Four children of 100 MiB each fit any per-process limit, not a 250 MiB group."""
    done, group = run_capped(250 * MiB, """
        import os, time
        children = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                block = bytearray(100 << 20)
                block[::4096] = b"x" * len(block[::4096])
                time.sleep(3)
                os._exit(0)
            children.append(pid)
        print([os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children])
    """)
    codes = ast.literal_eval(done.stdout) if done.returncode == 0 else [done.returncode]
    assert -9 in codes, (done.returncode, done.stdout, done.stderr)
    assert remove_group(group)


def test_an_honest_process_is_not_disturbed() -> None:
    done, group = run_capped(250 * MiB, "import numpy as np\nprint(float(np.ones(10**7).sum()))")
    assert done.returncode == 0 and done.stdout == "10000000.0\n"
    assert remove_group(group)


def test_where_no_cgroup_can_be_made_nothing_is_capped(tmp_path) -> None:
    assert memory_hierarchy(tmp_path) is None
    assert cap_memory("x", MiB, root=tmp_path) is None
