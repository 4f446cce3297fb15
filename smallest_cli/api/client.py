"""SmallestClient: transport, auth, retries and error mapping for every service.

It never prints: retry notes and debug lines go to callbacks the caller supplies. Service
modules (`voices`, …) hang off it and turn responses into typed results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx

from smallest_cli import __version__
from smallest_cli.api.constants import DEFAULT_BASE_URL
from smallest_cli.api.errors import status_error
from smallest_cli.api.retry import DEFAULT_MAX_WAIT, DEFAULT_RETRIES, RetryPolicy
from smallest_cli.api.transport import TlsOnFirstUse
from smallest_cli.errors import APIConnectionError, APIError, APITimeoutError

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

    from smallest_cli.api.chat import ChatAPI
    from smallest_cli.api.cloning import CloningAPI
    from smallest_cli.api.dictionaries import DictionariesAPI
    from smallest_cli.api.ratelimit import AdaptiveSlots
    from smallest_cli.api.stt import SttAPI
    from smallest_cli.api.stt_live import SttLiveAPI
    from smallest_cli.api.tts import TtsAPI
    from smallest_cli.api.voices import VoicesAPI

USER_AGENT = f"smallest-cli/{__version__}"
DEFAULT_TIMEOUT = 60.0
MAX_CONNECT_TIMEOUT = 10.0
WS_MAX_MESSAGE = 16 * 1024 * 1024

T = TypeVar("T")
RetryHook = Callable[[APIError, float, int, int], None]
"""Called before each retry with the error, the wait in seconds, the retry number, the maximum."""


class SmallestClient:
    """A connection to the Waves API (or anything speaking its contract, like the emulator)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        transport: httpx.BaseTransport | None = None,
        on_retry: RetryHook | None = None,
        log: Callable[[str], None] | None = None,
        policy: RetryPolicy | None = None,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.policy = policy or RetryPolicy(retries=retries, max_wait=max_wait)
        self.slots: AdaptiveSlots | None = None  # set by callers that run requests in parallel
        self.on_retry = on_retry
        self.log = log
        hooks: dict[str, list[Callable[..., Any]]] = {}
        if log is not None:
            hooks = {"request": [self._log_request], "response": [self._log_response]}
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=min(timeout, MAX_CONNECT_TIMEOUT)),
            transport=transport or TlsOnFirstUse(),
            event_hooks=hooks,
        )

    def __enter__(self) -> SmallestClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # the key stays out of tracebacks
        return f"SmallestClient(base_url={self.base_url!r})"

    # -- services -------------------------------------------------------------------

    @property
    def tts(self) -> TtsAPI:
        from smallest_cli.api.tts import TtsAPI

        return TtsAPI(self)

    @property
    def voices(self) -> VoicesAPI:
        from smallest_cli.api.voices import VoicesAPI

        return VoicesAPI(self)

    @property
    def cloning(self) -> CloningAPI:
        from smallest_cli.api.cloning import CloningAPI

        return CloningAPI(self)

    @property
    def dictionaries(self) -> DictionariesAPI:
        from smallest_cli.api.dictionaries import DictionariesAPI

        return DictionariesAPI(self)

    @property
    def stt(self) -> SttAPI:
        from smallest_cli.api.stt import SttAPI

        return SttAPI(self)

    @property
    def stt_live(self) -> SttLiveAPI:
        from smallest_cli.api.stt_live import SttLiveAPI

        return SttLiveAPI(self)

    @property
    def chat(self) -> ChatAPI:
        from smallest_cli.api.chat import ChatAPI

        return ChatAPI(self)

    # -- HTTP -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool = True,
        may_retry: Callable[[], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request and read the whole response; raise an APIError on failure.

        `kwargs` are httpx's (`params`, `json`, `content`, `headers`, …). The request is
        rebuilt for each attempt: a plain body is resent as is, and `content` may be a
        zero-argument callable that makes the body afresh (bytes, or an iterator of bytes
        that streams a file), so an upload is not retried with a spent iterator.
        `idempotent=False` stops retries after the request may have reached the server;
        `may_retry`, asked before each retry, stops them for any other reason (a body that
        cannot be made again, like stdin).
        """
        return self.with_retries(
            lambda: self._send(self._build(method, path, kwargs), False, idempotent),
            may_retry=may_retry,
        )

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """`request`, then the body parsed as JSON (an APIError if it is not JSON)."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise APIError(
                f"{method} {path} answered {response.status_code} with a body that is not JSON",
                request_id=response.headers.get("x-request-id"),
            ) from None

    def fetch(self, url: str) -> bytes:
        """GET a URL outside the API (a voice's preview clip), following redirects, with this
        client's retries and errors but without the API key: the key is for the API only."""

        def attempt() -> httpx.Response:
            request = self._http.build_request("GET", url)
            del request.headers["Authorization"]
            return self._send(request, False, True, follow_redirects=True)

        return self.with_retries(attempt).content

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> Iterator[httpx.Response]:
        """Send a request and yield the response as soon as its headers arrive.

        Retries happen only before a successful status is seen; a connection lost while the
        caller reads the body becomes an APIConnectionError.
        """
        response = self.with_retries(
            lambda: self._send(self._build(method, path, kwargs), True, idempotent)
        )
        try:
            yield response
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"{self._host()} stopped sending for {self.timeout:g} s mid-response",
                hint="raise --timeout, or try again",
            ) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"the connection to {self._host()} was lost mid-response ({_reason(exc)})",
                hint="try again; nothing was retried because part of the answer had arrived",
            ) from exc
        finally:
            response.close()

    def _build(self, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Request:
        content = kwargs.get("content")
        if callable(content):
            kwargs = {**kwargs, "content": content()}
        return self._http.build_request(method, path, **kwargs)

    def _send(
        self,
        request: httpx.Request,
        stream: bool,
        idempotent: bool,
        *,
        follow_redirects: bool = False,
    ) -> httpx.Response:
        try:
            response = self._http.send(request, stream=True, follow_redirects=follow_redirects)
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"no answer from {self._host()} within {self.timeout:g} s",
                hint="check the network, or raise --timeout",
                retryable=isinstance(exc, httpx.ConnectTimeout) or idempotent,
            ) from exc
        except httpx.TransportError as exc:
            raise self._connection_error(exc, idempotent) from exc
        if response.is_success:
            if not stream:
                self._read_body(response, idempotent)
            return response
        try:
            body = response.read()
        except httpx.TransportError:
            body = b""
        finally:
            response.close()
        raise status_error(response.status_code, response.headers, body)

    def _read_body(self, response: httpx.Response, idempotent: bool) -> None:
        """Read a successful answer whole; one that stops mid-way says so (the headers came)."""
        try:
            response.read()
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"{self._host()} stopped sending for {self.timeout:g} s mid-response",
                hint="raise --timeout, or try again",
                retryable=idempotent,
            ) from exc
        except httpx.TransportError as exc:
            raise self._connection_error(exc, idempotent) from exc
        finally:
            response.close()

    def _connection_error(self, exc: httpx.TransportError, idempotent: bool) -> APIError:
        if isinstance(exc, httpx.ConnectError):
            return APIConnectionError(
                f"cannot connect to {self.base_url} ({_reason(exc)})",
                hint="check the network and the base URL (--base-url, SMALLEST_BASE_URL)",
                retryable=True,
            )
        return APIConnectionError(
            f"the connection to {self._host()} failed ({_reason(exc)})",
            hint="check the network and try again",
            retryable=idempotent,
        )

    def with_retries(
        self, attempt: Callable[[], T], *, may_retry: Callable[[], bool] | None = None
    ) -> T:
        """Run `attempt` until it succeeds, the retry policy gives up, or `may_retry()` is false.

        A busy account (`waits_for_slot`) is waited out within `policy.max_wait`; other
        retryable failures are retried `policy.retries` times.
        """
        policy = self.policy
        failures = busy = 0
        waited = 0.0  # on the timer, for a slot
        while True:
            try:
                return attempt()
            except APIError as error:
                if error.waits_for_slot:
                    delay = policy.busy_delay(busy, error, waited)
                    busy += 1
                    waited += delay or 0.0
                else:
                    delay = policy.delay(failures, error)
                    failures += 1
                if delay is not None and may_retry is not None and not may_retry():
                    raise
                if delay is None:
                    if error.waits_for_slot and error.retry_after:
                        error.hint = (
                            f"the server asks to wait {error.retry_after:.0f} s; try again "
                            "later, or raise --max-wait"
                        )
                    elif error.waits_for_slot:
                        error.explain(
                            f"no slot came free within {policy.max_wait:g} s; try later, "
                            "or raise --max-wait"
                        )
                    elif error.retryable and failures <= policy.retries and error.retry_after:
                        error.hint = (
                            f"the server asks to wait {error.retry_after:.0f} s; try again later"
                        )
                    raise
                if self.on_retry is not None:
                    number = busy if error.waits_for_slot else failures
                    self.on_retry(error, delay, number, policy.retries)
                self._pause(error, delay)

    def _pause(self, error: APIError, delay: float) -> None:
        slots = self.slots
        if error.waits_for_slot and slots is not None and slots.holds() and slots.wait_busy():
            return
        self.policy.sleep(delay)

    # -- WebSocket ------------------------------------------------------------------

    def ws_url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """The ws:// or wss:// URL for `path` on this client's host."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        url = f"{scheme}://{parts.netloc}{parts.path}{path}"
        if params:
            url += "?" + urlencode({k: _query_value(v) for k, v in params.items() if v is not None})
        return url

    @contextmanager
    def connect_ws(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> Iterator[ClientConnection]:
        """An authenticated WebSocket for the `with` block; refusals become APIStatusErrors.

        The handshake is retried like a request; once it succeeds nothing is retried.
        `retry=False` tries it once, for a caller that retries the whole exchange itself
        (one backoff and one --max-wait for refused handshakes and refusals on the socket).
        """
        from websockets.exceptions import InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect

        url = self.ws_url(path, params)
        all_headers = {"Authorization": f"Bearer {self.api_key}", **(headers or {})}

        with ExitStack() as stack:

            def attempt() -> ClientConnection:
                if self.log is not None:
                    self.log(f"→ WebSocket {url}")
                try:
                    connection: ClientConnection = stack.enter_context(
                        _without_redirects(connect)(
                            url,
                            additional_headers=all_headers,
                            user_agent_header=USER_AGENT,
                            open_timeout=min(self.timeout, MAX_CONNECT_TIMEOUT),
                            close_timeout=5,
                            max_size=WS_MAX_MESSAGE,
                        )
                    )
                    return connection
                except InvalidStatus as exc:
                    answer = exc.response
                    if answer.status_code < 400:
                        raise self._not_a_websocket(answer.status_code, answer.headers) from None
                    raise status_error(
                        answer.status_code, dict(answer.headers), bytes(answer.body or b"")
                    ) from exc
                except TimeoutError as exc:
                    raise APITimeoutError(
                        f"no WebSocket handshake from {self._host()} within {MAX_CONNECT_TIMEOUT:g} s",
                        retryable=True,
                    ) from exc
                except InvalidHandshake as exc:
                    raise APIConnectionError(
                        f"the WebSocket handshake with {self._host()} failed: {exc}"
                    ) from exc
                except OSError as exc:
                    raise APIConnectionError(
                        f"cannot connect to {url} ({exc.strerror or exc})",
                        hint="check the network and the base URL (--base-url, SMALLEST_BASE_URL)",
                        retryable=True,
                    ) from exc

            yield self.with_retries(attempt) if retry else attempt()

    def _not_a_websocket(self, status: int, headers: Mapping[str, str]) -> APIConnectionError:
        """The error for a handshake answered with something other than a WebSocket: a
        redirect (never followed: it could take the key elsewhere) or a page, as a proxy or a
        captive portal sends."""
        if 300 <= status < 400:
            where = headers.get("Location") or "nowhere (no Location header)"
            return APIConnectionError(
                f"{self._host()} redirected the WebSocket handshake (HTTP {status}) to {where}; "
                "redirects are not followed",
                hint="set --base-url (SMALLEST_BASE_URL) to the API's own address",
            )
        kind = headers.get("Content-Type", "").split(";")[0].strip()
        page = "an HTML page" if kind == "text/html" else f"HTTP {status} {kind}".rstrip()
        return APIConnectionError(
            f"{self._host()} answered the WebSocket handshake with {page} (HTTP {status}) "
            "instead of a WebSocket; a proxy or captive portal may be in the way",
            hint="check the network and the base URL (--base-url, SMALLEST_BASE_URL)",
        )

    # -- debug log (never shows the key) ----------------------------------------------

    def _log_request(self, request: httpx.Request) -> None:
        request.extensions["smallest_started"] = time.perf_counter()
        assert self.log is not None
        self.log(f"→ {request.method} {request.url}")

    def _log_response(self, response: httpx.Response) -> None:
        started = response.request.extensions.get("smallest_started", time.perf_counter())
        elapsed = (time.perf_counter() - started) * 1000
        request_id = response.headers.get("x-request-id")
        assert self.log is not None
        self.log(
            f"← {response.status_code} {response.reason_phrase} after {elapsed:.0f} ms"
            + (f" (request id {request_id})" if request_id else "")
        )

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _without_redirects(connect: Any) -> Any:
    """websockets' `connect`, made not to follow redirects (HTTP requests do not either)."""
    from websockets.sync import client

    # websockets >= 17 follows them in `reconnect`, 15 and 16 in the `connect` class, 14 not.
    base = getattr(client, "reconnect", connect)
    if not hasattr(base, "process_redirect"):
        return connect

    class Connect(base):  # type: ignore[misc, valid-type]
        def process_redirect(self, exc: Exception) -> Exception:
            return exc

    return Connect
