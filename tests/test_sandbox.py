"""The grading sandbox: hostile snippets (tests/hostile/) in a sandboxed kernel, and normal work.

Kernels are driven with jupyter_client + nbclient directly, not through the grading engine. Every
hostile snippet bounds itself (see tests/hostile/README.md), so a broken sandbox fails these
tests without hurting the machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import shutil
import socket
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from softmax_course.sandbox.spec import (
    Limits,
    Protection,
    effective_protection,
    ensure_bubblewrap,
    hand_over,
    kernel_protection,
    reap_leftovers,
    sandbox_kernel_manager,
    sandbox_support,
    start_zygote,
)
from softmax_course.sandbox.zygote import KernelZygote
from tests.harness import reference_submission

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
TIMEOUT = 30


@pytest.fixture(scope="module", autouse=True)
def bubblewrap() -> None:
    """Fail in one line if bubblewrap is missing or cannot sandbox (`make test` installs it)."""
    try:
        ensure_bubblewrap()
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    if sandbox_support() != Protection.BUBBLEWRAP:
        pytest.fail(
            f"bubblewrap is installed but cannot sandbox here ({sandbox_support()}): "
            "unprivileged user namespaces are refused on this machine",
            pytrace=False,
        )


ZYGOTE = []  # the zygote kernels are forked from, while the "forked" half of the tests runs


@pytest.fixture(scope="module", params=["started", "forked"], autouse=True)
def kernel_start(request: pytest.FixtureRequest, bubblewrap: None):
    """Every test runs twice: with kernels started afresh by the launcher, and with kernels
    forked from a zygote (softmax_course.sandbox.zygote), as the grading engine starts them."""
    if request.param == "started":
        yield
        return
    zygote = start_zygote(["numpy", "numpy.testing"])
    assert zygote is not None
    ZYGOTE.append(zygote)
    try:
        yield
    finally:
        ZYGOTE.clear()
        zygote.close()


class Run:
    """What one notebook run in a sandboxed kernel gave."""

    def __init__(self, nb: nbformat.NotebookNode, dead: bool, protection: Protection, seconds):
        self.nb, self.dead, self.protection, self.seconds = nb, dead, protection, seconds

    def outputs(self, index: int) -> list[dict]:
        """Return the outputs of code cell `index`."""
        return self.nb.cells[index].get("outputs", [])

    def text(self, index: int) -> str:
        """Return what cell `index` printed on stdout."""
        return "".join(o.get("text", "") for o in self.outputs(index) if o.get("name") == "stdout")

    def result(self, index: int) -> dict:
        """Return the JSON of the `RESULT {...}` line that cell `index` printed."""
        lines = [line for line in self.text(index).splitlines() if line.startswith("RESULT ")]
        assert lines, f"no RESULT line; outputs: {self.outputs(index)}"
        return json.loads(lines[-1].removeprefix("RESULT "))

    def errors(self) -> list[str]:
        """Return `ename: evalue` of every error output in the notebook."""
        return [
            f"{o['ename']}: {o['evalue']}"
            for cell in self.nb.cells
            for o in cell.get("outputs", [])
            if o.get("output_type") == "error"
        ]


def run_notebook(
    nb: nbformat.NotebookNode,
    base: Path,
    *,
    limits: Limits | None = None,
    protection: Protection | None = Protection.BUBBLEWRAP,
    timeout: int = TIMEOUT,
    zygote: KernelZygote | None = None,
) -> Run:
    """Execute `nb` in a fresh sandboxed kernel on a working copy under `base` (forked from
    `zygote`, by default the zygote of the "forked" half of the tests, if it runs)."""
    workdir, runtime = base / "work", base / "run"
    km = sandbox_kernel_manager(workdir, runtime, limits=limits or Limits(), protection=protection,
                                zygote=zygote or (ZYGOTE[0] if ZYGOTE else None))
    client = NotebookClient(
        nb, km=km, timeout=timeout, startup_timeout=20, allow_errors=True,
        interrupt_on_timeout=True, kernel_name="no-such-kernel",
    )
    start = time.monotonic()
    dead = False
    try:
        client.execute()
    except DeadKernelError:
        dead = True
    finally:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    return Run(nb, dead, kernel_protection(km), time.monotonic() - start)


def cells(*sources: str) -> nbformat.NotebookNode:
    """Return a notebook of code cells."""
    return new_notebook(cells=[new_code_cell(s) for s in sources])


def hostile(name: str, params: dict | None = None) -> nbformat.NotebookNode:
    """Return a notebook: PARAMS, then the snippet tests/hostile/<name>.py, then a liveness cell."""
    return cells(f"PARAMS = {params or {}!r}", (HOSTILE / f"{name}.py").read_text(),
                 "print('alive')")


def test_protection_levels() -> None:
    assert ensure_bubblewrap().endswith("bwrap")
    assert sandbox_support() is Protection.BUBBLEWRAP
    assert effective_protection(None) is Protection.BUBBLEWRAP
    assert effective_protection(Protection.SEPARATE_UID) is Protection.SEPARATE_UID
    assert str(Protection.BUBBLEWRAP) == "bubblewrap sandbox"


def test_secrets_outside_the_working_copy_are_invisible(tmp_path: Path) -> None:
    course = tmp_path / f"course-{secrets.token_hex(4)}"
    secret_files = [
        course / "gradebook.db",
        course / "source" / "softmax" / "softmax.ipynb",
        course / "submitted" / "alice-secret" / "softmax" / "softmax.ipynb",
    ]
    for path in secret_files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("secret")
    targets = [str(p) for p in secret_files] + [
        str(ROOT / "solutions" / "softmax" / "softmax.ipynb"),
        str(ROOT / "nbgrader_config.py"),
        "/etc/shadow",
        "/root/.bash_history",
    ]
    assert Path(targets[3]).exists()
    forbidden = [course.name, "alice-secret", str(ROOT / "solutions")]
    system = ["/usr", sys.prefix, sys.base_prefix, os.path.realpath(sys.base_prefix)]
    folders = ["/", str(ROOT), "/root", "/run", "/home", "/etc", "/tmp"]
    params = {"targets": targets, "forbidden_words": forbidden, "skip": system, "list": folders}
    run = run_notebook(hostile("read_secrets", params), course / "work" / "bob")
    result = run.result(1)
    assert result["opened"] == []
    assert set(result["errors"]) == set(targets)
    assert set(result["errors"].values()) <= {"FileNotFoundError", "PermissionError"}
    assert result["found"] == [], result["found"]
    assert 0 < result["walked"] < 200_000  # the walk saw everything the kernel can see
    listings = result["listings"]
    # Besides the system folders, "/" shows only the way down to the checkout (its venv).
    checkout_top = ROOT.parts[1]
    assert set(listings["/"]) <= {"bin", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32",
                                  "proc", "root", "run", "sbin", "sys", "tmp", "usr", checkout_top}
    assert listings[str(ROOT)] == [".venv"]  # the venv only: no solutions, no gradebook
    assert listings["/run"] == ["kernel"] and listings["/home"] == ["student"]
    assert listings["/etc"] == ["group", "ld.so.cache", "localtime", "nsswitch.conf", "passwd"]
    # /tmp is private and empty, but for the way down to the venv when the checkout lives there.
    inside_tmp = Path("/tmp") in ROOT.parents
    assert listings["/tmp"] == ([ROOT.relative_to("/tmp").parts[0]] if inside_tmp else [])
    assert run.text(2) == "alive\n"


def test_grader_environment_is_not_visible(tmp_path: Path, monkeypatch) -> None:
    secret = f"s3cr3t-{secrets.token_hex(8)}"
    monkeypatch.setenv("SOFTMAX_GRADER_SECRET", secret)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    params = {"secret_value": secret, "grader_pid": os.getpid()}
    zygote = start_zygote() if ZYGOTE else None  # one started with the secret in the grader's env
    try:
        run = run_notebook(hostile("read_environment", params), tmp_path, zygote=zygote)
    finally:
        if zygote is not None:
            zygote.close()
    result = run.result(1)
    assert result["in_environ"] == [] and result["in_proc"] == []
    assert "SOFTMAX_GRADER_SECRET" not in result["names"]
    assert "NBGRADER_EXECUTION" in result["names"]
    assert result["jpy_parent_pid"] is None
    assert result["grader"] == "no such process"


SCAN_MEMORY = """
import hashlib, re
found = set()
pattern = re.compile(rb"course-[0-9a-f]{12}|s3cr3t-[0-9a-f]{16}")
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
    for line in maps:
        span, perms = line.split()[:2]
        start, end = (int(x, 16) for x in span.split("-"))
        if "r" not in perms or end - start > 1 << 30:
            continue
        try:
            mem.seek(start)
            chunk = mem.read(end - start)
        except (OSError, OverflowError, ValueError):
            continue
        found.update(hashlib.sha256(m).hexdigest() for m in pattern.findall(chunk))
