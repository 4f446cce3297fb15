"""The README's recipes, run: every block it says was copied from a real run still is one.

A block is marked by HTML comments on the lines right above it (invisible when rendered):

    <!-- recipes -->                        run every `$ command` below and compare
    <!-- recipes setup: COMMAND -->         run COMMAND first, its output unchecked
    <!-- recipes skip WORD: REASON -->      do not run the commands containing WORD
    <!-- recipes unordered WORD: REASON --> compare the lines of those commands in any order

Each `$ command` line is one recipe: it runs in `bash -c` with stdout and stderr
interleaved in one pipe (unbuffered, so in the order a terminal shows them; what only a
terminal gets, such as progress bars and aligned fields, is not shown), and what it prints
must equal the lines under it, up to the next `$`. The recipes of a block share one fresh
directory (later ones read files earlier ones wrote) and one fresh home (config dir,
opt-in credentials file, no keyring); blocks run in parallel. Only the values in NORMALISE
and trailing whitespace may differ. A recipe needing a tool that is not installed is
skipped, naming the tool.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.shell import deterministic_env, smallest_script

README = REPO / "README.md"

NORMALISE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"\b[0-9a-f]{24}\b"), "<id>"),  # pronunciation dictionaries (Mongo ids)
    (re.compile(r"/\S*/\.config/smallest/"), "~/.config/smallest/"),  # the run's home
    (re.compile(r"\bvoice_[A-Za-z0-9]{10}\b"), "voice_<id>"),  # a new clone's id
)
"""What may differ between two runs of one recipe: ids, ports, the home directory, clone ids."""

TOOLS = ("jq", "sox", "file", "truncate", "timeout", "cut", "grep", "sed", "head")
"""Programs recipes call besides `smallest`; a recipe using an absent one is skipped."""

COMMAND_SECONDS = 90

MARKER = re.compile(
    r"<!-- recipes(?:"
    r" setup: (?P<setup>.+?)"
    r"| (?P<loose>skip|unordered) (?P<word>\S+): (?P<reason>.+?)"
    r")? -->"
)
COPIED = re.compile(r"copied from (a )?(real )?run", re.IGNORECASE)


@dataclass(frozen=True)
class Recipe:
    command: str
    expected: str
    line: int  # in README.md, for the test id and the failure message
    skip: str | None = None  # why it is not run
    unordered: str | None = None  # why its lines may come in any order


@dataclass(frozen=True)
class Block:
    line: int
    setup: tuple[str, ...]
    recipes: tuple[Recipe, ...]


def parse_blocks(text: str) -> list[Block]:
    """The marked blocks of a Markdown text, in order."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if not MARKER.fullmatch(lines[index]):
            if lines[index].startswith("<!-- recipes"):
                raise ValueError(f"README.md:{index + 1}: not a recipes marker: {lines[index]}")
            index += 1
            continue
        setup: list[str] = []
        loose: dict[tuple[str, str], str] = {}
        while index < len(lines) and (marker := MARKER.fullmatch(lines[index])):
            if marker["setup"]:
                setup.append(marker["setup"])
            elif marker["loose"]:
                loose[marker["loose"], marker["word"]] = marker["reason"]
            index += 1
        start = index
        while index < len(lines) and (lines[index].startswith("    ") or not lines[index]):
            index += 1
        body = [line.removeprefix("    ") for line in lines[start:index]]
        blocks.append(Block(start + 1, tuple(setup), tuple(_recipes(body, start + 1, loose))))
    return blocks


def _recipes(
    body: list[str], first_line: int, loose: dict[tuple[str, str], str]
) -> Iterator[Recipe]:
    starts = [n for n, line in enumerate(body) if line.startswith("$ ")]
    if not starts or starts[0] != 0:
        raise ValueError(f"README.md:{first_line}: a marked block must start with `$ `")
    for start, end in zip(starts, [*starts[1:], len(body)], strict=True):
        command = body[start].removeprefix("$ ")
        reasons = {kind: why for (kind, word), why in loose.items() if word in command}
        yield Recipe(
            command,
            "\n".join(body[start + 1 : end]),
            first_line + start,
            skip=reasons.get("skip"),
            unordered=reasons.get("unordered"),
        )


def normalise(output: str, *, unordered: bool = False) -> str:
    for pattern, replacement in NORMALISE:
        output = pattern.sub(replacement, output)
    lines = [line.rstrip() for line in output.splitlines()]
    return "\n".join(sorted(lines) if unordered else lines).strip("\n")


def missing_tool(command: str) -> str | None:
    for tool in TOOLS:
        if re.search(rf"(^|[|;&(]\s*){tool}\b", command) and shutil.which(tool) is None:
            return tool
    return None


BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))
RECIPES = [(block, recipe) for block in BLOCKS for recipe in block.recipes]


