"""Option values converted without pydantic are the values Typer's own conversion gives,
and what the plain conversion does not take still gets Typer's result and error message."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import typer
from typer._click.exceptions import ClickException
from typer.testing import CliRunner

from smallest_cli.app import app
from smallest_cli.plain_values import convert_plainly


class Colour(str, Enum):
    RED = "red"
    BLUE = "blue"


def command() -> typer.Typer:
    """A one-command app with one option of each kind the CLI declares."""
    sample = typer.Typer()

    @sample.command()
    def show(
        text: str = typer.Option("x", "--text"),
        whole: int = typer.Option(1, "--whole", min=1, max=16),
        count: int = typer.Option(0, "--count"),
        rate: float = typer.Option(1.0, "--rate", min=0.5, max=2.0),
        colour: Colour = typer.Option(Colour.RED, "--colour"),
        tags: list[str] | None = typer.Option(None, "--tag"),
        flag: bool = typer.Option(False, "--flag"),
    ) -> tuple[Any, ...]:
        return (text, whole, count, rate, colour, tags, flag)

    @sample.callback()
    def root() -> None:
        """So that `show` is a subcommand."""

    return sample


def plain_group() -> Any:
    group = typer.main.get_command(command())
    with group.make_context("sample", ["show"], resilient_parsing=True) as ctx:
        convert_plainly(group, ctx)
    return group


def outcome(args: list[str], plainly: bool) -> Any:
    """What `show ARGS` returns (values and their types), or the error it reports."""
    group = plain_group() if plainly else typer.main.get_command(command())
    try:
        values = group.main(["show", *args], "sample", standalone_mode=False)
    except ClickException as error:
        return error.format_message()
    return [(value, type(value)) for value in values]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--text", "héllo wörld"],
        ["--text", ""],
        ["--whole", "16"],
        ["--whole", "007"],
        ["--whole", "+5"],
        ["--whole", "1_0"],
        ["--whole", "5.0"],
        ["--whole", "x"],
        ["--count", "-3"],
        ["--count", "99999999999999999999999"],
        ["--rate", "0.5"],
        ["--rate", "2"],
        ["--rate", "1.25"],
        ["--rate", ".75"],
        ["--rate", "1e0"],
        ["--rate", "nan"],
        ["--rate", "abc"],
        ["--colour", "blue"],
        ["--colour", "BLUE"],
        ["--colour", "green"],
        ["--tag", "a", "--tag", "b c"],
        ["--flag"],
    ],
)
def test_plain_conversion_gives_typers_values_and_errors(args: list[str]) -> None:
    assert outcome(args, plainly=True) == outcome(args, plainly=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--whole", "17"], "--whole must be between 1 and 16 (got 17)"),
        (["--whole", "0"], "--whole must be between 1 and 16 (got 0)"),
        (["--rate", "2.01"], "--rate must be between 0.5 and 2 (got 2.01)"),
    ],
)
def test_a_number_out_of_bounds_is_refused_with_the_whole_range(
    args: list[str], message: str
) -> None:
    assert "Input should be" in outcome(args, plainly=False)  # pydantic names one bound
    assert outcome(args, plainly=True) == message


def test_plain_values_never_reach_typers_conversion() -> None:
    group = plain_group()
    args = [
        "show",
        "--text",
        "t",
        "--whole",
        "3",
        "--rate",
        "1.5",
        "--colour",
        "blue",
        "--tag",
        "a",
    ]
    values = group.main(args, "sample", standalone_mode=False)
    assert values == ("t", 3, 0, 1.5, Colour.BLUE, ["a"], False)
    show = group.commands["show"]
    conversions = [param._runtime_param for param in [*show.params, show._help_option]]
    assert {type(c).__name__ for c in conversions} == {"PlainConversion"}
    assert [c.typer_conversion for c in conversions] == [None] * len(conversions)


def test_the_cli_reports_a_number_out_of_bounds_with_the_bounds() -> None:
    result: Any = CliRunner().invoke(app, ["--timeout", "0.01", "tts", "--help"])
    assert result.exit_code == 2
    assert "Error: --timeout must be at least 0.1 (got 0.01)" in result.output
