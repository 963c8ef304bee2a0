"""Kernels started ahead of time in one process; each runs one notebook and is then replaced.

Starting a kernel (and importing numpy in it) takes about half a second. A pool keeps `size`
kernels starting or ready in the background, so a notebook finds a warm kernel waiting, with a
client already connected: jupyter_client's `wait_for_ready` ends by waiting 0.2 s for the kernel's
broadcasts to go quiet, and the pool pays that in the background, not the notebook. Each
kernel gets its own empty working folder, talks over ipc sockets under a prefix of its own (no
TCP port races between parallel workers), runs exactly one notebook and is then killed. On a
Dask worker (KernelPoolPlugin) the kernels are forked from a zygote where the sandbox allows it
(softmax_course.sandbox.zygote), which spares each the CPU of those imports.

All kernel work happens on one asyncio loop in a thread of the pool, so the jupyter_client
objects are only ever used from the loop that made them.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from distributed import Worker, get_worker
from distributed.diagnostics.plugin import WorkerPlugin
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

from softmax_course.sandbox.spec import (
    Limits,
    Protection,
    sandbox_kernel_manager,
    sandbox_support,
    start_zygote,
)
from softmax_course.sandbox.zygote import KernelZygote

T = TypeVar("T")

SHORT_TMP = "/tmp" if Path("/tmp").is_dir() else None
"""Where the pool's folders go: ipc socket paths must stay under ~100 bytes."""

DEFAULT_LIMITS = Limits()
"""softmax_course.sandbox.spec's resource limits, unless a grading run asks for others."""

KernelJob = Callable[[AsyncKernelManager, AsyncKernelClient, Path], Awaitable[T]]
"""What runs in a pooled kernel: given its manager, a client whose channels are open and whose
kernel has answered (`wait_for_ready`), and its working folder, do the work."""

KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:", "--InteractiveShell.xmode=Plain")
"""Every pooled kernel keeps no history file, and prints tracebacks as Python does (file, line and
code of each frame), in IPython's Plain mode: its default Context mode costs a failing cell
about 55 ms of CPU (170 ms for the first), Plain about 4 ms, and a class fails many cells."""

ManagerFactory = Callable[[str, Path, Path], AsyncKernelManager]
"""Makes an unstarted kernel manager from a kernel name, a working folder and a folder for its
connection file and ipc sockets (e.g. softmax_course.sandbox.spec's sandbox_kernel_manager)."""


def plain_manager(kernel_name: str, workdir: Path, runtime_dir: Path) -> AsyncKernelManager:
    """Return an unstarted manager for kernel `kernel_name`, talking over ipc in `runtime_dir`."""
    return AsyncKernelManager(
        kernel_name=kernel_name,
        transport="ipc",
        ip=str(runtime_dir / "kernel"),
        connection_file=str(runtime_dir / "kernel.json"),
    )


def sandboxed_manager(
    kernel_name: str,
    workdir: Path,
    runtime_dir: Path,
    *,
    hide_paths: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
    zygote: KernelZygote | None = None,
) -> AsyncKernelManager:
    """Return an unstarted manager for a kernel in softmax_course.sandbox.spec's sandbox.

    The sandbox runs its own python3 kernel whatever `kernel_name` says; `hide_paths` (the
    course root) are hidden from the kernel where the sandbox cannot hide everything. With a
    `zygote`, the kernel is forked from it (softmax_course.sandbox.zygote).
    """
    return sandbox_kernel_manager(
        workdir, runtime_dir, hide_paths=tuple(hide_paths), limits=limits, zygote=zygote
    )


def grading_manager_factory(
    hide_paths: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
    zygote: KernelZygote | None = None,
) -> ManagerFactory:
    """Return the factory grading kernels start with: sandboxed, or plain if no sandbox at all.

    Falls back to plain kernels only when `sandbox_support()` says no protection is possible.
    """
    if sandbox_support() == Protection.NONE:
        return plain_manager
    return functools.partial(
        sandboxed_manager, hide_paths=tuple(hide_paths), limits=limits, zygote=zygote
    )


class KernelStartError(RuntimeError):
    """A kernel of the pool could not be started."""


@dataclass
class _Kernel:
    manager: AsyncKernelManager
    folder: Path  # the kernel's working folder
    runtime: Path  # its connection file and ipc sockets
    client: AsyncKernelClient | None = None  # connected and ready, once started


