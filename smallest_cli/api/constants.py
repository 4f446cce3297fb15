"""Values the API defines (REFERENCE §6–§7): models, languages, rates, formats.

Stdlib only: the config layer validates against these without importing the client.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.smallest.ai"

TTS_MODELS = ("lightning_v3.1", "lightning_v3.1_pro")
TTS_LANGUAGES = (
    "auto", "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or", "es", "de",
    "fr", "it", "nl", "sv", "pt", "ru", "el", "fi", "no", "pl", "ar", "zh", "id", "ja",
    "ko", "ms", "tr", "vi",
)  # fmt: skip
TTS_SAMPLE_RATES = (8000, 16000, 24000, 44100)
TTS_OUTPUT_FORMATS = ("pcm", "mp3", "wav", "ulaw", "alaw")

# The Get Voices path spells the model with a hyphen (REFERENCE §6.1).
VOICES_MODEL = "lightning-v3.1"
