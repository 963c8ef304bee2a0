"""Start one grading kernel in its sandbox: `python -I -m softmax_course.sandbox.launch CFG -f F`.

This is the program a sandboxed kernelspec's argv runs (see sandbox/spec.py, which writes
CONFIG, a JSON string). It runs with the grader's rights for a few milliseconds and then `exec`s,
so it leaves no process of its own behind. In order it:

1. picks a free unprivileged uid from a range (one per running kernel, so that RLIMIT_NPROC, which
   counts per uid, is a per-kernel budget), held by a lock file descriptor for the kernel's life,
   and joins that uid's memory cgroup where the machine allows one (all its processes together);
2. gives the kernel's working copy, runtime folder and connection file to that uid;
3. if some path the kernel needs (the Python install, the venv) sits under a folder that the uid
   cannot enter (e.g. /root, mode 700), makes a private mount namespace in which a tmpfs covers
   that folder and only the needed paths are bound back;
4. sets the resource limits (address space, CPU seconds, processes, file size, open files, no core
   dumps) and drops to the uid with no supplementary groups and no new privileges;
5. execs bubblewrap (which then runs `python -c KERNEL_MAIN -f CONN`) or, in the fallback, the
   kernel directly, with a clean environment either way.

Only the standard library (and sandbox/memory_cap.py, which uses only it) is used, and the
launcher must be run with `python -I` so that a student's file in the current folder can never
be imported with the grader's rights.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import resource
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from softmax_course.sandbox.memory_cap import cap_memory

BUBBLEWRAP = "bubblewrap sandbox"
SEPARATE_UID = "separate uid + limits"
LIMITS_ONLY = "limits only"
NONE = "none"

HOME_IN_SANDBOX = "/home/student"
RUNTIME_IN_SANDBOX = "/run/kernel"
LOCK_DIR = Path("/run/softmax-course-sandbox")
MEMORY_CAP_NOTE = "memory-cgroup"
"""Written in the kernel's runtime folder when its processes share one memory cgroup."""

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWNET = 0x40000000
# What the fallback (no user namespaces, but root) covers with an empty tmpfs.
FALLBACK_HIDE = ("/tmp", "/dev/shm", "/var/tmp", "/root", "/home", "/run", "/mnt", "/media")
MS_RDONLY, MS_NOSUID, MS_NODEV = 0x1, 0x2, 0x4
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18
PR_SET_NO_NEW_PRIVS = 38

KERNEL_MAIN = """\
import importlib.util, os, sys
# As `python -m ipykernel_launcher`: nothing is imported from the working folder while loading,
# and sys.argv[0] names the launcher.
if sys.path[0] in ("", os.getcwd()):
    del sys.path[0]
sys.argv[0] = importlib.util.find_spec("ipykernel_launcher").origin
# ipykernel imports its debugger (debugpy: ~50 ms of CPU per kernel) only to offer debugging,
# which grading never asks for: skip it, then let the student's code import debugpy as usual.
sys.modules["debugpy"] = None
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
app.initialize()
del sys.modules["debugpy"]
app.start()
"""
"""What the kernel's python runs (`python -c KERNEL_MAIN -f CONN ...`): ipykernel_launcher's
start, without loading the debugger."""

libc = ctypes.CDLL(None, use_errno=True)
"""The C library, for the system calls Python has no function for (errno kept)."""


def fail(message: str) -> None:
    """Print one line on stderr (the grader's kernel log) and exit without starting a kernel."""
    print(f"softmax_course.sandbox.launch: {message}", file=sys.stderr, flush=True)
    raise SystemExit(70)


def check(result: int, what: str) -> None:
    """Fail with `what` and the C library's error when a system call returned non-zero."""
    if result != 0:
        err = ctypes.get_errno()
        fail(f"{what}: {os.strerror(err)}")