class KernelPool:
    """A few kernels of one kind, started in the background, each used for one notebook only."""

    def __init__(
        self,
        *,
        kernel_name: str = "python3",
        size: int = 2,
        warm_modules: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        manager_factory: ManagerFactory = plain_manager,
    ) -> None:
        self.kernel_name = kernel_name
        self.size = max(1, size)
        self.warm_modules = tuple(warm_modules)
        self.env = {**os.environ, **(env or {})}
        self.startup_timeout = startup_timeout
        self.manager_factory = manager_factory
        # Unix socket paths are limited to ~100 bytes: keep the prefix short.
        self._base = Path(tempfile.mkdtemp(prefix="kpool-", dir=SHORT_TMP))
        self._numbers = itertools.count()
        self._starting: deque[asyncio.Task[_Kernel]] = deque()
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kernel-pool", daemon=True
        )
        self._thread.start()
        self._submit(self._fill()).result()

    def run(self, job: KernelJob[T]) -> T:
        """Run `job` with a fresh kernel of the pool and return its result (blocks)."""
        if self._closed:
            raise RuntimeError("the kernel pool is closed")
        return self._submit(self._run(job)).result()

    def close(self) -> None:
        """Shut down every kernel of the pool and stop its thread."""
        if self._closed:
            return
        self._closed = True
        try:
            self._submit(self._shutdown()).result(timeout=60)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            shutil.rmtree(self._base, ignore_errors=True)

    def _submit(self, coroutine: Coroutine[object, object, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _fill(self) -> None:
        while len(self._starting) < self.size:
            self._starting.append(asyncio.ensure_future(self._start()))

    async def _start(self) -> _Kernel:
        number = next(self._numbers)
        folder, runtime = self._base / f"w{number}", self._base / f"r{number}"
        folder.mkdir()
        runtime.mkdir()
        kernel = _Kernel(self.manager_factory(self.kernel_name, folder, runtime), folder, runtime)
        manager = kernel.manager
        try:
            await manager.start_kernel(
                extra_arguments=list(KERNEL_ARGUMENTS),
                cwd=str(kernel.folder),
                env=self.env,
                # What a kernel prints on its own stdout is not a cell's output (the sandbox's
                # ipykernel prints a banner there); its stderr still reaches the grader's log.
                stdout=subprocess.DEVNULL,
            )
            kernel.client = manager.client()
            kernel.client.start_channels()
            await kernel.client.wait_for_ready(timeout=self.startup_timeout)
            if self.warm_modules:
                # Silent: no execution count, no history, no name bound for the student.
                code = "\n".join(f"__import__({name!r})" for name in self.warm_modules)
                await kernel.client.execute_interactive(
                    code, silent=True, store_history=False, timeout=self.startup_timeout
                )
        except Exception as exc:
            await self._discard(kernel)
            raise KernelStartError(
                f"kernel '{self.kernel_name}' did not start: {type(exc).__name__}: {exc}"
            ) from exc
        return kernel

    def resize(self, size: int) -> None:
        """Keep `size` kernels starting or ready from now on (0: start one only when asked)."""
        self.size = max(0, size)

    async def _acquire(self) -> _Kernel:
        for _ in range(3):
            if not self._starting:
                self._starting.append(asyncio.ensure_future(self._start()))
            task = self._starting.popleft()
            await self._fill()
            kernel = await task
            if await kernel.manager.is_alive():
                return kernel
            self._later(self._discard(kernel))
        raise KernelStartError(f"kernels '{self.kernel_name}' keep dying before use")

    async def _run(self, job: KernelJob[T]) -> T:
        kernel = await self._acquire()
        assert kernel.client is not None  # _start made it
        try:
            return await job(kernel.manager, kernel.client, kernel.folder)
        finally:
            self._later(self._discard(kernel))

    def _later(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    async def _discard(kernel: _Kernel) -> None:
        if kernel.client is not None:
            kernel.client.stop_channels()
        try:
            if kernel.manager.has_kernel:
                await kernel.manager.shutdown_kernel(now=True)
        except Exception:  # a kernel that is already gone needs no shutting down
            pass
        # No sandbox.reap_leftovers here: the kernel's uid is free again once it has died, and
        # a kernel starting meanwhile may take it; the launcher kills a uid's leftovers itself
        # when it takes the uid for the next kernel.
        shutil.rmtree(kernel.folder, ignore_errors=True)
        shutil.rmtree(kernel.runtime, ignore_errors=True)

    async def _shutdown(self) -> None:
        starting = list(self._starting)
        self._starting.clear()
        for task in starting:
            try:
                kernel = await task
            except Exception:
                continue
            await self._discard(kernel)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


class KernelPoolPlugin(WorkerPlugin):
    """Gives each Dask worker a KernelPool, and imports the modules its tasks will need."""

    def __init__(
        self,
        *,
        name: str = "softmax-course-kernel-pool",
        kernel_name: str = "python3",
        size: int = 2,
        warm_modules: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        preload: Sequence[str] = (),
        hide_paths: Sequence[str] = (),
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.name = name  # distinct per grading run: runs may share a Dask cluster
        self.kernel_name = kernel_name
        self.size = size
        self.warm_modules = tuple(warm_modules)
        self.env = dict(env or {})
        self.preload = tuple(preload)
        self.hide_paths = tuple(hide_paths)  # hidden from sandboxed kernels (the course root)
        self.limits = limits
        self.pool: KernelPool | None = None
        self.zygote: KernelZygote | None = None

    def setup(self, worker: object) -> None:
        """Start the worker's kernels; import the task modules in the background meanwhile.

        Where the sandbox allows it, kernels are forked from a zygote that has imported
        ipykernel and `warm_modules` once (softmax_course.sandbox.zygote)."""
        self.zygote = start_zygote(self.warm_modules)
        self.pool = KernelPool(
            kernel_name=self.kernel_name,
            size=self.size,
            warm_modules=self.warm_modules,
            env=self.env,
            manager_factory=grading_manager_factory(self.hide_paths, self.limits, self.zygote),
        )
        for module in self.preload:
            threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()

    def teardown(self, worker: object) -> None:
        """Shut the worker's kernels down."""
        if self.pool is not None:
            self.pool.close()
        if self.zygote is not None:
            self.zygote.close()


def resize_worker_pool(name: str, size: int, dask_worker: Worker | None = None) -> None:
    """Resize the kernel pool `name` of a Dask worker (for Client.run; see KernelPool.resize)."""
    worker_pool(name, dask_worker).resize(size)


def worker_pool(name: str, worker: Worker | None = None) -> KernelPool:
    """Return the kernel pool `name` of `worker`, by default the worker this task runs on."""
    plugin = (worker or get_worker()).plugins.get(name)
    if not isinstance(plugin, KernelPoolPlugin) or plugin.pool is None:
        raise RuntimeError(f"this Dask worker has no kernel pool '{name}'")
    return plugin.pool
