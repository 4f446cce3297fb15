"""Running the emulator: in the foreground (`smallest emulator serve`) or in a thread
for the duration of one command (`smallest --emulator …`).

Either way one uvicorn server listens on two ports: the main one is the India region
(`ap-south-1`, standing in for `api.smallest.ai`), the other the US region (`us-west-2`,
standing in for `api.us.smallest.ai`, REFERENCE §2.1). Every route is served on both; the
regional differences of speech to text follow the port a request came in on.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any, cast

import uvicorn

from smallest_cli.emulator import sabotage
from smallest_cli.emulator.app import create_app
from smallest_cli.emulator.state import INDIA, US, EmulatorState

START_TIMEOUT = 10.0


class _QuietDrops(logging.Filter):
    """The `drop` fault cuts responses on purpose, refused WebSocket handshakes are
    answered with plain HTTP on purpose, and stopping cancels what is in flight; uvicorn
    need not complain about any of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # A stop cancels the requests in flight: that is no error in the application.
        cancelled = record.exc_info is not None and record.exc_info[0] is asyncio.CancelledError
        return (
            not cancelled
            and "without completing response" not in message
            and "returned without completing handshake" not in message
        )


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class _Server(uvicorn.Server):
    """uvicorn's server, which says when it listens and stops at once, closing what is in
    flight, on SIGINT/SIGTERM or from another thread (`stop_now`)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        await super().startup(sockets)
        if self.started:
            sabotage.register(self)
            self._on_ready()

    async def main_loop(self) -> None:
        # uvicorn polls for should_exit every 0.1 s; waking up on stop saves that wait.
        assert self._wake is not None
        while not await self.on_tick(0):  # tick 0 refreshes the Date header, once a second
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)

    def stop_now(self) -> None:
        """Stop without waiting for open connections (thread-safe)."""
        self.should_exit = self.force_exit = True
        if self._loop is not None and self._wake is not None:
            with suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if not self.force_exit:
            await super().shutdown(sockets)
            return
        # Close every connection and cancel its work: a stall or a slow stream ends at once.
        # A WebSocket gets a close frame (1012, service restart), an HTTP exchange a plain
        # end of connection (never a made-up 500).
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            with suppress(Exception):  # a connection already half gone
                connection.shutdown()
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()
        for task in self.server_state.tasks:
            task.cancel()
        await asyncio.sleep(0)  # let the closes go out before the loop ends

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the signal after shutting down; a stopped emulator should just exit 0.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_now()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: no delayed-ACK stalls between small writes (~40 ms each).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _websocket_protocol(**kwargs: Any) -> asyncio.Protocol:
    """uvicorn's WebSocket protocol, imported on the first upgrade rather than at start-up."""
    from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

    assert AutoWebSocketsProtocol is not None
    return AutoWebSocketsProtocol(**kwargs)


def _config(state: EmulatorState, access_log: bool, configure_logging: bool) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(state),
        ws=cast(type[asyncio.Protocol], _websocket_protocol),
        lifespan="off",
        log_level="info" if access_log else "warning",
        access_log=access_log,
        log_config=uvicorn.config.LOGGING_CONFIG if configure_logging else None,
        timeout_graceful_shutdown=2,
    )


def _listen(state: EmulatorState, host: str, port: int, us_port: int) -> list[socket.socket]:
    """The India and US listening sockets, registered with `state`."""
    india = bind(host, port)
    try:
        us = bind(host, us_port)
    except OSError:
        india.close()
        raise
    state.listen_as(INDIA, base_url_of(india))
    state.listen_as(US, base_url_of(us))
    return [india, us]


def serve(
    state: EmulatorState,
    *,
    host: str,
    port: int,
    on_ready: Callable[[str, str], None],
    us_port: int = 0,
    access_log: bool = False,
) -> None:
    """Serve in the foreground until SIGINT or SIGTERM; `on_ready(base_url, us_base_url)`
    once listening (`us_port` 0: any free port for the US region)."""
    sockets = _listen(state, host, port, us_port)
    urls = [base_url_of(s) for s in sockets]
    server = _Server(_config(state, access_log, True), lambda: on_ready(urls[0], urls[1]))
    try:
        server.run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()


class InProcessEmulator:
    """An emulator on free loopback ports, served from a background thread.

    `base_url` is the India region (the `api.smallest.ai` stand-in), `us_base_url` the US
    region (`api.us.smallest.ai`); both serve every route.
    """

    def __init__(self, state: EmulatorState | None = None, host: str = "127.0.0.1") -> None:
        """`state` None: a fresh one, with `emulator serve`'s defaults."""
        self.state = state or EmulatorState()
        self._sockets = _listen(self.state, host, 0, 0)
        self.base_url = base_url_of(self._sockets[0])
        self.us_base_url = base_url_of(self._sockets[1])
        self._ready = threading.Event()
        self._server = _Server(_config(self.state, False, False), self._ready.set)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": self._sockets},
            name="emulator",
            daemon=True,
        )

    def start(self) -> str:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the emulator did not start within 10 s")
        return self.base_url

    def stop(self) -> None:
        self._server.stop_now()
        if self._thread.is_alive():
            self._thread.join(START_TIMEOUT)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> InProcessEmulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
