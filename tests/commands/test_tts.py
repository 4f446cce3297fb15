"""`smallest tts say` against the emulator: what the user gets, byte for byte."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.emulator.limits import ConcurrencyLimiter
from smallest_cli.emulator.speech import Synthesis, listen, spoken_form
from smallest_cli.emulator.state import Pacing
from smallest_cli.text import chunks
from tests.conftest import TEST_KEY, run, run_process

HELLO = "Hello from the emulator. It speaks every word!"
LONG = " ".join(
    f"Sentence {i} of the long text goes on for a while, with a clause; and then it ends."
    for i in range(40)
)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty directory for the command's output (tmp_path also holds config and cache)."""
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


def heard(samples: np.ndarray, rate: int) -> str:
    return " ".join(h.text or "?" for h in listen(samples, rate))


def tts_requests(emulator) -> list:
    return [e for e in emulator.state.exchanges() if e.path.startswith("/waves/v1/tts")]


# -- audio out ---------------------------------------------------------------------------


def test_writes_a_wav_file_that_says_the_text(api_env, tmp_path: Path) -> None:
    target = tmp_path / "hello.wav"
    result = run("tts", "say", HELLO, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    info = sf.info(target)
    assert (info.format, info.subtype, info.channels, info.samplerate) == (
        "WAV",
        "PCM_16",
        1,
        44100,
    )
    expected = Synthesis(HELLO, sample_rate=44100)
    assert info.frames == expected.frames
    samples, rate = sf.read(target, dtype="int16")
    assert heard(samples, rate) == spoken_form(HELLO)
    [request] = tts_requests(api_env)
    assert (request.method, request.path) == ("POST", "/waves/v1/tts")  # a file needs no streaming
    body = json.loads(request.body)
    assert body == {
        "text": HELLO,
        "voice_id": "magnus",
        "model": "lightning_v3.1",
        "sample_rate": 44100,
        "speed": 1.0,
        "language": "en",
        "output_format": "pcm",
    }
    assert request.headers["accept"] == "audio/wav"


@pytest.mark.parametrize(
    ("suffix", "container", "rate"),
    [
        (".mp3", "MP3", 24000),
        (".flac", "FLAC", 16000),
        (".ogg", "OGG", 24000),
        (".ulaw", None, 8000),
        (".alaw", None, 8000),
        (".pcm", None, 16000),
    ],
)
def test_every_format_decodes_and_still_says_the_text(
    api_env, tmp_path: Path, suffix: str, container, rate: int
) -> None:
    target = tmp_path / f"speech{suffix}"
    result = run("tts", "say", HELLO, "-o", str(target), "--sample-rate", str(rate))
    assert result.exit_code == 0, result.stderr
    if container is None:  # the user is told what the file cannot say
        kind = {".ulaw": "μ-law", ".alaw": "A-law", ".pcm": "16-bit"}[suffix]
        assert result.stderr == (
            f"Note: {target} is raw {kind} mono at {rate} Hz with no header; "
            f"read it with --sample-rate {rate}\n"
        )
        subtype = {".ulaw": "ULAW", ".alaw": "ALAW", ".pcm": "PCM_16"}[suffix]
        samples, got_rate = sf.read(
            target, dtype="int16", format="RAW", subtype=subtype, samplerate=rate, channels=1
        )
    else:
        assert result.stderr == ""
        assert sf.info(target).format == container
        samples, got_rate = sf.read(target, dtype="int16")
    assert got_rate == rate
    duration = Synthesis(HELLO, sample_rate=rate).duration
    assert abs(len(samples) / rate - duration) < 0.1
    assert heard(samples, rate) == spoken_form(HELLO)


@pytest.mark.parametrize("transport", ["sync", "sse", "ws"])
def test_transport_does_not_change_the_bytes(api_env, tmp_path: Path, transport: str) -> None:
    reference = tmp_path / "ref.wav"
    assert run("tts", "say", HELLO, "-o", str(reference), "--sample-rate", "24000").exit_code == 0
    target = tmp_path / f"{transport}.wav"
    result = run(
        "tts", "say", HELLO, "-o", str(target), "--sample-rate", "24000", "--transport", transport
    )
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes() == reference.read_bytes()


def test_pipe_gets_streaming_wav_and_nothing_else(api_env) -> None:
    result = run("tts", "say", HELLO, "--sample-rate", "16000")  # stdout is not a terminal
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    raw = result.stdout_bytes
    assert raw.count(b"RIFF") == 1
    samples, rate = sf.read(io.BytesIO(raw), dtype="int16")
    assert rate == 16000 and heard(samples, rate) == spoken_form(HELLO)
    assert tts_requests(api_env)[0].path == "/waves/v1/tts/live"  # streamed (SSE) for a pipe


def test_audio_never_goes_to_a_terminal(api_env) -> None:
    result = run("tts", "say", HELLO, "-o", "-", stdout_isatty=True)
    assert result.exit_code == 2
    assert "refusing to write audio to a terminal" in result.stderr
    assert tts_requests(api_env) == []


def test_stdin_and_file_input(api_env, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("Text from a file.", encoding="utf-8")
    for args, stdin in (
        (["-f", str(source)], None),
        (["-"], "Text from a file."),
        ([], "Text from a file."),
    ):
        target = tmp_path / "o.wav"
        result = run("tts", "say", *args, "-o", str(target), "--sample-rate", "16000", input=stdin)
        assert result.exit_code == 0, result.stderr
        assert heard(*sf.read(target, dtype="int16")) == "text from a file"


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["   "], "the text is empty"),
        (["hi", "--sample-rate", "22050"], "choose one of 8000, 16000, 24000, 44100"),
        (["hi", "--speed", "3"], "--speed must be between 0.5 and 2 (got 3)"),
        (["hi", "--language", "xx"], "--language 'xx'"),
        (["hi", "--model", "lightning-v9"], "choose one of lightning_v3.1, lightning_v3.1_pro"),
        (["hi", "-o", "x.m4a"], "cannot tell the audio format"),
        (["hi", "--format", "aac", "-o", "-"], "unknown audio format 'aac'"),
        (["hi", "--request-id", "has space"], "invalid --request-id"),
        (["hi", "--session-id", "x" * 129], "invalid --session-id"),
        (["hi", "--dict", "two words"], "is not a dictionary id"),
        (["hi", "--timestamps", "w.txt"], "cannot tell the timestamp format"),
        (["hi", "--timestamps", "w.srt", "--transport", "sse"], "only come over the WebSocket"),
        (["hi", "--live"], "--live reads the text from stdin"),
        (["hi", "-o", "/nonexistent/dir/x.wav"], "does not exist"),
    ],
)
def test_bad_input_is_refused_before_any_request(api_env, args: list[str], fragment: str) -> None:
    result = run("tts", "say", *args)
    assert result.exit_code == 2, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert tts_requests(api_env) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Error: stdin is not UTF-8 text"),
        (["-f", "-"], "Error: stdin is not UTF-8 text"),
        (["-f", "{bad}"], "Error: {bad} is not UTF-8 text"),
        (["hi \udcff there"], "Error: the text argument is not UTF-8 text"),
    ],
)
def test_text_that_is_not_utf8_is_refused_the_same_way_from_every_source(
    api_env, tmp_path: Path, args: list[str], message: str
) -> None:
    """A shell's stdin and argv decode bad bytes as lone surrogates (`surrogateescape`)."""
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"hi \xff there")
    args = [a.replace("{bad}", str(bad)) for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "smallest_cli", "tts", "say", *args, "-o", str(tmp_path / "x.wav")],
        input=b"hi \xff there",
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:surrogateescape", "LC_ALL": "C.UTF-8"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode() == message.replace("{bad}", str(bad)) + "\n"
    assert tts_requests(api_env) == []
    assert not (tmp_path / "x.wav").exists()


