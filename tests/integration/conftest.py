"""Fixtures for tests that use the machine's real sound server and keyring."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def sd() -> Any:
    try:
        import sounddevice
    except OSError as exc:
        pytest.skip(f"PortAudio is not installed ({exc}); .ci/run installs libportaudio2")
    sounddevice._terminate()
    sounddevice._initialize()  # rescan: the sound server may have started after import
    try:
        sounddevice.query_devices(kind="output")
        sounddevice.query_devices(kind="input")
    except sounddevice.PortAudioError as exc:
        pytest.skip(f"no default audio devices ({exc}); .ci/run starts PulseAudio with a null sink")
    return sounddevice
