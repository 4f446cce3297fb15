"""Contract checks: traffic recorded by the emulator against the vendor's published specs.

The vendor's OpenAPI files live in `<repo>/../shared/api/specs/openapi/` (REFERENCE §14), or
under `$SMALLEST_SHARED_DIR/api/specs/` when that variable is set. `validate_exchange` takes one
`smallest_cli.emulator.state.Exchange` and checks the request the CLI sent and the response the
emulator gave against the operation that covers it:

* request: security (a Bearer `Authorization` header), path/query/header parameters, body;
* response: the status must be documented, then its headers and body.

How the spec files are read
---------------------------
* Base files are `specs/openapi/*.yaml|*.yml` whose name does not contain `override`
  (so `ai_examples_override.yml`, example payloads no generator uses, is not a base file).
* Each base file `X.yaml` is deep-merged with its SDK override file `X-overrides.yaml` when
  there is one, the way Fern applies overrides: mappings merge key by key, anything else
  (lists included) is replaced by the override's value. The docs-render layer in
  `specs/waves-v4-overrides/` is deliberately *not* merged (prose and audience tags only, and
  REFERENCE §14 lists a wrong enum in it).
* Known defects of the delivered files are handled as documented in `SPEC_REPAIRS` (fixed in
  memory) and `MERGE_FALLBACKS` (the override breaks the document, so the base file is used).
  Enum values the live server accepts beyond a spec's are added in memory (`ENUM_EXTENSIONS`),
  and schemas the documented responses fill with null are made nullable (`NULLABLE_EXTENSIONS`).
* When several files document the same path, a current file wins over a `legacy-*` one; a
  legacy file only covers paths no current file has.

Validation uses openapi-core, imported on first use (it costs about a second), and one
`openapi_core.OpenAPI` per file, built on first use and cached. The emulator listens on a
loopback address, but requests are presented to openapi-core as if sent to `HOST_URL`, the
server every spec declares.

WebSocket exchanges on a path listed in `ASYNCAPI_CHANNELS` are checked against that AsyncAPI
file (`specs/asyncapi/`, merged with its override file the same way): the handshake must carry a
Bearer `Authorization` header, every client frame must be JSON text matching a message of the
channel's `send` operations, and every server frame one of its `receive` operations. On a
channel whose `send` messages include a binary payload (`format: binary`: the STT sockets'
audio), client binary frames are audio and are not inspected; anywhere else a binary frame is a
violation. The TTS socket's error frames (`"status": "error"`) are described in the channel's
prose and in `components.schemas.ErrorResponse` rather than in the response message, whose
`status` enum lacks "error"; they are checked against `ErrorResponse`. Payload schemas are
checked with `jsonschema` (Draft 7, the base of the AsyncAPI schema format).

The handshake's query string is checked too, where the channel's file declares one (the STT
sockets: `servers.production.bindings.ws.query` of the base file; the override's `waves-ws`
server of pulse-stt-ws carries an outdated language enum, REFERENCE §14). Query values are
strings on the wire, so a value is turned into an integer where the schema asks for one.
Known differences are listed in `SOCKET_DEVIATIONS`. Other WebSocket paths are not checked
(`validate_exchange` returns False for them).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from openapi_core import OpenAPI
    from openapi_core.datatypes import RequestParameters
    from werkzeug.datastructures import Headers

    from smallest_cli.emulator.state import Exchange


from tests.shared import SHARED_DIR  # noqa: E402 - the one place that finds ../shared

SPECS_DIR: Path = SHARED_DIR / "api" / "specs"
"""The vendor's spec files: `openapi/`, `asyncapi/`, `waves-v4-overrides/`."""

OPENAPI_DIR: Path = SPECS_DIR / "openapi"
ASYNCAPI_DIR: Path = SPECS_DIR / "asyncapi"
ASYNCAPI_CHANNELS: dict[str, tuple[str, str]] = {
    "/waves/v1/tts/live": ("tts-ws.yaml", "ttsStream"),
    "/waves/v1/stt/live": ("stt-live-ws.yaml", "transcription"),
    "/waves/v1/pulse/get_text": ("pulse-stt-ws.yaml", "pulseStream"),
    "/waves/v1/lightning-v3.1/get_speech/stream": (
        "legacy-lightning-v3.1-ws.yaml",
        "lightningV31Stream",
    ),
}
"""WebSocket paths whose frames are checked: path → (AsyncAPI base file, channel name)."""
HOST_URL = "https://api.smallest.ai"
"""Scheme and host every request is presented with (the `servers` URL of every spec file)."""

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# -- known differences between the spec files and the real server --------------------------


class Deviation(NamedTuple):
    """A known, accepted difference between what the real server does and what a spec says.

    An exchange matches when `method` (None: any) equals its method, `path` (a regular
    expression) matches its whole path, and `status` (None: any) equals its status. For a
    matching exchange the response body is not compared with the spec; when the spec does not
    list the status at all, that is accepted too (there is no documented body to compare with).
    The request and the documented response headers are still checked.
    """

    method: str | None
    path: str
    status: int | None
    reason: str

    def matches(self, method: str, path: str, status: int | None) -> bool:
        return (
            (self.method is None or self.method.upper() == method.upper())
            and re.fullmatch(self.path, path) is not None
            and (self.status is None or self.status == status)
        )