def test_voice_in_the_other_pool_is_refused_with_a_hint(api_env) -> None:
    result = run("tts", "say", "hi", "--voice", "jasper", "--model", "lightning_v3.1", "-o", "-")
    assert result.exit_code == 2
    assert "not in the lightning_v3.1 pool" in result.stderr
    assert "--model lightning_v3.1_pro" in result.stderr
    assert tts_requests(api_env) == []


def test_a_language_the_model_does_not_speak_is_refused_before_any_request(api_env) -> None:
    result = run("tts", "say", "--language", "ja", "hi", "-o", "-")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "--language ja: lightning_v3.1 does not speak 'ja'" in result.stderr
    assert "Hint: use --model lightning_v3.1_pro" in result.stderr
    assert tts_requests(api_env) == []


def test_the_language_refusal_names_where_the_setting_came_from(api_env, monkeypatch) -> None:
    monkeypatch.setenv("SMALLEST_LANGUAGE", "he")  # the base model's, not Pro's
    result = run("tts", "say", "--model", "lightning_v3.1_pro", "hi", "-o", "-")
    assert result.exit_code == 2
    assert "SMALLEST_LANGUAGE='he': lightning_v3.1_pro does not speak 'he'" in result.stderr
    assert "Hint: use --model lightning_v3.1\n" in result.stderr
    assert tts_requests(api_env) == []


