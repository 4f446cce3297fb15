"""`smallest stt live` against the emulator: realtime transcripts of files, pipes and stdin.

The emulator's STT reads back the tone-coded words its own TTS speaks, so a transcript can
be compared word for word with the text that made the audio (`spoken_form`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from smallest_cli.api.client import SmallestClient
from smallest_cli.api.stt_live import Event, LiveOptions, LiveTranscription, Transcription
from smallest_cli.app import app
from smallest_cli.audio.formats import wav_stream_header
from smallest_cli.context import AppContext
from smallest_cli.emulator.speech import Synthesis, spoken_form
from smallest_cli.errors import UsageError
from tests.conftest import TEST_KEY, Result, run
from tests.shared import shared_path

TEXT = "Every morning the grey fox runs to the river. Then it rests under a tall tree."
LONG = " ".join(f"Sentence number {n} keeps the session going a little longer." for n in range(12))
FINAL_KEYS = {
    "type",
    "text",
    "is_last",
    "from_finalize",
    "language",
    "words",
    "utterances",
    "redacted_entities",
    "session_id",
}


def sessions(emulator) -> list:
    return [
        e
        for e in emulator.state.exchanges()
        if e.kind == "websocket" and e.path in ("/waves/v1/stt/live", "/waves/v1/pulse/get_text")
    ]


def query(exchange) -> dict[str, str]:
    return dict(parse_qsl(exchange.query))


def heard(stdout: str) -> str:
    return spoken_form(" ".join(stdout.splitlines()))


def write_speech(path: Path, text: str, rate: int, **kwargs) -> Synthesis:
    speech = Synthesis(text, sample_rate=rate)
    sf.write(path, np.frombuffer(speech.pcm(), dtype="<i2"), rate, **kwargs)
    return speech


def run_bytes(*args: str, data: bytes, **context) -> Result:
    """Run the CLI in-process with binary stdin."""
    obj = AppContext(**context) if context else None
    result = CliRunner().invoke(app, list(args), input=data, obj=obj)
    return Result(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)


def env_for(emulator, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SMALLEST_BASE_URL": emulator.base_url,
        "SMALLEST_API_KEY": TEST_KEY,
        **extra,
    }


CLI = [sys.executable, "-m", "smallest_cli"]


# -- files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "rate", "sent_rate"),
    [
        (".wav", 44100, 44100),
        (".wav", 8000, 8000),
        (".flac", 16000, 16000),
        (".ogg", 24000, 24000),
        (".mp3", 24000, 24000),
    ],
)
def test_files_made_by_tts_say_are_transcribed_back(
    api_env, tmp_path: Path, suffix: str, rate: int, sent_rate: int
) -> None:
    audio = tmp_path / f"speech{suffix}"
    made = run("tts", "say", TEXT, "-o", str(audio), "--sample-rate", str(rate))
    assert made.exit_code == 0, made.stderr
    api_env.state.clear()
    result = run("stt", "live", str(audio))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert heard(result.stdout) == spoken_form(TEXT)
    assert result.stdout.splitlines() == [
        "Every morning the grey fox runs to the river.",
        "Then it rests under a tall tree.",
    ]  # one line per final, as the server finalized them
    [session] = sessions(api_env)
    assert query(session) == {
        "model": "pulse",
        "language": "en",
        "sample_rate": str(sent_rate),
        "encoding": "linear16",
        "word_timestamps": "false",
    }
    frames = session.frames_in
    assert all(isinstance(f, bytes) and 0 < len(f) <= 4096 for f in frames[:-1])
    assert json.loads(frames[-1]) == {"type": "close_stream"}


@pytest.mark.parametrize(
    ("rate", "subtype", "channels", "sent_rate"),
    [
        (22050, "PCM_16", 1, 22050),
        (48000, "FLOAT", 2, 48000),  # float stereo: mixed down, decoded
        (11025, "PCM_16", 1, 16000),  # a rate the API does not take: resampled to 16 kHz
        (32000, "PCM_24", 2, 16000),
    ],
)
def test_any_rate_and_layout_is_decoded_mixed_and_resampled(
    api_env, tmp_path: Path, rate: int, subtype: str, channels: int, sent_rate: int
) -> None:
    speech = Synthesis(TEXT, sample_rate=rate)
    mono = np.frombuffer(speech.pcm(), dtype="<i2") / 32768
    samples = np.stack([mono] * channels, axis=1) if channels > 1 else mono
    audio = tmp_path / "odd.wav"
    sf.write(audio, samples, rate, subtype=subtype)
    result = run("stt", "live", str(audio))
    assert result.exit_code == 0, result.stderr
    assert heard(result.stdout) == spoken_form(TEXT)
    [session] = sessions(api_env)
    assert query(session)["sample_rate"] == str(sent_rate)
    sent = b"".join(f for f in session.frames_in if isinstance(f, bytes))
    assert len(sent) // 2 == -(-speech.frames * sent_rate // rate)  # duration kept exactly


@pytest.mark.parametrize("target", [8000, 16000, 24000, 48000])
def test_sample_rate_resamples_a_file(api_env, tmp_path: Path, target: int) -> None:
    audio = tmp_path / "s.wav"
    write_speech(audio, TEXT, 44100)
    result = run("stt", "live", str(audio), "--sample-rate", str(target))
    assert result.exit_code == 0, result.stderr
    assert heard(result.stdout) == spoken_form(TEXT)
    assert query(sessions(api_env)[0])["sample_rate"] == str(target)


def test_word_timings_survive_resampling(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "t.wav"
    speech = write_speech(audio, TEXT, 44100)
    result = run("stt", "live", str(audio), "--sample-rate", "16000", "--json", "--word-timestamps")
    assert result.exit_code == 0, result.stderr
    words = [w for line in result.stdout.splitlines() for w in json.loads(line)["words"]]
    expected = speech.timings()
    assert [spoken_form(w["word"]) for w in words] == [t.word.spoken for t in expected]
    for word, timed in zip(words, expected, strict=True):
        assert abs(word["start"] - timed.start) < 0.03
        assert abs(word["end"] - timed.end) < 0.03


@pytest.mark.parametrize(
    "name", ["pulse-feature-demo.wav", "stt-sample-audio.wav", "tts-sample-hello.wav"]
)
def test_the_vendors_recordings_stream_at_their_rate_and_resampled(api_env, name: str) -> None:
    """Real speech: the emulator hears stand-in words, one per sound it finds, and reports
    where speech starts and ends. Resampled, the same recording must start and end its
    speech at the same moments and come to as many words."""
    path = shared_path("audio", name)

    def listen(*args: str) -> tuple[list[tuple[str, float]], int]:
        result = run("stt", "live", str(path), "--json", "--vad-events", *args)
        assert result.exit_code == 0, result.stderr
        events = [json.loads(line) for line in result.stdout.splitlines()]
        speech = [(e["type"], e["timestamp"]) for e in events if e["type"].startswith("speech")]
        words = sum(len(e["text"].split()) for e in events if e["type"] == "final")
        return speech, words

    native, words = listen()
    assert query(sessions(api_env)[-1])["sample_rate"] == "24000"
    assert native and words > 5
    for rate in ("16000", "48000"):
        speech, count = listen("--sample-rate", rate)
        assert query(sessions(api_env)[-1])["sample_rate"] == rate
        assert [kind for kind, _ in speech] == [kind for kind, _ in native]
        for (_, at), (_, expected) in zip(speech, native, strict=True):
            assert abs(at - expected) < 0.03
        assert count == words


# -- stdin and pipes ----------------------------------------------------------------------


def test_tts_say_piped_into_stt_live(emulator) -> None:
    """Two real processes: the streaming WAV (sizes 0xFFFFFFFF) is read as it arrives."""
    pipeline = subprocess.run(
        f'{sys.executable} -m smallest_cli tts say "{TEXT}" --sample-rate 24000 '
        f"| {sys.executable} -m smallest_cli stt live -",
        shell=True,
        capture_output=True,
        text=True,
        env=env_for(emulator),
        timeout=60,
        check=False,
    )
    assert pipeline.returncode == 0, pipeline.stderr
    assert pipeline.stderr == ""
    assert heard(pipeline.stdout) == spoken_form(TEXT)
    [session] = sessions(emulator)
    assert query(session)["sample_rate"] == "24000"
    first = next(f for f in session.frames_in if isinstance(f, bytes))
    assert not first.startswith(b"RIFF")  # the header is parsed, not sent as audio


def test_a_pipe_is_read_without_a_dash(emulator) -> None:
    speech = Synthesis(TEXT, sample_rate=16000)
    proc = subprocess.run(
        [*CLI, "stt", "live", "--json"],
        input=wav_stream_header(16000) + speech.pcm(),
        capture_output=True,
        env=env_for(emulator),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    finals = [json.loads(line) for line in proc.stdout.splitlines()]
    assert spoken_form(" ".join(f["text"] for f in finals)) == spoken_form(TEXT)
    assert finals[-1]["is_last"] is True


@pytest.mark.parametrize(
    ("args", "encoding", "rate", "subtype"),
    [
        (["--encoding", "linear16", "--sample-rate", "24000"], "linear16", 24000, "PCM_16"),
        (["--encoding", "mulaw", "--sample-rate", "8000"], "mulaw", 8000, "ULAW"),
        (["--encoding", "alaw", "--sample-rate", "16000"], "alaw", 16000, "ALAW"),
        (["--encoding", "linear32", "--sample-rate", "22050"], "linear32", 22050, "PCM_32"),
    ],
)
def test_raw_stdin_is_passed_through_in_its_encoding(
    api_env, args: list[str], encoding: str, rate: int, subtype: str
) -> None:
    speech = Synthesis(TEXT, sample_rate=rate)
    raw = sf.SoundFile
    import io

    buffer = io.BytesIO()
    with raw(buffer, "w", samplerate=rate, channels=1, format="RAW", subtype=subtype) as f:
        f.write(np.frombuffer(speech.pcm(), dtype="<i2"))
    data = buffer.getvalue()
    result = run_bytes("stt", "live", "-", *args, data=data)
    assert result.exit_code == 0, result.stderr
    assert heard(result.stdout) == spoken_form(TEXT)
    [session] = sessions(api_env)
    assert (query(session)["encoding"], query(session)["sample_rate"]) == (encoding, str(rate))
    assert b"".join(f for f in session.frames_in if isinstance(f, bytes)) == data


def test_headerless_stdin_needs_its_rate_and_gets_a_note_about_its_encoding(api_env) -> None:
    pcm = Synthesis("Raw bytes.", sample_rate=24000).pcm()
    for args in ([], ["--encoding", "mulaw"]):
        guessed = run_bytes("stt", "live", *args, data=pcm)
        assert guessed.exit_code == 2
        assert guessed.stderr.startswith("Error: stdin has no header to say its sample rate: ")
        assert "--sample-rate" in guessed.stderr.splitlines()[0]
    assert sessions(api_env) == []
    result = run_bytes("stt", "live", "--sample-rate", "24000", data=pcm)
    assert result.exit_code == 0, result.stderr
    assert "raw linear16 at 24000 Hz" in result.stderr
    assert heard(result.stdout) == "raw bytes"
    quiet = run_bytes("--quiet", "stt", "live", "--sample-rate", "24000", data=pcm)
    assert quiet.stderr == ""


def test_tts_say_to_a_pcm_file_then_stt_live_needs_its_rate(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "x.pcm"
    assert run("tts", "say", TEXT, "-o", str(audio)).exit_code == 0  # 44.1 kHz unless told
    guessed = run("stt", "live", str(audio))
    assert guessed.exit_code == 2
    assert guessed.stderr.startswith(f"Error: {audio} has no header to say its sample rate")
    assert sessions(api_env) == []
    told = run("stt", "live", str(audio), "--sample-rate", "44100")
    assert told.exit_code == 0, told.stderr
    assert heard(told.stdout) == spoken_form(TEXT)
    assert query(sessions(api_env)[0])["sample_rate"] == "44100"


@pytest.mark.parametrize("suffix", [".flac", ".ogg", ".mp3"])
def test_compressed_audio_on_stdin_is_heard_as_the_same_file(
    api_env, tmp_path: Path, suffix: str
) -> None:
    audio = tmp_path / f"c{suffix}"
    assert run("tts", "say", TEXT, "-o", str(audio), "--sample-rate", "24000").exit_code == 0
    from_file = run("stt", "live", str(audio), "--json")
    from_stdin = run_bytes("stt", "live", "-", "--json", data=audio.read_bytes())
    assert from_stdin.exit_code == 0, from_stdin.stderr

    def finals(result: Result) -> list:
        return [(e["text"], e["is_last"]) for e in map(json.loads, result.stdout.splitlines())]

    assert finals(from_stdin) == finals(from_file)
    assert spoken_form(" ".join(t for t, _ in finals(from_stdin))) == spoken_form(TEXT)
    file_session, stdin_session = sessions(api_env)[-2:]
    assert query(stdin_session) == query(file_session)


# -- what is shown where --------------------------------------------------------------------


def test_ndjson_events_have_stable_shapes(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "e.wav"
    write_speech(audio, TEXT, 16000)
    result = run("stt", "live", str(audio), "--json", "--interim", "--vad-events")
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["type"] for e in events]
    assert set(kinds) == {"partial", "final", "speech_started", "speech_ended"}
    for event in events:
        if event["type"] == "final":
            assert set(event) == FINAL_KEYS
        elif event["type"] == "partial":
            assert set(event) == {"type", "text", "session_id"}
        else:
            assert set(event) == {"type", "timestamp", "session_id"}
            assert isinstance(event["timestamp"], float)
    finals = [e for e in events if e["type"] == "final"]
    assert [f["is_last"] for f in finals] == [False] * (len(finals) - 1) + [True]
    assert spoken_form(" ".join(f["text"] for f in finals)) == spoken_form(TEXT)
    assert kinds[0] == "speech_started" and "speech_ended" in kinds  # the 1 s tail of silence
    assert query(sessions(api_env)[0])["vad_events"] == "true"

    plain = run("stt", "live", str(audio), "--json")
    assert {json.loads(line)["type"] for line in plain.stdout.splitlines()} == {"final"}
    assert "vad_events" not in query(sessions(api_env)[-1])


def test_interim_updates_one_line_on_a_terminal(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "i.wav"
    write_speech(audio, TEXT, 16000)
    shown = run("stt", "live", str(audio), "--interim", stderr_isatty=True)
    assert shown.exit_code == 0, shown.stderr
    assert "\r\x1b[KEvery morning the" in shown.stderr  # partials, each overwriting the last
    assert "river\r\x1b[K\r\x1b[KThen" in shown.stderr  # erased when its final is printed
    assert shown.stderr.endswith("tree\r\x1b[K")  # and the last one at the end
    assert shown.stdout.splitlines() == [
        "Every morning the grey fox runs to the river.",
        "Then it rests under a tall tree.",
    ]  # stdout: finals only
    assert "Transcribing" in shown.stderr  # what is being done, for people


def test_interim_never_reaches_a_pipe(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "p.wav"
    write_speech(audio, TEXT, 16000)
    piped = run("stt", "live", str(audio), "--interim")
    assert piped.exit_code == 0, piped.stderr
    assert piped.stderr == ""
    assert "\r" not in piped.stdout
    assert len(piped.stdout.splitlines()) == 2


def test_vad_events_on_a_terminal(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "v.wav"
    write_speech(audio, "Hello there.", 16000)
    result = run("stt", "live", str(audio), "--vad-events", stderr_isatty=True)
    assert result.exit_code == 0, result.stderr
    assert "[speech started at 0.05 s]" in result.stderr
    assert "[speech ended at" in result.stderr
    assert result.stdout == "Hello there.\n"


@pytest.mark.parametrize(
    ("suffix", "starts"),
    [
        (".txt", "Every morning"),
        (".json", "{"),
        (".srt", "1\n00:00:00,050 --> "),
        (".vtt", "WEBVTT"),
        (".tsv", "0.050\t"),
    ],
)
def test_output_file_is_written_at_the_end(
    api_env, tmp_path: Path, suffix: str, starts: str
) -> None:
    audio = tmp_path / "o.wav"
    write_speech(audio, TEXT, 24000)
    target = tmp_path / f"transcript{suffix}"
    result = run("stt", "live", str(audio), "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2  # the live lines still come
    content = target.read_text()
    assert content.startswith(starts)
    assert spoken_form(content) != "" and "morning" in content
    timed = suffix in (".srt", ".vtt", ".tsv")
    assert query(sessions(api_env)[0])["word_timestamps"] == ("true" if timed else "false")
    if suffix == ".json":
        document = json.loads(content)
        assert spoken_form(document["transcript"]) == spoken_form(TEXT)
        assert document["language"] == "en"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".transcript")] == []


def test_output_dash_writes_the_whole_transcript_instead_of_lines(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "d.wav"
    write_speech(audio, TEXT, 16000)
    result = run("stt", "live", str(audio), "-o", "-", "--format", "srt")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("1\n00:00:00,050 --> ")
    assert "Every morning the grey fox" in result.stdout


def test_diarized_lines_name_the_speaker(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "two.wav"
    write_speech(audio, TEXT, 16000)
    result = run("stt", "live", str(audio), "--diarize")
    assert result.exit_code == 0, result.stderr
    assert all(line.startswith("Speaker ") for line in result.stdout.splitlines())
    assert query(sessions(api_env)[0])["diarize"] == "true"


# -- options on the wire ------------------------------------------------------------------


def test_options_become_the_documented_query(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "q.wav"
    write_speech(audio, "Hello Blackwell.", 16000)
    result = run(
        "stt", "live", str(audio), "--language", "hi", "--word-timestamps", "--diarize",
        "--redact", "pii,pci", "--keywords", "Blackwell:2, Jensen Huang", "--keywords", "GPU:1.5",
        "--itn", "--vad-events", "--eou-timeout-ms", "500", "--max-words", "8",
        "--no-endpointing", "--expire-content",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [session] = sessions(api_env)
    assert query(session) == {
        "model": "pulse",
        "language": "hi",
        "sample_rate": "16000",
        "encoding": "linear16",
        "word_timestamps": "true",
        "diarize": "true",
        "redact_pii": "true",
        "redact_pci": "true",
        "itn_normalize": "true",
        "vad_events": "true",
        "keywords": "Blackwell:2,Jensen Huang,GPU:1.5",
        "eou_timeout_ms": "500",
        "max_words": "8",
        "endpointing": "false",
    }
    assert session.headers["x-expire-content"] == "true"
    assert session.headers["authorization"].startswith("Bearer ")


def test_the_legacy_route(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "l.wav"
    write_speech(audio, TEXT, 16000)
    plain = run("stt", "live", str(audio), "--route", "legacy")
    assert plain.exit_code == 0, plain.stderr
    assert heard(plain.stdout) == spoken_form(TEXT)
    [session] = sessions(api_env)
    assert session.path == "/waves/v1/pulse/get_text"
    assert query(session) == {
        "language": "en",
        "sample_rate": "16000",
        "encoding": "linear16",
        "word_timestamps": "false",  # on by default on this route: always said explicitly
    }
    result = run("stt", "live", str(audio), "--route", "legacy", "--diarize", "--json")
    assert result.exit_code == 0, result.stderr
    assert query(sessions(api_env)[-1])["diarize"] == "true"
    finals = [json.loads(line) for line in result.stdout.splitlines()]
    assert spoken_form(" ".join(f["text"] for f in finals)) == spoken_form(TEXT)
    text = run("stt", "live", str(audio), "--route", "legacy", "--diarize")
    assert text.stdout.splitlines()[0].startswith("Speaker 0: Every morning the grey fox")


def test_doubtful_options_are_warned_about_and_still_sent(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "w.wav"
    write_speech(audio, "Bonjour.", 16000)
    result = run(
        "stt", "live", str(audio), "--language", "fr", "--redact", "pii", "--keywords", "Paris:7"
    )
    assert result.exit_code == 0, result.stderr
    redaction, boost = result.stderr.splitlines()
    assert redaction.startswith("Warning: redaction is effective only for en and hi")
    assert boost.startswith("Warning: boosts above 5 (Paris)")
    assert result.stdout == "Bonjour.\n"
    [session] = sessions(api_env)
    assert query(session)["redact_pii"] == "true" and query(session)["keywords"] == "Paris:7"
    # a one-off transcription ends with close_stream alone, never finalize (REFERENCE §10.7)
    assert [f for f in session.frames_in if isinstance(f, str)] == ['{"type": "close_stream"}']


def test_duration_stops_the_audio(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "long.wav"
    write_speech(audio, LONG, 16000)
    result = run("stt", "live", str(audio), "--duration", "1.5")
    assert result.exit_code == 0, result.stderr
    sent = b"".join(f for f in sessions(api_env)[0].frames_in if isinstance(f, bytes))
    assert len(sent) == int(1.5 * 16000) * 2
    assert 0 < len(heard(result.stdout).split()) < 8


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--language", "xx"], "--language 'xx' cannot be transcribed live"),
        (["--language", "multi-eu"], "multi-eu is for recordings only"),
        (["--language", "multi-indic"], "use north_indic"),
        (["--keywords", '["Blackwell:2"]'], "has brackets or quotes"),
        (["--keywords", "Blackwell:high"], "the boost 'high' is not a number"),
        (["--keywords", ":2"], "has no word before the colon"),
        (["--redact", "phi"], "invalid --redact 'phi'"),
        (["--sample-rate", "11025"], "--sample-rate 11025: the API takes"),
        (["--encoding", "opus"], "--encoding 'opus': choose one of"),
        (["--eou-timeout-ms", "50"], "--eou-timeout-ms must be"),
        (["--max-words", "0"], "--max-words must be"),
        (["--route", "old"], "Invalid value for '--route'"),
        (["--mic"], "give an audio SOURCE or --mic, not both"),
        (["--device", "1"], "--device picks the microphone"),
        (["-o", "t.doc"], "cannot tell the transcript format"),
        (["-o", "/nonexistent/dir/t.txt"], "does not exist"),
        (["--format", "srt"], "--format is the format of -o FILE"),
        (["--json", "-o", "-"], "--json writes events to stdout"),
    ],
)
def test_bad_input_is_refused_before_any_session(
    api_env, tmp_path: Path, args: list[str], fragment: str
) -> None:
    audio = tmp_path / "ok.wav"
    write_speech(audio, "Hi.", 16000)
    result = run("stt", "live", str(audio), *args)
    assert result.exit_code == 2, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert sessions(api_env) == []


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.write_text("not audio"), "is not WAV audio"),
        (lambda p: None, "no such file"),
    ],
)
def test_bad_files_are_refused(api_env, tmp_path: Path, make, fragment: str) -> None:
    target = tmp_path / "in.wav"
    make(target)
    result = run("stt", "live", str(target))
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert sessions(api_env) == []


def test_nothing_to_transcribe_on_a_terminal(api_env) -> None:
    result = run("stt", "live", stdin_isatty=True)
    assert result.exit_code == 2
    assert "give an audio file, `-` for stdin, or --mic" in result.stderr
    dash = run("stt", "live", "-", stdin_isatty=True)
    assert dash.exit_code == 2 and "stdin is a terminal" in dash.stderr


def test_language_default_comes_from_the_settings(api_env, tmp_path: Path, monkeypatch) -> None:
    audio = tmp_path / "s.wav"
    write_speech(audio, "Hallo.", 16000)
    monkeypatch.setenv("SMALLEST_STT_LANGUAGE", "de")
    assert run("stt", "live", str(audio)).exit_code == 0
    assert query(sessions(api_env)[-1])["language"] == "de"
    monkeypatch.setenv("SMALLEST_STT_LANGUAGE", "ta")  # streams, though recordings refuse it
    assert run("stt", "live", str(audio)).exit_code == 0
    assert query(sessions(api_env)[-1])["language"] == "ta"
    monkeypatch.setenv("SMALLEST_STT_LANGUAGE", "multi-eu")  # fine for recordings, not live
    refused = run("stt", "live", str(audio))
    assert refused.exit_code == 2
    assert "SMALLEST_STT_LANGUAGE='multi-eu' cannot be transcribed live" in refused.stderr


# -- regions ------------------------------------------------------------------------------


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1]


@pytest.mark.parametrize(
    ("language", "region"), [("ja", "us"), ("multi-asian", "us"), ("ta", "india"), ("en", "india")]
)
def test_languages_go_to_their_region(
    api_env, tmp_path: Path, monkeypatch, language: str, region: str
) -> None:
    monkeypatch.setenv("SMALLEST_US_BASE_URL", api_env.us_base_url)
    audio = tmp_path / "r.wav"
    write_speech(audio, TEXT, 16000)
    result = run("stt", "live", str(audio), "--language", language)
    assert result.exit_code == 0, result.stderr
    assert heard(result.stdout) == spoken_form(TEXT)
    [session] = sessions(api_env)
    expected = api_env.us_base_url if region == "us" else api_env.base_url
    assert session.headers["host"].endswith(":" + port_of(expected))


def test_the_emulator_flag_routes_to_its_us_listener(tmp_path: Path) -> None:
    audio = tmp_path / "e.wav"
    write_speech(audio, TEXT, 16000)
    for language in ("ko", "kn"):
        proc = subprocess.run(
            [*CLI, "--emulator", "--debug", "stt", "live", str(audio), "--language", language],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert heard(proc.stdout) == spoken_form(TEXT)
        listening = next(l for l in proc.stderr.splitlines() if "emulator listening on" in l)  # noqa: E741
        india = listening.rsplit(" ", 1)[1]
        socket_line = next(l for l in proc.stderr.splitlines() if "→ WebSocket" in l)  # noqa: E741
        assert (
            (port_of(india) + "/") in socket_line
            if language == "kn"
            else (port_of(india) + "/") not in socket_line
        )


def test_an_india_only_language_forced_to_the_us_host_gets_the_region_error(
    api_env, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SMALLEST_BASE_URL", api_env.us_base_url)
    audio = tmp_path / "ta.wav"
    write_speech(audio, TEXT, 16000)
    result = run("stt", "live", str(audio), "--language", "ta", "-o", str(tmp_path / "t.txt"))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: Language 'ta' has not been enabled in this region. Please contact support"
    )
    assert "Hint: ta streams only from the India host (api.smallest.ai)" in result.stderr
    assert not (tmp_path / "t.txt").exists()


def test_a_us_only_language_on_the_india_host_is_explained(
    api_env, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SMALLEST_US_BASE_URL", api_env.base_url)  # a deployment without one
    audio = tmp_path / "zh.wav"
    write_speech(audio, TEXT, 16000)
    result = run("stt", "live", str(audio), "--language", "zh")
    assert result.exit_code == 1
    assert "Language 'zh' is only served in the US region" in result.stderr
    assert "Hint: zh streams only from the US host (api.us.smallest.ai)" in result.stderr


@pytest.mark.parametrize(
    ("base_url", "env", "expected"),
    [
        ("https://api.smallest.ai", None, "https://api.us.smallest.ai"),
        ("https://api.smallest.ai:443/prefix", None, "https://api.us.smallest.ai:443/prefix"),
        ("https://api.smallest.ai", "https://us.example.com/", "https://us.example.com"),
        ("http://127.0.0.1:9", None, "http://127.0.0.1:9"),
    ],
)
def test_us_base_url(monkeypatch, base_url: str, env: str | None, expected: str) -> None:
    if env is not None:
        monkeypatch.setenv("SMALLEST_US_BASE_URL", env)
    assert AppContext(base_url=base_url).us_base_url() == expected


def test_us_base_url_is_validated_and_explained_under_debug(monkeypatch, capsys) -> None:
    monkeypatch.setenv("SMALLEST_US_BASE_URL", "api.us.example")
    with pytest.raises(UsageError, match="invalid SMALLEST_US_BASE_URL='api.us.example'"):
        AppContext().us_base_url()
    monkeypatch.delenv("SMALLEST_US_BASE_URL")
    assert AppContext(base_url="http://10.0.0.1:8", debug=True).us_base_url() == "http://10.0.0.1:8"
    assert "US-only languages stream from http://10.0.0.1:8" in capsys.readouterr().err


# -- errors from the server ---------------------------------------------------------------


def test_too_many_sessions_is_the_concurrency_error(api_env, tmp_path: Path) -> None:
    api_env.state.limits.set_stt_sessions(1)
    audio = tmp_path / "c.wav"
    write_speech(audio, TEXT, 16000)
    with SmallestClient(TEST_KEY, base_url=api_env.base_url) as client:
        with client.stt_live.open(LiveOptions(language="en")):
            result = run("stt", "live", str(audio))
    assert result.exit_code == 1
    assert "Too many concurrent sessions" in result.stderr
    assert "(WebSocket closed with 1008)" in result.stderr
    assert "Hint: the account has too many realtime sessions open" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_rejected_key_is_an_auth_error(api_env, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "not-a-key")
    audio = tmp_path / "k.wav"
    write_speech(audio, "Hi.", 16000)
    result = run("stt", "live", str(audio))
    assert result.exit_code == 4
    assert "(HTTP 401)" in result.stderr and "smallest auth login" in result.stderr


@pytest.mark.no_contract
def test_a_refused_handshake_is_a_usage_error(api_env, tmp_path: Path) -> None:
    api_env.state.faults.replace(["400*1@/waves/v1/stt/live"], 0)
    audio = tmp_path / "h.wav"
    write_speech(audio, "Hi.", 16000)
    result = run("stt", "live", str(audio))
    assert result.exit_code == 2
    assert "Error: the server refused the session" in result.stderr
    assert "Hint: check --language, --sample-rate" in result.stderr


@pytest.mark.no_contract
def test_an_unavailable_service_is_retried_at_the_handshake(api_env, tmp_path: Path) -> None:
    api_env.state.faults.replace(["503*1@/waves/v1/stt/live"], 0)
    audio = tmp_path / "u.wav"
    write_speech(audio, TEXT, 16000)
    result = run("stt", "live", str(audio))
    assert result.exit_code == 0, result.stderr
    assert "retrying" in result.stderr
    assert heard(result.stdout) == spoken_form(TEXT)


# -- Ctrl-C ---------------------------------------------------------------------------------


def test_ctrl_c_keeps_every_final_and_writes_the_file(emulator, tmp_path: Path) -> None:
    audio = tmp_path / "long.wav"
    speech = write_speech(audio, LONG, 16000)
    target = tmp_path / "kept.txt"
    with subprocess.Popen(
        [*CLI, "stt", "live", str(audio), "--realtime", "-o", str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_for(emulator),
        text=True,
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # a final arrives while the audio is still going
        assert first.startswith("Sentence number 0")
        proc.send_signal(signal.SIGINT)
        rest, errors = proc.communicate(timeout=20)
    assert proc.returncode == 130, errors
    assert "Interrupted." in errors
    lines = [first.strip(), *rest.splitlines()]
    assert 1 <= len(lines) < 12  # stopped early, nothing heard was dropped
    assert target.read_text() == " ".join(lines) + "\n"
    [session] = sessions(emulator)
    assert json.loads(session.frames_in[-1]) == {"type": "close_stream"}
    audio_frames = [f for f in session.frames_in if isinstance(f, bytes)]
    assert sum(map(len, audio_frames)) < speech.frames * 2  # the audio stopped at Ctrl-C
    assert max(map(len, audio_frames)) == 3200  # paced: a frame every 100 ms


def test_ctrl_c_twice_stops_waiting(emulator, tmp_path: Path) -> None:
    audio = tmp_path / "long.wav"
    write_speech(audio, LONG, 16000)
    with subprocess.Popen(
        [*CLI, "stt", "live", str(audio), "--realtime"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_for(emulator),
        text=True,
    ) as proc:
        assert proc.stdout is not None
        proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert "Traceback" not in errors


def test_an_interrupt_in_process_is_exit_130_with_the_transcript(
    api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same path through CliRunner: SIGINT raised while the session streams, as soon
    as the first final has arrived."""
    audio = tmp_path / "long.wav"
    write_speech(audio, LONG, 16000)
    target = tmp_path / "t.json"
    receive = LiveTranscription.receive
    interrupted: list[Event] = []

    def interrupt_after_the_first_final(self, timeout=None):
        event = receive(self, timeout)
        if isinstance(event, Transcription) and event.is_final and not interrupted:
            interrupted.append(event)
            os.kill(os.getpid(), signal.SIGINT)
        return event

    monkeypatch.setattr(LiveTranscription, "receive", interrupt_after_the_first_final)
    result = run("stt", "live", str(audio), "--realtime", "-o", str(target))
    assert result.exit_code == 130
    lines = result.stdout.splitlines()
    assert lines and lines[0].startswith("Sentence number 0")
    assert spoken_form(json.loads(target.read_text())["transcript"]) == heard(result.stdout)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_the_end_of_a_file_waits_for_the_last_transcript(api_env, tmp_path: Path) -> None:
    api_env.state.limits.stt_idle_seconds = 60.0
    audio = tmp_path / "end.wav"
    write_speech(audio, TEXT, 16000)
    started = time.monotonic()
    result = run("stt", "live", str(audio), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[-1])["is_last"] is True
    assert time.monotonic() - started < 10


