"""What every fake shares: an aiohttp server on 127.0.0.1, request recording, scripted faults, inboxes.

A fake runs one of two ways, with the same routes and records:

- `with fake:` (or `fake.start()` … `fake.stop()`): on an event loop of its own in a background thread,
  for synchronous tests and for code under test that calls `asyncio.run()` itself;
- `async with fake:`: on the running event loop, for tests that are async already.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web

BODY = web.RequestKey("body", object)
"""The request's parsed body (JSON, form or text), for the routes."""

T = TypeVar("T")
S = TypeVar("S", bound="FakeServer")


async def listen(runner: web.AppRunner) -> str:
    """Set `runner` up on 127.0.0.1 with an ephemeral port; return its base URL."""
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run any aiohttp app (a fake's or the one under test) on the running loop; yields its base URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    try:
        yield await listen(runner)
    finally:
        await runner.cleanup()


class Inbox(Generic[T]):
    """What a fake received, in order, for a test to wait on instead of sleeping.

    `put` may be called from the fake's loop in another thread; `next` wakes the
    waiting test on its own loop.
    """

    def __init__(self) -> None:
        self.items: list[T] = []
        """Everything received, taken or not."""
        self._taken = 0
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def put(self, item: T) -> None:
        with self._lock:
            self.items.append(item)
            waiters, self._waiters = self._waiters, []
        for loop, waiter in waiters:
            loop.call_soon_threadsafe(_wake, waiter)

    def empty(self) -> bool:
        """Nothing received that `next` has not returned yet."""
        with self._lock:
            return self._taken == len(self.items)

    async def next(self, timeout: float = 10.0) -> T:
        """The oldest item not yet taken, waiting up to `timeout` seconds for one to arrive."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                if self._taken < len(self.items):
                    self._taken += 1
                    return self.items[self._taken - 1]
                waiter = loop.create_future()
                self._waiters.append((loop, waiter))
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise TimeoutError(f"the fake received nothing more within {timeout} s") from None


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass
class Fault:
    """One scripted misbehaviour, used by the first request that `matches`.

    status/body/headers: answer this instead of handling the request.
    accept_then: handle the request normally (the platform has the message), then `delay` seconds and/or
    SIGKILL `kill_pid` before answering — the instant between "the platform accepted" and "the ledger recorded";
    with `status` too, answer that status instead of the real answer (a proxy's 502 after the platform stored
    the message).
    """

    matches: Callable[[str, str], bool]
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    accept_then: bool = False
    kill_pid: int | None = None
    times: int = 1


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    at: float
    answered: float = 0.0
    """When the response was sent (0 until then): "received" and "answered" order concurrent requests."""


class FakeServer:
    """Subclasses add routes in `routes(app)`; `root` is the base URL once the server runs."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        """Seconds added to every request."""
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.port = 0
        self.lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _listen(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        self.port = int((await listen(self._runner)).rsplit(":", 1)[1])
        self._loop = asyncio.get_running_loop()

    # -- on a loop of its own, in a background thread

    def start(self: S) -> S:
        loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), loop).result(10)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        assert loop is not None and thread is not None, "stop() goes with start()"
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

    def __enter__(self: S) -> S:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- on the running loop

    async def __aenter__(self: S) -> S:
        await self._listen()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def on_server_loop(self, work: Coroutine[Any, Any, T]) -> T:
        """Await `work` on the loop the server runs on, whichever way it was started."""
        assert self._loop is not None, "the fake is not running"
        if asyncio.get_running_loop() is self._loop:
            return await work
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    # -- faults and recording

    def fail(self, matches: Callable[[str, str], bool], **kwargs: Any) -> Fault:
        """Script a misbehaviour for the next request(s) whose (method, path) `matches`; see Fault."""
        fault = Fault(matches, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        raw = await request.read()
        body: Any
        if request.content_type == "application/json" and raw:
            body = json.loads(raw)
        elif request.content_type == "application/x-www-form-urlencoded":
            body = dict(await request.post())
        else:
            body = raw.decode("utf-8", "replace")
        recorded = Recorded(request.method, request.path, dict(request.query), body, dict(request.headers), time.time())
        with self.lock:
            self.requests.append(recorded)
        try:
            return await self._answer(request, handler, body)
        finally:
            recorded.answered = time.time()

    async def _answer(self, request: web.Request, handler: Callable[..., Any], body: Any) -> web.StreamResponse:
        request[BODY] = body
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self._take_fault(request.method, request.path)
        if fault is not None and not fault.accept_then:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return _fault_response(fault)
        response = await handler(request)
        if fault is not None and fault.accept_then:
            if fault.kill_pid is not None:
                os.kill(fault.kill_pid, signal.SIGKILL)
                await asyncio.sleep(0.2)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return _fault_response(fault)
        return response


def _fault_response(fault: Fault) -> web.Response:
    assert fault.status is not None
    if isinstance(fault.body, (dict, list)):
        headers = {"Content-Type": "application/json", **fault.headers}
        return web.Response(body=json.dumps(fault.body).encode(), status=fault.status, headers=headers)
    return web.Response(text=str(fault.body or ""), status=fault.status, headers=fault.headers)