@pytest.mark.parametrize(
    ("model", "language"),
    [("lightning_v3.1_pro", "ja"), ("lightning_v3.1", "he"), ("lightning_v3.1", "auto")],
)
def test_a_language_the_model_speaks_is_sent(api_env, out: Path, model, language) -> None:
    target = out / "x.wav"
    result = run("tts", "say", "--model", model, "--language", language, "hi", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    [request] = tts_requests(api_env)
    assert json.loads(request.body)["language"] == language
    assert target.stat().st_size > 44


def test_the_language_refusal_on_the_in_process_emulator(out: Path) -> None:
    result = run("--emulator", "tts", "say", "--language", "ja", "hi", "-o", str(out / "x.wav"))
    assert result.exit_code == 2
    assert "Hint: use --model lightning_v3.1_pro" in result.stderr
    assert list(out.iterdir()) == []


@pytest.mark.no_contract
def test_unknown_voice_gets_the_api_message_and_a_hint(api_env, out: Path) -> None:
    result = run("tts", "say", "hi", "--voice", "nobody-here", "-o", str(out / "x.wav"))
    assert result.exit_code == 1
    assert "voice_id: Invalid Voice ID (HTTP 400)" in result.stderr
    assert "smallest voices list" in result.stderr
    assert list(out.iterdir()) == []


def test_an_error_frame_on_the_websocket_reaches_the_user_once(api_env, out: Path) -> None:
    result = run(
        "tts", "say", "hi", "--voice", "nobody-here", "--transport", "ws", "-o", str(out / "x.wav")
    )
    assert result.exit_code == 1
    assert result.stderr.count("voice_id: Invalid Voice ID") == 1
    assert "Hint: see `smallest voices list`" in result.stderr  # as over HTTP
    assert list(out.iterdir()) == []
    [request] = tts_requests(api_env)
    assert request.kind == "websocket" and '"message"' in str(request.frames_out[0])


@pytest.mark.parametrize("model", ["lightning", "lightning-v2", "lightning_large"])
def test_retired_models_are_refused_before_any_request(api_env, model: str) -> None:
    result = run("tts", "say", "hi", "--model", model, "-o", "-")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"Error: {model} is retired: the API answers 410 Gone for it" in result.stderr
    assert "--model lightning_v3.1" in result.stderr
    assert api_env.state.exchanges() == []


@pytest.mark.parametrize(
    ("transport", "path"),
    [("sync", "/waves/v1/tts"), ("sse", "/waves/v1/tts/live"), ("ws", "/waves/v1/tts/live")],
)
def test_the_model_named_spelling_uses_the_unified_route(
    api_env, out: Path, transport: str, path: str
) -> None:
    # the deprecated /waves/v1/lightning-v3.1/... routes still answer (REFERENCE §0.1), but
    # the CLI keeps to the current ones
    target = out / "x.wav"
    result = run(
        "tts", "say", "hi", "--model", "lightning-v3.1", "--transport", transport, "-o", str(target)
    )
    assert result.exit_code == 0, result.stderr
    [request] = tts_requests(api_env)
    assert request.path == path
    sent = json.loads(request.body or request.frames_in[0])
    assert sent["model"] == "lightning_v3.1"
    assert not any(
        e.path.startswith("/waves/v1/lightning-v3.1/") and not e.path.endswith("/get_voices")
        for e in api_env.state.exchanges()
    )


# -- long text ---------------------------------------------------------------------------


def test_long_text_is_stitched_into_one_seamless_file(api_env, tmp_path: Path) -> None:
    target = tmp_path / "long.wav"
    result = run("tts", "say", LONG, "-o", str(target), "--sample-rate", "16000")
    assert result.exit_code == 0, result.stderr
    requests = tts_requests(api_env)
    assert len(requests) > 10
    assert all(len(json.loads(r.body)["text"]) <= 250 for r in requests)
    samples, rate = sf.read(target, dtype="int16")
    assert heard(samples, rate) == spoken_form(LONG)  # every word, in order
    pieces = [Synthesis(json.loads(r.body)["text"], sample_rate=16000).frames for r in requests]
    assert len(samples) == sum(pieces)  # one header, nothing lost or doubled
    seams = np.cumsum(pieces)[:-1]
    jumps = [abs(int(samples[s]) - int(samples[s - 1])) for s in seams]
    assert max(jumps) < 200  # no click where chunks meet


def test_progress_bar_on_a_terminal_only(api_env, tmp_path: Path) -> None:
    shown = run(
        "tts",
        "say",
        LONG,
        "-o",
        str(tmp_path / "a.wav"),
        "--sample-rate",
        "8000",
        stderr_isatty=True,
    )
    assert shown.exit_code == 0 and "Synthesizing" in shown.stderr
    hidden = run("tts", "say", LONG, "-o", str(tmp_path / "b.wav"), "--sample-rate", "8000")
    assert hidden.stderr == ""


class PeakLimiter(ConcurrencyLimiter):
    """The emulator's TTS limiter, remembering the most requests it ever held at once."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.peak = 0

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        with super().slot(key):
            self.peak = max(self.peak, self.active(key))
            yield


def synthesized_in_parallel(api_env, monkeypatch: pytest.MonkeyPatch, limit: int) -> PeakLimiter:
    """An account allowed `limit` requests at once, each holding its unit for a while."""
    api_env.state.pacing = Pacing(first_audio_ms=150, rtf=0, stt_ms=0, stt_rtf=0)
    limiter = PeakLimiter(limit)
    monkeypatch.setattr(api_env.state.limits, "tts", limiter)
    return limiter


def test_concurrency_keeps_that_many_requests_in_flight(
    api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = synthesized_in_parallel(api_env, monkeypatch, limit=3)
    target = tmp_path / "c.wav"
    result = run(
        "tts", "say", LONG, "-o", str(target), "--sample-rate", "8000", "--concurrency", "3"
    )
    assert result.exit_code == 0, result.stderr
    assert [r.status for r in tts_requests(api_env)] == [200] * len(list(chunks(LONG)))
    assert limiter.peak == 3  # as many as asked for, never more


def test_concurrency_absorbs_429s_and_keeps_order(
    api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = synthesized_in_parallel(api_env, monkeypatch, limit=1)
    target = tmp_path / "c.wav"
    result = run(
        "--quiet", "tts", "say", LONG, "-o", str(target), "--sample-rate", "8000",
        "--concurrency", "4",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert heard(*sf.read(target, dtype="int16")) == spoken_form(LONG)
    statuses = [r.status for r in tts_requests(api_env)]
    assert set(statuses) == {200, 429}  # more asked at once than the account allows
    assert statuses.count(200) == len(list(chunks(LONG)))
    assert limiter.peak == 1


@pytest.mark.no_contract
def test_failure_mid_way_leaves_no_file_and_keeps_the_old_one(api_env, out: Path) -> None:
    target = out / "keep.wav"
    target.write_bytes(b"precious")
    api_env.state.faults.replace(["500+3@/waves/v1/tts"], 0)
    result = run("tts", "say", LONG, "-o", str(target), "--sample-rate", "8000")
    assert result.exit_code == 1
    assert "Error:" in result.stderr
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in out.iterdir()) == ["keep.wav"]


# -- word timestamps and live text ---------------------------------------------------------


def test_timestamps_for_a_voice_that_has_them(api_env, tmp_path: Path) -> None:
    audio, words = tmp_path / "a.wav", tmp_path / "a.srt"
    text = "Pay $100 today. It's the 25th!"
    result = run(
        "tts", "say", text, "--voice", "meher", "-o", str(audio), "--timestamps", str(words)
    )
    assert result.exit_code == 0, result.stderr
    srt = words.read_text()
    assert srt.startswith("1\n00:00:00,")
    assert "Pay $100 today." in srt and "It's the 25th!" in srt
    json_words = tmp_path / "a.json"
    assert (
        run(
            "tts",
            "say",
            text,
            "--voice",
            "meher",
            "-o",
            str(audio),
            "--timestamps",
            str(json_words),
        ).exit_code
        == 0
    )
    items = json.loads(json_words.read_text())
    assert [i["word"] for i in items] == text.split()
    samples, rate = sf.read(audio, dtype="int16")
    for item, h in zip(items, listen(samples, rate), strict=True):
        assert abs(item["start"] - h.start) < 0.03


def test_timestamps_with_a_catalog_voice_that_has_none_are_refused_first(
    api_env, tmp_path: Path
) -> None:
    words, audio = tmp_path / "w.vtt", tmp_path / "a.wav"
    result = run(
        "tts", "say", "Hello there.", "--voice", "magnus", "-o", str(audio), "--timestamps", str(words)
    )  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert "'magnus' sends no word timestamps" in result.stderr and "meher" in result.stderr
    assert tts_requests(api_env) == []
    assert not words.exists() and not audio.exists()


def test_timestamps_note_when_the_voice_has_none(api_env, tmp_path: Path) -> None:
    """Without a catalog (it failed to load) the request is made, and the note follows."""
    api_env.state.faults.replace(["500@/waves/v1/lightning", "500@/waves/v1/voice"], 0)
    words = tmp_path / "w.vtt"
    result = run(
        "--retries",
        "0",
        "tts",
        "say",
        "Hello there.",
        "--voice",
        "magnus",
        "-o",
        str(tmp_path / "a.wav"),
        "--timestamps",
        str(words),
    )
    assert result.exit_code == 0
    assert "sent no word timestamps" in result.stderr and "meher" in result.stderr
    assert not words.exists()


def test_live_speaks_stdin_as_it_arrives(emulator) -> None:
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    argv = [
        sys.executable,
        "-m",
        "smallest_cli",
        "tts",
        "say",
        "--live",
        "--sample-rate",
        "16000",
        "--format",
        "pcm",
    ]
    with subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(b"First sentence arrives early. ")
        proc.stdin.flush()
        first = proc.stdout.read1(65536)  # audio comes back while stdin is still open
        assert len(first) > 0
        time.sleep(0.2)
        proc.stdin.write("Then more text comes, ünïcode too.".encode())
        proc.stdin.close()
        rest = proc.stdout.read()
        errors = proc.stderr.read()
        assert proc.wait(timeout=30) == 0, errors
    samples = np.frombuffer(first + rest, dtype=np.int16)
    assert heard(samples, 16000) == "first sentence arrives early then more text comes ünïcode too"


# -- real processes ----------------------------------------------------------------------


def test_pipes_into_another_process(emulator, tmp_path: Path) -> None:
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    # soundfile cannot seek a pipe, so the reader buffers what it gets; sox or ffplay read it directly.
    reader = "import io,sys,soundfile as sf; d,r=sf.read(io.BytesIO(sys.stdin.buffer.read()),dtype='int16'); print(len(d), r)"
    pipeline = subprocess.run(
        f'{sys.executable} -m smallest_cli tts say "{HELLO}" --sample-rate 24000 | {sys.executable} -c "{reader}"',
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    frames, rate = map(int, pipeline.stdout.split())
    assert rate == 24000 and frames == Synthesis(HELLO, sample_rate=24000).frames


@pytest.mark.no_contract  # interrupted before any event: the exchange has no body to check
def test_interrupt_leaves_no_partial_file(emulator, out: Path) -> None:
    emulator.state.pacing.first_audio_ms, emulator.state.pacing.rtf = 50, 0.5
    target = out / "long.wav"
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smallest_cli",
            "tts",
            "say",
            LONG,
            "-o",
            str(target),
            "--transport",
            "sse",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        deadline = time.monotonic() + 20
        while not any(p.name.endswith(".partial") for p in out.iterdir()):
            assert time.monotonic() < deadline, "no partial file appeared"
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert b"Interrupted." in err
    assert list(out.iterdir()) == []


def test_emulator_flag_needs_no_key(tmp_path: Path) -> None:
    target = tmp_path / "hello.wav"
    result = run_process("--emulator", "tts", "say", "Hello", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"", result.stdout)
    assert heard(*sf.read(target, dtype="int16")) == "hello"


@pytest.fixture
def no_sound_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose PortAudio finds no device at all."""
    try:
        import sounddevice
    except OSError as exc:
        pytest.skip(f"PortAudio is not installed ({exc})")

    def no_device(*args, **kwargs):
        raise sounddevice.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sounddevice, "query_devices", no_device)


