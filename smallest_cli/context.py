"""AppContext: what every command is handed (as `ctx.obj`).

It holds the global options and builds, on first use only, the things that cost time:
the config, the output object, the API key, the in-process emulator, the client. Tests
pass a prepared AppContext (`runner.invoke(app, args, obj=AppContext(stdout_isatty=True))`)
to choose terminal or pipe behaviour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from smallest_cli.config import Config
from smallest_cli.errors import UsageError
from smallest_cli.output import EMULATOR_KEY, Output

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient
    from smallest_cli.credentials import ApiKey
    from smallest_cli.emulator.server import InProcessEmulator
    from smallest_cli.errors import APIError

PUBLIC_HOST = "api.smallest.ai"
US_HOST = "api.us.smallest.ai"  # the US region's gateway for realtime STT (REFERENCE §2.1)


@dataclass
class AppContext:
    profile: str = "default"
    base_url: str | None = None
    timeout: float | None = None
    retries: int | None = None
    max_wait: float | None = None
    emulator: bool = False
    debug: bool = False
    quiet: bool = False
    no_color: bool = False
    stdout_isatty: bool | None = None
    stderr_isatty: bool | None = None
    stdin_isatty: bool | None = None
    _output: Output | None = field(default=None, repr=False)
    _config: Config | None = field(default=None, repr=False)
    _api_key: ApiKey | None = field(default=None, repr=False)
    _emulator: InProcessEmulator | None = field(default=None, repr=False)
    _clients: list[SmallestClient] = field(default_factory=list, repr=False)
    _noted_busy: bool = field(default=False, repr=False)
    _warned_plain_http: bool = field(default=False, repr=False)

    @property
    def output(self) -> Output:
        if self._output is None:
            self._output = Output(
                quiet=self.quiet,
                no_color=self.no_color,
                stdout_isatty=self.stdout_isatty,
                stderr_isatty=self.stderr_isatty,
                stdin_isatty=self.stdin_isatty,
            )
            self._output.redact(self._known_key())
        return self._output

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config(self.profile)
        return self._config

    def setting(self, name: str, flag: Any = None) -> Any:
        """A setting's value: flag > SMALLEST_<NAME> > config.toml > built-in default."""
        return self.config.get(name, flag)

    def resolved_base_url(self) -> str:
        """Where requests go: the emulator when asked for, else --base-url and its fallbacks."""
        if self.emulator:
            return self.start_emulator()
        return str(self.setting("base_url", self.base_url))

    def api_key(self) -> ApiKey:
        """The key to send. On the emulator, SMALLEST_API_KEY or a built-in key: it never
        asks the OS keyring (which can be slow, or prompt, in a CI job)."""
        if self._api_key is None:
            from smallest_cli import credentials

            if self.emulator:
                key = os.environ.get(credentials.ENV_VAR, "").strip()
                source: credentials.KeySource = "env" if key else "emulator"
                self._api_key = credentials.ApiKey(key or EMULATOR_KEY, source)
            else:
                self._api_key = credentials.resolve(self.profile)
            self.output.redact(self._api_key.value)
        return self._api_key

    def us_base_url(self) -> str:
        """Where streams that only the US region serves go (REFERENCE §2.1, §10.1).

        With --emulator, the emulator's US listener; else SMALLEST_US_BASE_URL; else, for
        the public API (`api.smallest.ai`), the same URL on `api.us.smallest.ai`; else the
        base URL itself, since another deployment's US twin cannot be guessed.
        """
        if self.emulator:
            base_url = self.start_emulator()
            us_url = getattr(self._emulator, "us_base_url", None)
            if isinstance(us_url, str) and us_url:
                return us_url.rstrip("/")
            self._note_no_us_host(base_url, "the emulator has no US listener")
            return base_url
        raw = os.environ.get("SMALLEST_US_BASE_URL")
        if raw:
            from smallest_cli.config import parse_value

            return str(parse_value("base_url", raw, f"SMALLEST_US_BASE_URL={raw!r}"))
        base_url = self.resolved_base_url()
        parts = urlsplit(base_url)
        if parts.hostname == PUBLIC_HOST:
            netloc = parts.netloc.replace(PUBLIC_HOST, US_HOST, 1)
            return urlunsplit(parts._replace(netloc=netloc)).rstrip("/")
        self._note_no_us_host(base_url, "no US host is known for it")
        return base_url

    def _note_no_us_host(self, base_url: str, why: str) -> None:
        if self.debug:
            self.output.debug(
                f"US-only languages stream from {base_url} ({why}; set SMALLEST_US_BASE_URL)"
            )

    def client(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
    ) -> SmallestClient:
        """A client for the resolved (or the given) base URL with the resolved (or the
        given) key, retrying as --retries and --max-wait say."""
        from smallest_cli.api.client import DEFAULT_TIMEOUT, SmallestClient
        from smallest_cli.api.retry import DEFAULT_MAX_WAIT, DEFAULT_RETRIES

        if base_url is None:
            base_url = self.resolved_base_url()
        self.output.redact(api_key)
        self._warn_if_plain_http(base_url)
        retries = self.retries if self.retries is not None else DEFAULT_RETRIES
        client = SmallestClient(
            api_key if api_key is not None else self.api_key().value,
            base_url=base_url,
            timeout=self.timeout if self.timeout is not None else DEFAULT_TIMEOUT,
            retries=retries,
            max_wait=self.max_wait if self.max_wait is not None else DEFAULT_MAX_WAIT,
            on_retry=self._note_retry,
            log=self.output.debug if self.debug else None,
        )
        self._clients.append(client)
        return client

    def _warn_if_plain_http(self, base_url: str) -> None:
        """Once per run: the key is about to cross the network unencrypted."""
        import ipaddress

        parts = urlsplit(base_url)
        host = parts.hostname or ""
        if parts.scheme != "http" or self._warned_plain_http or host == "localhost":
            return
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
        self._warned_plain_http = True
        self.output.warn(
            f"{parts.netloc} is plain http://: the API key is sent unencrypted "
            "(use https:// unless this is a trusted network)"
        )

    def start_emulator(self) -> str:
        """Start the in-process emulator (once) and return its base URL."""
        if self.base_url is not None:
            raise UsageError(
                "--emulator and --base-url both say where to send requests",
                hint="drop one of them",
            )
        if self._emulator is None:
            from smallest_cli.emulator.server import InProcessEmulator
            from smallest_cli.emulator.settings import EmulatorSettings

            try:
                state = EmulatorSettings.resolve(in_process=True).state()
            except ValueError as exc:
                raise UsageError(f"bad emulator setting: {exc}") from None
            self._emulator = InProcessEmulator(state)
            self._emulator.start()
            if self.debug:
                self.output.debug(f"emulator listening on {self._emulator.base_url}")
        return self._emulator.base_url

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None

    def report(self, error: BaseException, *, source: str | None = None) -> None:
        """Show a failure on stderr (see `Output.failure`), the key masked; with --debug,
        the traceback too. `source` names the input of a batch that failed."""
        self.output.failure(error, source=source, secret=self._known_key(), traceback=self.debug)

    def _known_key(self) -> str | None:
        """The key as far as it is known without asking the OS keyring (which can hang)."""
        from smallest_cli.credentials import ENV_VAR

        if self._api_key is not None:
            return self._api_key.value
        return os.environ.get(ENV_VAR)

    def _note_retry(self, error: APIError, delay: float, attempt: int, retries: int) -> None:
        if error.waits_for_slot:  # normal work: one note for the whole command
            if not self._noted_busy:
                self._noted_busy = True
                from smallest_cli.api.retry import DEFAULT_MAX_WAIT

                bound = DEFAULT_MAX_WAIT if self.max_wait is None else self.max_wait
                self.output.info(
                    f"{_short(error)}: the account's limit (requests at once or a minute) is taken; "
                    f"waiting for a free slot (up to {bound:g} s, --max-wait)"
                )
            return
        self.output.info(f"{_short(error)}; retrying in {delay:.1f} s ({attempt}/{retries})")


def _short(error: APIError) -> str:
    from smallest_cli.errors import APIStatusError

    if isinstance(error, APIStatusError):
        return f"the API answered {error.status_code}"
    return error.message
