"""`smallest chat` against the emulator over loopback: streaming, pipes, options, the
conversation history, the REPL on a pseudo-terminal, and every error path."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smallest_cli.emulator.server import InProcessEmulator
from smallest_cli.emulator.state import Pacing
from smallest_cli.history import History
from tests.conftest import TEST_KEY, run

CHAT = "/waves/v1/chat/completions"


@pytest.fixture
def chat_env(api_env: InProcessEmulator) -> InProcessEmulator:
    api_env.state.pacing = Pacing(
        first_audio_ms=0, rtf=0, stt_ms=0, stt_rtf=0, chat_first_token_ms=0, chat_token_ms=0
    )
    return api_env


def chat_requests(emulator: InProcessEmulator) -> list[Any]:
    return [e for e in emulator.state.exchanges() if e.path == CHAT]


def sent(emulator: InProcessEmulator, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(chat_requests(emulator)[index].body)
    return body


def streamed_reply(exchange: Any) -> str:
    """The content the emulator streamed in an exchange, pieced together."""
    text = ""
    for line in exchange.response_body.decode().splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:])["choices"]:
                text += choice["delta"].get("content") or ""
    return text


# -- 1. one shot, streamed ------------------------------------------------------------


def test_a_prompt_streams_the_reply_to_stdout_with_a_final_newline(
    chat_env: InProcessEmulator,
) -> None:
    result = run("chat", "say hello there")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    (exchange,) = chat_requests(chat_env)
    body = json.loads(exchange.body)
    assert body["stream"] is True
    assert body["model"] == "electron"
    assert body["messages"] == [{"role": "user", "content": "say hello there"}]
    reply = streamed_reply(exchange)
    assert reply.strip()
    assert result.stdout == reply + "\n"


def test_no_stream_waits_for_the_whole_reply(chat_env: InProcessEmulator) -> None:
    result = run("chat", "--no-stream", "say hello there")
    assert result.exit_code == 0, result.stderr
    body = sent(chat_env)
    assert body["stream"] is False
    answer = json.loads(chat_requests(chat_env)[0].response_body)
    assert result.stdout == answer["choices"][0]["message"]["content"] + "\n"


def test_the_first_words_arrive_while_the_emulator_is_still_sending(tmp_path: Path) -> None:
    """A real `smallest chat` process prints the first piece of a reply that takes the
    emulator seconds more to finish, and the rest follows."""
    env = {**os.environ, "SMALLEST_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smallest_cli",
            "emulator",
            "serve",
            "--port",
            "0",
            "--chat-first-token-ms",
            "0",
            "--chat-token-ms",
            "400",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        client = subprocess.Popen(
            [sys.executable, "-m", "smallest_cli", "chat", "count to 12"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**env, "SMALLEST_BASE_URL": url, "SMALLEST_API_KEY": TEST_KEY},
        )
        assert client.stdout is not None
        first = os.read(client.stdout.fileno(), 4096)
        assert first.strip()
        still_running = client.poll() is None
        rest, errors = client.communicate(timeout=60)
        assert client.returncode == 0, errors
        assert still_running  # the reply was not complete when its first words were read
        assert len(rest.strip()) > 0  # and more came after them
        assert (first + rest).decode().endswith("\n")
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()


def test_ctrl_c_keeps_the_words_that_arrived_and_exits_130(chat_env: InProcessEmulator) -> None:
    import signal

    chat_env.state.pacing = Pacing(chat_first_token_ms=0, chat_token_ms=300)
    client = subprocess.Popen(
        [sys.executable, "-m", "smallest_cli", "chat", "count to 40"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert client.stdout is not None
    first = os.read(client.stdout.fileno(), 4096)
    client.send_signal(signal.SIGINT)
    rest, errors = client.communicate(timeout=30)
    assert client.returncode == 130
    assert b"Interrupted." in errors
    shown = (first + rest).decode()
    assert shown.startswith("1") and shown.endswith("\n")
    with History() as history:
        cid = history.latest()
        assert cid is not None
        kept = history.messages(cid)[-1]
    assert kept.role == "assistant"
    assert kept.content == shown.rstrip("\n")
    assert not kept.content.endswith("40")  # stopped midway


# -- 2. pipes ----------------------------------------------------------------------------


def test_piped_stdin_is_the_material_and_the_prompt_the_instruction(
    chat_env: InProcessEmulator,
) -> None:
    result = run("chat", "Write a commit message", input="diff --git a/x b/x\n+hello\n")
    assert result.exit_code == 0, result.stderr
    (message,) = sent(chat_env)["messages"]
    assert message["content"] == "diff --git a/x b/x\n+hello\n\nWrite a commit message"


def test_piped_stdin_alone_is_the_prompt(chat_env: InProcessEmulator) -> None:
    result = run("chat", input="say piped words\n")
    assert result.exit_code == 0, result.stderr
    assert sent(chat_env)["messages"] == [{"role": "user", "content": "say piped words\n"}]


@pytest.mark.parametrize(("args", "stdin"), [((), ""), ((), "  \n"), (("",), ""), (("-",), "")])
def test_empty_input_exits_2_before_any_request(
    chat_env: InProcessEmulator, args: tuple[str, ...], stdin: str
) -> None:
    result = run("chat", *args, input=stdin)
    assert result.exit_code == 2
    assert "the prompt is empty" in result.stderr
    assert result.stdout == ""
    assert chat_requests(chat_env) == []


# -- 3. options --------------------------------------------------------------------------


def test_options_become_request_fields(chat_env: InProcessEmulator) -> None:
    result = run(
        "chat",
        "-s",
        "You are terse.",
        "--temperature",
        "0.2",
        "--top-p",
        "0.9",
        "--max-tokens",
        "50",
        "--stop",
        "END",
        "--stop",
        "STOP",
        "--seed",
        "7",
        "say ok",
    )
    assert result.exit_code == 0, result.stderr
    body = sent(chat_env)
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
        0.2,
        0.9,
        50,
        7,
    )
    assert body["stop"] == ["END", "STOP"]
    assert "stream_options" not in body and "response_format" not in body


def test_defaults_come_from_the_profile_config(chat_env: InProcessEmulator) -> None:
    assert run("config", "set", "chat_temperature", "0.5").exit_code == 0
    assert run("config", "set", "chat_system", "Answer in French.").exit_code == 0
    result = run("chat", "say oui")
    assert result.exit_code == 0, result.stderr
    body = sent(chat_env)
    assert body["temperature"] == 0.5
    assert body["messages"][0] == {"role": "system", "content": "Answer in French."}
    run("chat", "--temperature", "1.5", "say non")
    assert sent(chat_env)["temperature"] == 1.5  # the flag wins
    assert run("--profile", "work", "config", "set", "chat_temperature", "0.2").exit_code == 0
    assert run("--profile", "work", "chat", "say ja").exit_code == 0
    assert sent(chat_env)["temperature"] == 0.2
    assert sent(chat_env)["messages"][0]["role"] == "user"  # work has no system prompt


@pytest.mark.parametrize(
    ("setting", "value"),
    [("chat_temperature", "2.5"), ("chat_top_p", "1.5"), ("chat_max_tokens", "40000")],
)
def test_a_default_out_of_range_is_refused_from_the_config_and_the_environment(
    chat_env: InProcessEmulator, monkeypatch: pytest.MonkeyPatch, setting: str, value: str
) -> None:
    refused = run("config", "set", setting, value)
    assert refused.exit_code == 2
    assert refused.stderr.startswith(f"Error: invalid '{value}' for {setting}")
    monkeypatch.setenv(f"SMALLEST_{setting.upper()}", value)
    result = run("chat", "say hi")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert chat_requests(chat_env) == []


@pytest.mark.parametrize(
    "args",
    [
        ("--temperature", "2.5"),
        ("--temperature", "-1"),
        ("--top-p", "1.1"),
        ("--max-tokens", "0"),
        ("--max-tokens", "40000"),
        ("--stop", "a", "--stop", "b", "--stop", "c", "--stop", "d", "--stop", "e"),
        ("--seed", "x"),
        ("-c", "--cid", "abc"),
    ],
)
def test_out_of_range_values_exit_2_with_no_request(
    chat_env: InProcessEmulator, args: tuple[str, ...]
) -> None:
    result = run("chat", *args, "say hi")
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert chat_requests(chat_env) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--temperature", "3"), "--temperature must be between 0 and 2 (got 3)"),
        (("--top-p", "-0.5"), "--top-p must be between 0 and 1 (got -0.5)"),
        (("--max-tokens", "40000"), "--max-tokens must be between 1 and 32768 (got 40000)"),
    ],
)
def test_an_out_of_range_value_is_told_with_its_documented_range(
    chat_env: InProcessEmulator, args: tuple[str, ...], message: str
) -> None:
    result = run("chat", *args, "say hi")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert chat_requests(chat_env) == []


def test_usage_goes_to_stderr_from_include_usage(chat_env: InProcessEmulator) -> None:
    result = run("chat", "--usage", "say hi")
    assert result.exit_code == 0, result.stderr
    assert sent(chat_env)["stream_options"] == {"include_usage": True}
    assert result.stderr.startswith("Tokens: ")
    assert " prompt, " in result.stderr and " total" in result.stderr
    assert "Tokens" not in result.stdout


def test_usage_without_streaming(chat_env: InProcessEmulator) -> None:
    result = run("chat", "--usage", "--no-stream", "say hi")
    usage = json.loads(chat_requests(chat_env)[0].response_body)["usage"]
    assert f"{usage['total_tokens']} total" in result.stderr


def test_json_streamed_is_one_chunk_a_line(chat_env: InProcessEmulator) -> None:
    result = run("chat", "--json", "--usage", "say one two three")
    assert result.exit_code == 0, result.stderr
    chunks = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(chunks) >= 2
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert result.stderr == ""  # --json carries the usage itself


def test_json_not_streamed_is_the_completion_object(chat_env: InProcessEmulator) -> None:
    result = run("chat", "--json", "--no-stream", "say hi")
    completion = json.loads(result.stdout)
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["role"] == "assistant"


def test_json_object_asks_for_json_and_the_reply_parses(chat_env: InProcessEmulator) -> None:
    result = run("chat", "--json-object", "--no-stream", "Give me a colour")
    assert result.exit_code == 0, result.stderr
    assert sent(chat_env)["response_format"] == {"type": "json_object"}
    assert isinstance(json.loads(result.stdout), dict)


def test_a_reply_stopped_at_max_tokens_is_said_on_stderr(chat_env: InProcessEmulator) -> None:
    result = run("chat", "--max-tokens", "2", "count to 50")
    assert result.exit_code == 0, result.stderr
    assert "token limit" in result.stderr
    assert result.stdout.strip()


# -- 4. conversations ------------------------------------------------------------------


def test_every_exchange_is_stored_and_continue_sends_it_back(chat_env: InProcessEmulator) -> None:
    first = run("chat", "-s", "Be kind.", "say first")
    assert first.exit_code == 0, first.stderr
    second = run("chat", "-c", "say second")
    assert second.exit_code == 0, second.stderr
    messages = sent(chat_env)["messages"]
    assert messages == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "say first"},
        {"role": "assistant", "content": first.stdout.rstrip("\n")},
        {"role": "user", "content": "say second"},
    ]
    with History() as history:
        (conversation,) = history.conversations()
        assert conversation.messages == 5


def test_a_continued_conversation_keeps_its_system_prompt_unless_told(
    chat_env: InProcessEmulator,
) -> None:
    run("chat", "-s", "Be kind.", "say one")
    run("config", "set", "chat_system", "Be terse.")  # for new conversations only
    run("chat", "-c", "say two")
    assert sent(chat_env)["messages"][0] == {"role": "system", "content": "Be kind."}
    run("chat", "-c", "-s", "Be loud.", "say three")
    run("chat", "-c", "say four")
    assert sent(chat_env)["messages"][0] == {"role": "system", "content": "Be loud."}
    run("chat", "say five")
    assert sent(chat_env)["messages"][0] == {"role": "system", "content": "Be terse."}


def test_a_system_prompt_cleared_stays_cleared_when_continued(
    chat_env: InProcessEmulator,
) -> None:
    run("chat", "-s", "Be kind.", "say one")
    run("chat", "-c", "-s", "", "say two")
    assert sent(chat_env)["messages"][0] == {"role": "user", "content": "say one"}
    run("chat", "-c", "say three")
    roles = [m["role"] for m in sent(chat_env)["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]  # no system prompt


def test_piped_material_is_named_by_its_instruction(chat_env: InProcessEmulator) -> None:
    run("chat", "Summarise this", input="a long text\n")
    with History() as history:
        assert [c.title for c in history.conversations()] == ["Summarise this"]


def test_cid_continues_a_given_conversation(chat_env: InProcessEmulator) -> None:
    run("chat", "say alpha")
    with History() as history:
        alpha = history.latest()
    run("chat", "say beta")
    assert alpha is not None
    result = run("chat", "--cid", alpha[:5], "say gamma")
    assert result.exit_code == 0, result.stderr
    contents = [m["content"] for m in sent(chat_env)["messages"]]
    assert contents[0] == "say alpha" and contents[-1] == "say gamma"
    assert "say beta" not in contents


def test_no_log_and_the_config_switch_store_nothing(chat_env: InProcessEmulator) -> None:
    assert run("chat", "--no-log", "say secret").exit_code == 0
    assert run("config", "set", "chat_log", "false").exit_code == 0
    assert run("chat", "say also secret").exit_code == 0
    with History() as history:
        assert history.conversations() == []


def test_continue_with_an_empty_history_exits_2(chat_env: InProcessEmulator) -> None:
    result = run("chat", "-c", "say hi")
    assert result.exit_code == 2
    assert "no conversation yet" in result.stderr
    assert chat_requests(chat_env) == []


def test_a_long_conversation_is_trimmed_with_a_note_keeping_the_system_prompt(
    chat_env: InProcessEmulator,
) -> None:
    from smallest_cli.history import Message

    with History() as history:
        cid = history.new_conversation("long")
        history.add(cid, Message("system", "Stay on topic."))
        for turn in range(120):
            history.add(cid, Message("user", f"q{turn}"), Message("assistant", f"a{turn}"))
    result = run("chat", "--cid", cid, "say last")
    assert result.exit_code == 0, result.stderr
    assert "oldest messages are left out" in result.stderr
    messages = sent(chat_env)["messages"]
    assert len(messages) <= 200
    assert messages[0] == {"role": "system", "content": "Stay on topic."}
    assert messages[1]["role"] == "user"
    assert messages[-1] == {"role": "user", "content": "say last"}
    assert messages[-2] == {"role": "assistant", "content": "a119"}


# -- 6. errors ----------------------------------------------------------------------------


def test_a_key_without_electron_exits_4_with_the_plan_hint(
    chat_env: InProcessEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "sk_no_electron_0123456789")
    result = run("chat", "say hi")
    assert result.exit_code == 4
    assert "HTTP 403" in result.stderr
    assert "plan does not include Electron" in result.stderr
    assert result.stdout == ""
    assert len(chat_requests(chat_env)) == 1  # not retried


def test_a_rejected_key_exits_4(
    chat_env: InProcessEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "not-a-key")
    result = run("chat", "say hi")
    assert result.exit_code == 4
    assert "HTTP 401" in result.stderr
    assert "smallest auth login" in result.stderr
    assert len(chat_requests(chat_env)) == 1  # not retried


def test_a_reply_that_is_not_the_json_asked_for_exits_1(chat_env: InProcessEmulator) -> None:
    result = run("chat", "--json-object", "--stop", '"', "Give me a colour")
    assert sent(chat_env)["stop"] == ['"']
    assert result.exit_code == 1
    assert "not valid JSON" in result.stderr
    assert result.stdout.strip() == "{"  # shown as it arrived


def test_chat_history_is_a_prompt_not_the_history_group(chat_env: InProcessEmulator) -> None:
    result = run("chat", "history")
    assert result.exit_code == 0, result.stderr
    assert sent(chat_env)["messages"] == [{"role": "user", "content": "history"}]


@pytest.mark.parametrize("fault", ["429*2", "502*1", "503*2"])
def test_busy_and_unavailable_answers_are_retried(chat_env: InProcessEmulator, fault: str) -> None:
    chat_env.state.faults.replace([f"{fault}@{CHAT}"], 0)
    result = run("--max-wait", "10", "chat", "say hi")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    times = int(fault.split("*")[1])
    assert len(chat_requests(chat_env)) == times + 1


def test_the_concurrency_limit_is_waited_out(chat_env: InProcessEmulator) -> None:
    chat_env.state.faults.replace([f"429:0.2*1@{CHAT}"], 0)
    result = run("chat", "say hi")
    assert result.exit_code == 0, result.stderr
    assert "waiting for a free slot" in result.stderr


def test_over_the_minute_limit_with_no_wait_exits_1_with_a_hint(
    chat_env: InProcessEmulator,
) -> None:
    chat_env.state.limits.set_chat_per_minute(1)
    assert run("chat", "say one").exit_code == 0
    result = run("--max-wait", "0", "chat", "say two")
    assert result.exit_code == 1
    assert "HTTP 429" in result.stderr
    assert "--max-wait" in result.stderr
    assert result.stdout == ""


def test_two_terminals_at_once_on_one_slot_both_get_their_reply_and_are_stored(
    chat_env: InProcessEmulator,
) -> None:
    chat_env.state.limits.set_chat_concurrency(1)
    chat_env.state.pacing = Pacing(chat_first_token_ms=0, chat_token_ms=100)
    clients = [
        subprocess.Popen(
            [sys.executable, "-m", "smallest_cli", "chat", f"count to {n}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (8, 9)
    ]
    outputs = [client.communicate(timeout=60) for client in clients]
    assert [client.returncode for client in clients] == [0, 0], outputs
    assert sorted(out.strip()[-1] for out, _ in outputs) == ["8", "9"]
    statuses = [e.status for e in chat_requests(chat_env)]
    assert statuses.count(200) == 2
    assert 429 in statuses  # one waited for the other's slot
    with History() as history:
        assert sorted(c.title for c in history.conversations()) == ["count to 8", "count to 9"]


def test_a_bad_request_names_the_field(chat_env: InProcessEmulator) -> None:
    chat_env.state.faults.replace([f"400*1@{CHAT}"], 0)
    result = run("chat", "say hi")
    assert result.exit_code == 1
    assert "HTTP 400" in result.stderr


@pytest.mark.no_contract  # the request is the invalid one the spec refuses
def test_a_field_the_api_refuses_is_named_in_the_error(
    chat_env: InProcessEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # five stops get past a CLI that no longer counts them, as a field it does not know would
    monkeypatch.setattr("smallest_cli.jobs.chat.check_stops", tuple)
    result = run("chat", *("--stop", "x") * 5, "say hi")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "Error: Invalid input data: stop: Array must contain at most 4 element(s) (HTTP 400)"
    )
    assert result.stdout == ""


def test_a_context_overflow_says_how_to_trim(chat_env: InProcessEmulator) -> None:
    prompt = "word " * 40_000  # more tokens than the window, in one message
    result = run("chat", "--no-log", input=prompt)
    assert result.exit_code == 1
    error = result.stderr.splitlines()[0]
    assert error.startswith("Error: messages: This model's maximum context length is 32768")
    assert error.endswith("(HTTP 400)")
    assert error.count("maximum context length") == 1  # said once, not again as a detail
    assert "start a new one" in result.stderr


@pytest.mark.no_contract
def test_a_stream_cut_mid_reply_keeps_what_arrived_and_exits_1(
    chat_env: InProcessEmulator,
) -> None:
    chat_env.state.faults.replace([f"truncate-sse*1@{CHAT}"], 0)
    result = run("chat", "count to 20")
    assert result.exit_code == 1
    assert "cut off" in result.stderr
    assert result.stdout.endswith("\n")
    with History() as history:
        cid = history.latest()
        assert cid is not None
        reply = history.messages(cid)[-1]
    assert reply.role == "assistant"
    assert reply.content == result.stdout.rstrip("\n")


@pytest.mark.no_contract
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_disk_behind_stdout_is_said_and_exits_1(
    chat_env: InProcessEmulator, tmp_path: Path
) -> None:
    env = {**os.environ, "SMALLEST_BASE_URL": chat_env.base_url, "SMALLEST_DATA_DIR": str(tmp_path)}
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "smallest_cli", "chat", "say hi"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "Error: cannot write stdout: No space left on device"


def test_a_dropped_connection_exits_1_with_a_hint(chat_env: InProcessEmulator) -> None:
    chat_env.state.faults.replace([f"drop*1@{CHAT}"], 0)
    result = run("--retries", "0", "chat", "say hi")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.no_contract
def test_a_stalled_reply_times_out_with_exit_1(chat_env: InProcessEmulator) -> None:
    chat_env.state.faults.replace([f"stall-body*1@{CHAT}"], 0)
    result = run("--timeout", "1", "chat", "say hi")
    assert result.exit_code == 1
    assert "stopped sending" in result.stderr


@pytest.mark.no_contract
def test_a_malformed_whole_reply_exits_1(chat_env: InProcessEmulator) -> None:
    chat_env.state.faults.replace([f"malformed-json*1@{CHAT}"], 0)
    result = run("chat", "--no-stream", "say hi")
    assert result.exit_code == 1
    assert "not JSON" in result.stderr
    assert result.stdout == ""


@pytest.mark.no_contract
def test_a_captive_portal_page_is_not_taken_for_a_reply(chat_env: InProcessEmulator) -> None:
    chat_env.state.faults.replace([f"html*1@{CHAT}"], 0)
    result = run("chat", "say hi")
    assert result.exit_code == 1
    assert "HTML page" in result.stderr
    assert result.stdout == ""


# -- 5. the REPL on a pseudo-terminal ---------------------------------------------------


class Terminal:
    """`smallest chat` on a pseudo-terminal, typed into and read from."""

    def __init__(self, env: dict[str, str]) -> None:
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the CLI, on the terminal
            os.execve(sys.executable, [sys.executable, "-m", "smallest_cli", "chat"], env)
        self.seen = b""

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} never came; the terminal shows {self.seen!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    self.seen += os.read(self.fd, 4096)
                except OSError:
                    break
        found, _, self.seen = self.seen.partition(text.encode())
        return found.decode(errors="replace")

    def exit_code(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain()  # a child blocked on a full terminal would never end
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"still running after {timeout} s; the terminal shows {self.seen!r}")

    def _drain(self) -> None:
        ready, _, _ = select.select([self.fd], [], [], 0.1)
        if ready:
            try:
                self.seen += os.read(self.fd, 4096)
            except OSError:
                pass


@pytest.fixture
def terminal(chat_env: InProcessEmulator, tmp_path: Path) -> Iterator[Terminal]:
    env = {**os.environ, "TERM": "dumb"}
    screen = Terminal(env)
    yield screen
    try:
        os.kill(screen.pid, 9)
        os.waitpid(screen.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    os.close(screen.fd)


def test_without_a_key_the_repl_does_not_open(
    chat_env: InProcessEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMALLEST_API_KEY")
    result = run("chat", stdin_isatty=True, stdout_isatty=True)
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: not logged in")
    assert "Chatting with Electron" not in result.stderr


def test_the_repl_chats_remembers_and_leaves_on_ctrl_d(
    terminal: Terminal, chat_env: InProcessEmulator, tmp_path: Path
) -> None:
    terminal.wait_for("Ctrl-D to leave.")
    terminal.wait_for("> ")
    terminal.type("say first words\n")
    terminal.wait_for("> ")  # the next prompt: the reply is done
    terminal.type("/system Be brief.\n")
    terminal.wait_for("System prompt: Be brief.")
    terminal.wait_for("> ")
    terminal.type('"""\nsay line one\nline two\n"""\n')
    terminal.wait_for("> ")
    saved = tmp_path / "chat.md"
    terminal.type(f"/save {saved}\n")
    terminal.wait_for("Saved to")
    terminal.wait_for("> ")
    terminal.type(f"/save {saved}\n")
    terminal.wait_for("exists; not overwritten")
    terminal.wait_for("> ")
    terminal.type("/help\n")
    terminal.wait_for("/reset")
    terminal.wait_for("> ")
    terminal.type("\x04")
    assert terminal.exit_code() == 0
    requests = chat_requests(chat_env)
    assert len(requests) == 2
    last = json.loads(requests[1].body)["messages"]
    assert last[0] == {"role": "system", "content": "Be brief."}
    assert last[1]["content"] == "say first words"
    assert last[-1] == {"role": "user", "content": "say line one\nline two"}
    transcript = saved.read_text()
    assert "**You:** say first words" in transcript and "**Electron:**" in transcript
    with History() as history:
        (conversation,) = history.conversations()
        assert conversation.messages == 5  # two exchanges and the system prompt


def test_system_alone_in_the_repl_clears_the_prompt_for_later_continuing(
    terminal: Terminal, chat_env: InProcessEmulator
) -> None:
    terminal.wait_for("> ")
    terminal.type("/system Be brief.\n")
    terminal.wait_for("> ")
    terminal.type("say first\n")
    terminal.wait_for("> ")
    terminal.type("/system\n")
    terminal.wait_for("System prompt cleared.")
    terminal.wait_for("> ")
    terminal.type("say second\n")
    terminal.wait_for("> ")
    terminal.type("\x04")
    assert terminal.exit_code() == 0
    assert sent(chat_env)["messages"][0] == {"role": "user", "content": "say first"}
    result = run("chat", "-c", "say third")
    assert result.exit_code == 0, result.stderr
    assert [m["role"] for m in sent(chat_env)["messages"]] == ["user", "assistant"] * 2 + ["user"]


def test_save_refuses_a_directory_and_prints_on_a_dash(
    terminal: Terminal, chat_env: InProcessEmulator, tmp_path: Path
) -> None:
    terminal.wait_for("> ")
    terminal.type("say saved words\n")
    terminal.wait_for("> ")
    terminal.type(f"/save {tmp_path}\n")
    terminal.wait_for(f"Error: /save {tmp_path} is a directory")
    terminal.wait_for("> ")
    terminal.type("/save -\n")
    shown = terminal.wait_for("> ")
    assert "**You:** say saved words" in shown and "**Electron:** saved words" in shown
    terminal.type("\x04")
    assert terminal.exit_code() == 0
    assert not (Path.cwd() / "-").exists()


def test_ctrl_c_stops_a_reply_and_keeps_the_session(
    terminal: Terminal, chat_env: InProcessEmulator
) -> None:
    chat_env.state.pacing = Pacing(chat_first_token_ms=0, chat_token_ms=500)
    terminal.wait_for("Ctrl-D to leave.")
    terminal.wait_for("> ")
    terminal.type("count to 30\n")
    terminal.wait_for("1")
    terminal.type("\x03")
    terminal.wait_for("reply stopped")
    terminal.wait_for("> ")
    terminal.type("/exit\n")
    assert terminal.exit_code() == 0
    with History() as history:
        cid = history.latest()
        assert cid is not None
        stopped = history.messages(cid)[-1]
    assert stopped.role == "assistant" and stopped.content.startswith("1")


def test_sigterm_ends_the_repl_even_during_a_reply(
    terminal: Terminal, chat_env: InProcessEmulator
) -> None:
    import signal

    chat_env.state.pacing = Pacing(chat_first_token_ms=0, chat_token_ms=500)
    terminal.wait_for("Ctrl-D to leave.")
    terminal.wait_for("> ")
    terminal.type("count to 30\n")
    terminal.wait_for("1")
    os.kill(terminal.pid, signal.SIGTERM)
    assert terminal.exit_code() == 143
