"""Sandboxed kernels forked from one process that has already imported ipykernel and numpy.

Starting a kernel costs about 0.3 s of CPU, nearly all of it the interpreter importing
ipykernel, numpy and the like; a class of 200 notebooks pays it 200 times. A zygote imports
them once; each kernel is then a fork of it, in a bubblewrap sandbox of its own:

1. A sandboxed kernelspec (softmax_course.sandbox.spec, given `zygote=`) runs CLIENT, a few lines of
   Python without `site`, which hands its config, the variables the config passes on, its
   stdout and its stderr to the zygote over a unix socket and waits. It stands for the kernel:
   jupyter_client watches and kills it.
2. The zygote forks a handler, which prepares the launch as softmax_course.sandbox.launch does
   (uid, files, environment), then starts bubblewrap, as that uid, with a placeholder in the
   sandbox (`cat`, reading a pipe) instead of the kernel.
3. The handler forks again: that child joins the sandbox's namespaces (mount, PID, network,
   IPC, UTS, cgroup, then user), becomes the kernel's uid with no capabilities, no new
   privileges and the sandbox's limits and memory cgroup, and forks the kernel, which is
   thus inside the sandbox's PID namespace. The kernel holds the pipe's write end.
4. When the kernel ends, the placeholder reads EOF and the sandbox ends; the handler sends its
   exit status to CLIENT, which exits with it. When CLIENT is killed, the handler kills the
   sandbox, and with it every process of the kernel.

The kernel sees what a kernel started by sandbox_launch sees (the same bubblewrap sandbox), and
in memory only the modules the zygote imported and its launch's config (which names no course
folder); the zygote runs with the kernels' environment, not the grader's, and holds nothing
else. Only the bubblewrap protection forks kernels; the other protections start them as before.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

from softmax_course.sandbox import launch as sandbox_launch
from softmax_course.sandbox.launch import Launch, check, fail, libc

CLIENT = """\
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
passed = [name for name in json.loads(sys.argv[2])["pass_env"] if name in os.environ]
data = json.dumps({"argv": sys.argv[2:], "env": {n: os.environ[n] for n in passed}}).encode()
socket.send_fds(s, [len(data).to_bytes(8, "big") + data], [1, 2])
status = b""
while chunk := s.recv(64):
    status += chunk
sys.exit(int(status) if status.strip().lstrip(b"-").isdigit() else 70)
"""
"""What a forked kernel's kernelspec runs (`python -I -S -c CLIENT SOCKET CONFIG -f CONN`)."""

KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.comm",
    "IPython.core.completer",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "IPython.core.ultratb",
    "jupyter_client.localinterfaces",
    "psutil",
    "tornado.locks",
    "ipykernel.debugger",  # with debugpy blocked, as in every kernel: no debugger, no thread
    "sqlite3",  # IPython's history, kept in memory
    "IPython.core.logger",  # the first cell, then the first traceback:
    "pygments.formatters.terminal256",
    "pygments.console",
)
"""What every kernel imports while it starts and runs its first cells, imported once by the
zygote (about 15 ms of CPU per kernel for the last five)."""

NAMESPACES = ("mnt", "pid", "net", "ipc", "uts", "cgroup", "user")
"""The sandbox's namespaces a forked kernel joins, in this order (user last: joining it first
would leave no right to join the others, owned by the user namespace above it)."""

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_CAP_AMBIENT = 36, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
PAYLOAD = ["/usr/bin/cat"]  # reads the kernel's pipe until the kernel has gone


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Drop every capability: bounding set, ambient, effective, permitted and inheritable."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    check(libc.capset(ctypes.byref(header), data), "drop capabilities")


def wait_for_payload(sandbox_pid: int, deadline: float) -> int:
    """Return the pid of the placeholder running in the sandbox whose first process is given."""
    payload = os.path.realpath(PAYLOAD[0])
    children = Path(f"/proc/{sandbox_pid}/task/{sandbox_pid}/children")
    while time.monotonic() < deadline:
        try:
            for pid in children.read_text().split():
                if os.path.realpath(f"/proc/{pid}/exe") == payload:
                    return int(pid)
        except OSError:
            pass
        time.sleep(0.001)
    fail("the sandbox did not start in time")
    raise AssertionError  # unreachable