def run_in_shell(command: str, cwd: Path, env: dict[str, str], groups: list[int]) -> str:
    """What `bash -c command` prints, stdout and stderr interleaved in one pipe. The shell
    leads a process group of its own, added to `groups`, so what it leaves running in the
    background (a setup's `emulator serve`) can be stopped with the block."""
    with subprocess.Popen(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as shell:
        groups.append(shell.pid)
        try:
            output, _ = shell.communicate(timeout=COMMAND_SECONDS)
        except subprocess.TimeoutExpired:
            shell.kill()
            raise
    return output


def stop_groups(groups: list[int]) -> None:
    """Stop whatever the block's shells left running."""
    for group in groups:
        try:
            os.killpg(group, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass


def run_block(block: Block, directory: Path) -> dict[int, str]:
    """Run a block's recipes in order in `directory`; the output of each, by README line."""
    work, home = directory / "work", directory / "home"
    work.mkdir(parents=True)
    home.mkdir()
    env = deterministic_env(home)
    groups: list[int] = []
    try:
        for command in block.setup:
            run_in_shell(command, work, env, groups)
        return {
            recipe.line: run_in_shell(recipe.command, work, env, groups)
            for recipe in block.recipes
            if recipe.skip is None and missing_tool(recipe.command) is None
        }
    finally:
        stop_groups(groups)


@pytest.fixture(scope="module")
def outputs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[int, Future[dict[int, str]]]]:
    """Each selected block started at once in a thread of its own; its outputs to come."""
    smallest_script()
    selected = {
        item.callspec.params["block"].line
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    blocks = [block for block in BLOCKS if block.line in selected]
    with ThreadPoolExecutor(max_workers=max(len(blocks), 1)) as pool:
        yield {
            block.line: pool.submit(run_block, block, tmp_path_factory.mktemp("recipes"))
            for block in blocks
        }


@pytest.mark.parametrize(
    ("block", "recipe"),
    [pytest.param(block, recipe, id=f"L{recipe.line}") for block, recipe in RECIPES],
)
def test_recipe_output_matches_the_readme(
    block: Block, recipe: Recipe, outputs: dict[int, Future[dict[int, str]]]
) -> None:
    if recipe.skip is not None:
        pytest.skip(f"README.md:{recipe.line} marked to skip: {recipe.skip}")
    if tool := missing_tool(recipe.command):
        pytest.skip(f"README.md:{recipe.line} needs `{tool}`, which is not installed")
    actual = outputs[block.line].result()[recipe.line]
    unordered = recipe.unordered is not None
    assert normalise(actual, unordered=unordered) == normalise(
        recipe.expected, unordered=unordered
    ), f"README.md:{recipe.line}: `$ {recipe.command}` printed:\n{actual}"


def test_every_copied_from_a_real_run_claim_is_a_marked_block() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    marked = {block.line for block in BLOCKS}
    unmarked = []
    for number, line in enumerate(lines, start=1):
        if COPIED.search(line):
            following = next(n for n in range(number, len(lines)) if lines[n].startswith("    "))
            if following + 1 not in marked:
                unmarked.append(f"README.md:{number}: {line}")
    assert unmarked == []


def test_the_fresh_machine_setup_is_the_main_commands_own_run() -> None:
    text = README.read_text(encoding="utf-8")
    main = re.search(r"<!-- main-command -->\n    \$ (.+)\n<!-- /main-command -->", text)
    assert main is not None
    [setup] = BLOCKS[0].setup  # `hello.wav` is then …: the file the main command made
    assert main[1].endswith(f" && {setup}")


def test_markers_parse_into_recipes_with_their_setup_skips_and_loose_lines() -> None:
    [block] = parse_blocks(
        "Copied from a real run:\n\n"
        "<!-- recipes -->\n"
        "<!-- recipes setup: touch a.wav -->\n"
        "<!-- recipes skip sleep: timed -->\n"
        "<!-- recipes unordered batch: concurrent -->\n"
        "    $ ls\n"
        "    a.wav\n"
        "\n"
        "    $ sleep 9\n"
        "    $ batch x y\n"
        "    y\n"
        "    x\n"
        "\n"
        "Prose.\n"
    )
    assert block.setup == ("touch a.wav",)
    assert block.recipes == (
        Recipe("ls", "a.wav\n", line=7),
        Recipe("sleep 9", "", line=10, skip="timed"),
        Recipe("batch x y", "y\nx\n", line=11, unordered="concurrent"),
    )
    assert normalise("x\ny", unordered=True) == normalise("y\nx\n", unordered=True)
    with pytest.raises(ValueError, match="not a recipes marker"):
        parse_blocks("<!-- recipes skp sleep: timed -->\n    $ ls\n")


def test_a_drifted_recipe_is_caught_and_normalised_values_are_not(tmp_path: Path) -> None:
    smallest_script()
    [block] = parse_blocks(
        "<!-- recipes -->\n"
        "    $ smallest --version\n"
        "    smallest 0.0.0-not-this-one\n"
        "    $ echo 'port 127.0.0.1:1234'; echo error >&2\n"
        "    port 127.0.0.1:99\n"
        "    error\n"
    )
    version, port = block.recipes
    output = run_block(block, tmp_path)
    assert normalise(output[version.line]) != normalise(version.expected)
    assert normalise(output[port.line]) == normalise(port.expected)