_ZOD_400 = (
    "A TTS 400 carries {'error': [<zod issue>, ...]} (an array), not the documented "
    "TtsError {'error': str, 'message': str}: observed/baseline-lightning-tts.json, results "
    "'sync-output-format-mulaw' (invalid_enum_value) and 'sync-invalid-voice-id' "
    "([{'code':'custom','path':['voice_id'],'message':'Invalid Voice ID'}]); "
    "see observed/README.md."
)

DEVIATIONS: tuple[Deviation, ...] = (
    Deviation("POST", r"/waves/v1/tts(/live)?", 400, _ZOD_400),
    Deviation(
        "POST",
        r"/waves/v1/(tts(/live)?|lightning-v3\.1/(get_speech|stream))",
        429,
        "The Concurrency and Limits page says a second simultaneous TTS request is answered "
        "429 Too Many Requests (REFERENCE §4.1); tts-openapi.yaml and the deprecated "
        "legacy-lightning-v3.1-openapi.yaml (same service, REFERENCE §0.1) list no 429. Its "
        "body is UNKNOWN (REFERENCE §13.2); the emulator sends the TTS error shape.",
    ),
    Deviation(
        "POST",
        r"/waves/v1/pulse/get_text",
        429,
        "Speech to text is limited to 25 pre-recorded requests a minute per model, answered "
        "429 (REFERENCE §4.2; stt-openapi.yaml lists it for /waves/v1/stt/). The legacy "
        "pulse-stt-openapi.yaml lists no 429; its body there is UNKNOWN and the emulator "
        "sends {'error': 'Rate limit exceeded. Please retry after a short backoff.'}, the "
        "singular-`error` shape of the route's 401 and 500.",
    ),
    Deviation(
        "POST",
        r"/waves/v1/lightning-v3\.1/(get_speech|stream)",
        400,
        _ZOD_400 + " (These are the routes the probe actually recorded.)",
    ),
    Deviation(
        None,
        r"/waves/v1/(lightning|lightning-v2|lightning-large|prof-voice-cloning)(/.*)?",
        410,
        "Lightning v1, v2 and Large routes are retired and answer 410 with "
        "{'status':'error','error_code':'MODEL_DEPRECATED','message':...,"
        "'recommended_endpoint':'/waves/v1/lightning-v3.1/get_speech'} (REFERENCE §0.1, §6.5, "
        "§13.1). Only the legacy-* specs document these routes, and they predate the "
        "retirement: no 410 anywhere. No observed/*.json file covers these routes. (The "
        "model-named v3.1 routes are deprecated but still served, §0.1: no deviation.)",
    ),
    Deviation(
        None,
        r"/waves/v1/pronunciation-dicts",
        404,
        "What PUT or DELETE answers for an id the key does not own is UNKNOWN (REFERENCE §9.3, "
        "§13.2); waves-api.yaml lists only 200, 400, 401 and 500. The emulator answers 404 "
        "{'error': 'Pronunciation dictionary not found'} (smallest_cli/emulator/"
        "pronunciation_dicts.py); clients handle a 400 as well.",
    ),
)
"""Known, accepted differences between observed server behaviour and the spec files.

Not listed, because no deviation is needed: sync TTS returns raw PCM, WAV or MP3 bytes all
labelled `Content-Type: audio/wav` (observed/baseline-lightning-tts.json, results
'sync-default-pcm', 'sync-output-format-mp3'). The spec documents the 200 as `audio/wav` with
`type: string, format: binary`, which any bytes satisfy, so such responses validate as they are.
"""


class RequestDeviation(NamedTuple):
    """A request the real API takes although the spec's request body does not allow it.

    An exchange matches when `method` equals its method, `path` (a regular expression)
    matches its whole path and `media_type` (a regular expression) its request's media
    type; the request body is then not compared with the spec (its parameters, security and
    the response still are).
    """

    method: str
    path: str
    media_type: str
    reason: str

    def matches(self, method: str, path: str, media_type: str) -> bool:
        return (
            self.method.upper() == method.upper()
            and re.fullmatch(self.path, path) is not None
            and re.fullmatch(self.media_type, media_type) is not None
        )


REQUEST_DEVIATIONS: tuple[RequestDeviation, ...] = (
    RequestDeviation(
        "POST",
        r"/waves/v1/(stt/|pulse/get_text)",
        r"audio/[-+.\w]+",
        "Raw audio may be sent with its own MIME type: the docs' examples send "
        "`Content-Type: audio/wav` (REFERENCE §10.2, §10.3), and both specs describe the "
        "octet-stream body as 'Content-Type header should specify the audio format (e.g., "
        "audio/wav, audio/mp3)' / 'Set Content-Type to the audio MIME type (e.g. audio/wav)', "
        "yet list only application/octet-stream and application/json as request media types.",
    ),
)
"""Requests whose body the real API accepts outside the spec's listed media types."""


