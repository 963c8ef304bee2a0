"""One memory cgroup per grading kernel: a cap on the memory of all its processes together.

RLIMIT_AS bounds each process of a kernel, not their sum: 64 processes of 2 GiB each could
still take 128 GiB. A cgroup's memory limit bounds them all: past it, the kernel's own OOM
killer stops a process of the group (the grader sees the kernel die), and the machine is spared.

Works where this process may create cgroups: cgroup v2 with the memory controller enabled for
children, or a writable cgroup v1 memory hierarchy (e.g. as root in a container). Elsewhere
`MemoryCaps.available` is False and the kernels keep only their per-process limits; the report
says which protection ran.

A process joins its group by writing its own pid to `cgroup.procs` before it starts anything
else, so that every child it forks is counted from the start:

    caps = MemoryCaps()
    group = caps.create("kernel-1234", 2 * GiB)   # in the parent
    join(group)                                    # in the kernel's launcher, before exec
    ...
    caps.remove(group)                             # once the kernel is gone
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def _v2_parent(root: Path) -> Path | None:
    """Return a cgroup v2 folder whose children get the memory controller, or None."""
    if not (root / "cgroup.controllers").is_file():
        return None
    own = Path("/proc/self/cgroup").read_text().splitlines()
    relative = next((line[3:] for line in own if line.startswith("0::")), "/")
    current = root / relative.lstrip("/")
    for folder in (current.parent, current) if current != root else (root,):
        try:
            enabled = (folder / "cgroup.subtree_control").read_text().split()
        except OSError:
            continue
        if "memory" in enabled and _writable_dir(folder):
            return folder
    return None


class MemoryCaps:
    """Creates and removes memory-capped cgroups under one folder of this run's own."""

    def __init__(self, root: Path = CGROUP_ROOT) -> None:
        self.version = 0
        self.base: Path | None = None
        v1 = root / "memory"
        parent = _v2_parent(root)
        if parent is not None:
            self.version, candidate = 2, parent
        elif _writable_dir(v1) and (v1 / "memory.limit_in_bytes").is_file():
            self.version, candidate = 1, v1
        else:
            return
        base = candidate / f"softmax-course-{uuid.uuid4().hex[:8]}"
        try:
            base.mkdir()
            if self.version == 2:
                (base / "cgroup.subtree_control").write_text("+memory")
        except OSError:
            _rmdir(base)
            self.version = 0
            return
        self.base = base

    @property
    def available(self) -> bool:
        """Whether kernels can be capped here."""
        return self.base is not None

    def create(self, name: str, limit_bytes: int) -> Path | None:
        """Return a new cgroup capped at `limit_bytes` (memory and swap), or None if unavailable."""
        if self.base is None:
            return None
        group = self.base / name
        try:
            group.mkdir()
            if self.version == 2:
                (group / "memory.max").write_text(str(limit_bytes))
                _write_if_present(group / "memory.swap.max", "0")
            else:
                (group / "memory.limit_in_bytes").write_text(str(limit_bytes))
                _write_if_present(group / "memory.memsw.limit_in_bytes", str(limit_bytes))
        except OSError:
            _rmdir(group)
            return None
        return group

    def remove(self, group: Path | None) -> None:
        """Remove a cgroup once its processes are gone (waits a little for them to exit)."""
        if group is not None:
            _rmdir(group)

    def close(self) -> None:
        """Remove this run's folder and whatever empty groups are left in it."""
        if self.base is not None:
            for group in self.base.iterdir():
                if group.is_dir():
                    _rmdir(group)
            _rmdir(self.base)
            self.base = None


def join(group: str | os.PathLike[str]) -> None:
    """Move the calling process into `group` (its children from now on go with it)."""
    Path(group, "cgroup.procs").write_text(str(os.getpid()))


def peak_bytes(group: Path) -> int | None:
    """Return the most memory the group has used, where the kernel tells (None otherwise)."""
    for name in ("memory.peak", "memory.max_usage_in_bytes"):
        try:
            return int((group / name).read_text())
        except (OSError, ValueError):
            continue
    return None


def _write_if_present(path: Path, value: str) -> None:
    if path.exists():
        path.write_text(value)


def _rmdir(path: Path, attempts: int = 20) -> None:
    """rmdir a cgroup: it fails while an exiting process is still being counted in it."""
    for _ in range(attempts):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)