def enter_sandbox(payload_pid: int, launch: Launch) -> None:
    """Join the namespaces of the sandbox's placeholder, as the kernel's uid, with no rights."""
    fds = {ns: os.open(f"/proc/{payload_pid}/ns/{ns}", os.O_RDONLY) for ns in NAMESPACES}
    sandbox_launch.join_memory_cap(launch)
    if launch.protection != sandbox_launch.NONE:
        sandbox_launch.set_limits(launch.cfg["limits"])
    os.setgroups([])
    for ns in NAMESPACES:
        check(libc.setns(fds[ns], 0), f"join the sandbox's {ns} namespace")
        os.close(fds[ns])
    os.setresgid(launch.uid, launch.uid, launch.uid)
    os.setresuid(launch.uid, launch.uid, launch.uid)
    drop_capabilities()
    check(libc.prctl(sandbox_launch.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    # A kernel started by exec may read its own /proc/self (fd, environ, maps): so may this one,
    # whose memory holds only what the zygote imported and this launch's (pathless) config.
    check(libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")


def run_kernel(launch: Launch, kernel_args: list[str], keep_fd: int) -> NoReturn:
    """Become the kernel (in the sandbox already): fresh session, env and files; run ipykernel."""
    try:
        os.setsid()
        os.closerange(3, keep_fd)
        os.closerange(keep_fd + 1, 1 << 16)
        os.set_inheritable(keep_fd, False)
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(launch.home)
        os.environ.clear()
        os.environ.update(launch.env)
        sys.argv = [str(Path(sys.modules["ipykernel"].__file__).parent.parent
                        / "ipykernel_launcher.py"), *kernel_args]
        if "numpy" in sys.modules:  # one seed per kernel, not the zygote's for all of them
            sys.modules["numpy"].random.seed()
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(kernel_args)
        sys.modules.pop("debugpy", None)  # blocked while starting, as sandbox_launch does
        app.start()
    except BaseException as exc:  # the kernel's own end; report anything else on stderr
        if not isinstance(exc, SystemExit):
            print(f"softmax_course.sandbox.zygote: {type(exc).__name__}: {exc}", file=sys.stderr,
                  flush=True)
        os._exit(exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 1)
    os._exit(0)


def receive(conn: socket.socket) -> tuple[list[str], dict[str, str], list[int]]:
    """Read CLIENT's request: its argv (config, "-f", connection file, ...), its environment,
    and its stdout and stderr."""
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 2)
    if len(data) < 8 or len(fds) != 2:
        fail("a malformed request")
    size = int.from_bytes(data[:8], "big")
    body = data[8:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            fail("the request was cut short")
        body += chunk
    request = json.loads(body)
    return request["argv"], request["env"], fds


def handle(conn: socket.socket) -> NoReturn:
    """Start one kernel for CLIENT on `conn`, then stand by until either of them ends."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The kernel's parent exits once it has forked it: the kernel is then this process's child
    # (to be reaped here), not the machine's init's (which may never reap it).
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    argv, env, (stdout, stderr) = receive(conn)
    os.dup2(stdout, 1)
    os.dup2(stderr, 2)
    os.close(stdout)
    os.close(stderr)
    launch = sandbox_launch.prepare(argv)
    # The client's values, as the launcher passes on its own.
    launch.env.update({name: env[name] for name in launch.cfg["pass_env"] if name in env})
    if launch.protection != sandbox_launch.BUBBLEWRAP or not launch.separate:
        fail("only a bubblewrap sandbox with a uid of its own takes forked kernels")
    info_read, info_write = os.pipe()
    payload_read, payload_write = os.pipe()
    command, kernel_args = sandbox_launch.sandbox_command(
        launch, PAYLOAD, ("--info-fd", str(info_write))
    )
    bwrap = os.fork()
    if bwrap == 0:
        os.dup2(payload_read, 0)
        for fd in (payload_read, payload_write, info_read, conn.fileno()):
            os.close(fd)
        os.set_inheritable(info_write, True)
        sandbox_launch.exec_sandbox(launch, command)
    for fd in (payload_read, info_write):
        os.close(fd)
    with os.fdopen(info_read, "rb") as info:
        started = info.read()
    if not started:
        fail("bubblewrap did not start the sandbox")
    sandbox_pid = json.loads(started)["child-pid"]
    payload_pid = wait_for_payload(sandbox_pid, time.monotonic() + 30)
    joiner = os.fork()
    if joiner == 0:
        conn.close()
        enter_sandbox(payload_pid, launch)
        if os.fork() == 0:  # the first process in the sandbox's PID namespace: the kernel
            run_kernel(launch, kernel_args, payload_write)
        os._exit(0)
    os.close(payload_write)
    os.waitpid(joiner, 0)
    status = stand_by(conn, bwrap)
    try:
        conn.sendall(str(status).encode())
    except OSError:
        pass
    os._exit(0)


def stand_by(conn: socket.socket, bwrap: int) -> int:
    """Wait until the sandbox ends (return its exit status) or CLIENT goes (kill the sandbox);
    reap every process of the kernel that came to this one."""
    pidfd = os.pidfd_open(bwrap)
    ready, _, _ = select.select([conn, pidfd], [], [])
    if conn in ready and pidfd not in ready:
        os.kill(bwrap, signal.SIGKILL)
    _, status = os.waitpid(bwrap, 0)
    while True:  # the sandbox's end has killed them all
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return os.waitstatus_to_exitcode(status)


def serve(listener: socket.socket) -> NoReturn:
    """Fork a handler for every connection, for ever (the zygote dies with its parent)."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # handlers are reaped by the system
    while True:
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            try:
                handle(conn)
            except SystemExit as exc:
                os._exit(exc.code if isinstance(exc.code, int) else 70)
            except BaseException as exc:
                print(f"softmax_course.sandbox.zygote: {type(exc).__name__}: {exc}",
                      file=sys.stderr, flush=True)
                os._exit(70)
        conn.close()


def main() -> None:
    """`python -E -s -m softmax_course.sandbox.zygote`, with its JSON config on stdin."""
    if sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    request = json.loads(sys.stdin.readline())
    os.chdir("/")
    os.environ.clear()
    os.environ.update(request["env"])  # the kernels' environment, read by modules as they load
    sys.modules["debugpy"] = None  # type: ignore[assignment]  # as sandbox_launch.KERNEL_MAIN
    for name in (*KERNEL_MODULES, *request["modules"]):
        try:
            __import__(name)
        except Exception:  # a module the kernel cannot import either: it will say so itself
            pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(request["socket"])
    os.chmod(request["socket"], 0o600)
    listener.listen(64)
    gc.collect()
    gc.freeze()  # the forks share these pages: no collection writes to them
    print("ready", flush=True)
    serve(listener)


class KernelZygote:
    """A running zygote: started with the modules kernels need; kernelspecs name its socket."""

    def __init__(self, modules: list[str], env: dict[str, str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="kzyg-", dir="/tmp"))  # short socket path
        self.socket = self.folder / "zygote.sock"
        self.process = subprocess.Popen(
            # Not -I: its safe-path flag would keep IPython from putting '' on the kernels'
            # sys.path. The working folder ("/") leaves sys.path before anything is imported.
            [sys.executable, "-E", "-s", "-m", "softmax_course.sandbox.zygote"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/", text=True,
            env=env,  # never the grader's: a forked kernel can read it in /proc/self/environ
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"socket": str(self.socket), "modules": modules, "env": env}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.close()
        if self.process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("the kernel zygote did not start (see the grader's stderr)")

    def alive(self) -> bool:
        """Return whether the zygote still runs (kernels start afresh once it has gone)."""
        return self.process.poll() is None

    def close(self) -> None:
        """Stop the zygote, and with it every kernel forked from it that still runs."""
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
