"""Talking to the kernel (asyncio side): one request at a time, with time limits.

`_KernelLink` evaluates a user expression (to define the helper) or sends a message to the
helper's comm (each call), waits for the answer within a time limit, interrupts a kernel that
runs out of time, and collects what the request wrote to stderr.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import queue
import uuid
from collections.abc import Callable
from typing import Any

MAX_REPLY_CHARS = 64 * 2**20
"""Longest kernel answer read, in characters (a 20 000-float array is about 0.2 MB)."""

INTERRUPT_GRACE = 5.0
"""Seconds a timed-out kernel gets to answer an interrupt before it counts as unresponsive."""


class _Timeout(Exception):
    pass


class _Dead(Exception):
    pass


class _HelperFailed(Exception):
    pass


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class _KernelLink:
    """Evaluates user expressions, and calls the helper's comm, one at a time, with limits."""

    def __init__(
        self,
        client: Any,
        kernel_alive: Callable[[], Any] | None,
        interrupt: Callable[[], Any] | None,
    ) -> None:
        self.client = client
        self.kernel_alive = kernel_alive
        self.interrupt = interrupt
        self.stuck = False  # the kernel did not answer an interrupt
        self.comm_id = ""

    async def _get(self, channel: str, timeout: float) -> dict:
        getter = getattr(self.client, f"get_{channel}_msg")
        if inspect.iscoroutinefunction(getter):
            return await getter(timeout=timeout)
        return await asyncio.to_thread(getter, timeout=timeout)

    async def alive(self) -> bool:
        """Return whether the kernel process still runs."""
        check = self.kernel_alive or self.client.is_alive
        return bool(await _maybe_await(check()))

    async def evaluate(self, expression: str, timeout: float) -> tuple[str, str]:
        """Evaluate `expression` in the kernel; return its text/plain and the stderr written."""
        msg_id = self.client.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"r": expression},
            allow_stdin=False,
            stop_on_error=False,
        )
        deadline = asyncio.get_running_loop().time() + timeout
        reply = await self._next(msg_id, "shell", deadline)
        stderr = await self._stderr(msg_id)
        content = reply.get("content", {})
        result = content.get("user_expressions", {}).get("r")
        if content.get("status") != "ok" or not isinstance(result, dict):
            raise _HelperFailed(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")
        if result.get("status") != "ok":
            raise _HelperFailed(f"{result.get('ename', 'error')}: {result.get('evalue', '')}")
        text = result.get("data", {}).get("text/plain", "")
        if not isinstance(text, str) or len(text) > MAX_REPLY_CHARS:
            raise _HelperFailed("the kernel's answer is missing or too long")
        try:
            node = ast.parse(text, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            node = None
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise _HelperFailed(f"the kernel answered {text[:80]!r}, not the checker's text")
        return node.value, stderr

    def open_comm(self, target: str) -> None:
        """Open a comm to the kernel's `target` (the helper registers one); `call` uses it."""
        self.comm_id = uuid.uuid4().hex
        content = {"comm_id": self.comm_id, "target_name": target, "data": {}}
        self.client.shell_channel.send(self.client.session.msg("comm_open", content))

    async def call(self, request: str, timeout: float) -> tuple[str, str]:
        """Send `request` to the helper's comm; return its answer and the stderr written."""
        message = self.client.session.msg(
            "comm_msg", {"comm_id": self.comm_id, "data": {"q": request}}
        )
        self.client.shell_channel.send(message)
        msg_id = message["header"]["msg_id"]
        deadline = asyncio.get_running_loop().time() + timeout
        answer: object = None
        chunks = []
        while True:
            reply = await self._next(msg_id, "iopub", deadline)
            kind, content = reply.get("msg_type"), reply.get("content", {})
            if kind == "stream" and content.get("name") == "stderr":
                chunks.append(str(content.get("text", "")))
            elif kind == "comm_msg" and content.get("comm_id") == self.comm_id:
                answer = content.get("data", {}).get("r")
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        if not isinstance(answer, str) or len(answer) > MAX_REPLY_CHARS:
            raise _HelperFailed("the kernel's answer is missing or too long")
        return answer, "".join(chunks)

    async def _next(self, msg_id: str, channel: str, deadline: float) -> dict:
        """Return the next message on `channel` answering `msg_id`; past `deadline`, interrupt
        the kernel and raise _Timeout; raise _Dead when the kernel has gone."""
        loop = asyncio.get_running_loop()
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self._recover(msg_id, channel)
                raise _Timeout()
            try:
                message = await self._get(channel, min(remaining, 1.0))
            except queue.Empty:
                if not await self.alive():
                    raise _Dead() from None
                continue
            if message.get("parent_header", {}).get("msg_id") == msg_id:
                return message

    async def _recover(self, msg_id: str, channel: str) -> None:
        """Interrupt a call that ran out of time and wait a little for the kernel to be done
        with it: its reply on the shell channel, or its idle status on iopub."""
        try:
            if self.interrupt is not None:
                await _maybe_await(self.interrupt())
            elif hasattr(getattr(self.client, "parent", None), "interrupt_kernel"):
                await _maybe_await(self.client.parent.interrupt_kernel())
            else:
                self.client.control_channel.send(
                    self.client.session.msg("interrupt_request", content={})
                )
        except Exception:
            pass
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INTERRUPT_GRACE
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = await self._get(channel, min(remaining, 0.5))
            except queue.Empty:
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if channel == "shell":
                await self._stderr(msg_id)
                return
            if message.get("msg_type") == "status" and (
                message.get("content", {}).get("execution_state") == "idle"
            ):
                return
        self.stuck = True

    async def _stderr(self, msg_id: str) -> str:
        """Collect what the request wrote to stderr, until the kernel says it is idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        chunks = []
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = await self._get("iopub", remaining)
            except queue.Empty:
                break
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = message.get("content", {})
            if message.get("msg_type") == "stream" and content.get("name") == "stderr":
                chunks.append(str(content.get("text", "")))
            if message.get("msg_type") == "status" and content.get("execution_state") == "idle":
                break
        return "".join(chunks)