print(sorted(found & set(DIGESTS)))
"""
"""Searches the kernel's whole memory for the course folder's name and the grader's secret, by
their SHA-256 digests (the cell must not hold them, or it would find itself)."""


def test_no_course_path_or_grader_secret_in_the_kernels_memory(
    tmp_path: Path, monkeypatch
) -> None:
    """Even a kernel forked from the zygote holds neither: its memory is read whole here."""
    course = tmp_path / f"course-{secrets.token_hex(6)}"
    course.mkdir()
    secret = f"s3cr3t-{secrets.token_hex(8)}"
    monkeypatch.setenv("SOFTMAX_GRADER_SECRET", secret)
    zygote = start_zygote() if ZYGOTE else None  # started with the secret in the grader's env
    workdir, runtime = tmp_path / "work", tmp_path / "run"
    km = sandbox_kernel_manager(workdir, runtime, hide_paths=(str(course),), zygote=zygote)
    digests = [hashlib.sha256(text.encode()).hexdigest() for text in (course.name, secret)]
    nb = cells(f"DIGESTS = {digests!r}", SCAN_MEMORY)
    try:
        NotebookClient(nb, km=km, timeout=TIMEOUT, startup_timeout=20, allow_errors=True,
                       kernel_name="no-such-kernel").execute()
    finally:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
        if zygote is not None:
            zygote.close()
    run = Run(nb, False, kernel_protection(km), 0)
    assert run.errors() == []
    assert run.text(1) == "[]\n"


def test_no_network(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        params = {"host_port": listener.getsockname()[1]}
        run = run_notebook(hostile("network", params), tmp_path)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody reached the host's loopback
    result = run.result(1)
    assert result["interfaces"] == ["lo"]
    assert result["udp_route"] == "Network is unreachable"
    assert result["tcp_public"] == "Network is unreachable"
    assert result["host_loopback"] == "Connection refused"
    assert result["seconds"] < 1


def test_memory_bomb_gets_memory_error(tmp_path: Path) -> None:
    run = run_notebook(hostile("memory_bomb"), tmp_path)
    result = run.result(1)
    assert "guard" not in result, result
    assert result["big"] == "MemoryError"
    assert result["gradual"] == "MemoryError"
    assert result["gradual_mb"] <= 2 * 1024
    assert run.text(2) == "alive\n"


def test_fork_bomb_is_bounded(tmp_path: Path) -> None:
    run = run_notebook(hostile("fork_bomb"), tmp_path)
    result = run.result(1)
    assert "guard" not in result, result
    assert result["error"] == "BlockingIOError"
    assert result["forked"] < Limits().processes
    assert run.text(2) == "alive\n"


def test_thread_bomb_is_bounded(tmp_path: Path) -> None:
    run = run_notebook(hostile("thread_bomb"), tmp_path)
    result = run.result(1)
    assert "guard" not in result, result
    assert "can't start new thread" in result["error"]
    assert result["started"] < Limits().processes
    assert run.text(2) == "alive\n"


def test_file_size_and_tmp_are_bounded(tmp_path: Path) -> None:
    limits = Limits(file_bytes=16 << 20, tmp_bytes=64 << 20)
    run = run_notebook(hostile("disk_bomb"), tmp_path, limits=limits)
    result = run.result(1)
    assert "guard" not in result, result
    assert result["big_file"] == "File too large" and result["big_file_mb"] == 16
    assert result["tmp"] == "No space left on device" and result["tmp_mb"] <= 64
    assert run.text(2) == "alive\n"


def test_infinite_loop_is_interrupted_by_the_cell_timeout(tmp_path: Path) -> None:
    nb = cells((HOSTILE / "infinite_loop.py").read_text(), "print('alive')")
    run = run_notebook(nb, tmp_path, timeout=3)
    assert not run.dead
    assert run.text(1) == "alive\n"  # the interrupt message stopped the loop
    assert "RESULT" not in run.text(0)
    assert run.seconds < 20


def test_infinite_loop_is_killed_by_the_cpu_limit(tmp_path: Path) -> None:
    nb = cells((HOSTILE / "infinite_loop.py").read_text(), "print('alive')")
    run = run_notebook(nb, tmp_path, limits=Limits(cpu_seconds=3))
    assert run.dead
    assert run.seconds < 20


def test_numpy_sympy_and_matplotlib_work(tmp_path: Path) -> None:
    nb = cells(
        "import numpy as np\n"
        "a = np.random.default_rng(0).normal(size=(300, 300))\n"
        "print(round(float(np.linalg.det(a @ np.linalg.inv(a))), 6))",
        "import sympy as sp\nx = sp.symbols('x')\nprint(sp.diff(sp.exp(x) / (1 + sp.exp(x)), x))",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('figure.png')\n"
        "import os\nprint(os.path.getsize('figure.png') > 0, os.getcwd())",
    )
    run = run_notebook(nb, tmp_path)
    assert run.errors() == []
    assert run.text(0) == "1.0\n"
    assert "exp(x)" in run.text(1)
    assert run.text(2) == "True /home/student\n"
    assert (tmp_path / "work" / "figure.png").stat().st_size > 0


@pytest.mark.parametrize(
    "protection", [Protection.BUBBLEWRAP, Protection.SEPARATE_UID, Protection.NONE]
)
def test_kernel_starts_like_ipykernel_launcher_without_its_debugger(
    tmp_path: Path, protection: Protection
) -> None:
    """The kernel skips loading debugpy at start; the student's code sees no other difference."""
    nb = cells(
        "import sys\nprint('debugpy' in sys.modules, sys.argv[0].endswith('ipykernel_launcher.py'),"
        " sys.path.count(''), sys.path[0] != '')",
        "import debugpy\nprint(debugpy.__name__)",
    )
    run = run_notebook(nb, tmp_path, protection=protection)
    assert run.errors() == []
    assert run.text(0) == "False True 1 True\n"
    assert run.text(1) == "debugpy\n"


