"""A memory cgroup per grading kernel: one cap on the memory of all its processes together.

RLIMIT_AS bounds each process of a kernel, not their sum: 64 processes of 2 GiB each could
still take 128 GiB. A cgroup's memory limit bounds them all: past it, the Linux OOM killer stops
a process of the group (the grader sees the kernel die, or a child vanish), and the machine is
spared.

It works where the grader may create cgroups: cgroup v2 with the memory controller delegated to
children of its own cgroup, or a writable cgroup v1 memory hierarchy (e.g. as root in a
container). Elsewhere `memory_hierarchy()` is None and kernels keep only their per-process
limits; the report says which protection ran.

The kernel's launcher joins a group named after the kernel's uid before it starts anything, so
every process of the kernel is counted from the start; the next kernel with that uid reuses it:

    cap_memory("uid-20001", 2 * GiB)   # in the launcher, with the grader's rights, then exec
"""

from __future__ import annotations

import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUPS = "softmax-course"
"""The folder, in the memory hierarchy, that holds one group per kernel uid."""


def _own_v2_cgroup(root: Path) -> Path:
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    relative = next((line[3:] for line in lines if line.startswith("0::")), "/")
    return root / relative.lstrip("/")


def memory_hierarchy(root: Path = CGROUP_ROOT) -> tuple[int, Path] | None:
    """Return (cgroup version, folder to create groups in), or None where none can be made."""
    if (root / "cgroup.controllers").is_file():
        current = _own_v2_cgroup(root)
        for folder in (current.parent, current):
            try:
                delegated = "memory" in (folder / "cgroup.subtree_control").read_text().split()
            except OSError:
                continue
            if delegated and os.access(folder, os.W_OK):
                return 2, folder
        return None
    v1 = root / "memory"
    if (v1 / "memory.limit_in_bytes").is_file() and os.access(v1, os.W_OK):
        return 1, v1
    return None


def cap_memory(name: str, limit_bytes: int, root: Path = CGROUP_ROOT) -> Path | None:
    """Put this process (and its future children) in group `name`, capped at `limit_bytes`.

    Returns the group, or None where no cgroup can be made (nothing is capped then).
    """
    found = memory_hierarchy(root)
    if found is None:
        return None
    version, parent = found
    group = parent / GROUPS / name
    try:
        group.mkdir(parents=True, exist_ok=True)
        if version == 2:
            (parent / GROUPS / "cgroup.subtree_control").write_text("+memory")
            (group / "memory.max").write_text(str(limit_bytes))
            _write_if_present(group / "memory.swap.max", "0")
        else:
            # memsw (memory + swap) may not go below memory: lower memory first when shrinking.
            for setting in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes") * 2:
                _write_if_present(group / setting, str(limit_bytes), quiet=True)
            if int((group / "memory.limit_in_bytes").read_text()) > limit_bytes:
                return None
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except (OSError, ValueError):
        return None
    return group


def _write_if_present(path: Path, value: str, *, quiet: bool = False) -> None:
    if not path.exists():
        return
    try:
        path.write_text(value)
    except OSError:
        if not quiet:
            raise
