"""The fault grammar."""

from __future__ import annotations

import pytest

from smallest_cli.emulator.faults import Fault, FaultPlan, parse_fault


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("503", Fault("503")),
        ("503*2", Fault("503", times=2)),
        ("429:1.5", Fault("429", retry_after="1.5")),
        ("429:0*1@/waves/v1/tts", Fault("429", "0", 1, "/waves/v1/tts")),
        ("drop*1@/waves", Fault("drop", None, 1, "/waves")),
        ("500*1+3@/waves/v1/tts", Fault("500", None, 1, "/waves/v1/tts", 3)),
        ("500+2", Fault("500", after=2)),
    ],
)
def test_parse_and_spec_round_trip(spec: str, fault: Fault) -> None:
    assert parse_fault(spec) == fault
    assert parse_fault(spec).spec == spec


@pytest.mark.parametrize("spec", ["", "99", "600", "drop:1:2", "503*x", "503@waves", "slow"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="bad fault"):
        parse_fault(spec)


def test_from_env_and_take() -> None:
    from smallest_cli.emulator.settings import EmulatorSettings

    environ = {"SMALLEST_EMULATOR_FAULTS": "503*1@/a, drop", "SMALLEST_EMULATOR_LATENCY_MS": "20"}
    plan = EmulatorSettings.resolve(in_process=True, environ=environ).state().faults
    assert plan.latency_ms == 20
    assert plan.take("/b").spec == "drop"
    assert plan.take("/a/x").spec == "503*1@/a"
    assert plan.take("/a/x").spec == "drop"
    assert plan.to_json() == {"latency_ms": 20, "faults": ["drop"]}


def test_after_lets_requests_through_first() -> None:
    plan = FaultPlan.from_specs(["500*1+2@/tts"])
    assert [plan.take("/tts") is not None for _ in range(4)] == [False, False, True, False]
    assert plan.take("/other") is None


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("reset*1@/waves/v1/tts", Fault("reset", times=1, path="/waves/v1/tts")),
        ("stall", Fault("stall")),
        ("stall-body+2", Fault("stall-body", after=2)),
        ("truncate-sse", Fault("truncate-sse")),
        ("malformed-json*1", Fault("malformed-json", times=1)),
        ("html", Fault("html")),
        ("ws-close:1011:2", Fault("ws-close", close_code=1011, frames=2)),
        ("drop:4*1@/waves/v1/chat", Fault("drop", None, 1, "/waves/v1/chat", frames=4)),
        ("reset:2", Fault("reset", frames=2)),
        ("ws-close:1006*1@/waves/v1/stt", Fault("ws-close", None, 1, "/waves/v1/stt", 0, 1006)),
    ],
)
def test_sabotage_specs_round_trip(spec: str, fault: Fault) -> None:
    assert parse_fault(spec) == fault
    assert parse_fault(spec).spec == spec


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("ws-close", "needs a close code"),
        ("ws-close:1005", "needs a close code"),
        ("ws-close:1011.5", "needs a close code"),
        ("html:2", "only a status code takes a Retry-After"),
        ("stall:1:2", "only a status code takes a Retry-After"),
        ("503:1:2", "only ws-close takes a number of frames"),
    ],
)
def test_bad_sabotage_specs(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_fault(spec)


def test_faults_keep_to_their_transport() -> None:
    plan = FaultPlan.from_specs(["ws-close:1011*1", "truncate-sse*1"])
    assert plan.take("/waves/v1/tts/live", "http").spec == "truncate-sse*1"
    assert plan.take("/waves/v1/tts/live", "http") is None
    assert plan.take("/waves/v1/tts/live", "websocket").spec == "ws-close:1011*1"


def test_every_fault_is_documented_in_serve_help() -> None:
    from smallest_cli.emulator.faults import SABOTAGE
    from tests.conftest import run

    result = run("emulator", "serve", "--help")
    assert result.exit_code == 0
    for what in (*SABOTAGE, "429:1.5", "ws-close:CODE[:N]", "1006", "SMALLEST_EMULATOR_FAULTS"):
        assert what in result.stdout, what