class QueryDeviation(NamedTuple):
    """Query parameters the real API ignores whatever their value, though the spec constrains
    them: on a request whose method and whole path (a regular expression) match, they are left
    out of the comparison with the spec."""

    method: str
    path: str
    names: tuple[str, ...]
    reason: str

    def ignores(self, method: str, path: str, name: str) -> bool:
        return (
            name in self.names
            and self.method.upper() == method.upper()
            and re.fullmatch(self.path, path) is not None
        )


QUERY_DEVIATIONS: tuple[QueryDeviation, ...] = (
    QueryDeviation(
        "POST",
        r"/waves/v1/(stt/?|pulse/get_text)",
        ("encoding", "sample_rate"),
        "REFERENCE §0.5 (vendor commit 1c537aa4, its live verification script): pre-recorded "
        "STT over REST ignores `encoding` and `sample_rate` and relies on the container; a "
        "bogus `encoding` is accepted, although the legacy spec lists an enum for it.",
    ),
)
"""Query parameters the real API ignores, left out of request validation."""


class SocketDeviation(NamedTuple):
    """A known difference between a WebSocket channel's spec and the real server.

    `error_frame`: the JSON schema that server frames with `"type": "error"` are checked
    against, where the spec describes none. `query_values`: values the real server accepts
    for a query parameter beyond the spec's enum.
    """

    path: str
    reason: str
    error_frame: dict[str, Any] | None = None
    query_values: dict[str, tuple[str, ...]] | None = None


STT_ERROR_FRAME: dict[str, Any] = {
    "type": "object",
    "required": ["type", "message"],
    "properties": {
        "type": {"type": "string", "enum": ["error"]},
        "status": {"type": "string", "enum": ["error"]},
        "message": {"type": "string"},
        "error_code": {"type": "string"},
        "session_id": {"type": "string"},
    },
    "additionalProperties": False,
}
"""The STT socket's error frame as REFERENCE §3 and §10.7 give it (plus the `session_id`
every STT server message carries)."""

SOCKET_DEVIATIONS: tuple[SocketDeviation, ...] = (
    SocketDeviation(
        "/waves/v1/pulse/get_text",
        "pulse-stt-ws.yaml lists no error message for this channel (its components.schemas."
        "ErrorResponse is the TTS shape {'status', 'error': {'message', 'code'}} and no "
        "operation uses it); REFERENCE §3 and §10.7 give the STT sockets' error frames as "
        "{'type': 'error', 'status': 'error', 'message'} or {'type': 'error', 'error_code', "
        "'message'} (e.g. LANGUAGE_NOT_ENABLED_IN_REGION, §10.1), sent before the server closes.",
        error_frame=STT_ERROR_FRAME,
    ),
    SocketDeviation(
        "/waves/v1/pulse/get_text",
        "The live server took language=multi-eu (pulse-stt-ws-overrides.yml's default) and "
        "language=multi: observed/baseline-pulse-stt.json, results 'lang-multi-eu-explicit' and "
        "'lang-multi' (both ok, English transcripts); the base file's enum has neither.",
        query_values={"language": ("multi-eu", "multi")},
    ),
)
"""Known, accepted differences on the WebSocket channels (path → what and why)."""


# -- known defects of the delivered spec files ------------------------------------------------

SPEC_REPAIRS: dict[str, str] = {
    "stt-openapi.yaml": (
        "components.schemas.SttErrorResponse.properties.request_id is a YAML flow mapping whose "
        "unquoted description contains a comma ('Correlation ID for support / logs, when the "
        "server includes one.'), so YAML reads a stray key 'when the server includes one.' "
        "(value null) into the schema and openapi-spec-validator rejects the whole document. "
        "Repaired in memory: the stray key is folded back into the description."
    ),
}
"""Base files with a defect that is repaired in memory before use (file name → what and why)."""

MERGE_FALLBACKS: dict[str, str] = {
    "get-voices-openapi.yaml": (
        "get-voices-openapi-overrides.yaml gives GET /waves/v1/{model}/get_voices a new "
        "`parameters` list whose `model` entry has no `required: true` (and no `type`); as a "
        "list replaces the base one, the merged path parameter is invalid. The base file is "
        "used; the override only repeats the base's enum ['lightning-v3.1'] and adds SDK names."
    ),
    "waves-api.yaml": (
        "waves-api-overrides.yaml adds POST operations for five paths the base file no longer "
        "has (/waves/v1/lightning/get_speech, /waves/v1/lightning-large/get_speech and /stream, "
        "/waves/v1/lightning-v2/get_speech and /stream), none with `responses`, which OpenAPI "
        "requires. The base file is used; for the pronunciation-dicts operations it keeps, the "
        "override only adds operationIds, SDK names and tags."
    ),
}
"""Base files whose SDK override file breaks the document (file name → why); base used alone."""

ENUM_EXTENSIONS: dict[str, tuple[tuple[tuple[str | int, ...], tuple[str, ...], str], ...]] = {
    "get-voices-openapi.yaml": (
        (
            ("paths", "/waves/v1/{model}/get_voices", "get", "parameters", 0, "schema"),
            ("lightning-v3.1-pro",),
            "REFERENCE §0.8: the vendor's catalog script lists the Pro pool with GET "
            "/waves/v1/lightning-v3.1-pro/get_voices (200, or 404 where not served).",
        ),
    ),
    "tts-openapi.yaml": tuple(
        (
            ("components", "schemas", "TtsRequest", "properties", field),
            ("he",),
            "REFERENCE §0.3: live, lightning_v3.1 accepts `he`, which the spec's enum omits.",
        )
        for field in ("language", "number_pronunciation_language")
    ),
}
"""Values the live server accepts beyond a spec enum (file → (schema path, values, why)),
added to the enum in memory."""

