"""KernelPool: warm kernels, one notebook each, over ipc, in a folder of their own."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

from softmax_course.sandbox.kernel_pool import KernelPool

PROBE = (
    "import os, sys, json\n"
    "print(json.dumps({'pid': os.getpid(), 'cwd': os.getcwd(), "
    "'env': os.environ.get('NBGRADER_EXECUTION'), 'numpy': 'numpy' in sys.modules, "
    "'names': sorted(n for n in globals() if not n.startswith('_'))}))"
)


async def probe(manager: AsyncKernelManager, client: AsyncKernelClient, folder: Path) -> dict:
    """Run PROBE in the kernel with the pool's ready client and return what it printed."""
    lines: list[str] = []

    def keep(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            lines.append(msg["content"]["text"])

    reply = await client.execute_interactive(PROBE, output_hook=keep, timeout=30)
    assert reply["content"]["status"] == "ok"
    return {**json.loads("".join(lines)), "folder": str(folder), "transport": manager.transport}


@pytest.fixture(scope="module")
def pool():
    pool = KernelPool(size=2, warm_modules=["numpy"], env={"NBGRADER_EXECUTION": "autograde"})
    yield pool
    pool.close()


def test_each_run_gets_a_fresh_warm_kernel_in_its_own_folder(pool) -> None:
    first, second = pool.run(probe), pool.run(probe)
    assert first["pid"] != second["pid"]
    for seen in (first, second):
        assert seen["cwd"] == seen["folder"] and seen["transport"] == "ipc"
        assert seen["env"] == "autograde"
        assert seen["numpy"]  # imported while warming...
        assert "numpy" not in seen["names"]  # ...without binding a name for the student
    assert first["folder"] != second["folder"]
    for _ in range(50):  # a used kernel and its folder go in the background
        if not Path(first["folder"]).exists():
            break
        time.sleep(0.1)
    assert not Path(first["folder"]).exists()


def test_a_pool_resized_to_zero_still_serves(pool) -> None:
    pool.resize(0)
    try:
        assert pool.run(probe)["pid"] and pool.run(probe)["pid"]
    finally:
        pool.resize(2)


def test_a_kernel_that_cannot_start_is_one_clear_error() -> None:
    pool = KernelPool(kernel_name="no-such-kernel", size=1)
    try:
        with pytest.raises(RuntimeError, match="kernel 'no-such-kernel' did not start"):
            pool.run(probe)
    finally:
        pool.close()
