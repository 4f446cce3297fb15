"""`smallest stt transcribe` against the emulator: speech made by `tts say` comes back as its
words, through every codec, a pipe, a URL and a batch; what is sent, and what is refused."""

from __future__ import annotations

import http.server
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.audio.formats import SAMPLE_RATES
from smallest_cli.emulator.speech import Synthesis, spoken_form
from smallest_cli.emulator.state import Pacing
from tests.conftest import TEST_KEY, run
from tests.shared import SHARED_DIR, shared_path

HELLO = "Hello from the emulator. It speaks every word, then it stops!"
STORY = (
    "The quick brown fox jumps over the lazy dog. A second sentence follows the first one. "
    "Then a third sentence arrives with more words than the others have. The end."
)
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def quick_stt(request: pytest.FixtureRequest) -> None:
    """Transcripts without the emulator's realistic delay, and a fresh per-minute budget."""
    if "emulator" not in request.fixturenames:
        return
    emulator = request.getfixturevalue("emulator")
    emulator.state.pacing = Pacing(first_audio_ms=0, rtf=0, stt_ms=0, stt_rtf=0)
    emulator.state.limits.stt_rate.reset()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


def plain(transcript: str) -> str:
    """A transcript as `spoken_form` writes text: lowercase, no punctuation, single spaces."""
    return " ".join(re.sub(r"[^\w\s'-]", " ", transcript.lower()).split())


def say(path: Path, text: str = HELLO, *args: str) -> Path:
    result = run("tts", "say", text, "-o", str(path), *args)
    assert result.exit_code == 0, result.stderr
    return path


def stt_requests(emulator) -> list:
    return [
        e
        for e in emulator.state.exchanges()
        if e.path.startswith(("/waves/v1/stt", "/waves/v1/pulse/get_text"))
    ]


def query(exchange) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(exchange.query))


@pytest.fixture
def hello_wav(api_env, tmp_path: Path) -> Path:
    return say(tmp_path / "hello.wav", HELLO, "--sample-rate", "16000")


# -- the round trip ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tts_args", "stt_args"),
    [
        ("speech.wav", [], []),
        ("speech.mp3", ["--sample-rate", "24000"], []),
        ("speech.flac", ["--sample-rate", "16000"], []),
        ("speech.ogg", ["--sample-rate", "24000"], []),
        ("speech.ulaw", ["--sample-rate", "8000"], ["--sample-rate", "8000"]),
        ("speech.alaw", ["--sample-rate", "8000"], ["--sample-rate", "8000"]),
        ("speech.pcm", ["--sample-rate", "16000"], ["--sample-rate", "16000"]),
        (
            "speech.g711",
            ["--format", "alaw", "--sample-rate", "8000"],
            ["--encoding", "alaw", "--sample-rate", "8000"],
        ),
        (
            "speech.bin",
            ["--format", "ulaw", "--sample-rate", "16000"],
            ["--encoding", "ulaw", "--sample-rate", "16000"],
        ),
    ],
)
def test_what_tts_says_stt_reads_back_through_every_codec(
    api_env, tmp_path: Path, name: str, tts_args: list[str], stt_args: list[str]
) -> None:
    audio = say(tmp_path / name, HELLO, *tts_args)
    api_env.state.clear()
    result = run("stt", "transcribe", str(audio), *stt_args)
    assert result.exit_code == 0, result.stderr
    assert plain(result.stdout) == spoken_form(HELLO)
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    [request] = stt_requests(api_env)
    assert (request.method, request.path) == ("POST", "/waves/v1/stt/")
    assert query(request) == {"model": "pulse", "language": "en"}
    assert request.headers["content-type"] == "application/octet-stream"
    headerless = Path(name).suffix in (".ulaw", ".alaw", ".pcm", ".g711", ".bin")
    wrapped = len(request.body) - audio.stat().st_size
    assert int(request.headers["content-length"]) == len(request.body)
    if headerless:  # sent inside a WAV header that names the encoding and the rate
        assert request.body[:4] == b"RIFF" and 40 <= wrapped <= 60
        noted = "has no header: sending it as" in result.stderr
        assert noted is ("--encoding" not in stt_args)  # a note when the suffix decided
    else:
        assert wrapped == 0 and request.body == audio.read_bytes()
        assert result.stderr == ""


# -- headerless audio: REFERENCE §0.5 --------------------------------------------------------

HEADERLESS = {  # --encoding as given: (soundfile subtype to write it, WAV subtype sent)
    "linear16": ("PCM_16", "PCM_16"),
    "pcm16": ("PCM_16", "PCM_16"),
    "linear32": ("PCM_32", "PCM_32"),
    "mulaw": ("ULAW", "ULAW"),
    "ulaw": ("ULAW", "ULAW"),
    "alaw": ("ALAW", "ALAW"),
}


