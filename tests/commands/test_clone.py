"""`smallest clone` against the emulator over loopback: what the user sees, and what the
API was sent (the multipart upload the emulator saw)."""

from __future__ import annotations

import io
import json
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.clone_audio import speechy, write
from tests.conftest import run

CLONING = "/waves/v1/voice-cloning"


def uploads(emulator: Any) -> list[dict[str, Any]]:
    """The voice-cloning POSTs the emulator saw: form fields, and the file's name, MIME
    type, bytes."""
    found = []
    for exchange in emulator.state.exchanges():
        if exchange.method != "POST" or exchange.path != CLONING:
            continue
        kind = next(v for k, v in exchange.headers.items() if k.lower() == "content-type")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + exchange.body
        )
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if part.get_filename():
                fields[name] = {
                    "filename": part.get_filename(),
                    "mime": part.get_content_type(),
                    "data": payload,
                }
            else:
                fields[name] = payload.decode()
        found.append(fields)
    return found


def api_requests(emulator: Any) -> list[str]:
    return [f"{e.method} {e.path}" for e in emulator.state.exchanges()]


def seconds_of(data: bytes) -> float:
    info = soundfile.info(io.BytesIO(data))
    return float(info.frames / info.samplerate)


@pytest.fixture
def sample(tmp_path: Path) -> str:
    return write(tmp_path / "ana.wav", speechy(8))


# -- refusals: nothing is sent -------------------------------------------------------------


def refusal_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    short = write(tmp_path / "short.wav", speechy(2, lead=1, tail=1))
    silent = write(tmp_path / "silent.wav", np.zeros(24000 * 8))
    t = np.arange(24000 * 10) / 24000
    sparse = write(tmp_path / "sparse.wav", 0.4 * np.sin(2 * np.pi * 180 * t) * ((t % 2.5) < 0.2))
    big = tmp_path / "big.webm"
    big.write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * (5 * 1024 * 1024))
    ok = write(tmp_path / "ok.wav", speechy(8))
    raw = tmp_path / "take.raw"
    raw.write_bytes((speechy(8) * 32767).astype("<i2").tobytes())
    return {
        "missing": ([str(tmp_path / "nope.wav")], "no such file"),
        "empty": ([str(empty)], "is empty"),
        "not audio": ([str(text)], "not an audio file"),
        "under 3 s": ([short], "only 2"),
        "silent": ([silent], "is silent"),
        "mostly silence": ([sparse], "mostly silence"),
        "over 5 MB unconvertible": ([str(big)], "at most 5 MB"),
        "lightning-v2": ([ok, "--model", "lightning_v2"], "retired"),
        "unknown model": ([ok, "--model", "lightning-xl"], "not a cloning model"),
        "bad language": ([ok, "--language", "xx"], "not one lightning-v3.1 speaks"),
        "no file": ([], "missing FILE"),
        "raw without a rate": ([str(raw)], "headerless PCM, which does not say its sample rate"),
        "file and record": ([ok, "--record"], "not both"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "not audio",
        "under 3 s",
        "silent",
        "mostly silence",
        "over 5 MB unconvertible",
        "lightning-v2",
        "unknown model",
        "bad language",
        "no file",
        "file and record",
        "raw without a rate",
    ],
)
def test_a_bad_sample_or_option_is_refused_before_any_request(
    api_env: Any, tmp_path: Path, case: str
) -> None:
    args, message = refusal_cases(tmp_path)[case]
    result = run("clone", "create", "Ana", *args)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert message in result.stderr and result.stderr.startswith("Error: ")
    assert "Hint: " in result.stderr or case in ("file and record",)
    assert api_requests(api_env) == []


def test_record_without_a_terminal_needs_yes(api_env: Any) -> None:
    result = run("clone", "create", "Me", "--record")
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert api_requests(api_env) == []


def test_delete_sends_nothing_and_points_to_the_dashboard(api_env: Any) -> None:
    result = run("clone", "delete", "voice_abc")
    assert result.exit_code == 1 and result.stdout == ""
    assert "app.smallest.ai/dashboard" in result.stderr
    assert api_requests(api_env) == []


def test_help_lists_delete(api_env: Any) -> None:
    result = run("clone", "--help")
    assert "delete" in result.stdout and "dashboard" in result.stdout


# -- creating ------------------------------------------------------------------------------