def take_uid(first: int, count: int) -> tuple[int, int]:
    """Lock the first free uid of [first, first+count); return it and the (inheritable) lock fd."""
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    info = LOCK_DIR.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        fail(f"{LOCK_DIR} must be a directory owned by root and writable by root only")
    for uid in range(first, first + count):
        fd = os.open(LOCK_DIR / f"{uid}.lock", os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        os.set_inheritable(fd, True)
        return uid, fd
    fail(f"all {count} sandbox uids from {first} are in use")
    raise AssertionError  # unreachable


def kill_leftovers(uid: int) -> None:
    """Kill every process still running as `uid` (e.g. one a previous kernel left behind)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresuid(uid, uid, uid)
            os.kill(-1, 9)  # as `uid`: every process of that uid but this one
        except OSError:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


def write_as_root(path: Path, text: str) -> None:
    """Write a new file as root in a folder the kernel's uid may own, never through a symlink."""
    if path.parent.is_symlink() or not path.parent.is_dir():
        fail(f"{path.parent} is not a plain folder")
    if path.is_symlink() or path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def blocked_ancestor(path: Path) -> Path | None:
    """Return the outermost folder above `path` that a stranger (no uid, no group) cannot enter."""
    for parent in reversed(path.parents):
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return parent
    return None


def isolate(needed: list[Path], hide: list[Path], flags: int, tmp_bytes: int) -> None:
    """Cover `hide` and the blocked folders above `needed` with tmpfs mounts, binding `needed`
    back, in new namespaces (mount, plus `flags`); nothing is done when nothing is asked."""
    blocked = {b for b in map(blocked_ancestor, needed) if b is not None}
    covers = blocked | {h for h in hide if h.is_dir()}
    outer = sorted(c for c in covers if not any(o in c.parents for o in covers))
    if not outer and not flags:
        return
    check(libc.unshare(CLONE_NEWNS | flags), "unshare")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    for cover in outer:
        inner = [p for p in needed if p == cover or cover in p.parents]
        fds = [os.open(p, os.O_PATH) for p in inner]
        mode = "1777" if cover in hide and os.stat(cover).st_mode & stat.S_ISVTX else "0755"
        options = f"mode={mode},size={tmp_bytes}".encode()
        check(libc.mount(b"tmpfs", os.fsencode(cover), b"tmpfs", MS_NOSUID | MS_NODEV, options),
               f"tmpfs over {cover}")
        for path, fd in zip(inner, fds, strict=True):
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            for parent in path.parents:
                if parent == cover:
                    break
                os.chmod(parent, 0o755)
            source = os.fsencode(f"/proc/self/fd/{fd}")
            check(libc.mount(source, os.fsencode(path), None, MS_BIND | MS_REC, None),
                   f"bind {path}")
            os.close(fd)


def set_limits(limits: dict[str, int]) -> None:
    """Apply the configured resource limits (soft = hard) to this process and what it execs."""
    pairs = {
        resource.RLIMIT_AS: limits["memory_bytes"],
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_NPROC: limits["processes"],
        resource.RLIMIT_FSIZE: limits["file_bytes"],
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_CORE: 0,
    }
    for which, value in pairs.items():
        resource.setrlimit(which, (value, value))


def drop_to(uid: int) -> None:
    """Become `uid`/`uid` with no supplementary groups and no way to regain privileges."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def bwrap_argv(cfg: dict, home: str, kernel: list[str]) -> list[str]:
    """Return bubblewrap's argv: a read-only system, the working copy, private /tmp, no network."""
    runtime = cfg["runtime_dir"]
    tmp_size = str(cfg["limits"]["tmp_bytes"])
    argv = [cfg["bwrap"], "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
            "--disable-userns",
            # Private /dev, /tmp and /sys first: the binds below may lie inside them (a checkout
            # under /tmp keeps its venv there) and must land on top, not be covered.
            "--proc", "/proc", "--dev", "/dev",
            "--size", tmp_size, "--tmpfs", "/dev/shm",
            "--size", tmp_size, "--tmpfs", "/tmp",
            "--tmpfs", "/sys",
            "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for path in cfg["ro_paths"]:
        argv += ["--ro-bind", path, path]
    for name in ("ld.so.cache", "localtime", "nsswitch.conf"):
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    argv += ["--ro-bind", f"{runtime}/etc/passwd", "/etc/passwd",
             "--ro-bind", f"{runtime}/etc/group", "/etc/group"]
    argv += ["--remount-ro", "/dev",
             "--bind", cfg["workdir"], home,
             "--bind", runtime, RUNTIME_IN_SANDBOX,
             "--remount-ro", "/",
             "--chdir", home,
             "--hostname", "sandbox",
             "--"]
    return argv + kernel


def inside_connection_file(connection_file: Path) -> str:
    """Write the kernel's copy of the connection file, with its ipc prefix seen from inside.

    The runtime folder is bound at RUNTIME_IN_SANDBOX, so that no host path (which may name the
    course or the student) shows inside; the ipc sockets are the same files on both sides.
    """
    info = json.loads(connection_file.read_text())
    if info.get("transport") != "ipc":
        fail("a bubblewrap kernel has no network: the kernel manager must use transport='ipc'")
    if Path(info["ip"]).parent.resolve() != connection_file.parent.resolve():
        fail(f"the ipc prefix {info['ip']} is not in the runtime folder {connection_file.parent}")
    info["ip"] = f"{RUNTIME_IN_SANDBOX}/{Path(info['ip']).name}"
    inside = connection_file.with_name("kernel-inside.json")
    write_as_root(inside, json.dumps(info))
    os.chmod(inside, 0o600, follow_symlinks=False)
    return str(inside)


def args_through_fd(argv: list[str]) -> list[str]:
    """Move bwrap's options (not the command) into a memfd read with `--args FD`.

    /proc/1/cmdline inside the sandbox then shows no host path (which may name the course or
    the student), only `bwrap --args N -- python -c KERNEL_MAIN -f /run/kernel/...`.
    """
    split = argv.index("--")
    fd = os.memfd_create("bwrap-args", 0)  # not close-on-exec: bwrap reads it, then closes it
    os.write(fd, b"".join(os.fsencode(a) + b"\0" for a in argv[1:split]))
    os.lseek(fd, 0, os.SEEK_SET)
    return [argv[0], "--args", str(fd), *argv[split:]]


def write_identity(runtime: Path, uid: int, home: str) -> None:
    """Write the sandbox's own /etc/passwd and /etc/group (one user, the kernel's uid)."""
    etc = runtime / "etc"
    if etc.is_symlink():
        etc.unlink()
    etc.mkdir(exist_ok=True)
    write_as_root(etc / "passwd", f"student:x:{uid}:{uid}:student:{home}:/bin/sh\n")
    write_as_root(etc / "group", f"student:x:{uid}:\n")


@dataclass
class Launch:
    """One kernel's launch, once prepared: its config, uid, environment and ipykernel arguments."""

    cfg: dict
    kernel_args: list[str]  # ipykernel's arguments, "-f CONNECTION_FILE" first
    protection: str
    separate: bool  # runs as a uid of its own
    uid: int
    home: str
    env: dict[str, str]
    lock_fd: int | None  # holds the uid while open


def prepare(argv: list[str]) -> Launch:
    """Check the config (argv[0]) and take a uid; give the kernel's files to it; build its env."""
    if len(argv) < 3 or argv[1] != "-f":
        fail("usage: python -I -m softmax_course.sandbox.launch CONFIG -f CONNECTION_FILE ...")
    cfg = json.loads(argv[0])
    kernel_args = argv[1:]
    protection = cfg["protection"]
    workdir, runtime = Path(cfg["workdir"]), Path(cfg["runtime_dir"])
    connection_file = Path(kernel_args[1])
    if connection_file.parent.resolve() != runtime.resolve():
        fail(f"connection file {connection_file} is not in the runtime folder {runtime}")
    root = os.geteuid() == 0
    separate = protection in (BUBBLEWRAP, SEPARATE_UID) and root
    if protection == SEPARATE_UID and not root:
        fail("a separate uid needs the grader to run as root")
    uid, lock_fd = os.getuid(), None
    if separate:
        uid, lock_fd = take_uid(cfg["uid_first"], cfg["uid_count"])
        kill_leftovers(uid)
        for path in (workdir, runtime, connection_file):
            os.chown(path, uid, uid, follow_symlinks=False)
        os.chmod(workdir, 0o700)
        os.chmod(runtime, 0o700)
        needed = [Path(p) for p in cfg["ro_paths"]] + [workdir, runtime]
        if protection == BUBBLEWRAP:  # bubblewrap hides the rest; the uid must reach `needed`
            isolate(needed, [], 0, 1 << 20)
        else:  # no network, IPC or hostname of the host's; course and home folders hidden
            hide = [Path(p) for p in (*FALLBACK_HIDE, *cfg["hide_paths"])]
            isolate(needed, hide, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS,
                    cfg["limits"]["tmp_bytes"])
    home = HOME_IN_SANDBOX if protection == BUBBLEWRAP else str(workdir)
    sandboxed = separate or protection == BUBBLEWRAP
    env = kernel_env(cfg, home, tmp="/tmp" if sandboxed else str(workdir))
    return Launch(cfg, kernel_args, protection, separate, uid, home, env, lock_fd)


def kernel_env(cfg: dict, home: str, tmp: str = "/tmp") -> dict[str, str]:
    """Return the kernel's whole environment (nothing else of the grader's is passed on)."""
    env = {
        "PATH": f"{cfg['venv_bin']}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{tmp}/matplotlib" if tmp == "/tmp" else f"{tmp}/.mpl",
        "TMPDIR": tmp,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for name in cfg["pass_env"]:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def join_memory_cap(launch: Launch) -> None:
    """Put this process (and what it starts) in its uid's memory cgroup, where one can be made."""
    if launch.separate and cap_memory(
        f"uid-{launch.uid}", launch.cfg["limits"]["total_memory_bytes"]
    ) is not None:
        write_as_root(Path(launch.cfg["runtime_dir"]) / MEMORY_CAP_NOTE, "capped\n")


def sandbox_command(launch: Launch, payload: list[str] | None = None,
                    bwrap_options: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """Return the command that starts the sandbox (bubblewrap) or the kernel itself, and the
    kernel's ipykernel arguments as the kernel sees them.

    `payload` runs in the bubblewrap sandbox instead of the kernel (softmax_course.sandbox.zygote
    then forks the kernel into it); `bwrap_options` are added to bubblewrap's.
    """
    kernel_args = list(launch.kernel_args)
    if launch.protection != BUBBLEWRAP:
        return [launch.cfg["python"], "-c", KERNEL_MAIN, *kernel_args], kernel_args
    runtime = Path(launch.cfg["runtime_dir"])
    write_identity(runtime, launch.uid, launch.home)
    inside = inside_connection_file(Path(kernel_args[1]))
    kernel_args[1] = f"{RUNTIME_IN_SANDBOX}/{Path(inside).name}"
    if launch.separate:
        for name in ("etc", "etc/passwd", "etc/group", Path(inside).name):
            os.chown(runtime / name, launch.uid, launch.uid, follow_symlinks=False)
    command = payload or [launch.cfg["python"], "-c", KERNEL_MAIN, *kernel_args]
    argv = bwrap_argv(launch.cfg, launch.home, command)
    split = argv.index("--")
    argv[split:split] = bwrap_options
    return args_through_fd(argv), kernel_args


def exec_sandbox(launch: Launch, command: list[str]) -> None:
    """Set the limits, drop to the kernel's uid and exec `command` (never returns)."""
    os.chdir("/" if launch.protection == BUBBLEWRAP else launch.cfg["workdir"])
    if launch.protection != NONE:
        set_limits(launch.cfg["limits"])
    if launch.separate:
        drop_to(launch.uid)
    try:
        os.execve(command[0], command, launch.env)
    except OSError as err:
        fail(f"cannot run {command[0]}: {err}")


def main(argv: list[str]) -> None:
    """Launch the kernel described by argv[0] (JSON config); the rest goes to ipykernel."""
    launch = prepare(argv)
    join_memory_cap(launch)  # all the kernel's processes together, where the machine allows
    command, _ = sandbox_command(launch)
    exec_sandbox(launch, command)


if __name__ == "__main__":
    main(sys.argv[1:])
