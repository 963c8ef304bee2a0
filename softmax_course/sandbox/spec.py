"""The sandbox that grading kernels run in: what the machine allows, and how to start one.

Plain nbgrader runs a student's notebook with the grader's rights. Here each kernel gets:

- bubblewrap (`Protection.BUBBLEWRAP`): new user, mount, PID, network, IPC, UTS and cgroup
  namespaces; a read-only view of /usr, the Python install and the venv; its own working copy
  (read-write, at /home/student); a size-capped private /tmp and /dev/shm; an empty /sys; no
  network at all (the grader talks to it over ipc sockets in a dedicated runtime folder); a clean
  environment; a separate unprivileged uid; and resource limits (`Limits`).
- where user namespaces are refused (`bwrap --unshare-all true` fails) and the grader is root,
  the fallback `Protection.SEPARATE_UID`: the same limits and a separate uid, in new mount,
  network (no interface up), IPC and UTS namespaces made by root, with empty size-capped tmpfs
  over /tmp, /dev/shm, /var/tmp, /root, /home, /run, /mnt, /media and `hide_paths` (pass the
  course root); otherwise the kernel sees every file any user may read, and there is no PID
  namespace (call `reap_leftovers` after shutdown).
- `Protection.LIMITS_ONLY`: the limits alone, when neither is possible (no user namespaces and
  a grader that is not root, so no uid to switch to). A non-root grader with bubblewrap keeps
  its own uid in the sandbox, so RLIMIT_NPROC then counts its own processes too.

The grading engine starts kernels with `sandbox_kernel_manager(...)`, whatever kernelspec the
notebook names. `sandbox_support()` tells which protection this machine gives.
"""

from __future__ import annotations

import enum
import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager, KernelManager

from softmax_course.sandbox import launch as sandbox_launch
from softmax_course.sandbox import zygote as kernel_zygote
from softmax_course.sandbox.zygote import KernelZygote

GiB = 1 << 30
MiB = 1 << 20
KERNEL_NAME = "python3"
DEFAULT_UIDS = range(1_500_000_000, 1_500_000_000 + 1024)
PASS_ENV = ("NBGRADER_EXECUTION",)

M = TypeVar("M", bound=KernelManager)


class Protection(enum.StrEnum):
    """How much a sandboxed kernel is kept from the machine, strongest first."""

    BUBBLEWRAP = sandbox_launch.BUBBLEWRAP
    SEPARATE_UID = sandbox_launch.SEPARATE_UID
    LIMITS_ONLY = sandbox_launch.LIMITS_ONLY
    NONE = sandbox_launch.NONE


@dataclass(frozen=True)
class Limits:
    """Resource limits for one kernel (the whole notebook, not one cell); soft = hard."""

    memory_bytes: int = 2 * GiB  # RLIMIT_AS: a bigger allocation raises MemoryError
    cpu_seconds: int = 120  # RLIMIT_CPU: the kernel is killed (SIGKILL) past this much CPU time
    processes: int = 64  # RLIMIT_NPROC for the kernel's own uid: processes and threads
    file_bytes: int = 64 * MiB  # RLIMIT_FSIZE: a longer write fails with "File too large"
    open_files: int = 256  # RLIMIT_NOFILE
    tmp_bytes: int = 256 * MiB  # size of the private /tmp and /dev/shm (bubblewrap only)
    total_memory_bytes: int = 2 * GiB  # a memory cgroup: all its processes together (if any)


def bwrap_path() -> str | None:
    """Return the path of the bwrap program, or None when bubblewrap is not installed."""
    return shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None
    )


def ensure_bubblewrap() -> str:
    """Return bwrap's path, or raise RuntimeError saying in one line how to install it."""
    found = bwrap_path()
    if not found:
        raise RuntimeError(
            "bubblewrap is not installed: run `apt-get install -y bubblewrap` as root "
            "(in a clone of the course, `make system-packages` does it)"
        )
    return found