@pytest.mark.parametrize("rate", SAMPLE_RATES)
@pytest.mark.parametrize("encoding", list(HEADERLESS))
def test_headerless_audio_goes_up_inside_a_container_at_its_rate(
    api_env, tmp_path: Path, encoding: str, rate: int
) -> None:
    """Pre-recorded STT ignores `encoding`/`sample_rate` and hears nothing in headerless
    bytes, so every headerless format and rate must arrive wrapped in a WAV that says it."""
    written, sent = HEADERLESS[encoding]
    speech = Synthesis(HELLO, sample_rate=rate)
    audio = tmp_path / "speech.bin"
    sf.write(audio, np.frombuffer(speech.pcm(), "<i2"), rate, format="RAW", subtype=written)
    result = run(
        "stt", "transcribe", str(audio), "--encoding", encoding, "--sample-rate", str(rate)
    )
    assert result.exit_code == 0, result.stderr
    assert plain(result.stdout) == spoken_form(HELLO)
    [request] = stt_requests(api_env)
    assert "encoding" not in query(request) and "sample_rate" not in query(request)
    info = sf.info(io.BytesIO(request.body))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", sent, rate, 1)
    assert info.frames == speech.frames
    assert request.body.endswith(audio.read_bytes())


def test_tts_say_to_a_pcm_file_then_stt_transcribe_needs_its_rate(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "x.pcm"
    said = run("tts", "say", HELLO, "-o", str(audio))  # 44.1 kHz unless told
    assert said.exit_code == 0, said.stderr
    assert said.stderr == (
        f"Note: {audio} is raw 16-bit mono at 44100 Hz with no header; "
        "read it with --sample-rate 44100\n"
    )
    quiet = run("--quiet", "tts", "say", HELLO, "-o", str(tmp_path / "q.pcm"))
    assert quiet.exit_code == 0 and quiet.stderr == ""
    api_env.state.clear()

    guessed = run("stt", "transcribe", str(audio))
    assert guessed.exit_code == 2 and guessed.stdout == ""
    first = guessed.stderr.splitlines()[0]
    assert first.startswith(f"Error: {audio} has no header") and "--sample-rate" in first
    assert stt_requests(api_env) == []

    told = run("stt", "transcribe", str(audio), "--sample-rate", "44100")
    assert told.exit_code == 0, told.stderr
    assert plain(told.stdout) == spoken_form(HELLO)
    [request] = stt_requests(api_env)
    assert sf.info(io.BytesIO(request.body)).samplerate == 44100


def test_the_note_names_the_encoding_when_the_extension_does_not(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "x.g711"
    said = run("tts", "say", HELLO, "-o", str(audio), "--format", "alaw", "--sample-rate", "8000")
    assert said.exit_code == 0, said.stderr
    assert said.stderr.endswith("read it with --encoding alaw --sample-rate 8000\n")
    assert "raw A-law mono at 8000 Hz" in said.stderr
    back = run("stt", "transcribe", str(audio), "--encoding", "alaw", "--sample-rate", "8000")
    assert plain(back.stdout) == spoken_form(HELLO)
    assert run("tts", "say", HELLO, "-o", str(tmp_path / "x.wav")).stderr == ""


def test_voices_preview_to_a_pcm_file_notes_its_rate(api_env, tmp_path: Path) -> None:
    audio = tmp_path / "preview.pcm"
    result = run("voices", "preview", "meher", "-o", str(audio))
    assert result.exit_code == 0, result.stderr
    rate = re.search(
        r"at (\d+) Hz with no header; read it with --sample-rate (\d+)$", result.stderr
    )
    assert rate is not None and rate[1] == rate[2], result.stderr
    back = run("stt", "transcribe", str(audio), "--sample-rate", rate[1], "--json")
    assert back.exit_code == 0, back.stderr
    duration = json.loads(back.stdout)["duration"]
    assert duration == pytest.approx(audio.stat().st_size / 2 / int(rate[1]), abs=0.05)


def test_pipe_from_tts_say_in_real_processes(api_env) -> None:
    env = {**os.environ, "SMALLEST_BASE_URL": api_env.base_url, "SMALLEST_API_KEY": TEST_KEY}
    command = [sys.executable, "-m", "smallest_cli"]
    speaker = subprocess.Popen(
        [*command, "tts", "say", HELLO, "--sample-rate", "16000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    listener = subprocess.run(
        [*command, "stt", "transcribe", "-"],
        stdin=speaker.stdout,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert speaker.stdout is not None and speaker.stderr is not None
    speaker.stdout.close()
    assert speaker.wait(timeout=30) == 0
    with speaker.stderr:
        assert speaker.stderr.read() == b""
    assert listener.returncode == 0, listener.stderr
    assert plain(listener.stdout) == spoken_form(HELLO)
    assert listener.stderr == ""
    [request] = stt_requests(api_env)
    # stdin's length is unknown: the body streamed up chunked, as it came out of the pipe
    assert request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in request.headers
    assert request.body[:4] == b"RIFF"


@pytest.mark.parametrize(
    "path",
    sorted((SHARED_DIR / "audio").glob("*.wav")) or [None],
    ids=lambda p: p.name if p else "none",
)
def test_real_recordings_upload_and_get_a_transcript(api_env, path: Path | None) -> None:
    if path is None:
        shared_path("audio", "*.wav")  # skips: there are none
    result = run("stt", "transcribe", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["source"] == str(path)
    assert document["transcript"].strip()  # the emulator's stand-in words for real speech
    assert document["duration"] == pytest.approx(sf.info(path).duration, abs=0.01)
    [request] = stt_requests(api_env)
    assert request.body == path.read_bytes()


# -- URLs ---------------------------------------------------------------------------------


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    """A tiny HTTP server for the files in tmp_path/served."""
    served = tmp_path / "served"
    served.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_is_fetched_by_the_api(api_env, tmp_path: Path, file_server: str) -> None:
    say(tmp_path / "served" / "call.mp3", STORY, "--sample-rate", "24000")
    api_env.state.clear()
    url = f"{file_server}/call.mp3"
    result = run("stt", "transcribe", url, "--language", "multi-eu")
    assert result.exit_code == 0, result.stderr
    assert plain(result.stdout) == spoken_form(STORY)
    [request] = stt_requests(api_env)
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"url": url}
    assert query(request) == {"model": "pulse", "language": "multi-eu"}


def test_the_emulators_own_preview_url(api_env) -> None:
    url = f"{api_env.base_url}/_emulator/previews/meher.wav"
    result = run("stt", "transcribe", url, "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["source"] == url and document["transcript"]


def test_pulse_pro_cannot_fetch_urls(api_env) -> None:
    result = run("stt", "transcribe", "https://example.com/a.wav", "--model", "pulse-pro")
    assert result.exit_code == 2
    assert "pulse-pro cannot fetch audio from a URL" in result.stderr
    assert "--model pulse" in result.stderr
    assert stt_requests(api_env) == []


# -- formats ------------------------------------------------------------------------------

CLOCK = r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)"


def seconds(match: tuple[str, ...]) -> float:
    h, m, s, ms = (int(x) for x in match)
    return h * 3600 + m * 60 + s + ms / 1000


def parse_cues(document: str, fmt: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of each cue; asserts the document is well formed on the way."""
    blocks = document.strip("\n").split("\n\n")
    if fmt == "vtt":
        assert blocks[0] == "WEBVTT"
        blocks = blocks[1:]
    cues = []
    for number, block in enumerate(blocks, 1):
        lines = block.split("\n")
        if fmt == "srt":
            assert lines[0] == str(number)
            lines = lines[1:]
        separator = "," if fmt == "srt" else r"\."
        timing = re.fullmatch(f"{CLOCK} --> {CLOCK}".replace("[,.]", separator), lines[0])
        assert timing, lines[0]
        start, end = seconds(timing.groups()[:4]), seconds(timing.groups()[4:])
        assert len(lines) == 2 and lines[1].strip()
        cues.append((start, end, lines[1]))
    return cues


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_are_well_formed_and_keep_their_limits(api_env, tmp_path: Path, fmt: str) -> None:
    audio = say(tmp_path / "story.wav", STORY, "--sample-rate", "16000")
    target = tmp_path / f"story.{fmt}"
    result = run(
        "stt", "transcribe", str(audio), "-o", str(target),
        "--max-line-chars", "24", "--max-cue-seconds", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    cues = parse_cues(target.read_text(), fmt)
    assert len(cues) > 4
    previous_end = 0.0
    for start, end, text in cues:
        assert previous_end <= start < end  # monotonic, never overlapping
        assert len(text) <= 24
        assert end - start <= 2.0 + 1e-9
        previous_end = end
    assert plain(" ".join(text for _, _, text in cues)) == spoken_form(STORY)
    assert query(stt_requests(api_env)[0])["word_timestamps"] == "true"  # asked for by itself


def test_tsv_json_and_text_of_one_recording(api_env, hello_wav: Path) -> None:
    tsv = run("stt", "transcribe", str(hello_wav), "--format", "tsv")
    assert tsv.exit_code == 0, tsv.stderr
    rows = [line.split("\t") for line in tsv.stdout.splitlines()]
    assert rows and all(len(row) == 4 for row in rows)
    starts = [float(row[0]) for row in rows]
    assert starts == sorted(starts) and all(float(r[1]) > float(r[0]) for r in rows)
    assert plain(" ".join(row[3] for row in rows)) == spoken_form(HELLO)

    as_json = run("stt", "transcribe", str(hello_wav), "--json", "--word-timestamps")
    document = json.loads(as_json.stdout)
    assert set(document) >= {"source", "transcript", "words", "utterances", "duration"}
    assert plain(" ".join(w["word"] for w in document["words"])) == spoken_form(HELLO)
    assert document["source"] == str(hello_wav)

    text = run("stt", "transcribe", str(hello_wav), "-o", "-")
    assert text.stdout == document["transcript"] + "\n"


def test_options_become_query_parameters_and_headers(api_env, hello_wav: Path) -> None:
    result = run(
        "stt", "transcribe", str(hello_wav), "--json", "--emotions", "--gender",
        "--redact", "pii,pci", "--language", "hi", "--expire-content",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # expiry was applied: nothing to warn about
    document = json.loads(result.stdout)
    # the documented five (REFERENCE §0.6), read as a map
    assert set(document["emotions"]) == {"happiness", "sadness", "disgust", "fear", "anger"}
    assert document["gender"] in ("male", "female")
    [request] = stt_requests(api_env)
    assert query(request) == {
        "model": "pulse",
        "language": "hi",
        "emotion_detection": "true",
        "gender_detection": "true",
        "redact_pii": "true",
        "redact_pci": "true",
    }
    assert request.headers["x-expire-content"] == "true"


# -- speakers -----------------------------------------------------------------------------


@pytest.fixture
def two_voices(api_env, tmp_path: Path) -> Path:
    """meher, then magnus, in one recording."""
    first = say(
        tmp_path / "a.wav", "Good morning to you.", "--voice", "meher", "--sample-rate", "16000"
    )
    second = say(
        tmp_path / "b.wav",
        "And a good morning back.",
        "--voice",
        "magnus",
        "--sample-rate",
        "16000",
    )
    a, rate = sf.read(first, dtype="int16")
    b, _ = sf.read(second, dtype="int16")
    both = tmp_path / "dialogue.wav"
    sf.write(both, np.concatenate([a, np.zeros(rate // 2, dtype="int16"), b]), rate)
    api_env.state.clear()
    return both


def test_diarized_text_puts_each_speaker_on_a_line(api_env, two_voices: Path) -> None:
    result = run("stt", "transcribe", str(two_voices), "--diarize")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Speaker 0", "Speaker 1"]
    assert plain(lines[0].split(":", 1)[1]) == "good morning to you"
    assert plain(lines[1].split(":", 1)[1]) == "and a good morning back"
    assert query(stt_requests(api_env)[0]) == {
        "model": "pulse",
        "language": "en",
        "word_timestamps": "true",  # speaker turns need the words
        "diarize": "true",
    }


@pytest.mark.parametrize(("fmt", "label"), [("srt", "[Speaker {}] "), ("vtt", "<v Speaker {}>")])
def test_subtitles_carry_speaker_labels(api_env, two_voices: Path, fmt: str, label: str) -> None:
    result = run("stt", "transcribe", str(two_voices), "--diarize", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    cues = parse_cues(result.stdout, fmt)
    speakers = [re.match(r"\[Speaker (\d)\]|<v Speaker (\d)>", text) for _, _, text in cues]
    assert all(speakers)
    assert [m.group(1) or m.group(2) for m in speakers if m] == ["0", "1"]
    assert cues[0][2].startswith(label.format(0)) and cues[1][2].startswith(label.format(1))


# -- batches ------------------------------------------------------------------------------


@pytest.fixture
def three(api_env, tmp_path: Path) -> list[Path]:
    texts = ["One small file.", "Another small file.", "The third file."]
    paths = [
        say(tmp_path / f"clip{n}.wav", t, "--sample-rate", "16000") for n, t in enumerate(texts)
    ]
    api_env.state.clear()
    return paths


def test_batch_to_a_directory_with_a_progress_bar(api_env, three: list[Path], out: Path) -> None:
    result = run(
        "stt", "transcribe", *map(str, three), "--output-dir", str(out), "--format", "srt",
        stderr_isatty=True,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "Transcribing" in result.stderr  # the bar, drawn on the terminal
    assert sorted(p.name for p in out.iterdir()) == ["clip0.srt", "clip1.srt", "clip2.srt"]
    for path, text in zip(
        three, ["One small file.", "Another small file.", "The third file."], strict=True
    ):
        cues = parse_cues((out / f"{path.stem}.srt").read_text(), "srt")
        assert plain(" ".join(c[2] for c in cues)) == spoken_form(text)
    assert len(stt_requests(api_env)) == 3


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    api_env, three: list[Path], out: Path
) -> None:
    result = run("stt", "transcribe", *map(str, three), "--output-dir", str(out))
    assert result.exit_code == 0
    assert "Transcribing" not in result.stderr
    assert f"Wrote {out / 'clip0.txt'}" in result.stderr
    assert "Transcribed 3 of 3 sources." in result.stderr
    assert (out / "clip1.txt").read_text() == "Another small file.\n"


def test_batch_to_stdout_has_headers_in_the_order_given(api_env, three: list[Path]) -> None:
    result = run("stt", "transcribe", *map(str, reversed(three)), "--concurrency", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"==> {three[2]} <==\nThe third file.\n\n"
        f"==> {three[1]} <==\nAnother small file.\n\n"
        f"==> {three[0]} <==\nOne small file.\n"
    )


def test_the_progress_bar_leaves_stdout_to_the_transcripts(api_env, three: list[Path]) -> None:
    result = run("stt", "transcribe", *map(str, three), "--json", stderr_isatty=True)
    assert result.exit_code == 0, result.stderr
    assert "Transcribing" in result.stderr and '"transcript"' not in result.stderr
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == list(
        map(str, three)
    )


def test_batch_json_is_one_document_per_line(api_env, three: list[Path]) -> None:
    result = run("stt", "transcribe", *map(str, three), "--json")
    assert result.exit_code == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["source"] for d in documents] == list(map(str, three))
    assert [d["transcript"] for d in documents][0] == "One small file."


def test_a_failing_source_does_not_stop_the_batch(
    api_env, three: list[Path], tmp_path: Path, out: Path
) -> None:
    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"RIFF\x24\x00\x00\x00WAVE" + b"not audio at all, just text\n" * 10)
    sources = [str(three[0]), str(not_audio), str(tmp_path / "missing.wav"), str(three[1])]
    result = run("stt", "transcribe", *sources, "--output-dir", str(out))
    assert result.exit_code == 1  # an API refusal among the failures
    assert sorted(p.name for p in out.iterdir()) == ["clip0.txt", "clip1.txt"]
    assert f"Error: no such file: {tmp_path / 'missing.wav'}" in result.stderr
    assert f"Error: {not_audio}: " in result.stderr and "(HTTP 400)" in result.stderr
    assert "Request id: " in result.stderr
    assert result.stderr.rstrip().endswith("Error: 2 of 4 sources failed")
    assert len(stt_requests(api_env)) == 3  # the missing file was never sent


def test_a_transcript_that_cannot_be_written_fails_its_source(
    api_env, three: list[Path], out: Path
) -> None:
    (out / "clip1.txt").mkdir()  # where clip1's transcript should go
    result = run("stt", "transcribe", *map(str, three), "--output-dir", str(out), "--force")
    assert result.exit_code == 1
    assert f"Error: {three[1]}: cannot write {out / 'clip1.txt'}" in result.stderr
    assert (out / "clip0.txt").is_file() and (out / "clip2.txt").is_file()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_a_batch_whose_only_failures_are_bad_files_exits_2(
    api_env, three: list[Path], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    result = run("stt", "transcribe", str(three[0]), str(empty))
    assert result.exit_code == 2
    assert result.stdout == f"==> {three[0]} <==\nOne small file.\n"
    assert f"Error: {empty} is empty" in result.stderr


def test_a_rejected_key_stops_the_batch_at_once(api_env, three: list[Path], monkeypatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "not-a-key")
    result = run("stt", "transcribe", *map(str, three), "--concurrency", "1")
    assert result.exit_code == 4
    assert result.stderr.count("Error:") == 1 and "HTTP 401" in result.stderr
    assert len(stt_requests(api_env)) == 1


def test_existing_transcripts_are_kept_unless_asked(api_env, three: list[Path], out: Path) -> None:
    (out / "clip0.txt").write_text("mine\n")
    refused = run("stt", "transcribe", *map(str, three), "--output-dir", str(out))
    assert (
        refused.exit_code == 2
        and "--force" in refused.stderr
        and "--skip-existing" in refused.stderr
    )
    assert stt_requests(api_env) == [] and (out / "clip0.txt").read_text() == "mine\n"

    skipped = run(
        "stt", "transcribe", *map(str, three), "--output-dir", str(out), "--skip-existing"
    )
    assert skipped.exit_code == 0, skipped.stderr
    assert (out / "clip0.txt").read_text() == "mine\n" and (out / "clip2.txt").exists()
    assert len(stt_requests(api_env)) == 2

    forced = run("stt", "transcribe", str(three[0]), "--output-dir", str(out), "--force")
    assert forced.exit_code == 0 and (out / "clip0.txt").read_text() == "One small file.\n"


def test_names_that_would_collide_are_refused(
    api_env, three: list[Path], tmp_path: Path, out: Path
) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    twin = other / three[0].name
    twin.write_bytes(three[0].read_bytes())
    result = run("stt", "transcribe", str(three[0]), str(twin), "--output-dir", str(out))
    assert result.exit_code == 2 and "would both be written to" in result.stderr
    assert stt_requests(api_env) == []


# -- the rate limit and retries -----------------------------------------------------------


def test_a_stray_429_is_retried_with_the_whole_file(api_env, hello_wav: Path) -> None:
    api_env.state.faults.replace(["429:0*1@/waves/v1/stt/"], 0.0)
    result = run("stt", "transcribe", str(hello_wav))
    assert result.exit_code == 0, result.stderr
    assert "the API answered 429: the account's limit" in result.stderr
    assert "waiting for a free slot" in result.stderr
    first, second = stt_requests(api_env)
    assert first.status == 429 and second.status == 200
    size = str(hello_wav.stat().st_size)
    assert first.headers["content-length"] == second.headers["content-length"] == size
    assert second.body == hello_wav.read_bytes()  # the retry sent the whole file again


def test_a_batch_keeps_to_the_requests_per_minute(api_env, three: list[Path], monkeypatch) -> None:
    from smallest_cli.api import ratelimit

    monkeypatch.setattr(ratelimit, "WINDOW_SECONDS", 0.5)  # the API's minute, shortened
    result = run("stt", "transcribe", *map(str, three), "--max-rpm", "2", "--concurrency", "3")
    assert result.exit_code == 0, result.stderr
    assert "to stay within 2 requests a minute (--max-rpm)" in result.stderr
    requests = stt_requests(api_env)
    assert [e.status for e in requests] == [200, 200, 200]
    assert requests[2].started - requests[0].started >= 0.45


def test_429s_that_outlast_the_wait_make_the_batch_wait_a_window(
    api_env, three: list[Path], monkeypatch
) -> None:
    from smallest_cli.api import ratelimit

    monkeypatch.setattr(ratelimit, "WINDOW_SECONDS", 0.3)  # the API's minute, shortened
    api_env.state.faults.replace(["429:0*1@/waves/v1/stt/"], 0.0)
    result = run("--max-wait", "0", "stt", "transcribe", *map(str, three), "--concurrency", "1")
    assert result.exit_code == 0, result.stderr
    assert f"{three[0]}: the API's per-minute limit was reached" in result.stderr
    assert "Pausing 0 s to stay within 25 requests a minute" in result.stderr
    statuses = [e.status for e in stt_requests(api_env)]
    assert statuses == [429, 200, 200, 200]


def test_the_emulators_per_minute_limit_is_reported_after_the_retries(
    api_env, hello_wav: Path
) -> None:
    api_env.state.limits.set_stt_per_minute(1)
    try:
        assert run("stt", "transcribe", str(hello_wav)).exit_code == 0
        result = run(
            "--retries",
            "0",
            "--max-wait",
            "0",
            "stt",
            "transcribe",
            str(hello_wav),
            "--max-rpm",
            "0",
        )
    finally:
        api_env.state.limits.set_stt_per_minute(25)
    assert result.exit_code == 1
    assert "Rate limit exceeded" in result.stderr and "(HTTP 429)" in result.stderr


# -- refusals before any request ---------------------------------------------------------


def test_a_file_over_250_mb_is_refused_without_sending_a_byte(api_env, tmp_path: Path) -> None:
    big = tmp_path / "huge.wav"
    with big.open("wb") as handle:
        handle.truncate(250 * MiB + 1)  # sparse: takes no disk
    result = run("stt", "transcribe", str(big))
    assert result.exit_code == 2
    assert "262,144,001 bytes; the API takes at most 250 MB" in result.stderr
    assert "Hint: compress it to mono 16 kHz" in result.stderr
    assert stt_requests(api_env) == []


def test_stdin_over_250_mb_stops_while_reading() -> None:
    """A real pipe into a real process, sent to a sink that reads whatever comes (the
    emulator would answer at 250 MiB itself; here the CLI must stop on its own)."""
    import socketserver

    received = [0]

    class Sink(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while chunk := self.rfile.read1(1 << 20):
                received[0] += len(chunk)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Sink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    env = {**os.environ, "SMALLEST_BASE_URL": base_url, "SMALLEST_API_KEY": TEST_KEY}
    command = [sys.executable, "-m", "smallest_cli", "stt", "transcribe", "-"]
    try:
        with subprocess.Popen(
            [*command, "--encoding", "linear16", "--sample-rate", "16000"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        ) as proc:
            assert proc.stdin is not None
            block = bytes(MiB)
            try:
                for _ in range(251):
                    proc.stdin.write(block)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # it stopped reading: that is the point
            out, err = proc.communicate(timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 2
    assert out == b""
    assert b"stdin is more than 250 MB, the most the API takes per file" in err
    assert received[0] <= 250 * MiB + 64 * 1024  # nothing past the limit went out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["{missing}"], "no such file"),
        (["{empty}"], "is empty"),
        (["{dir}"], "is a directory"),
        (["{wav}", "--language", "xx"], "invalid --language 'xx'"),
        (["{wav}", "--language", "ta"], "for live transcription only"),
        (["{wav}", "--model", "whisper"], "choose one of pulse, pulse-pro"),
        (["{wav}", "--model", "pulse-pro", "--language", "hi"], "English only"),
        (["{wav}", "--model", "pulse-pro", "--gender"], "--gender works with Pulse only"),
        (["{wav}", "--webhook", "https://my.app/hook"], "Pulse Pro only"),
        (["{wav}", "--webhook-extra", "a:b"], "--webhook-extra goes with --webhook"),
        (["{wav}", "--model", "pulse-pro", "--webhook", "ftp://x"], "invalid --webhook"),
        (["{wav}", "--redact", "ssn"], "invalid --redact"),
        (["{wav}", "-o", "out.docx"], "cannot tell the transcript format"),
        (["{wav}", "{wav}", "-o", "out.txt"], "-o FILE takes one source"),
        (["{wav}", "-o", "x.txt", "--output-dir", "d"], "not both"),
        (["{wav}", "--route", "legacy", "--redact", "pii"], "legacy route"),
        (["{wav}", "--route", "legacy", "--expire-content"], "legacy route"),
        (["{wav}", "--route", "legacy", "--model", "pulse-pro"], "legacy route"),
        (["{wav}", "--encoding", "opus"], "invalid --encoding"),
        (["{wav}", "--json", "--format", "srt"], "--json and --format disagree"),
        (["-", "-"], "only once"),
        ([], "nothing to transcribe"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    api_env, tmp_path: Path, hello_wav: Path, args: list[str], fragment: str
) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    names = {"missing": tmp_path / "nope.wav", "empty": empty, "dir": tmp_path, "wav": hello_wav}
    api_env.state.clear()
    result = run("stt", "transcribe", *(a.format(**names) for a in args), input="")
    assert result.exit_code == 2, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert stt_requests(api_env) == []


def test_stdin_is_not_read_from_a_terminal(api_env) -> None:
    result = run("stt", "transcribe", "-", stdin_isatty=True)
    assert result.exit_code == 2
    assert "stdin is a terminal" in result.stderr and "smallest tts say" in result.stderr


def test_a_language_only_for_live_from_the_environment_names_its_source(
    api_env, hello_wav: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SMALLEST_STT_LANGUAGE", "north_indic")
    result = run("stt", "transcribe", str(hello_wav))
    assert result.exit_code == 2
    assert "SMALLEST_STT_LANGUAGE='north_indic' is for live transcription only" in result.stderr
    assert "multi-indic" in result.stderr


def test_settings_give_the_defaults(api_env, hello_wav: Path) -> None:
    assert run("config", "set", "stt_language", "de").exit_code == 0
    assert run("stt", "transcribe", str(hello_wav)).exit_code == 0
    assert query(stt_requests(api_env)[-1])["language"] == "de"


# -- Pulse Pro, webhooks, the legacy route, API errors -----------------------------------


def test_pulse_pro(api_env, hello_wav: Path) -> None:
    result = run(
        "stt", "transcribe", str(hello_wav), "--model", "pulse-pro", "--json", "--word-timestamps"
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["language"] == "en" and document["request_id"]
    assert document["utterances"] == [] and all("speaker" not in w for w in document["words"])
    assert query(stt_requests(api_env)[0])["model"] == "pulse-pro"


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[dict], threading.Event]]:
    """A webhook URL, the payloads it received, and an event set when one arrives."""
    received: list[dict] = []
    arrived = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received, arrived
    server.shutdown()
    server.server_close()


def test_webhook_mode_prints_the_request_id_and_the_result_is_delivered(
    api_env, hello_wav: Path, webhook_receiver
) -> None:
    url, received, arrived = webhook_receiver
    result = run(
        "stt", "transcribe", str(hello_wav), "--model", "pulse-pro", "--webhook", url,
        "--webhook-extra", "ticket:42", "--webhook-extra", "team:support",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    request_id = result.stdout.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", request_id)
    assert "delivered to the webhook" in result.stderr
    [request] = stt_requests(api_env)
    assert query(request) == {
        "model": "pulse-pro",
        "language": "en",
        "webhook_url": url,
        "webhook_extra": "ticket:42,team:support",
    }
    assert arrived.wait(timeout=10), "the webhook was never called"
    [payload] = received
    assert payload["request_id"] == request_id
    assert plain(payload["transcription"]) == spoken_form(HELLO)
    assert payload["webhook_extra"] == {"ticket": "42", "team": "support"}


def test_webhook_json(api_env, hello_wav: Path, webhook_receiver) -> None:
    url, _, _ = webhook_receiver
    result = run(
        "stt", "transcribe", str(hello_wav), "--model", "pulse-pro", "--webhook", url, "--json"
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "processing" and document["source"] == str(hello_wav)


def test_legacy_route(api_env, hello_wav: Path) -> None:
    result = run(
        "stt", "transcribe", str(hello_wav), "--route", "legacy", "--emotions", "--gender", "--json"
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert plain(document["transcript"]) == spoken_form(HELLO)
    assert document["emotions"] and document["gender"]
    [request] = stt_requests(api_env)
    assert request.path == "/waves/v1/pulse/get_text"
    assert query(request) == {
        "language": "en",
        "emotion_detection": "true",
        "gender_detection": "true",
    }


def test_legacy_error_shape_becomes_one_line(api_env, tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x24\x00\x00\x00WAVE" + b"definitely not audio" * 50)
    result = run("stt", "transcribe", str(junk), "--route", "legacy")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Error handling audio data: Invalid file format")
    assert "(HTTP 400)" in result.stderr and "Traceback" not in result.stderr


def test_region_refusal_has_a_hint(api_env, hello_wav: Path) -> None:
    result = run("stt", "transcribe", str(hello_wav), "--language", "multi-asian")
    assert result.exit_code == 1
    assert "has not been enabled in this region" in result.stderr
    assert "Hint: --language multi-asian is served only in some regions" in result.stderr
    assert "Request id: " in result.stderr


def test_413_has_a_hint(api_env, hello_wav: Path) -> None:
    api_env.state.faults.replace(["413*1@/waves/v1/stt/"], 0.0)
    result = run("stt", "transcribe", str(hello_wav))
    assert result.exit_code == 1
    assert "(HTTP 413)" in result.stderr and "Hint: compress it to mono 16 kHz" in result.stderr


def test_stdout_is_only_the_transcript(api_env, hello_wav: Path) -> None:
    result = run("-q", "stt", "transcribe", str(hello_wav), "--diarize", "--model", "pulse-pro")
    assert result.exit_code == 0
    assert plain(result.stdout) == spoken_form(HELLO)
    assert result.stderr.startswith("Warning: pulse-pro does not diarize")


def test_a_big_upload_shows_its_bytes_on_a_terminal(api_env, tmp_path: Path) -> None:
    big = tmp_path / "long.wav"
    data = 17 * MiB
    with big.open("wb") as handle:  # a 16 kHz WAV header, then 17 MiB of (sparse) silence
        handle.write(struct.pack("<4sI4s", b"RIFF", 36 + data, b"WAVE"))
        handle.write(struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 16000, 32000, 2, 16))
        handle.write(struct.pack("<4sI", b"data", data))
        handle.truncate(44 + data)
    result = run("stt", "transcribe", str(big), "--json", stderr_isatty=True)
    assert result.exit_code == 0, result.stderr
    assert "Uploading long.wav" in result.stderr
    assert json.loads(result.stdout)["transcript"] == ""  # silence says nothing
    [request] = stt_requests(api_env)
    assert int(request.headers["content-length"]) == big.stat().st_size


def test_a_batch_of_webhooks_prints_an_id_per_source(
    api_env, three: list[Path], webhook_receiver
) -> None:
    url, _, _ = webhook_receiver
    result = run("stt", "transcribe", *map(str, three), "--model", "pulse-pro", "--webhook", url)
    assert result.exit_code == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[1] for row in rows] == list(map(str, three))
    assert all(re.fullmatch(r"[0-9a-f-]{36}", row[0]) for row in rows)
    assert "Submitted 3 of 3 sources." in result.stderr


def test_ctrl_c_mid_batch_exits_130_and_leaves_no_files(
    api_env, three: list[Path], out: Path
) -> None:
    api_env.state.pacing = Pacing(first_audio_ms=0, rtf=0, stt_ms=30_000, stt_rtf=0)
    env = {**os.environ, "SMALLEST_BASE_URL": api_env.base_url, "SMALLEST_API_KEY": TEST_KEY}
    command = [sys.executable, "-m", "smallest_cli", "stt", "transcribe", *map(str, three)]
    with subprocess.Popen(
        [*command, "--output-dir", str(out)], stderr=subprocess.PIPE, env=env
    ) as proc:
        deadline = time.monotonic() + 20
        while len(stt_requests(api_env)) < 3:  # all three are being transcribed
            assert time.monotonic() < deadline, "the requests did not arrive"
            time.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert time.monotonic() - started < 5  # not held up by the uploads in flight
    assert b"Interrupted." in err
    assert list(out.iterdir()) == []
