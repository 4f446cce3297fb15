"""`chat --speak` and `smallest talk` against the emulator: spoken replies that transcribe
back to the text printed, a two-question recording answered turn by turn, the transcript,
the history, Ctrl-C, and the checks made before anything is sent.

The emulator's STT reads back the tone-coded words its own TTS speaks, so audio can be
compared word for word with the text that made it (`spoken_form`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.emulator.server import InProcessEmulator
from smallest_cli.emulator.speech import Synthesis, spoken_form
from smallest_cli.emulator.state import Pacing
from smallest_cli.history import History
from tests.conftest import TEST_KEY, run

CHAT = "/waves/v1/chat/completions"
TTS_LIVE = "/waves/v1/tts/live"
QUESTIONS = ("What is the capital of France?", "How tall is the Eiffel Tower?")


def heard_back(path: Path) -> str:
    """What the emulator's STT hears in an audio file."""
    result = run("stt", "transcribe", str(path))
    assert result.exit_code == 0, result.stderr
    return spoken_form(result.stdout)


def chat_replies(emulator: InProcessEmulator) -> list[str]:
    replies = []
    for exchange in emulator.state.exchanges():
        if exchange.path != CHAT:
            continue
        text = ""
        for line in exchange.response_body.decode().splitlines():
            if line.startswith("data: {"):
                for choice in json.loads(line[6:])["choices"]:
                    text += choice["delta"].get("content") or ""
        replies.append(text)
    return replies


