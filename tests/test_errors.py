"""The error tree's hints and the one reporter (`Output.failure` via `AppContext.report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.api.stt import SttAPI
from smallest_cli.context import AppContext
from smallest_cli.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    GoneError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UsageError,
)
from smallest_cli.output import Output
from tests.conftest import TEST_KEY, run


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (AuthenticationError("no", status_code=401), "smallest auth login"),
        (PermissionDeniedError("no", status_code=403), "workspace and plan"),
        (RateLimitError("slow down", status_code=429, retryable=True), "rate or concurrency"),
        (GoneError("gone", status_code=410, recommended_endpoint="/v2/x"), "use /v2/x instead"),
        (ServerError("busy", status_code=503, retryable=True), "may be temporary"),
        (APIConnectionError("refused", retryable=True), "may be temporary"),
    ],
)
def test_each_kind_of_api_error_carries_its_usual_hint(error: Exception, hint: str) -> None:
    assert hint in (getattr(error, "hint", None) or "")


def test_no_hint_is_made_up() -> None:
    assert BadRequestError("bad", status_code=400).hint is None
    assert ServerError("broken", status_code=500).hint is None  # not retryable: no "try again"
    assert GoneError("gone", status_code=410).hint is None


def test_explain_beats_the_usual_hint_but_not_one_given_when_raised() -> None:
    denied = PermissionDeniedError("no", status_code=403)
    assert denied.explain("try --model pulse") is denied
    assert denied.hint == "try --model pulse"
    told = UsageError("bad", hint="what the raiser knew")
    assert told.explain("a guess from further up").hint == "what the raiser knew"


def test_failure_shows_message_hint_and_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    error = RateLimitError("Too many requests", status_code=429, request_id="req-1")
    Output().failure(error)
    assert capsys.readouterr().err == (
        "Error: Too many requests (HTTP 429)\n"
        "Hint: the account's rate or concurrency limit was hit; try later, or raise --max-wait\n"
        "Request id: req-1 (quote it to support)\n"
    )


def test_failure_masks_the_key_whatever_its_shape(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "plain-secret-0123456789"
    Output().failure(RuntimeError(f"saw {secret} and sk_live_abcdef9876"), secret=secret)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "Error: unexpected RuntimeError: saw …6789 and sk_…9876"
    assert lines[1].startswith("Hint: this is a bug in smallest-cli; rerun with --debug")


def test_failure_names_the_source_once(capsys: pytest.CaptureFixture[str]) -> None:
    Output().failure(UsageError("no such file: a.wav"), source="a.wav")
    Output().failure(UsageError("too quiet"), source="b.wav")
    assert capsys.readouterr().err == "Error: no such file: a.wav\nError: b.wav: too quiet\n"


@pytest.fixture
def two_wavs(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / "fine.wav", tmp_path / "boom.wav"]
    for path in paths:
        sf.write(path, np.zeros(8000, dtype="int16"), 16000)
    return paths


def test_a_batch_source_is_reported_like_a_command(
    api_env, two_wavs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same renderer for one source of a batch: the bug hint, the key masked, --debug's
    traceback (the batch used to print none of these)."""
    transcribe = SttAPI.transcribe

    def sometimes_broken(self: SttAPI, audio: Any, *args: Any, **kwargs: Any) -> Any:
        if "boom" in str(getattr(audio, "path", "")):
            raise RuntimeError(f"kaboom with {TEST_KEY}")
        return transcribe(self, audio, *args, **kwargs)

    monkeypatch.setattr(SttAPI, "transcribe", sometimes_broken)
    result = run("stt", "transcribe", *map(str, two_wavs))
    assert result.exit_code == 1
    assert f"Error: {two_wavs[1]}: unexpected RuntimeError: kaboom with sk_…cdef" in result.stderr
    assert "Hint: this is a bug in smallest-cli" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run("--debug", "stt", "transcribe", *map(str, two_wavs))
    assert "Traceback (most recent call last)" in debug.stderr
    assert TEST_KEY not in debug.stdout + debug.stderr


def test_a_job_does_not_rewrite_the_shared_retry_setting(api_env, tmp_path: Path) -> None:
    obj = AppContext()
    text = " ".join(["A sentence long enough to need its own request."] * 40)
    args = ["tts", "say", text, "-o", str(tmp_path / "x.wav"), "--concurrency", "3"]
    result = run("--retries", "1", *args, obj=obj)
    assert result.exit_code == 0, result.stderr
    assert obj.retries == 1


def test_clients_take_the_retry_setting_as_it_is() -> None:
    obj = AppContext(base_url="http://127.0.0.1:9", retries=1)
    assert obj.client("sk_test").policy.retries == 1
    assert obj.retries == 1  # no job rewrites the shared setting
    obj.close()
