"""A small aiohttp server in a background thread, with request recording and scripted faults."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BODY = web.RequestKey("body", object)
"""The request's parsed body (JSON, form or text), for the routes."""


@dataclass
class Fault:
    """One scripted misbehaviour, used by the first request that `matches`.

    status/body/headers: answer this instead of handling the request.
    accept_then: handle the request normally (the platform has the message), then `delay` seconds and/or
    SIGKILL `kill_pid` before answering — the instant between "the platform accepted" and "the ledger recorded".
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
    """Subclasses add routes in `routes(app)`; `base_url` is ready after `start()`."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.lock = threading.Lock()

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def start(self) -> FakeServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, matches: Callable[[str, str], bool], **kwargs: Any) -> Fault:
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
                if isinstance(fault.body, (dict, list)):
                    headers = {"Content-Type": "application/json", **fault.headers}
                    return web.Response(body=json.dumps(fault.body).encode(), status=fault.status, headers=headers)
                return web.Response(text=str(fault.body or ""), status=fault.status, headers=fault.headers)
        response = await handler(request)
        if fault is not None and fault.accept_then:
            if fault.kill_pid is not None:
                os.kill(fault.kill_pid, signal.SIGKILL)
                await asyncio.sleep(0.2)
            if fault.delay:
                await asyncio.sleep(fault.delay)
        return response