@functools.cache
def sandbox_support() -> Protection:
    """Return the strongest protection this machine gives to kernels started by this process."""
    bwrap = bwrap_path()
    root = os.geteuid() == 0
    if bwrap:
        probe = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent",
                 "--disable-userns",
                 "--ro-bind", "/", "/", "true"]
        if root:
            uid = str(DEFAULT_UIDS[-1])  # never handed to a kernel by take_uid's search order
            probe = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *probe]
        try:
            ok = subprocess.run(probe, capture_output=True, timeout=10, cwd="/").returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return Protection.BUBBLEWRAP
    return Protection.SEPARATE_UID if root else Protection.LIMITS_ONLY


def effective_protection(requested: Protection | None = None) -> Protection:
    """Return what a kernel will get when `requested` (None: the best) is asked for here."""
    best = sandbox_support()
    if requested is None:
        return best
    order = list(Protection)
    return order[max(order.index(requested), order.index(best))]


def _python_paths() -> tuple[str, str, list[str]]:
    """Return (venv python, venv bin folder, folders the kernel must read) for this interpreter."""
    venv_bin = Path(sys.executable).parent
    python = venv_bin / "python"
    if not python.exists():
        python = Path(sys.executable)
    prefixes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    prefixes.add(Path(os.path.realpath(python)).parent.parent)
    # Drop folders inside another one of the list (bwrap would bind twice).
    kept = sorted(str(p) for p in prefixes if not any(q != p and q in p.parents for q in prefixes))
    return str(python), str(venv_bin), kept


def sandbox_kernel_spec(
    workdir: Path,
    runtime_dir: Path,
    *,
    limits: Limits = Limits(),
    protection: Protection | None = None,
    extra_ro_paths: tuple[str, ...] = (),
    hide_paths: tuple[str, ...] = (),
    uids: range = DEFAULT_UIDS,
    zygote: KernelZygote | None = None,
) -> KernelSpec:
    """Return a kernelspec that runs ipykernel in the sandbox on `workdir`.

    `runtime_dir` is a folder of this kernel's own (connection file, ipc sockets); it and
    `workdir` must exist. `protection` None means the best this machine gives; a stronger one
    than the machine gives is lowered to what it gives (see `kernel_protection`).
    `extra_ro_paths` are shown read-only to the kernel (e.g. the course package's source);
    `hide_paths` are covered with an empty tmpfs in the separate-uid fallback (pass the course
    root: bubblewrap shows nothing outside the working copy anyway, the fallback shows all the
    files any user may read, except /tmp, /root, /home, /run and these). With a `zygote`
    (`start_zygote`), a bubblewrap kernel is forked from it instead of starting afresh, as long
    as the zygote runs.
    """
    chosen = effective_protection(protection)
    python, venv_bin, ro_paths = _python_paths()
    config = {
        "protection": chosen.value,
        "workdir": str(Path(workdir).resolve()),
        "runtime_dir": str(Path(runtime_dir).resolve()),
        "python": python,
        "venv_bin": venv_bin,
        "ro_paths": ro_paths + [str(Path(p).resolve()) for p in extra_ro_paths],
        "limits": asdict(limits),
        "bwrap": bwrap_path() or "bwrap",
        "uid_first": uids.start,
        "uid_count": len(uids) - 1,  # the last one is kept for sandbox_support's probe
        "pass_env": list(PASS_ENV),
        # Only the fallback uses them; a forked kernel inherits its launcher's memory (and so
        # this config), where the course's path must not show.
        "hide_paths": [str(Path(p).resolve()) for p in hide_paths]
        if chosen == Protection.SEPARATE_UID else [],
    }
    if chosen == Protection.NONE:
        argv = [python, "-c", sandbox_launch.KERNEL_MAIN, "-f", "{connection_file}"]
    elif (zygote is not None and zygote.alive() and chosen == Protection.BUBBLEWRAP
          and os.geteuid() == 0):
        argv = [sys.executable, "-I", "-S", "-c", kernel_zygote.CLIENT, str(zygote.socket),
                json.dumps(config, separators=(",", ":")), "-f", "{connection_file}"]
    else:
        argv = [sys.executable, "-I", "-m", "softmax_course.sandbox.launch",
                json.dumps(config, separators=(",", ":")), "-f", "{connection_file}"]
    return KernelSpec(
        argv=argv,
        display_name=f"Python 3 (graded, {chosen.value})",
        language="python",
        interrupt_mode="message",
        env={},
        metadata={"softmax_course": {"protection": chosen.value}},
    )