def test_create_prints_the_voice_id_alone_and_the_next_step(api_env: Any, sample: str) -> None:
    result = run(
        "clone", "create", "Ana", sample, "--language", "en", "--accent", "general",
        "--description", "my voice", "--tag", "english", "--tag", "calm, warm",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    voice_id = result.stdout.strip()
    assert voice_id.startswith("voice_") and result.stdout == voice_id + "\n"
    assert f"smallest tts say --voice {voice_id}" in result.stderr
    (sent,) = uploads(api_env)
    assert sent["displayName"] == "Ana" and sent["language"] == "en"
    assert sent["accent"] == "general" and sent["description"] == "my voice"
    assert sent["tags"] == "english,calm,warm"
    assert sent["file"]["mime"] == "audio/wav" and sent["file"]["filename"] == "ana.wav"
    assert sent["file"]["data"] == Path(sample).read_bytes()
    assert "model" not in sent


def test_a_missing_language_is_a_warning(api_env: Any, sample: str) -> None:
    result = run("clone", "create", "Ana", sample)
    assert result.exit_code == 0, result.stderr
    assert "Warning: no --language" in result.stderr


@pytest.mark.parametrize(("given", "sent"), [("lightning_v3.1_pro", "lightning-v3.1-pro")])
def test_model_underscores_are_accepted(api_env: Any, sample: str, given: str, sent: str) -> None:
    result = run("clone", "create", "Ana", sample, "--language", "en", "--model", given)
    assert result.exit_code == 0, result.stderr
    assert uploads(api_env)[0]["model"] == sent
    assert "--model lightning_v3.1_pro" in result.stderr  # the next step names the pool


def test_an_mp3_is_sent_as_mpeg(api_env: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "ana.mp3", speechy(8), format="MP3")
    result = run("clone", "create", "Ana", path, "--language", "en")
    assert result.exit_code == 0, result.stderr
    file = uploads(api_env)[0]["file"]
    assert file["mime"] == "audio/mpeg" and file["data"] == Path(path).read_bytes()


@pytest.mark.parametrize("name", ["ana.flac", "ana.ogg"])
def test_flac_and_ogg_are_converted_and_said(api_env: Any, tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, np.column_stack([speechy(8, lead=2, tail=2)] * 2))
    result = run("clone", "create", "Ana", path, "--language", "en")
    assert result.exit_code == 0, result.stderr
    assert "sending it as a mono WAV" in result.stderr and "2 channels" in result.stderr
    file = uploads(api_env)[0]["file"]
    assert file["mime"] == "audio/wav" and file["filename"] == "ana.wav"
    assert 8 <= seconds_of(file["data"]) <= 8.5
    assert soundfile.info(io.BytesIO(file["data"])).channels == 1


def test_an_oversized_wav_is_converted_under_5_mb(api_env: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path / "big.wav", np.column_stack([speechy(12, 96000)] * 2), 96000, subtype="PCM_24"
    )
    assert Path(path).stat().st_size > 5 * 1024 * 1024
    result = run("clone", "create", "Ana", path, "--language", "en")
    assert result.exit_code == 0, result.stderr
    assert "over 5 MB" in result.stderr
    (sent,) = uploads(api_env)
    assert sent["file"]["mime"] == "audio/wav"
    assert len(sent["file"]["data"]) < 5 * 1024 * 1024
    assert seconds_of(sent["file"]["data"]) == pytest.approx(12, abs=0.4)


# -- waiting, listing, showing -------------------------------------------------------------


def test_wait_follows_the_clone_to_completed(api_env: Any, sample: str) -> None:
    result = run("clone", "create", "Ana", sample, "--language", "en", "--wait")
    assert result.exit_code == 0, result.stderr
    voice_id = result.stdout.strip()
    shown = run("clone", "show", voice_id, "--json")
    assert shown.exit_code == 0, shown.stderr
    clone = json.loads(shown.stdout)
    assert clone["status"] == "completed" and clone["voice_id"] == voice_id
    assert clone["pools"] == ["lightning_v3.1"] and clone["usable"] is True


def test_wait_ends_with_the_failure_and_its_advice(api_env: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    noise = write(tmp_path / "noise.wav", 0.3 * rng.standard_normal(24000 * 8))
    result = run("clone", "create", "Hiss", noise, "--language", "en", "--wait")
    assert result.exit_code == 1, result.stderr
    assert result.stdout == ""
    assert "failed" in result.stderr and "one person speaking clearly" in result.stderr


def test_list_and_show(api_env: Any, sample: str) -> None:
    made = run("clone", "create", "Ana", sample, "--language", "en", "--tag", "calm")
    voice_id = made.stdout.strip()
    listed = run("clone", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    (entry,) = [c for c in json.loads(listed.stdout) if c["voice_id"] == voice_id]
    assert entry["display_name"] == "Ana" and entry["language"] == "en"
    assert entry["tags"] == ["calm"] and entry["created_at"]
    plain = run("clone", "list")
    assert any(line.split("\t")[0] == voice_id for line in plain.stdout.splitlines())
    missing = run("clone", "show", "voice_nope")
    assert missing.exit_code == 2 and "clone list" in missing.stderr


# -- a clone is a voice --------------------------------------------------------------------


def test_a_new_clone_is_a_voice_at_once(api_env: Any, sample: str) -> None:
    assert run("voices", "list").exit_code == 0  # the cache exists before the clone
    voice_id = run("clone", "create", "Ana", sample, "--language", "en").stdout.strip()
    mine = run("voices", "list", "--mine", "--json")
    assert mine.exit_code == 0, mine.stderr
    assert [v["voice_id"] for v in json.loads(mine.stdout)] == [voice_id]
    assert json.loads(mine.stdout)[0]["cloned"] is True
    shown = run("voices", "show", voice_id, "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["known_pools"] == ["lightning_v3.1"]
    from smallest_cli.jobs.voice_catalog import complete_voice_id

    offered = complete_voice_id(None, "voice_")
    assert [i for i, _ in offered] == [voice_id]  # completion reads only the cache


def test_tts_speaks_in_a_pro_clone_on_its_own_pool(
    api_env: Any, sample: str, tmp_path: Path
) -> None:
    made = run(
        "clone", "create", "Ana", sample, "--language", "en", "--model", "lightning-v3.1-pro"
    )
    voice_id = made.stdout.strip()
    api_env.state.clear()
    out = tmp_path / "hello.wav"
    result = run("tts", "say", "--voice", voice_id, "Hello there", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert seconds_of(out.read_bytes()) > 0.3
    bodies = [
        json.loads(e.body)
        for e in api_env.state.exchanges()
        if e.path.endswith(("/tts", "/get_speech"))
    ]
    assert bodies and all(b["model"] == "lightning_v3.1_pro" for b in bodies)
    refused = run(
        "tts",
        "say",
        "--voice",
        voice_id,
        "--model",
        "lightning_v3.1",
        "Hi",
        "-o",
        str(tmp_path / "x.wav"),
    )
    assert refused.exit_code == 2 and "lightning_v3.1_pro" in refused.stderr


def test_an_old_lightning_large_clone_is_marked_and_refused_before_any_request(
    api_env: Any, tmp_path: Path
) -> None:
    import httpx

    from tests.conftest import TEST_KEY

    old = httpx.post(
        f"{api_env.base_url}/_emulator/clones",
        json={"displayName": "Old"},
        headers={"Authorization": f"Bearer {TEST_KEY}"},
    ).json()["voiceId"]
    listed = run("clone", "list", "--json")
    (entry,) = json.loads(listed.stdout)
    assert entry["voice_id"] == old and entry["usable"] is False and entry["pools"] == []
    plain = run("clone", "list")
    assert plain.stdout.split("\t")[3] == "-"  # piped: the pools it speaks in, none
    shown = run("clone", "show", old)
    assert "pools\t-\n" in shown.stdout
    on_terminal = run("clone", "show", old, stdout_isatty=True)
    assert "lightning-large (not usable with current models)" in on_terminal.stdout
    mine = run("voices", "list", "--mine")
    assert mine.stdout.split("\t")[:2] == [old, "Old"]
    api_env.state.clear()
    result = run("tts", "say", "--voice", old, "Hi", "-o", str(tmp_path / "x.wav"))
    assert result.exit_code == 2 and "lightning-large" in result.stderr
    assert "clone create" in result.stderr
    assert api_requests(api_env) == []
    assert not (tmp_path / "x.wav").exists()


@pytest.fixture
def slow_clones(api_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Clones take 1.5 s to make (room for a loaded machine), and --wait polls every 0.1 s."""
    from dataclasses import replace

    from smallest_cli.jobs import clone

    monkeypatch.setattr(clone, "POLL_SECONDS", 0.1)
    api_env.state.pacing = replace(api_env.state.pacing, clone_ms=1500)
    return api_env


def polls(emulator: Any) -> list[str]:
    """The statuses the list answered, in order."""
    seen = []
    for e in emulator.state.exchanges():
        if e.method == "GET" and e.path == CLONING and e.status == 200 and e.response_body:
            seen += [c["status"] for c in json.loads(e.response_body)["data"]]
    return seen


def test_wait_goes_through_pending_to_completed(slow_clones: Any, sample: str) -> None:
    result = run("clone", "create", "Ana", sample, "--language", "en", "--wait")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().startswith("voice_")
    created = json.loads(
        next(e for e in slow_clones.state.exchanges() if e.method == "POST").response_body
    )
    assert created["data"]["status"] == "pending"
    seen = polls(slow_clones)
    assert seen[-1] == "completed" and set(seen) - {"completed"}  # it waited
    assert "is pending" not in result.stderr


def test_no_wait_says_how_to_follow_up(slow_clones: Any, sample: str) -> None:
    result = run("clone", "create", "Ana", sample, "--language", "en", "--no-wait")
    voice_id = result.stdout.strip()
    assert result.exit_code == 0 and f"smallest clone show {voice_id}" in result.stderr
    assert polls(slow_clones) == []


def test_wait_goes_through_pending_to_failed(slow_clones: Any, tmp_path: Path) -> None:
    noise = write(tmp_path / "noise.wav", 0.3 * np.random.default_rng(7).standard_normal(192000))
    result = run("clone", "create", "Hiss", noise, "--language", "en", "--wait")
    assert result.exit_code == 1 and result.stdout == ""
    assert polls(slow_clones)[-1] == "failed"
    assert "failed" in result.stderr and "Hint: record 5 to 15 s" in result.stderr


def test_wait_gives_up_after_its_timeout(slow_clones: Any, sample: str) -> None:
    from dataclasses import replace

    slow_clones.state.pacing = replace(slow_clones.state.pacing, clone_ms=60_000)
    result = run("clone", "create", "Ana", sample, "--wait", "--wait-timeout", "1")
    assert result.exit_code == 1 and result.stdout == ""
    assert "after 1 s" in result.stderr and "smallest clone show voice_" in result.stderr


def test_the_clone_limit_is_one_line_with_a_hint(api_env: Any, sample: str) -> None:
    api_env.state.limits.clone_limit = 1
    assert run("clone", "create", "One", sample, "--language", "en").exit_code == 0
    result = run("clone", "create", "Two", sample, "--language", "en")
    assert result.exit_code == 1 and result.stdout == ""
    assert "clone limit exceeded" in result.stderr and "dashboard" in result.stderr
    assert result.stderr.count("Error: ") == 1


class _TimingOut:
    """A client whose first cloning request times out as the API says (then it works)."""

    def __init__(self, fail_times: int) -> None:
        self.fail_times = fail_times
        self.calls = 0
        self.cloning = self

    def create(self, name: str, **_: Any) -> Any:
        from smallest_cli.api.cloning import Clone
        from smallest_cli.errors import ServerError

        self.calls += 1
        if self.calls <= self.fail_times:
            raise ServerError(
                "Voice cloning timed out", status_code=500, code="voice_clone_timeout"
            )
        return Clone("voice_x", name, status="completed")


@pytest.mark.parametrize(("fail_times", "calls", "ok"), [(1, 2, True), (2, 2, False)])
def test_a_voice_clone_timeout_is_retried_once(fail_times: int, calls: int, ok: bool) -> None:
    from smallest_cli.audio.sample import Sample
    from smallest_cli.context import AppContext
    from smallest_cli.errors import ServerError
    from smallest_cli.jobs.clone import CloneOptions, _upload

    client = _TimingOut(fail_times)
    obj = AppContext()
    sample = Sample("a.wav", b"RIFF", "audio/wav", 8.0)
    if ok:
        assert _upload(obj, client, CloneOptions("Ana"), sample).voice_id == "voice_x"  # type: ignore[arg-type]
    else:
        with pytest.raises(ServerError) as caught:
            _upload(obj, client, CloneOptions("Ana"), sample)  # type: ignore[arg-type]
        assert "timed out twice" in (caught.value.hint or "")
    assert client.calls == calls


def test_two_clones_of_two_speakers_are_told_apart_by_diarization(
    api_env: Any, tmp_path: Path
) -> None:
    from tests.shared import shared_path

    first = shared_path("audio", "stt-sample-audio.wav")
    second = shared_path("audio", "pulse-feature-demo.wav")
    ids = []
    for name, path in (("First", first), ("Second", second)):
        made = run("clone", "create", name, str(path), "--language", "en")
        assert made.exit_code == 0, made.stderr
        ids.append(made.stdout.strip())
    lines = [
        (ids[0], "Hello there, how are you doing today? I hope the weather is fine."),
        (ids[1], "I am doing well, thank you very much. The weather is lovely here."),
        (ids[0], "That is good to hear. Shall we go for a walk?"),
    ]
    parts = []
    for number, (voice, text) in enumerate(lines):
        out = tmp_path / f"line{number}.wav"
        said = run("tts", "say", "--voice", voice, text, "-o", str(out), "--sample-rate", "24000")
        assert said.exit_code == 0, said.stderr
        audio, rate = soundfile.read(str(out))
        parts += [audio, np.zeros(rate // 2)]
    dialogue = tmp_path / "dialogue.wav"
    soundfile.write(str(dialogue), np.concatenate(parts), 24000)
    result = run("stt", "transcribe", str(dialogue), "--diarize", "--json")
    assert result.exit_code == 0, result.stderr
    turns = []
    for word in json.loads(result.stdout)["words"]:
        if not turns or turns[-1] != word["speaker"]:
            turns.append(word["speaker"])
    assert len(turns) == 3 and turns[0] == turns[2] != turns[1]


def test_ctrl_c_while_waiting_names_the_clone(slow_clones: Any, sample: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    from dataclasses import replace

    from tests.conftest import TEST_KEY

    slow_clones.state.pacing = replace(slow_clones.state.pacing, clone_ms=60_000)
    env = {**os.environ, "SMALLEST_BASE_URL": slow_clones.base_url, "SMALLEST_API_KEY": TEST_KEY}
    argv = [sys.executable, "-m", "smallest_cli", "clone", "create", "Ana", sample, "--wait"]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        deadline = time.monotonic() + 20
        while not polls(slow_clones) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert out == ""
    (voice_id,) = [c.voice_id for c in slow_clones.state.clones.of(TEST_KEY)]
    assert f"The clone {voice_id} was made" in err


def test_tts_with_a_clone_still_being_made_says_so_before_any_speech_request(
    slow_clones: Any, sample: str, tmp_path: Path
) -> None:
    from dataclasses import replace

    slow_clones.state.pacing = replace(slow_clones.state.pacing, clone_ms=60_000)
    assert run("voices", "list").exit_code == 0  # the cache exists before the clone
    voice_id = run("clone", "create", "Ana", sample, "--language", "en", "--no-wait").stdout
    voice_id = voice_id.strip()
    slow_clones.state.clear()
    out = tmp_path / "x.wav"
    result = run("tts", "say", "--voice", voice_id, "Hi", "-o", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    assert f"the clone {voice_id!r} is still pending" in result.stderr
    assert f"smallest clone show {voice_id}" in result.stderr
    assert "Invalid Voice ID" not in result.stderr
    # the cache said pending, so the status was asked again, and no speech was requested
    assert api_requests(slow_clones) == [f"GET {CLONING}"]
    assert not out.exists()
    # once the clone is done, the same command speaks (the cache learns the new status)
    from tests.conftest import TEST_KEY

    for made in slow_clones.state.clones.of(TEST_KEY):
        made.processing_seconds = 0.0
    result = run("tts", "say", "--voice", voice_id, "Hi", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.exists()


def test_tts_with_a_failed_clone_says_it_failed_before_any_speech_request(
    api_env: Any, tmp_path: Path
) -> None:
    noise = write(tmp_path / "noise.wav", 0.3 * np.random.default_rng(7).standard_normal(192000))
    assert run("voices", "list").exit_code == 0
    from tests.conftest import TEST_KEY

    assert run("clone", "create", "Hiss", noise, "--language", "en").exit_code == 1
    (voice_id_text,) = [c.voice_id for c in api_env.state.clones.of(TEST_KEY)]
    api_env.state.clear()
    result = run("tts", "say", "--voice", voice_id_text, "Hi", "-o", str(tmp_path / "x.wav"))
    assert result.exit_code == 2 and result.stdout == ""
    assert f"the clone {voice_id_text!r} failed" in result.stderr
    assert "clone create" in result.stderr
    assert not any(e.path.endswith(("/tts", "/get_speech")) for e in api_env.state.exchanges())


@pytest.mark.parametrize(("fault", "posts", "code"), [("500*1", 2, 0), ("500*2", 2, 1)])
def test_a_voice_clone_timeout_from_the_api_is_retried_once_end_to_end(
    api_env: Any, sample: str, fault: str, posts: int, code: int
) -> None:
    api_env.state.faults.replace([f"{fault}@{CLONING}"], 0.0)
    result = run("clone", "create", "Ana", sample, "--language", "en", "--no-wait")
    assert result.exit_code == code, result.stderr
    assert len(uploads(api_env)) == posts
    assert "timed out making the clone; trying once more" in result.stderr
    if code:
        assert result.stdout == "" and result.stderr.count("Error: ") == 1
        assert "Hint: the API timed out twice" in result.stderr
    else:
        assert result.stdout.strip().startswith("voice_")


@pytest.mark.parametrize(
    ("status", "body", "hint"),
    [
        (500, {"error": "failed", "error_code": "voice_clone_error"}, "one person speaking"),
        (400, {"error": "Invalid file type. Supported types: audio/wav"}, "WAV, MP3, MP4"),
        (400, {"error": "File too large"}, "under 5 MB"),
        (400, {"error": "Invalid language. Supported: en"}, "--language en"),
        (400, {"error": "Voice cloning for lightning-v2 is deprecated."}, "lightning-v3.1"),
    ],
)
def test_each_cloning_error_gets_its_hint(status: int, body: dict[str, str], hint: str) -> None:
    """Errors the client's own checks keep from happening (it refuses such samples and
    options first), should the API still answer them."""
    from smallest_cli.api.errors import status_error
    from smallest_cli.jobs.clone import explained

    error = explained(status_error(status, {}, json.dumps(body).encode()))
    assert hint in (error.hint or "")


def test_an_in_process_emulator_clone_is_not_remembered_beyond_its_command(
    tmp_path: Path, sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_CACHE_DIR", str(tmp_path / "cache"))
    assert run("--emulator", "voices", "list").exit_code == 0  # the cache exists
    made = run("--emulator", "clone", "create", "Ana", sample, "--language", "en")
    assert made.exit_code == 0, made.stderr
    assert "smallest emulator serve" in made.stderr and "Next: smallest tts" not in made.stderr
    mine = run("--emulator", "voices", "list", "--mine", "--json")
    assert mine.exit_code == 0 and json.loads(mine.stdout) == []  # no clone that is gone


def test_on_a_terminal_create_waits_by_default(slow_clones: Any, sample: str) -> None:
    result = run("clone", "create", "Ana", sample, "--language", "en", stderr_isatty=True)
    assert result.exit_code == 0, result.stderr
    assert polls(slow_clones)[-1] == "completed"
    piped = run("clone", "create", "Bo", sample, "--language", "en")
    assert piped.exit_code == 0 and "is pending" in piped.stderr  # piped: no wait


def test_quiet_create_prints_only_the_voice_id(api_env: Any, sample: str) -> None:
    result = run("--quiet", "clone", "create", "Ana", sample, "--language", "en")
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("voice_") and result.stderr == ""


@pytest.mark.parametrize(
    ("name", "head", "mime"),
    [
        ("take.webm", b"\x1a\x45\xdf\xa3", "audio/webm"),
        ("take.m4a", b"\0\0\0\x20ftypM4A \0\0\0\0M4A mp42isom", "audio/mp4"),
    ],
)
def test_mp4_and_webm_are_sent_as_they_are(
    api_env: Any, tmp_path: Path, name: str, head: bytes, mime: str
) -> None:
    path = tmp_path / name
    path.write_bytes(head + bytes(range(256)) * 64)
    result = run("clone", "create", "Ana", str(path), "--language", "en")
    assert result.exit_code == 0, result.stderr
    assert "could not be checked here" in result.stderr
    file = uploads(api_env)[0]["file"]
    assert file["mime"] == mime and file["filename"] == name
    assert file["data"] == path.read_bytes()


def test_ctrl_c_during_the_upload_says_the_clone_may_exist(api_env: Any, sample: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import TEST_KEY

    api_env.state.faults.replace([f"stall@{CLONING}"], 0.0)
    env = {**os.environ, "SMALLEST_BASE_URL": api_env.base_url, "SMALLEST_API_KEY": TEST_KEY}
    argv = [sys.executable, "-m", "smallest_cli", "clone", "create", "Ana", sample]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        deadline = time.monotonic() + 20
        while not uploads(api_env) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert out == "" and "`smallest clone list` shows it" in err


def test_after_waiting_the_cache_knows_the_clone_is_completed(
    slow_clones: Any, sample: str, tmp_path: Path
) -> None:
    assert run("voices", "list").exit_code == 0
    made = run("clone", "create", "Ana", sample, "--language", "en", "--wait")
    assert made.exit_code == 0, made.stderr
    slow_clones.state.clear()
    said = run("tts", "say", "--voice", made.stdout.strip(), "Hi", "-o", str(tmp_path / "x.wav"))
    assert said.exit_code == 0, said.stderr
    assert f"GET {CLONING}" not in api_requests(slow_clones)  # no need to ask again


@pytest.mark.parametrize(("name", "hint"), [(" ", "give it a name"), ("x" * 501, "shorter")])
def test_a_bad_name_is_refused_with_a_fitting_hint(
    api_env: Any, sample: str, name: str, hint: str
) -> None:
    result = run("clone", "create", name, sample, "--language", "en")
    assert result.exit_code == 2 and "1 to 500 characters" in result.stderr
    assert f"Hint: {hint}" in result.stderr or hint in result.stderr.split("Hint: ")[1]
    assert api_requests(api_env) == []


@pytest.mark.parametrize(
    ("seconds", "warning"),
    [
        (4, "s of speech; 5 to 15 s makes a closer clone"),
        (8, None),
        (20, "s of speech; the API wants 5 to 15 s and may use only part of it"),
    ],
)
def test_speech_under_5_s_or_over_15_s_is_a_warning_and_still_sent(
    api_env: Any, tmp_path: Path, seconds: float, warning: str | None
) -> None:
    path = write(tmp_path / "ana.wav", speechy(seconds, lead=0.5, tail=0.5))
    result = run("clone", "create", "Ana", path, "--language", "en")
    assert result.exit_code == 0, result.stderr
    if warning is None:
        assert "Warning" not in result.stderr
    else:
        assert warning in result.stderr
    assert uploads(api_env)[0]["file"]["data"] == Path(path).read_bytes()


def test_play_sample_without_a_speaker_is_refused_before_the_upload(
    api_env: Any, sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smallest_cli.errors import SmallestError

    def no_device(device: Any, purpose: str) -> None:
        assert purpose == "play"
        raise SmallestError("cannot play audio: no output device", hint="write a file")

    monkeypatch.setattr("smallest_cli.audio.devices.check_device", no_device)
    result = run("clone", "create", "Ana", sample, "--language", "en", "--play-sample")
    assert result.exit_code == 1 and result.stdout == ""
    assert (
        "--play-sample cannot play" in result.stderr and "Hint: drop --play-sample" in result.stderr
    )
    assert api_requests(api_env) == []


def test_a_sample_from_stdin_is_checked_and_converted_like_a_file(
    api_env: Any, tmp_path: Path
) -> None:
    path = write(tmp_path / "ana.flac", speechy(8, lead=1, tail=1))
    piped = Path(path).read_bytes()
    result = run("clone", "create", "Ana", "-", "--language", "en", input=piped)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.stderr
    assert "stdin is FLAC, which the API does not take" in result.stderr
    file = uploads(api_env)[0]["file"]
    assert file["filename"] == "stdin.wav" and file["mime"] == "audio/wav"
    assert 8 <= seconds_of(file["data"]) <= 8.5
    empty = run("clone", "create", "Ana", "-", "--language", "en", input="")
    assert empty.exit_code == 2 and "stdin is empty" in empty.stderr
    assert len(uploads(api_env)) == 1