NULLABLE_EXTENSIONS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "electron-openapi.yaml": (
        (
            ("components", "schemas", "ElectronMessage", "properties", "tool_calls"),
            "REFERENCE §11 and docs/llm_chat-completions.mdx show the assistant message of a "
            'completion without tool calls as `"tool_calls": null`; the schema says array.',
        ),
    ),
}
"""Schemas the documented responses fill with null though the spec does not allow it
(file → (schema path, why)), made nullable in memory."""

SCHEMA_WIDENINGS: dict[str, tuple[tuple[tuple[str | int, ...], dict[str, Any], str], ...]] = {
    "voice-cloning-openapi.yaml": (
        (
            (
                "paths", "/waves/v1/voice-cloning", "post", "responses", "200", "content",
                "application/json", "schema", "properties", "data", "properties", "model",
            ),
            {
                "oneOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {"_id": {"type": "string"}, "modelName": {"type": "string"}},
                    },
                ]
            },
            "REFERENCE §8.1, §12: the spec types `data.model` as a string, the docs' example "
            "(voice-cloning_how-to-vc-api.mdx) shows an object {_id, modelName}; either is "
            "accepted.",
        ),
    ),
}  # fmt: skip
"""Schemas the reference says the live server answers beside the spec's (file → (schema path,
schema put in its place, why)), replaced in memory."""


# -- errors -------------------------------------------------------------------------------------


class ContractViolation(AssertionError):
    """An exchange does not match the vendor's spec.

    The message names the method, path, status and spec file, then lists what the validator
    found, down to the offending field (e.g. `response body at voices[0]: 'voiceId' is a
    required property`).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        spec: str | None = None,
        errors: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.spec = spec
        self.errors = list(errors)

    @classmethod
    def build(
        cls,
        *,
        method: str,
        path: str,
        status: int | None,
        spec: str | None,
        errors: Sequence[str],
    ) -> ContractViolation:
        """A violation whose message is made from the other fields."""
        answer = "no response" if status is None else str(status)
        lines = [f"{method.upper()} {path} -> {answer} does not match {spec or 'the specs'}:"]
        lines += [f"  {line}" for error in errors for line in error.splitlines()]
        return cls(
            "\n".join(lines), method=method, path=path, status=status, spec=spec, errors=errors
        )


class SpecLoadError(RuntimeError):
    """A spec file could not be read or is not a valid OpenAPI document."""


# -- finding and loading the spec files -------------------------------------------------------


def specs_available() -> bool:
    """True when the OpenAPI files are present and openapi-core and PyYAML are installed."""
    return (
        bool(_base_files())
        and importlib.util.find_spec("openapi_core") is not None
        and importlib.util.find_spec("yaml") is not None
    )


def spec_names() -> list[str]:
    """The base OpenAPI files (names, sorted) that contract checks read."""
    return [path.name for path in _base_files()]


def _base_files() -> list[Path]:
    if not OPENAPI_DIR.is_dir():
        return []
    return sorted(
        path
        for path in OPENAPI_DIR.iterdir()
        if path.suffix in (".yaml", ".yml") and "override" not in path.name
    )


def _override_file(base: Path) -> Path | None:
    for suffix in (".yaml", ".yml"):
        candidate = base.with_name(f"{base.stem}-overrides{suffix}")
        if candidate.is_file():
            return candidate
    return None


def _read_yaml(path: Path) -> Any:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise SpecLoadError(f"cannot read {path}: {exc}") from exc


def merge_overrides(base: Any, override: Any) -> Any:
    """Fern-style override merge: mappings merge recursively, anything else is replaced.

    Neither argument is modified; the result shares no mutable data with them.
    """
    if isinstance(base, dict) and isinstance(override, dict):
        merged = {key: copy.deepcopy(value) for key, value in base.items()}
        for key, value in override.items():
            merged[key] = merge_overrides(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def spec_document(name: str, *, fixes: bool = True) -> dict[str, Any]:
    """The OpenAPI document contract checks use for base file `name`.

    With `fixes` (the default), `SPEC_REPAIRS` are applied and files in `MERGE_FALLBACKS` are
    used without their override; without, this is the plain base + override merge.
    Returns a fresh copy that the caller may modify.
    """
    return copy.deepcopy(_document(name, fixes))


@functools.cache
def _document(name: str, fixes: bool) -> dict[str, Any]:
    path = OPENAPI_DIR / name
    if path not in _base_files():
        raise SpecLoadError(f"{name} is not a base OpenAPI file in {OPENAPI_DIR}")
    document = _read_yaml(path)
    if not isinstance(document, dict):
        raise SpecLoadError(f"{path} does not hold a mapping")
    if fixes and name in SPEC_REPAIRS:
        _fold_split_descriptions(document)
    override = _override_file(path)
    if override is not None and not (fixes and name in MERGE_FALLBACKS):
        document = merge_overrides(document, _read_yaml(override))
    assert isinstance(document, dict)
    return document


def _extend_enums(name: str, document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the values of ENUM_EXTENSIONS added to its enums."""
    for where, values, _why in ENUM_EXTENSIONS.get(name, ()):
        node: Any = document
        for key in where:
            node = node[key]
        node["enum"] = [*node["enum"], *(v for v in values if v not in node["enum"])]
    return document