class FixedKernelSpecManager(KernelSpecManager):
    """A kernelspec manager that answers every kernel name with one given spec."""

    def __init__(self, spec: KernelSpec, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._fixed_spec = spec

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        """Return the fixed spec, whatever the notebook's metadata asked for."""
        return self._fixed_spec

    def find_kernel_specs(self) -> dict[str, str]:
        """Return the one kernel this manager knows."""
        return {KERNEL_NAME: ""}


def sandbox_kernel_manager(
    workdir: Path,
    runtime_dir: Path,
    *,
    manager_class: type[M] = AsyncKernelManager,  # type: ignore[assignment]
    **spec_options: Any,
) -> M:
    """Return an unstarted kernel manager (ipc transport) for a sandboxed kernel on `workdir`.

    `runtime_dir` must be a fresh, empty folder for this kernel alone (distinct per kernel, so
    parallel workers never share ipc paths); `workdir` is the submission's working copy.
    `spec_options` are the keyword options of `sandbox_kernel_spec`.
    """
    workdir, runtime_dir = Path(workdir).resolve(), Path(runtime_dir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    runtime_dir.mkdir(parents=True, exist_ok=True)
    spec = sandbox_kernel_spec(workdir, runtime_dir, **spec_options)
    km = manager_class(
        kernel_spec_manager=FixedKernelSpecManager(spec),
        kernel_name=KERNEL_NAME,
        transport="ipc",
        ip=str(runtime_dir / "kernel"),
        connection_file=str(runtime_dir / "kernel.json"),
    )
    return km


def start_zygote(modules: Sequence[str] = ()) -> KernelZygote | None:
    """Start a zygote that has imported `modules` (and ipykernel), where kernels can be forked:
    in a bubblewrap sandbox, by a root grader; None elsewhere (kernels then start afresh)."""
    if sandbox_support() != Protection.BUBBLEWRAP or os.geteuid() != 0:
        return None
    _, venv_bin, _ = _python_paths()
    env = sandbox_launch.kernel_env({"venv_bin": venv_bin, "pass_env": list(PASS_ENV)},
                                    sandbox_launch.HOME_IN_SANDBOX)
    return KernelZygote(list(modules), env)


def kernel_protection(km: KernelManager) -> Protection:
    """Return the protection the kernel of `km` runs under (Protection.NONE for a plain one)."""
    spec = km.kernel_spec
    meta = (spec.metadata if spec is not None else {}).get("softmax_course", {})
    return Protection(meta.get("protection", Protection.NONE.value))


def memory_capped(km: KernelManager) -> bool:
    """Return whether the kernel of `km` runs in a memory cgroup (sandbox/memory_cap.py)."""
    runtime = Path(km.connection_file).parent
    return (runtime / sandbox_launch.MEMORY_CAP_NOTE).is_file()


def hand_over(path: Path, workdir: Path) -> None:
    """Give `path` (copied into a ready kernel's `workdir`) to the kernel's uid, if it has one.

    The launcher gives `workdir` to the kernel's uid while the kernel starts: call this only
    once the kernel is ready (`wait_for_ready`), or the files stay the grader's (read-only).
    """
    owner = Path(workdir).stat().st_uid
    if os.geteuid() != 0 or owner == 0:
        return
    targets = [Path(path)]
    if Path(path).is_dir():
        targets += list(Path(path).rglob("*"))
    for target in targets:
        os.chown(target, owner, owner, follow_symlinks=False)


def reap_leftovers(workdir: Path) -> None:
    """Kill what a finished kernel left running under its uid (the fallback has no PID namespace).

    Call after `shutdown_kernel`; a no-op when no uid was switched. In the bubblewrap sandbox the
    PID namespace already ends every process of the kernel with it.
    """
    uid = Path(workdir).stat().st_uid
    if os.geteuid() == 0 and uid != 0:
        sandbox_launch.kill_leftovers(uid)


def main() -> None:
    """`python -m softmax_course.sandbox.spec`: print the protection grading kernels get here."""
    print(sandbox_support().value)


if __name__ == "__main__":
    main()
