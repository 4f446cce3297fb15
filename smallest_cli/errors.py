"""The error tree and the exit codes.

Library code (the API client, credentials, config, audio) raises these; exactly one function,
`Output.failure`, turns one into `Error: …` and `Hint: …` lines on stderr (for the whole
command from `SmallestGroup.invoke` in `app.py`, which also picks the exit code, and for each
failed source of a batch). Every error carries its hint: the one given where it was raised,
else one added by `explain` where more is known (a job's options), else the usual hint for
its kind. Nothing here imports a third-party module, so catching them costs nothing.

    SmallestError                      exit 1 unless a subclass says otherwise
    ├── UsageError                     exit 2   bad input caught before any request
    ├── AuthError                      exit 4
    │   ├── NotLoggedIn
    │   └── KeyringUnavailable
    └── APIError                       exit 1
        ├── APIConnectionError         no response: refused, reset, DNS, TLS
        │   └── APITimeoutError
        ├── PolicyCloseError           WebSocket closed with 1008
        └── APIStatusError             the server answered with an error status
            ├── BadRequestError        400, 413, 422
            ├── AuthenticationError    401 (exit 4)
            ├── PermissionDeniedError  403 (exit 4)
            ├── NotFoundError          404
            ├── GoneError              410 (retired model or route)
            ├── RateLimitError         429
            └── ServerError            5xx
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar, TypeVar


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    ERROR = 1  # API or network error
    USAGE = 2  # usage or bad input
    AUTH = 4  # authentication missing or rejected
    HUNG_UP = 129  # SIGHUP
    INTERRUPTED = 130  # SIGINT (Ctrl-C)
    TERMINATED = 143  # SIGTERM (kill, timeout, systemd, CI cancellation)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would be so the same cleanup runs."""

    def __init__(self, exit_code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


def interruption(signum: int) -> KeyboardInterrupt:
    """What a stopping signal raises: KeyboardInterrupt for SIGINT (exit 130), Terminated
    for SIGTERM (143) and SIGHUP (129)."""
    import signal

    if signum == signal.SIGTERM:
        return Terminated(ExitCode.TERMINATED, "Terminated.")
    if signum == signal.SIGHUP:
        return Terminated(ExitCode.HUNG_UP, "Hung up.")
    return KeyboardInterrupt()


E = TypeVar("E", bound="SmallestError")


class SmallestError(Exception):
    """Base of every error this tool reports on purpose."""

    exit_code: ExitCode = ExitCode.ERROR
    usual_hint: ClassVar[str | None] = None  # for every error of this kind, unless told better
    waits_for_slot: ClassVar[bool] = False  # the account is busy: wait for a slot (--max-wait)

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self._hint = hint

    @property
    def hint(self) -> str | None:
        """What to do about it: the hint given or explained, else the usual one for its kind."""
        return self._hint or self._usual_hint()

    @hint.setter
    def hint(self, value: str | None) -> None:
        self._hint = value

    def explain(self: E, hint: str | None) -> E:
        """Add what only the caller knows (a job's options) unless a hint was given already."""
        if self._hint is None:
            self._hint = hint
        return self

    def _usual_hint(self) -> str | None:
        return self.usual_hint


class UsageError(SmallestError):
    """Bad input noticed before anything was sent: a value, a file, a missing argument."""

    exit_code = ExitCode.USAGE


class AuthError(SmallestError):
    """No usable API key."""

    exit_code = ExitCode.AUTH


class NotLoggedIn(AuthError):
    """No key in SMALLEST_API_KEY, the OS keyring or the opt-in credentials file."""


class KeyringUnavailable(AuthError):
    """The OS keyring has no backend, is locked, or did not answer."""


class APIError(SmallestError):
    """Talking to the API failed.

    `retryable` and `retry_after` tell the client's retry policy whether and when the same
    request may be sent again; `request_id` is what to quote to support.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after = retry_after

    def _usual_hint(self) -> str | None:
        if self.usual_hint is None and self.retryable:
            return "this may be temporary; try again, or raise --retries"
        return self.usual_hint


class APIConnectionError(APIError):
    """No (complete) response arrived: connection refused or dropped, DNS, TLS."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class APIStatusError(APIError):
    """The server answered with an error status.

    `message` is the best human text found in the body (whatever its shape), `code` the
    machine-readable error type if the body had one, `details` the per-field issues of a
    validation error, and `request_id` the id to quote to support.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        details: list[str] | None = None,
        body: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.status_code = status_code
        self.details = details or []
        self.body = body

    def __str__(self) -> str:
        message, others = self.message, []
        for detail in self.details:
            if detail == self.message or detail.endswith(": " + self.message):
                message = detail  # the message again, with the field it is about
            else:
                others.append(detail)
        details = ": " + "; ".join(others) if others else ""
        return f"{message}{details} (HTTP {self.status_code})"


class BadRequestError(APIStatusError):
    """400, 413 or 422: the server refused the request as sent."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, malformed, revoked or rotated."""

    exit_code = ExitCode.AUTH
    usual_hint = "check the key: run `smallest auth login`, or set SMALLEST_API_KEY"


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but may not do this (workspace, product or plan)."""

    exit_code = ExitCode.AUTH
    usual_hint = "the key is valid but not allowed to do this: check its workspace and plan"


class NotFoundError(APIStatusError):
    """404: no such resource, or a route the API no longer serves."""


class GoneError(APIStatusError):
    """410: a retired model or route; `recommended_endpoint` names the replacement."""

    def __init__(self, message: str, *, recommended_endpoint: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.recommended_endpoint = recommended_endpoint

    def _usual_hint(self) -> str | None:
        if self.recommended_endpoint:
            return f"this model or route is retired; use {self.recommended_endpoint} instead"
        return super()._usual_hint()


class RateLimitError(APIStatusError):
    """429: over the rate or concurrency limit, and still so after --max-wait seconds."""

    usual_hint = "the account's rate or concurrency limit was hit; try later, or raise --max-wait"
    waits_for_slot = True


class PolicyCloseError(APIError):
    """A WebSocket closed with 1008 (policy violation), which the API uses for too many
    sessions at once: before any audio or transcript it is waited out like a 429."""

    waits_for_slot = True


class ServerError(APIStatusError):
    """5xx: the service failed; retried where that is safe."""


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The APIStatusError subclass for an HTTP status code."""
    if status_code == 401:
        return AuthenticationError
    if status_code == 403:
        return PermissionDeniedError
    if status_code == 404:
        return NotFoundError
    if status_code == 410:
        return GoneError
    if status_code == 429:
        return RateLimitError
    if status_code >= 500:
        return ServerError
    return BadRequestError