def _allow_nulls(name: str, document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the schemas of NULLABLE_EXTENSIONS made nullable."""
    for where, _why in NULLABLE_EXTENSIONS.get(name, ()):
        node: Any = document
        for key in where:
            node = node[key]
        node["nullable"] = True
    return document


def _widen_schemas(name: str, document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the schemas of SCHEMA_WIDENINGS put in place."""
    for where, schema, _why in SCHEMA_WIDENINGS.get(name, ()):
        node: Any = document
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = copy.deepcopy(schema)
    return document


def _fold_split_descriptions(node: Any) -> None:
    """Undo `{ description: a, b }` read as `{description: "a", "b": None}` (SPEC_REPAIRS)."""
    if isinstance(node, dict):
        description = node.get("description")
        if isinstance(description, str):
            for key in [k for k, v in node.items() if v is None and isinstance(k, str)]:
                if " " in key:  # no OpenAPI keyword has a space in it
                    description += f", {key}"
                    del node[key]
            node["description"] = description
        for value in node.values():
            _fold_split_descriptions(value)
    elif isinstance(node, list):
        for value in node:
            _fold_split_descriptions(value)


def openapi(name: str) -> OpenAPI:
    """The `openapi_core.OpenAPI` for base file `name` (validated, built once and cached).

    Raises SpecLoadError when the document is not valid OpenAPI.
    """
    return _openapi(name)


@functools.cache
def _openapi(name: str) -> OpenAPI:
    from openapi_core import Config, OpenAPI
    from openapi_core.deserializing.media_types.util import plain_loads
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    # openapi-core hands media types it does not know to the schema as raw bytes, which a
    # `type: string` schema rejects; the SSE responses (text/event-stream) are text.
    config = Config(extra_media_type_deserializers={"text/event-stream": plain_loads})
    try:
        document = _widen_schemas(
            name, _allow_nulls(name, _extend_enums(name, spec_document(name)))
        )
        return OpenAPI.from_dict(document, config=config)
    except OpenAPIValidationError as exc:
        raise SpecLoadError(f"{name} is not a valid OpenAPI document: {exc.message}") from exc


# -- which file covers which operation ----------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    spec: str
    template: str
    pattern: re.Pattern[str]
    methods: frozenset[str]
    legacy: bool

    @property
    def concrete(self) -> bool:
        return "{" not in self.template


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(regex)


@functools.cache
def _routes() -> tuple[_Route, ...]:
    routes = []
    for name in spec_names():
        paths = _document(name, True).get("paths") or {}
        for template, item in paths.items():
            if not isinstance(item, dict):
                continue
            methods = frozenset(m.upper() for m in item if m in _HTTP_METHODS)
            if methods:
                routes.append(
                    _Route(
                        spec=name,
                        template=template,
                        pattern=_template_pattern(template),
                        methods=methods,
                        legacy=name.startswith("legacy-"),
                    )
                )
    # Current files before legacy ones; concrete paths before templated ones (OpenAPI rule).
    routes.sort(key=lambda r: (r.legacy, not r.concrete, r.spec, r.template))
    return tuple(routes)


def _route_for(path: str) -> _Route | None:
    for route in _routes():
        if route.pattern.fullmatch(path):
            return route
    return None


def _slash_variant(path: str) -> str:
    return path[:-1] if path.endswith("/") and path != "/" else f"{path}/"


def spec_for(method: str, path: str) -> str | None:
    """Name of the spec file that documents `method path`, or None.

    `path` is concrete (`/waves/v1/lightning-v3.1/get_voices`) and is matched against the
    templates (`/waves/v1/{model}/get_voices`). A path documented only with (or only without)
    a trailing slash, like `/waves/v1/stt/`, is found either way; `validate_exchange` then
    reports the difference. Current files win over `legacy-*` ones for the same path.
    """
    route = _route_for(path) or _route_for(_slash_variant(path))
    if route is None or method.upper() not in route.methods:
        return None
    return route.spec


# -- openapi-core adapters ---------------------------------------------------------------------


class ExchangeRequest:
    """An emulator `Exchange`'s request, in openapi-core's `Request` protocol."""

    host_url = HOST_URL

    def __init__(self, exchange: Exchange) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self._exchange = exchange
        self.parameters: RequestParameters = RequestParameters(
            query=ImmutableMultiDict(
                [
                    (name, value)
                    for name, value in parse_qsl(exchange.query, keep_blank_values=True)
                    if not any(
                        d.ignores(exchange.method, exchange.path, name) for d in QUERY_DEVIATIONS
                    )
                ]
            ),
            header=Headers(list(exchange.headers.items())),
            cookie=ImmutableMultiDict(_cookies(exchange.headers.get("cookie", ""))),
        )

    @property
    def path(self) -> str:
        return self._exchange.path

    @property
    def method(self) -> str:
        return self._exchange.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._exchange.body or None

    @property
    def content_type(self) -> str:
        return _content_type(self._exchange.headers)


class ExchangeResponse:
    """An emulator `Exchange`'s response, in openapi-core's `Response` protocol."""

    def __init__(self, exchange: Exchange) -> None:
        from werkzeug.datastructures import Headers

        if exchange.status is None:
            raise ValueError("the exchange has no response")
        self._exchange = exchange
        self._status = exchange.status
        self._headers = Headers(list(exchange.response_headers.items()))

    @property
    def status_code(self) -> int:
        return self._status

    @property
    def content_type(self) -> str:
        return _content_type(self._exchange.response_headers)

    @property
    def headers(self) -> Headers:
        return self._headers

    @property
    def data(self) -> bytes | None:
        return self._exchange.response_body or None


def _content_type(headers: dict[str, str]) -> str:
    """The Content-Type with its media type lowercased (not its parameters: a multipart
    boundary is case-sensitive, despite what openapi-core's protocol docstring says)."""
    media_type, separator, parameters = headers.get("content-type", "").partition(";")
    return f"{media_type.strip().lower()}{separator}{parameters}"


def _cookies(header: str) -> list[tuple[str, str]]:
    pairs = (part.strip().partition("=") for part in header.split(";") if "=" in part)
    return [(name, value) for name, _, value in pairs]


# -- validation ----------------------------------------------------------------------------------


def validate_exchange(exchange: Exchange, *, deviations: Iterable[Deviation] = DEVIATIONS) -> bool:
    """Check one recorded exchange against the spec that documents it.

    Returns True when a spec covered the exchange and it matched, False when nothing was
    checked (no spec documents the path, or a WebSocket exchange). Raises ContractViolation
    on any mismatch, including a method the spec does not list for a documented path.

    * An injected fault (`exchange.fault` set): only the request is checked, since the
      response is the emulator's doing, not the API's.
    * `exchange.truncated`: bodies are not checked (they were cut at 4 MiB).
    * A request body the emulator did not record whole is not checked: it records the body as
      the route reads it, so when it answers without reading (an injected fault, a 401, a
      retired route) the record is empty although `content-length` says otherwise.
    * An exchange matching one of `deviations`: the response body is not checked.
    """
    if exchange.kind == "websocket":
        return _validate_websocket(exchange)
    if exchange.kind != "http":
        raise ValueError(f"unknown exchange kind {exchange.kind!r}")
    return _validate_http(exchange, tuple(deviations))


def _validate_websocket(exchange: Exchange) -> bool:
    """Check a WebSocket session's handshake and frames against its AsyncAPI channel."""
    if exchange.path not in ASYNCAPI_CHANNELS:
        return False
    name, channel_name = ASYNCAPI_CHANNELS[exchange.path]
    if not (ASYNCAPI_DIR / name).is_file():
        return False
    channel = _asyncapi_channel(name, channel_name, exchange.path)
    errors: list[str] = []
    if not exchange.headers.get("authorization", "").startswith("Bearer "):
        errors.append("request: security: the handshake has no `Authorization: Bearer` header")
    if channel.query is not None:
        query = _typed_query(parse_qsl(exchange.query, keep_blank_values=True), channel.query)
        for problem in sorted(channel.query.iter_errors(query), key=lambda e: list(e.path)):
            field = _field_path(problem.absolute_path)
            errors.append(
                f"request: query{f' parameter {field!r}' if field else ''}: "
                f"{_shorten(problem.message)}"
            )
    for index, frame in enumerate(exchange.frames_in):
        if isinstance(frame, bytes) and channel.binary_audio:
            continue
        errors += _frame_errors(f"client frame {index}", frame, channel.sent)
    for index, frame in enumerate(exchange.frames_out):
        validators, error = channel.received, channel.error
        if channel.error_frame is not None and _is_type_error(frame):
            validators, error = (channel.error_frame,), None
        errors += _frame_errors(f"server frame {index}", frame, validators, error)
    if errors:
        _fail(exchange, name, errors)
    return True


def _is_type_error(frame: str | bytes) -> bool:
    try:
        payload = json.loads(frame)
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("type") == "error"


def _typed_query(pairs: list[tuple[str, str]], validator: Any) -> dict[str, Any]:
    """The query as the schema sees it: integers where it asks for integers."""
    properties = validator.schema.get("properties") or {}
    query: dict[str, Any] = {}
    for key, value in pairs:
        wanted = (properties.get(key) or {}).get("type")
        query[key] = int(value) if wanted == "integer" and re.fullmatch(r"-?\d+", value) else value
    return query


@dataclass(frozen=True)
class _Channel:
    """Validators for one AsyncAPI channel's payloads, by direction."""

    sent: tuple[Any, ...]  # client → server (`send` operations)
    received: tuple[Any, ...]  # server → client (`receive` operations)
    error: Any  # components.schemas.ErrorResponse, for `"status": "error"` frames (or None)
    binary_audio: bool = False  # a `send` message is binary: client binary frames are audio
    query: Any = None  # the handshake's query schema, when the file declares one
    error_frame: Any = None  # a SOCKET_DEVIATIONS schema for `"type": "error"` frames


def asyncapi_document(name: str) -> dict[str, Any]:
    """AsyncAPI base file `name` merged with its override file (a fresh copy)."""
    return copy.deepcopy(_asyncapi_document(name))


@functools.cache
def _asyncapi_document(name: str) -> dict[str, Any]:
    path = ASYNCAPI_DIR / name
    document = _read_yaml(path)
    if not isinstance(document, dict):
        raise SpecLoadError(f"{path} does not hold a mapping")
    override = _override_file(path)
    if override is not None:
        document = merge_overrides(document, _read_yaml(override))
    assert isinstance(document, dict)
    return document


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@functools.cache
def _asyncapi_channel(name: str, channel_name: str, path: str = "") -> _Channel:
    from jsonschema import Draft7Validator

    document = _asyncapi_document(name)
    directions: dict[str, list[Any]] = {"send": [], "receive": []}
    binary = False
    for operation in (document.get("operations") or {}).values():
        channel = _resolve(document, operation.get("channel"))
        if channel is not document["channels"][channel_name]:
            continue
        for message in operation.get("messages") or ():
            payload = _resolve(document, _resolve(document, message).get("payload"))
            if operation["action"] == "send" and payload.get("format") == "binary":
                binary = True
                continue
            directions[operation["action"]].append(Draft7Validator(payload))
    error_schema = (document.get("components") or {}).get("schemas", {}).get("ErrorResponse")
    deviations = [d for d in SOCKET_DEVIATIONS if d.path == path]
    error_frame = next((d.error_frame for d in deviations if d.error_frame is not None), None)
    return _Channel(
        tuple(directions["send"]),
        tuple(directions["receive"]),
        Draft7Validator(error_schema) if error_schema is not None else None,
        binary_audio=binary,
        query=_query_validator(name, deviations),
        error_frame=Draft7Validator(error_frame) if error_frame is not None else None,
    )


def _query_validator(name: str, deviations: Sequence[SocketDeviation]) -> Any:
    """The base file's `production` server query schema, widened by `deviations`."""
    from jsonschema import Draft7Validator

    base = _read_yaml(ASYNCAPI_DIR / name)
    server = ((base or {}).get("servers") or {}).get("production") or {}
    schema = ((server.get("bindings") or {}).get("ws") or {}).get("query")
    if not isinstance(schema, dict):
        return None
    schema = copy.deepcopy(schema)
    for deviation in deviations:
        for key, values in (deviation.query_values or {}).items():
            enum = schema["properties"][key]["enum"]
            enum.extend(v for v in values if v not in enum)
    return Draft7Validator(schema)


def _frame_errors(
    where: str, frame: str | bytes, validators: Sequence[Any], error: Any = None
) -> list[str]:
    """What is wrong with one frame (nothing if any of `validators` accepts it)."""
    if isinstance(frame, bytes):
        return [f"{where}: a binary frame; the spec defines JSON text frames only"]
    try:
        payload = json.loads(frame)
    except ValueError:
        return [f"{where}: not JSON: {_shorten(frame)}"]
    if error is not None and isinstance(payload, dict) and payload.get("status") == "error":
        validators = (error,)
    found: list[str] = []
    for validator in validators:
        problems = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
        if not problems:
            return []
        for problem in problems:
            field = _field_path(problem.absolute_path)
            found.append(f"{where}{f' at {field}' if field else ''}: {_shorten(problem.message)}")
    return found


def _validate_http(exchange: Exchange, deviations: tuple[Deviation, ...]) -> bool:
    method, path, status = exchange.method.upper(), exchange.path, exchange.status
    route = _route_for(path)
    if route is None:
        variant = _route_for(_slash_variant(path))
        if variant is None:
            return False
        _fail(
            exchange,
            variant.spec,
            [f"path: the spec documents {variant.template!r}, the request used {path!r}"],
        )
    if method not in route.methods:
        _fail(
            exchange,
            route.spec,
            [
                f"operation: {method} is not documented for {route.template} "
                f"(documented: {', '.join(sorted(route.methods))})"
            ],
        )

    app = openapi(route.spec)
    validators = _validators(route.spec)
    request = ExchangeRequest(exchange)
    errors: list[str] = []

    whole = not exchange.truncated and _request_body_recorded(exchange)
    media_type = _content_type(exchange.headers).split(";")[0].strip()
    if any(d.matches(method, path, media_type) for d in REQUEST_DEVIATIONS):
        whole = False
    request_checks = (app,) if whole else validators.request_without_body
    for validator in request_checks:
        errors += [_describe("request", e) for e in _safely(_request_errors(validator, request))]

    deviation = next((d for d in deviations if d.matches(method, path, status)), None)
    if exchange.fault is None and status is not None:
        response = ExchangeResponse(exchange)
        if deviation is not None or exchange.truncated:
            found = validators.response_headers.iter_errors(request, response)
        else:
            found = app.iter_response_errors(request, response)
        for error in _safely(found):
            if deviation is not None and _is_undocumented_status(error):
                continue
            errors.append(_describe("response", error))

    if errors:
        _fail(exchange, route.spec, _unique(errors))
    return True


def _request_body_recorded(exchange: Exchange) -> bool:
    """False when the headers announce a body the record does not hold in full."""
    headers = exchange.headers
    length = headers.get("content-length", "").strip()
    if length.isdigit():
        return int(length) == len(exchange.body)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return bool(exchange.body)
    return True


def _fail(exchange: Exchange, spec: str, errors: list[str]) -> NoReturn:
    raise ContractViolation.build(
        method=exchange.method, path=exchange.path, status=exchange.status, spec=spec, errors=errors
    )


def _safely(errors: Iterator[Exception]) -> Iterator[Exception]:
    """The errors, plus the exception if openapi-core itself fails on the input (it asserts,
    for instance, on a multipart body it cannot parse): that is a finding, not a crash."""
    try:
        yield from errors
    except Exception as exc:
        yield exc


def _request_errors(validator: Any, request: ExchangeRequest) -> Iterator[Exception]:
    if hasattr(validator, "iter_request_errors"):  # an OpenAPI app
        yield from validator.iter_request_errors(request)
    else:
        yield from validator.iter_errors(request)


def _is_undocumented_status(error: Exception) -> bool:
    from openapi_core.templating.responses.exceptions import ResponseNotFound

    return isinstance(error, ResponseNotFound)


@dataclass(frozen=True)
class _Validators:
    """Partial validators for one spec, for the cases where bodies must not be checked."""

    request_without_body: tuple[Any, ...]
    response_headers: Any


@functools.cache
def _validators(name: str) -> _Validators:
    from openapi_core.validation.request import validators as request
    from openapi_core.validation.response import validators as response

    version = str(_document(name, True).get("openapi", "3.0"))
    prefix = "V31" if version.startswith("3.1") else "V30"
    spec = openapi(name).spec
    return _Validators(
        request_without_body=(
            getattr(request, f"{prefix}RequestSecurityValidator")(spec),
            getattr(request, f"{prefix}RequestParametersValidator")(spec),
        ),
        response_headers=getattr(response, f"{prefix}ResponseHeadersValidator")(spec),
    )


# -- readable error messages --------------------------------------------------------------------

_MAX_TEXT = 300


def _describe(side: str, error: BaseException) -> str:
    """One error and everything under it (causes, JSON-schema errors), as indented lines."""
    lines: list[str] = []
    seen: set[str] = set()
    where = side
    current: BaseException | None = error
    depth = 0
    while current is not None and depth < 8:
        text = _summary(current)
        if text not in seen:
            seen.add(text)
            lines.append(f"{'  ' * depth}{type(current).__name__}: {text}")
        where = _location(side, current, where)
        for schema_error in getattr(current, "schema_errors", None) or ():
            lines += _schema_error_lines(where, schema_error, depth + 1)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
        depth += 1
    return f"{side}: " + "\n".join(lines)


def _summary(error: BaseException) -> str:
    """str(error) without a repeated class name or the tuple of schema errors (listed apart)."""
    text = str(error)
    name = type(error).__name__
    if text.startswith(f"{name}: "):
        text = text[len(name) + 2 :]
    text = text.split(": (<ValidationError", 1)[0]
    return _shorten(text) or "(no details)"


def _location(side: str, error: BaseException, default: str) -> str:
    name = getattr(error, "name", None)
    kind = type(error).__name__
    if "Parameter" in kind and isinstance(name, str):
        return f"{side} parameter {name!r}"
    if "Header" in kind and isinstance(name, str):
        return f"{side} header {name!r}"
    if "Body" in kind or "Data" in kind:
        return f"{side} body"
    return default


def _schema_error_lines(where: str, schema_error: Any, depth: int) -> list[str]:
    field = _field_path(getattr(schema_error, "absolute_path", ()))
    at = f"{where} at {field}" if field else where
    lines = [f"{'  ' * depth}- {at}: {_shorten(str(schema_error.message))}"]
    for sub in (getattr(schema_error, "context", None) or ())[:5]:
        lines += _schema_error_lines(where, sub, depth + 1)
    return lines


def _field_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


__all__ = [
    "ASYNCAPI_CHANNELS",
    "ASYNCAPI_DIR",
    "DEVIATIONS",
    "ENUM_EXTENSIONS",
    "HOST_URL",
    "MERGE_FALLBACKS",
    "OPENAPI_DIR",
    "QUERY_DEVIATIONS",
    "REQUEST_DEVIATIONS",
    "SHARED_DIR",
    "SPECS_DIR",
    "SOCKET_DEVIATIONS",
    "SPEC_REPAIRS",
    "ContractViolation",
    "Deviation",
    "QueryDeviation",
    "RequestDeviation",
    "SocketDeviation",
    "ExchangeRequest",
    "ExchangeResponse",
    "SpecLoadError",
    "asyncapi_document",
    "merge_overrides",
    "openapi",
    "spec_document",
    "spec_for",
    "spec_names",
    "specs_available",
    "validate_exchange",
]