def test_realtime_paces_stdin_too(api_env) -> None:
    speech = Synthesis("Paced speech.", sample_rate=16000)
    started = time.monotonic()
    result = run_bytes(
        "stt", "live", "-", "--realtime", data=wav_stream_header(16000) + speech.pcm()
    )
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started >= speech.duration - 0.15
    assert result.stdout == "Paced speech.\n"


def test_a_damaged_file_fails_cleanly_and_writes_nothing(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "damaged.flac"
    write_speech(audio, LONG, 16000, format="FLAC")
    data = audio.read_bytes()
    audio.write_bytes(data[:2000] + bytes(4000) + data[6000:])
    target = tmp_path / "t.txt"
    result = run("stt", "live", str(audio), "-o", str(target))
    assert result.exit_code == 1
    assert f"Error: cannot decode {audio} past" in result.stderr
    assert "Hint: the file may be damaged" in result.stderr
    assert not target.exists()


# -- the microphone -------------------------------------------------------------------------


class FakeMicrophone:
    """A stand-in for the sounddevice module: one input device whose stream delivers 100 ms
    of silence per callback, the first `overflows` of them flagged as input overflows."""

    class PortAudioError(Exception):
        pass

    def __init__(self, overflows: int) -> None:
        self.overflows = overflows
        microphone = self

        class RawInputStream:
            def __init__(self, *, samplerate, blocksize, callback, **_: object) -> None:
                self.rate, self.blocksize, self.callback = samplerate, blocksize, callback
                self.running = threading.Event()

            def start(self) -> None:
                self.running.set()
                threading.Thread(target=self._deliver, daemon=True).start()

            def _deliver(self) -> None:
                for number in range(40):  # 4 s of audio at most
                    if not self.running.is_set():
                        return
                    status = type("Status", (), {"input_overflow": number < microphone.overflows})()
                    self.callback(bytes(self.blocksize * 2), self.blocksize, None, status)
                    time.sleep(0.01)

            def stop(self) -> None:
                self.running.clear()

            def close(self) -> None:
                self.running.clear()

        self.RawInputStream = RawInputStream

    def query_devices(self, device=None, kind=None) -> dict:
        return {"name": "fake microphone", "default_samplerate": 16000.0}


@pytest.mark.parametrize(("overflows", "noted"), [(0, False), (3, True)])
def test_dropped_microphone_audio_is_reported_once_at_the_end(
    api_env, monkeypatch: pytest.MonkeyPatch, overflows: int, noted: bool
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", FakeMicrophone(overflows))
    result = run("stt", "live", "--mic", "--duration", "0.5")
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "overflowed" in line]
    if noted:
        assert lines == [
            "Warning: the microphone's audio overflowed 3 times (the computer did not keep "
            "up), so some speech was dropped and the transcript may miss words"
        ]
    else:
        assert lines == []
