"""memory_cap: one cgroup caps the memory of a kernel's processes together, not one by one."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from softmax_course.memory_cap import MemoryCaps, peak_bytes

MiB = 1 << 20


@pytest.fixture
def caps() -> Iterator[MemoryCaps]:
    """This run's cgroups (the test is skipped where none can be made)."""
    caps = MemoryCaps()
    if not caps.available:
        pytest.skip("no writable memory cgroup on this machine")
    yield caps
    caps.close()


def run_in(group: object, code: str) -> subprocess.CompletedProcess:
    """Run Python `code` in a process that first joins `group`."""
    prologue = "import sys\nfrom softmax_course.memory_cap import join\njoin(sys.argv[1])\n"
    return subprocess.run(
        [sys.executable, "-c", prologue + textwrap.dedent(code), str(group)],
        capture_output=True, text=True, timeout=120,
    )


def test_one_process_over_the_cap_is_stopped(caps: MemoryCaps) -> None:
    group = caps.create("one", 200 * MiB)
    done = run_in(group, """
        block = bytearray(1 << 30)  # pages are counted once touched
        block[::4096] = b"x" * len(block[::4096])
        print("survived")
    """)
    assert done.returncode == -9 and "survived" not in done.stdout
    assert peak_bytes(group) <= 200 * MiB
    caps.remove(group)
    assert not group.exists()


def test_processes_are_capped_together(caps: MemoryCaps) -> None:
    """Four children of 100 MiB each fit any per-process limit, not a 250 MiB group."""
    group = caps.create("together", 250 * MiB)
    done = run_in(group, """
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
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        print(codes)
    """)
    codes = ast.literal_eval(done.stdout) if done.returncode == 0 else [done.returncode]
    assert -9 in codes, (done.returncode, done.stdout, done.stderr)
    caps.remove(group)


def test_an_honest_process_is_not_disturbed(caps: MemoryCaps) -> None:
    group = caps.create("honest", 250 * MiB)
    done = run_in(group, "import numpy as np\nprint(float(np.ones(10_000_000).sum()))")
    assert done.returncode == 0 and done.stdout == "10000000.0\n"
    caps.remove(group)


def test_where_no_cgroup_can_be_made_nothing_is_capped(tmp_path) -> None:
    caps = MemoryCaps(root=tmp_path)
    assert not caps.available and caps.create("x", MiB) is None
