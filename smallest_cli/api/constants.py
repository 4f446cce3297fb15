"""Values the API defines (REFERENCE §6–§7): models, languages, rates, formats.

Stdlib only: the config layer validates against these without importing the client.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.smallest.ai"

TTS_MODELS = ("lightning_v3.1", "lightning_v3.1_pro")
# The language codes each model accepts (REFERENCE §0.3); both also take `auto`. Live, the
# base model accepts `he` too, which the spec omits; Pro does not.
TTS_MODEL_LANGUAGES: dict[str, tuple[str, ...]] = {
    "lightning_v3.1": (
        "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or", "es", "de", "fr",
        "it", "nl", "sv", "pt", "ru", "pl", "he",
    ),
    "lightning_v3.1_pro": (
        "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or", "es", "de", "fr",
        "it", "nl", "sv", "pt", "ru", "el", "fi", "no", "pl", "ar", "zh", "id", "ja", "ko",
        "ms", "tr", "vi",
    ),
}  # fmt: skip
TTS_LANGUAGES = ("auto", *TTS_MODEL_LANGUAGES["lightning_v3.1_pro"], "he")
"""Every code some model accepts (what the `language` setting may hold)."""

# The Get Voices path spells the model with a hyphen (REFERENCE §6.1).
VOICES_MODEL = "lightning-v3.1"

# Speech to text (REFERENCE §10.1): models, and the pre-recorded (REST) language list,
# the same in both REST specs. Streaming has its own list (realtime, §10.1).
STT_MODELS = ("pulse", "pulse-pro")
STT_LANGUAGES = (
    "en", "hi", "de", "es", "ru", "it", "fr", "nl", "pt", "uk", "pl", "cs", "sk", "lv",
    "et", "ro", "fi", "sv", "bg", "hu", "da", "lt", "mt", "zh", "ja", "ko",
    "multi-eu", "multi-asian", "multi-indic",
)  # fmt: skip
# Streaming (WebSocket) languages (§10.1); the `stt_language` setting takes either list and
# each command checks the value against its own.
STT_STREAMING_LANGUAGES = (
    "en", "hi", "de", "es", "ru", "it", "fr", "nl", "pt", "zh", "yue", "ja", "ko", "gu", "mr",
    "or", "bn", "ta", "te", "kn", "ml", "north_indic", "multi-asian", "multi-south-indic",
)  # fmt: skip
STT_MAX_UPLOAD_BYTES = 250 * 1024 * 1024  # "250 MB" per request (§10.1, §10.3)
STT_REQUESTS_PER_MINUTE = 25  # Standard plan, per model, pre-recorded (§4.2)


def expiry_headers(expire_content: bool) -> dict[str, str]:
    """`x-expire-content: true` when asked (enterprise: delete the content after 7 days, §2.3)."""
    return {"x-expire-content": "true"} if expire_content else {}