def recording(path: Path, *texts: str, gap: float = 1.5, rate: int = 16000) -> Path:
    """The texts spoken by the emulator's TTS, with `gap` seconds of silence between."""
    silence = np.zeros(int(gap * rate), dtype="<i2")
    parts = [silence[: rate // 2]]
    for text in texts:
        parts += [np.frombuffer(Synthesis(text, sample_rate=rate).pcm(), dtype="<i2"), silence]
    sf.write(path, np.concatenate(parts), rate)
    return path


# -- chat --speak ---------------------------------------------------------------------


def test_chat_speak_saves_a_reply_that_transcribes_back_to_stdout(
    api_env: InProcessEmulator, tmp_path: Path
) -> None:
    reply = tmp_path / "reply.wav"
    result = run("chat", "--speak", "-o", str(reply), "Tell me about Paris")
    assert result.exit_code == 0, result.stderr
    assert "Tell me about Paris" in result.stdout
    assert heard_back(reply) == spoken_form(result.stdout)
    # spoken over one TTS socket, sentence by sentence, while the reply streamed
    sockets = [e for e in api_env.state.exchanges() if e.path == TTS_LIVE]
    assert len(sockets) == 1
    texts = [json.loads(f)["text"] for f in sockets[0].frames_in if isinstance(f, str)]
    pieces = [t for t in texts if t]  # sentence by sentence (a long one at a clause)
    assert pieces[:2] == ["You asked: ", '"Tell me about Paris". ']  # the first clause at once
    assert len(pieces) >= 2 and " ".join(p.strip() for p in pieces) == result.stdout.strip()
    assert sf.info(str(reply)).samplerate == 44100


def test_chat_speak_takes_the_voice_options(api_env: InProcessEmulator, tmp_path: Path) -> None:
    reply = tmp_path / "reply.flac"
    result = run(
        "chat", "-o", str(reply), "--voice", "meher", "--speed", "1.5", "--no-log", "Hello"
    )
    assert result.exit_code == 0, result.stderr
    assert sf.info(str(reply)).format == "FLAC"
    socket = next(e for e in api_env.state.exchanges() if e.path == TTS_LIVE)
    messages = [json.loads(f) for f in socket.frames_in if isinstance(f, str)]
    assert all(m["voice_id"] == "meher" and m["speed"] == 1.5 for m in messages)
    # the streaming recipe: pieces with continue and flush, then an empty flush to end
    assert all(m["continue"] for m in messages[:-1]) and messages[0]["text"].strip()
    assert messages[-1]["text"] == "" and messages[-1]["continue"] is False
    assert heard_back(reply) == spoken_form(result.stdout)


def test_chat_speak_refuses_stdout_and_an_unwritable_file_before_asking(
    api_env: InProcessEmulator, tmp_path: Path
) -> None:
    result = run("chat", "--speak", "-o", "-", "Hello")
    assert result.exit_code == 2
    assert "stdout has the reply's text" in result.stderr
    result = run("chat", "-o", str(tmp_path / "missing" / "reply.wav"), "Hello")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    result = run("chat", "-o", str(tmp_path / "reply.xyz"), "Hello")
    assert result.exit_code == 2
    assert "cannot tell the audio format" in result.stderr
    assert chat_replies(api_env) == []


# -- talk --input ---------------------------------------------------------------------


def test_talk_answers_each_question_of_a_recording(
    api_env: InProcessEmulator, tmp_path: Path
) -> None:
    question = recording(tmp_path / "question.wav", *QUESTIONS)
    answer, transcript = tmp_path / "answer.wav", tmp_path / "t.json"
    result = run(
        "talk", "--input", str(question), "--output", str(answer), "--transcript", str(transcript)
    )
    assert result.exit_code == 0, result.stderr
    replies = chat_replies(api_env)
    assert len(replies) == 2
    turns = json.loads(transcript.read_text())["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert [spoken_form(t["text"]) for t in turns[::2]] == [spoken_form(q) for q in QUESTIONS]
    assert [t["text"] for t in turns[1::2]] == replies
    assert all(t["start"] <= t["end"] for t in turns)
    assert heard_back(answer) == spoken_form(" ".join(replies))
    # what was heard on stderr, the answers on stdout
    assert spoken_form(result.stdout) == spoken_form(" ".join(replies))
    assert "You: What is the capital of France?".lower() in result.stderr.lower()


def test_a_recordings_transcript_times_are_where_each_turn_sits_in_it(
    api_env: InProcessEmulator, tmp_path: Path
) -> None:
    # the emulator takes its time, so processing times would not match the recording's
    api_env.state.pacing = Pacing(
        first_audio_ms=300, rtf=0, stt_ms=400, stt_rtf=0, chat_first_token_ms=200, chat_token_ms=0
    )
    question = recording(tmp_path / "question.wav", *QUESTIONS, gap=3.0)
    answer, transcript = tmp_path / "answer.wav", tmp_path / "t.json"
    result = run("talk", "-i", str(question), "-o", str(answer), "--transcript", str(transcript))
    assert result.exit_code == 0, result.stderr
    turns = json.loads(transcript.read_text())["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    first, second = (len(Synthesis(q, sample_rate=16000).pcm()) / 2 / 16000 for q in QUESTIONS)
    spoken = [(0.5, 0.5 + first), (0.5 + first + 3.0, 0.5 + first + 3.0 + second)]
    for turn, (start, end) in zip(turns[::2], spoken, strict=True):
        assert abs(turn["start"] - start) <= 0.15 and abs(turn["end"] - end) <= 0.15
    # each answer follows its question, for as long as it is spoken in answer.wav
    for asked, answered in zip(turns[::2], turns[1::2], strict=True):
        assert answered["start"] == asked["end"]
    lengths = [t["end"] - t["start"] for t in turns[1::2]]
    assert abs(sum(lengths) + 0.4 - sf.info(str(answer)).duration) <= 0.01  # 0.4 s between


def test_a_talk_is_stored_and_chat_continues_it(api_env: InProcessEmulator, tmp_path: Path) -> None:
    question = recording(tmp_path / "question.wav", QUESTIONS[0])
    result = run("talk", "-i", str(question), "-o", str(tmp_path / "a.wav"), "-s", "Be brief")
    assert result.exit_code == 0, result.stderr
    history = History()
    try:
        conversation = history.latest()
        assert conversation is not None
        roles = [m.role for m in history.messages(conversation)]
    finally:
        history.close()
    assert roles == ["system", "user", "assistant"]
    follow = run("chat", "-c", "And in one word?")
    assert follow.exit_code == 0, follow.stderr
    sent = json.loads([e for e in api_env.state.exchanges() if e.path == CHAT][-1].body)["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert spoken_form(sent[1]["content"]) == spoken_form(QUESTIONS[0])


def test_a_text_transcript(api_env: InProcessEmulator, tmp_path: Path) -> None:
    question = recording(tmp_path / "question.wav", QUESTIONS[0])
    transcript = tmp_path / "t.txt"
    result = run(
        "talk", "-i", str(question), "-o", str(tmp_path / "a.wav"), "--transcript", str(transcript)
    )
    assert result.exit_code == 0, result.stderr
    lines = transcript.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[0:0") and "] You: What is the capital of" in lines[0]
    assert "] Assistant: You asked" in lines[1]


def test_a_recording_without_speech_is_refused(api_env: InProcessEmulator, tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, dtype="<i2"), 16000)
    result = run("talk", "-i", str(silent), "-o", str(tmp_path / "a.wav"))
    assert result.exit_code == 2
    assert "no speech" in result.stderr
    assert not (tmp_path / "a.wav").exists()
    assert chat_replies(api_env) == []


def test_ctrl_c_keeps_the_transcript_and_the_stored_conversation(
    emulator: InProcessEmulator, tmp_path: Path
) -> None:
    emulator.state.pacing = Pacing(
        first_audio_ms=0, rtf=0, stt_ms=0, stt_rtf=0, chat_first_token_ms=0, chat_token_ms=0
    )
    question = recording(tmp_path / "question.wav", *QUESTIONS, "Why is the sky blue?")
    transcript = tmp_path / "t.json"
    env = {
        **os.environ,
        "SMALLEST_BASE_URL": emulator.base_url,
        "SMALLEST_API_KEY": TEST_KEY,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "smallest_cli", "talk", "-i", str(question)]
        + ["-o", str(tmp_path / "a.wav"), "--transcript", str(transcript)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    first_answer = process.stdout.readline()  # the first answer is being spoken
    assert "You asked" in first_answer
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    turns = json.loads(transcript.read_text())["turns"]
    assert turns[0]["role"] == "user" and len(turns) >= 2
    history = History()
    try:
        conversation = history.latest()
        assert conversation is not None
        assert [m.role for m in history.messages(conversation)][:2] == ["user", "assistant"]
    finally:
        history.close()
    assert sf.info(str(tmp_path / "a.wav")).frames > 0


def test_a_transcript_from_a_recording_has_no_clock_times(
    api_env: InProcessEmulator, tmp_path: Path
) -> None:
    """From a recording the times are places in it; when the final, the first token and the
    first audio came (clock times) belong to live sessions only."""
    question = recording(tmp_path / "question.wav", QUESTIONS[0])
    transcript = tmp_path / "t.json"
    result = run("talk", "--input", str(question), "-o", str(tmp_path / "a.wav"),
                 "--transcript", str(transcript))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    user, answer = json.loads(transcript.read_text())["turns"]
    assert user["start"] <= user["end"] == answer["start"] < answer["end"]
    assert not {"final", "first_token", "first_audio"} & {*user, *answer}


class SpokenIntoTheMicrophone:
    """Stands in for the microphone: a question, then silence until the answer has been
    spoken (the emulator saw its TTS socket complete), then Ctrl-C."""

    live = True
    emulator: InProcessEmulator
    pcm = b""

    def __init__(self, **_: object) -> None:
        from smallest_cli.audio.formats import StreamFormat

        self.format = StreamFormat("linear16", 16000)
        self.description = "a question"

    def chunks(self, stop: threading.Event) -> Iterator[bytes]:
        frame = 3200  # 100 ms
        audio = self.pcm + b"\0" * 32000  # one second of silence after the question
        yield from (audio[i : i + frame] for i in range(0, len(audio), frame))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not stop.is_set() and not self.answered():
            time.sleep(0.05)
            yield b"\0" * frame
        raise KeyboardInterrupt

    def answered(self) -> bool:
        return any(
            isinstance(frame, str) and '"complete"' in frame
            for exchange in self.emulator.state.exchanges()
            if exchange.path == TTS_LIVE
            for frame in exchange.frames_out
        )

    def close(self) -> None:
        pass


def test_from_the_microphone_the_pause_is_the_stts_end_of_utterance_timer(
    api_env: InProcessEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smallest_cli.audio.capture

    SpokenIntoTheMicrophone.emulator = api_env
    SpokenIntoTheMicrophone.pcm = Synthesis(QUESTIONS[0], sample_rate=16000).pcm()
    monkeypatch.setattr(smallest_cli.audio.capture, "MicSource", SpokenIntoTheMicrophone)
    transcript = tmp_path / "t.json"
    result = run("talk", "-o", str(tmp_path / "a.wav"), "--transcript", str(transcript),
                 "--pause", "0.4")  # fmt: skip
    assert result.exit_code == 130, result.stderr
    stt = [e for e in api_env.state.exchanges() if e.path == "/waves/v1/stt/live"]
    query = dict(parse_qsl(stt[0].query))
    assert (query["eou_timeout_ms"], query["finalize_on_words"]) == ("400", "false")
    assert query["word_timestamps"] == "true"  # the pause is counted on the audio
    user, answer = json.loads(transcript.read_text())["turns"]
    assert spoken_form(user["text"]) == spoken_form(QUESTIONS[0])
    assert user["final"] <= user["end"] <= answer["start"] <= answer["first_audio"]
    assert answer["text"] == chat_replies(api_env)[0]