def test_play_without_speakers_still_saves_the_file(
    api_env, tmp_path: Path, no_sound_device: None
) -> None:
    target = tmp_path / "kept.wav"
    result = run("tts", "say", "Hello there.", "--play", "-o", str(target))
    assert result.exit_code == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "cannot play audio: no output device" in error
    assert f"the audio was written to {target}" in result.stderr
    assert sf.info(target).duration > 0.3
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_no_speakers_is_reported_before_any_request(api_env, no_sound_device: None) -> None:
    result = run("tts", "say", "Hello", stdout_isatty=True)
    assert result.exit_code == 1
    assert "cannot play audio: no output device" in result.stderr
    assert "-o FILE" in result.stderr
    named = run("tts", "say", "Hello", "--device", "Nope", "-o", "-")
    assert named.exit_code == 2 and "no output device 'Nope'" in named.stderr
    assert tts_requests(api_env) == []


def test_interrupt_with_concurrency_stops_at_once_and_quietly(emulator, out: Path) -> None:
    """Ctrl-C while four chunks are being synthesized: exit 130 without waiting for them,
    nothing printed after "Interrupted.", no file left."""
    emulator.state.limits.set_tts_concurrency(4)
    emulator.state.pacing.first_audio_ms = 60_000  # every chunk is still waiting for audio
    text = " ".join(f"Sentence number {n} is here to make the text long enough." for n in range(40))
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    argv = [sys.executable, "-m", "smallest_cli", "--timeout", "120", "tts", "say", text]
    argv += ["--concurrency", "4", "-o", str(out / "long.wav")]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        deadline = time.monotonic() + 20
        while emulator.state.limits.tts.active(TEST_KEY) < 4:
            assert time.monotonic() < deadline and proc.poll() is None, "chunks did not start"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)  # generous: it once waited for every chunk (60 s)
    assert proc.returncode == 130, err
    assert err.decode().endswith("Interrupted.\n"), err
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("position", ["first", "after a sentence"])
def test_live_stdin_that_is_not_utf8_is_refused(api_env, tmp_path: Path, position: str) -> None:
    """Undecodable stdin under --live is refused (exit 2, one line), not spoken as U+FFFD,
    and nothing is left on disk."""
    target = tmp_path / "live.wav"
    head = b"" if position == "first" else b"A first sentence is spoken.\n"
    done = subprocess.run(
        [sys.executable, "-m", "smallest_cli", "tts", "say", "--live", "-o", str(target)],
        input=head + b"and then \xff\xfe bytes.",
        capture_output=True,
        timeout=60,
        check=False,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert stderr.splitlines()[0] == "Error: stdin is not UTF-8 text", stderr
    assert "Traceback" not in stderr
    assert not target.exists()
