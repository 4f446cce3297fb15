"""Speech to text requests: languages, regions, and the query parameters of the four routes.

Languages (REFERENCE §10.1): the pre-recorded routes take `REST_LANGUAGES`, the streaming
routes `STREAM_LANGUAGES`. The aggregators (`multi-eu`, `multi-asian`, `multi-indic`,
`north_indic`, `multi-south-indic`) "detect" English: the emulator's audio carries no
language, so a transcript under an aggregator reports `en` (`language`, `languages`).

Regions (REFERENCE §2.1, §10.1): the emulator serves the India region (`ap-south-1`, the
`api.smallest.ai` stand-in, `base_url`) and the US region (`us-west-2`, the
`api.us.smallest.ai` stand-in, `us_base_url`) at once, on two ports:

* streaming `zh yue ja ko multi-asian` only in the US, `ta te kn ml multi-south-indic`
  only in India (what each route does about it is in `stt_ws`);
* pre-recorded `multi-indic` only in India and `multi-asian` only in the US (the legacy
  spec's example refuses `multi-asian` on `ap-south-1`); everything else in both.

Booleans are `true` / `false` in any case; anything else is a 400. Parameters the routes do
not know are ignored (the live server ignored the British `punctuation` and
`capitalisation`, observed/baseline-pulse-stt.json).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from smallest_cli.emulator.state import INDIA, US, Region

EUROPEAN = (
    "de", "es", "ru", "it", "fr", "nl", "pt", "uk", "pl", "cs", "sk", "lv", "et", "ro", "fi",
    "sv", "bg", "hu", "da", "lt", "mt",
)  # fmt: skip
REST_LANGUAGES = (
    "en", "hi", *EUROPEAN, "zh", "ja", "ko", "multi-eu", "multi-asian", "multi-indic",
)  # fmt: skip
STREAM_LANGUAGES = (
    "en", "hi", "de", "es", "ru", "it", "fr", "nl", "pt", "zh", "yue", "ja", "ko", "gu", "mr",
    "or", "bn", "ta", "te", "kn", "ml", "north_indic", "multi-asian", "multi-south-indic",
)  # fmt: skip
STREAM_US_ONLY = frozenset({"zh", "yue", "ja", "ko", "multi-asian"})
STREAM_INDIA_ONLY = frozenset({"ta", "te", "kn", "ml", "multi-south-indic"})
REST_US_ONLY = frozenset({"multi-asian"})
REST_INDIA_ONLY = frozenset({"multi-indic"})
REDACTING_LANGUAGES = frozenset({"en", "hi"})
MODELS = ("pulse", "pulse-pro")
KEYWORD_LIMIT = 10_000
EXTERNAL_ID = re.compile(r"^[a-zA-Z0-9_\-.]{1,128}$")


def detected_language(language: str | None) -> str:
    """The language a transcript reports: the pinned code, or `en` for an aggregator."""
    if language is None or language.startswith("multi") or language == "north_indic":
        return "en"
    return language


def region_refuses(language: str, region: Region, *, streaming: bool) -> bool:
    """True when `language` is not served in `region` on that kind of route."""
    if streaming:
        only_us, only_india = STREAM_US_ONLY, STREAM_INDIA_ONLY
    else:
        only_us, only_india = REST_US_ONLY, REST_INDIA_ONLY
    return (region == INDIA and language in only_us) or (region == US and language in only_india)


def not_enabled_message(language: str) -> str:
    return (
        f"Language '{language}' has not been enabled in this region. "
        "Please contact support to request access."
    )


class BadParam(ValueError):
    """A query parameter the route refuses (the message says which and why)."""


def query_of(query_string: bytes | str) -> dict[str, str]:
    """The query as a dict (the last of repeated names wins, as Express's parser keeps them)."""
    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return dict(parse_qsl(text, keep_blank_values=True))


def flag(query: Mapping[str, str], name: str, default: bool) -> bool:
    value = query.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise BadParam(f"Invalid value for {name}: '{value}'. Expected true or false.")


def integer(
    query: Mapping[str, str], name: str, low: int, high: int, default: int | None = None
) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return default
    if not re.fullmatch(r"[+-]?\d+", value.strip()) or not low <= int(value) <= high:
        raise BadParam(
            f"Invalid value for {name}: '{value}'. Expected an integer from {low} to {high}."
        )
    return int(value)


def choice(
    query: Mapping[str, str], name: str, options: tuple[str, ...], default: str | None = None
) -> str | None:
    value = query.get(name)
    if value is None:
        return default
    if value not in options:
        raise BadParam(
            f"Invalid value for {name}: '{value}'. Supported values: {' | '.join(options)}."
        )
    return value


def sample_rate_choice(query: Mapping[str, str], options: tuple[int, ...]) -> int:
    value = query.get("sample_rate")
    if value is None:
        return 16000
    if not value.strip().isdigit() or int(value) not in options:
        supported = " | ".join(str(o) for o in options)
        raise BadParam(f"Invalid value for sample_rate: '{value}'. Supported values: {supported}.")
    return int(value)


def http_url(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadParam(f"Invalid {name}: '{value}'. Expected an http or https URL.")
    return value


@dataclass(frozen=True)
class Keyword:
    text: str
    boost: float = 1.0


def keywords_of(value: str | None) -> tuple[Keyword, ...]:
    """Parse `WORD_OR_PHRASE[:INTENSIFIER],…` (REFERENCE §10.7).

    The live server took `["I:20,smiling:26"]` without complaint (and garbled the
    transcript), so nothing is refused but more than 10,000 entries or an empty one: an
    entry whose `:…` suffix is not a number is kept whole, with intensifier 1.0.
    """
    if value is None or value.strip() == "":
        return ()
    entries = value.split(",")
    if len(entries) > KEYWORD_LIMIT:
        raise BadParam(f"Too many keywords: {len(entries)} (at most {KEYWORD_LIMIT} per session).")
    keywords = []
    for entry in entries:
        text, boost = entry.strip(), 1.0
        word, colon, number = text.rpartition(":")
        if colon:
            try:
                boost, text = float(number), word.strip()
            except ValueError:
                pass
        if not text:
            raise BadParam(f"Invalid keywords: empty entry in '{value}'.")
        keywords.append(Keyword(text, boost))
    return tuple(keywords)


@dataclass(frozen=True)
class Formatting:
    """How a transcript is written (REFERENCE §10.2, §10.5–10.7 and the observed server).

    `format=false` turns punctuation and capitals off; ITN stays as asked, because the live
    server still normalised numbers with `format=false&itn_normalize=true` (observed,
    'format-false-should-disable-pnc-but-not-itn'), whatever the spec says.
    """

    punctuate: bool = True
    capitalize: bool = True
    itn: bool = False
    redact_pii: bool = False
    redact_pci: bool = False
    language: str = "en"  # the reported language; redaction works for en and hi only
    keywords: tuple[Keyword, ...] = ()

    @property
    def redacts(self) -> bool:
        return (self.redact_pii or self.redact_pci) and self.language in REDACTING_LANGUAGES

    @classmethod
    def from_query(
        cls, query: Mapping[str, str], language: str, *, realtime: bool = False
    ) -> Formatting:
        """The formatting a route's query asks for; `itn_normalize` and `keywords` are
        realtime options (the pre-recorded routes ignore them)."""
        master = flag(query, "format", True)
        punctuate = flag(query, "punctuate", True)
        capitalize = flag(query, "capitalize", True)
        return cls(
            punctuate=master and punctuate,
            capitalize=master and capitalize,
            itn=realtime and flag(query, "itn_normalize", False),
            redact_pii=flag(query, "redact_pii", False),
            redact_pci=flag(query, "redact_pci", False),
            language=language,
            keywords=keywords_of(query.get("keywords")) if realtime else (),
        )


@dataclass(frozen=True)
class Detection:
    """What the pre-recorded routes add about the speaker(s)."""

    word_timestamps: bool = False
    diarize: bool = False
    gender: bool = False
    emotion: bool = False


@dataclass(frozen=True)
class Webhook:
    url: str
    method: str = "POST"
    extra: dict[str, str] = field(default_factory=dict)


def webhook_extra(value: str | None) -> dict[str, str]:
    """`key:value,key2:value2` as a mapping (entries without a colon are keys with "")."""
    extra: dict[str, str] = {}
    for entry in (value or "").split(","):
        if entry.strip():
            key, _, item = entry.partition(":")
            extra[key.strip()] = item.strip()
    return extra


__all__ = [
    "INDIA",
    "MODELS",
    "REST_LANGUAGES",
    "STREAM_LANGUAGES",
    "US",
    "BadParam",
    "Detection",
    "Formatting",
    "Keyword",
    "Region",
    "Webhook",
    "choice",
    "detected_language",
    "flag",
    "http_url",
    "integer",
    "keywords_of",
    "not_enabled_message",
    "query_of",
    "region_refuses",
    "sample_rate_choice",
    "webhook_extra",
]
