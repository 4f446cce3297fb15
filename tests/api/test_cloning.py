"""Reading the voice-cloning answers (REFERENCE §8.1, §8.2), whatever shape `model` takes."""

from __future__ import annotations

from smallest_cli.api.cloning import Clone


def test_the_create_answer_with_a_model_object() -> None:
    clone = Clone.from_api(
        {
            "voiceId": "voice_a",
            "displayName": "Ana",
            "status": "completed",
            "model": {"_id": "x", "modelName": "lightning-v3.1-pro"},
            "samples": [{"text": "Hi", "audioUrl": "https://x/a.wav"}, {"text": "no url"}],
        }
    )
    assert clone.models == ("lightning-v3.1-pro",) and clone.pools == ("lightning_v3.1_pro",)
    assert clone.samples == (("Hi", "https://x/a.wav"),)


def test_the_create_answer_with_a_model_string() -> None:
    clone = Clone.from_api({"voiceId": "voice_a", "model": "lightning-v3.1"})
    assert clone.pools == ("lightning_v3.1",) and clone.display_name == "voice_a"


def test_a_listed_clone() -> None:
    clone = Clone.from_api(
        {
            "voiceId": "voice_b",
            "displayName": "Bo",
            "tags": ["english", " calm "],
            "modelIds": ["lightning-v3.1", "lightning_v3.1_pro"],
            "createdAt": "2026-04-20T09:42:17.103Z",
            "cloningType": "instant",
        }
    )
    assert clone.tags == ("english", "calm")
    assert clone.pools == ("lightning_v3.1", "lightning_v3.1_pro") and clone.usable
    assert clone.to_json()["pools"] == ["lightning_v3.1", "lightning_v3.1_pro"]


def test_an_old_lightning_large_clone_is_not_usable() -> None:
    clone = Clone.from_api({"voiceId": "voice_c", "modelIds": ["lightning-large"]})
    assert clone.pools == () and not clone.usable
    assert clone.to_json()["usable"] is False