def test_reference_solution_passes_in_the_sandbox(tmp_path: Path) -> None:
    nb = reference_submission("softmax")
    nb.metadata["kernelspec"] = {"name": "julia-1.9", "display_name": "wrong", "language": "julia"}
    run = run_notebook(nb, tmp_path)
    assert not run.dead
    assert run.errors() == []
    stderr = [o for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert stderr == []
    assert run.protection is Protection.BUBBLEWRAP


def test_fallback_separate_uid_with_limits(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "solutions" / "answer.ipynb").write_text("secret")
    secret = course / "solutions" / "answer.ipynb"
    nb = cells(
        "import os, numpy, socket\n"
        "print(os.getuid(), [n for _, n in socket.if_nameindex()])",
        f"print(os.path.exists({str(secret)!r}), os.path.exists({str(ROOT / 'solutions')!r}))",
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "try:\n    s.connect(('192.0.2.1', 9))\nexcept OSError as err:\n    print(err.strerror)",
        (HOSTILE / "memory_bomb.py").read_text(),
        (HOSTILE / "fork_bomb.py").read_text(),
        "if os.fork() == 0:  # a child left behind, gone after 30 s in any case\n"
        "    os.setsid()\n    os.execv('/usr/bin/sleep', ['sleep', '30'])",
    )
    workdir, runtime = course / "work" / "bob", course / "run" / "bob"
    km = sandbox_kernel_manager(workdir, runtime, protection=Protection.SEPARATE_UID,
                                hide_paths=(str(course), str(ROOT)))
    client = NotebookClient(nb, km=km, timeout=TIMEOUT, startup_timeout=20, allow_errors=True)
    try:
        client.execute()
    finally:
        run_sync(km.shutdown_kernel)(now=True)
    run = Run(nb, False, kernel_protection(km), 0.0)
    assert run.protection is Protection.SEPARATE_UID
    assert run.errors() == []
    uid, interfaces = run.text(0).split(maxsplit=1)
    assert int(uid) != 0 and interfaces.strip() == "['lo']"
    assert run.text(1) == "False False\n"  # course root and repository covered
    assert run.text(2) == "Network is unreachable\n"
    assert run.result(3)["big"] == "MemoryError"
    assert run.result(4)["error"] == "BlockingIOError"
    assert f"{uid} sleep 30" in processes_of(int(uid))
    reap_leftovers(workdir)
    for _ in range(50):  # killed processes take a moment to leave /proc
        if not processes_of(int(uid)):
            break
        time.sleep(0.05)
    assert processes_of(int(uid)) == []


def processes_of(uid: int) -> list[str]:
    """Return `uid command` of the live (non-zombie) processes run by `uid`."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(f"{uid} {cmdline.strip()}")
    return found


def test_work_left_behind_can_be_removed(tmp_path: Path) -> None:
    run = run_notebook(cells("open('out.txt', 'w').write('x')"), tmp_path)
    assert run.errors() == []
    shutil.rmtree(tmp_path / "work")


def test_kernels_start_afresh_once_the_zygote_is_gone(tmp_path: Path) -> None:
    zygote = start_zygote()
    assert zygote is not None
    zygote.process.kill()
    zygote.process.wait()
    try:
        run = run_notebook(cells("import os\nprint(os.getuid() != 0)"), tmp_path, zygote=zygote)
    finally:
        zygote.close()
    assert run.errors() == [] and not run.dead
    assert run.text(0) == "True\n"


def test_prestarted_kernels_get_their_own_uid_and_files(tmp_path: Path) -> None:
    """The engine's pool: kernels start first, submissions are copied in afterwards."""

    async def scenario() -> list[str]:
        kms = [sandbox_kernel_manager(tmp_path / f"k{i}" / "work", tmp_path / f"k{i}" / "run",
                                      zygote=ZYGOTE[0] if ZYGOTE else None)
               for i in range(2)]
        await asyncio.gather(*(km.start_kernel() for km in kms))
        outputs = []
        try:
            for i, km in enumerate(kms):
                kc = km.client()
                kc.start_channels()
                await kc.wait_for_ready(timeout=20)
                workdir = tmp_path / f"k{i}" / "work"
                (workdir / "data.txt").write_text(f"submission {i}\n")
                hand_over(workdir / "data.txt", workdir)
                code = ("import os\nopen('data.txt', 'a').write('changed')\n"
                        "print(os.getuid(), open('data.txt').read().split())")
                seen: list[str] = []
                await kc.execute_interactive(
                    code, timeout=20,
                    output_hook=lambda m, seen=seen: seen.append(m["content"].get("text", "")),
                )
                kc.stop_channels()
                outputs.append("".join(seen))
        finally:
            await asyncio.gather(*(km.shutdown_kernel(now=True) for km in kms))
        return outputs

    first, second = asyncio.run(scenario())
    assert first.endswith("['submission', '0', 'changed']\n"), first
    assert second.endswith("['submission', '1', 'changed']\n"), second
    assert first.split()[0] != second.split()[0]  # one NPROC budget per kernel
