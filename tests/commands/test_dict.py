"""`smallest dict` against the emulator over loopback: exit codes, stdout versus stderr, and
the requests the emulator saw."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from smallest_cli.api.errors import status_error
from smallest_cli.dictionary_file import Entry
from smallest_cli.jobs.dicts import _sending
from tests.commands.test_tts import no_sound_device  # noqa: F401 (a fixture)
from tests.conftest import run
from tests.test_voice_catalog import PROBE

SCRIPT = Path(__file__).parents[1] / "scripted_editor.py"
WORDS = "# our product's words\nnginx\tengine x\nSQL\tsequel\nAPI\tay pee eye\n"
PATH = "/waves/v1/pronunciation-dicts"


@pytest.fixture
def api(api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The emulator with no dictionaries, the working directory a fresh one."""
    api_env.state.dictionaries.clear()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return api_env


def writes(emulator) -> list:
    """The dictionary requests that change something (POST, PUT, DELETE)."""
    return [e for e in emulator.state.exchanges() if e.path == PATH and e.method != "GET"]


def requests(emulator) -> list:
    return [e for e in emulator.state.exchanges() if e.kind == "http"]


def config_text() -> str:
    return (Path(os.environ["SMALLEST_CONFIG_DIR"]) / "config.toml").read_text()


def push(*args: str, **context):
    return run("dict", "push", *args, **context)


def created(api, name: str = "product", text: str = WORDS) -> str:
    Path(f"{name}.tsv").write_text(text)
    result = push(f"{name}.tsv")
    assert result.exit_code == 0, result.stderr
    api.state.clear()
    return result.stdout.strip()


# -- push: files that live in git ----------------------------------------------------------


def test_push_creates_once_then_says_unchanged(api) -> None:
    Path("words.tsv").write_text(WORDS)
    first = push("words.tsv", "--name", "product")
    assert first.exit_code == 0, first.stderr
    dict_id = first.stdout.strip()
    assert len(dict_id) == 24 and first.stdout == dict_id + "\n"
    assert first.stderr == f"product: created {dict_id} with 3 entries\n"
    assert f'product = "{dict_id}"' in config_text()
    second = push("words.tsv", "--name", "product")
    assert (second.exit_code, second.stdout, second.stderr) == (
        0,
        first.stdout,
        "product: unchanged\n",
    )
    [post] = writes(api)
    assert post.method == "POST"
    assert json.loads(post.body) == {
        "items": [
            {"word": "nginx", "pronunciation": "engine x"},
            {"word": "SQL", "pronunciation": "sequel"},
            {"word": "API", "pronunciation": "ay pee eye"},
        ]
    }


def test_push_sends_the_whole_list_once_when_the_file_changed(api) -> None:
    dict_id = created(api)
    Path("product.tsv").write_text("nginx\tengine ex\nAPI\tay pee eye\nRedis\tred iss\n")
    result = push("product.tsv")  # the name defaults to the file's stem
    assert (result.exit_code, result.stdout) == (0, dict_id + "\n")
    assert result.stderr == "product: +1 added, -1 removed, ~1 changed\n"
    [put] = writes(api)
    assert put.method == "PUT"
    assert json.loads(put.body) == {
        "id": dict_id,
        "items": [
            {"word": "nginx", "pronunciation": "engine ex"},
            {"word": "API", "pronunciation": "ay pee eye"},
            {"word": "Redis", "pronunciation": "red iss"},
        ],
    }
    shown = run("dict", "show", "product")
    assert shown.stdout == "API\tay pee eye\nnginx\tengine ex\nRedis\tred iss\n"


def test_push_dry_run_prints_the_difference_and_sends_nothing(api) -> None:
    created(api)
    Path("product.tsv").write_text("nginx\tengine x\nSQL\tsee quel\nRedis\tred iss\n")
    result = push("product.tsv", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "- API\tay pee eye\n+ Redis\tred iss\n~ SQL\tsequel -> see quel\n"
    assert result.stderr == (
        "product: would update: +1 added, -1 removed, ~1 changed (dry run: nothing was sent)\n"
    )
    assert writes(api) == []


def test_push_of_a_name_whose_dictionary_is_gone_names_force(api) -> None:
    old_id = created(api)
    api.state.dictionaries.clear()  # deleted elsewhere (the web console, a colleague)
    refused = push("product.tsv")
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert f"Error: the dictionary 'product' (id {old_id}) no longer exists on the API" in (
        refused.stderr
    )
    assert "--force" in refused.stderr
    assert writes(api) == []
    forced = push("product.tsv", "--force")
    assert forced.exit_code == 0, forced.stderr
    new_id = forced.stdout.strip()
    assert new_id != old_id and f'product = "{new_id}"' in config_text()


def test_a_bad_file_is_refused_naming_the_line_before_any_request(api) -> None:
    Path("words.tsv").write_text("nginx\tengine x\n\nnginx\tengine ex\n")
    result = push("words.tsv")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(
        "Error: words.tsv: line 3: the word 'nginx' is given twice (first on line 1)\n"
    )
    assert requests(api) == []


# -- create ----------------------------------------------------------------------------------


def test_create_from_a_file_prints_only_the_id(api) -> None:
    Path("words.csv").write_text("word,pronunciation\nnginx,engine x\n")
    result = run("dict", "create", "words.csv")
    assert result.exit_code == 0, result.stderr
    dict_id = result.stdout.strip()
    assert result.stdout == dict_id + "\n"
    assert result.stderr == f"Created {dict_id} with 1 entry.\n"
    assert [d.id for d in api.state.dictionaries.of("sk_test_0123456789abcdef")] == [dict_id]


def test_create_from_stdin_and_pairs_with_a_name(api) -> None:
    result = run(
        "dict",
        "create",
        "-",
        "--word",
        "Redis",
        "--say",
        "red iss",
        "--name",
        "infra",
        input="nginx\tengine x\n",
    )
    assert result.exit_code == 0, result.stderr
    [post] = writes(api)
    assert json.loads(post.body)["items"] == [
        {"word": "nginx", "pronunciation": "engine x"},
        {"word": "Redis", "pronunciation": "red iss"},
    ]
    assert run("dict", "show", "infra").stdout == "nginx\tengine x\nRedis\tred iss\n"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--word", "nginx"), None, "Error: 1 --word but 0 --say"),
        (("-",), "nginx\t\n", "Error: stdin: line 1: empty pronunciation"),
        (("-",), '[{"word": "a\\tb", "pronunciation": "c"}]', "inside the word"),
        ((), None, "Error: no entries to create a dictionary from"),
        (("missing.tsv",), None, "Error: no such file: missing.tsv"),
    ],
)
def test_create_refuses_bad_input_with_exit_2(api, args, stdin, message) -> None:
    result = run("dict", "create", *args, input=stdin)
    assert (result.exit_code, result.stdout) == (2, "")
    assert message in result.stderr
    assert requests(api) == []


def test_create_reads_piped_stdin_without_a_file(api) -> None:
    result = run("dict", "create", input="nginx\tengine x\n")
    assert result.exit_code == 0, result.stderr
    [post] = writes(api)
    assert json.loads(post.body)["items"] == [{"word": "nginx", "pronunciation": "engine x"}]
    assert result.stdout == json.loads(post.response_body)["id"] + "\n"


def test_an_excel_csv_with_a_byte_order_mark_reads_its_header(api) -> None:
    Path("words.csv").write_text("\ufeffword,pronunciation\r\nnginx,engine x\r\n")
    result = run("dict", "create", "words.csv")
    assert result.exit_code == 0, result.stderr
    [post] = writes(api)
    assert json.loads(post.body)["items"] == [{"word": "nginx", "pronunciation": "engine x"}]


def test_problems_are_named_in_the_order_of_the_lines(api) -> None:
    Path("bad.tsv").write_text("a\t\nb\tc\td\n")
    result = run("dict", "create", "bad.tsv")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: bad.tsv: line 1: empty pronunciation (and 1 more)\n")


def test_delete_several_at_once(api) -> None:
    first = created(api)
    second = run("dict", "create", "--word", "x", "--say", "ex").stdout.strip()
    result = run("dict", "delete", "product", second, "--yes")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == f"Deleted product ({first}).\nDeleted {second}.\n"
    assert [json.loads(e.body) for e in writes(api)][-2:] == [{"id": first}, {"id": second}]
    assert run("dict", "list").stdout == ""


# -- list, show ------------------------------------------------------------------------------


def test_list_piped_terminal_and_json(api) -> None:
    dict_id = created(api)
    unnamed = run("dict", "create", "--word", "x", "--say", "ex").stdout.strip()
    piped = run("dict", "list")
    assert piped.exit_code == 0, piped.stderr
    lines = [line.split("\t") for line in piped.stdout.splitlines()]
    assert [(row[0], row[1], row[2], row[4]) for row in lines] == [
        (dict_id, "product", "3", "API,nginx,SQL"),
        (unnamed, "-", "1", "x"),
    ]
    table = run("dict", "list", stdout_isatty=True)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", table.stdout)
    assert plain.split()[:5] == ["ID", "NAME", "WORDS", "CREATED", "FIRST"]
    assert "API, nginx, SQL" in plain
    assert dict_id in plain.split() and unnamed in plain.split()  # ids whole, to copy
    assert re.search(r"  \d{4}-\d\d-\d\d \d\d:\d\d  ", plain)  # created, to the minute
    data = json.loads(run("dict", "list", "--json").stdout)
    assert data[0]["id"] == dict_id and data[0]["name"] == "product"
    assert data[0]["word_count"] == 3 and data[1]["name"] is None


def test_show_unknown_name_is_a_usage_error_without_a_request(api) -> None:
    result = run("dict", "show", "nosuch")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "Error: no dictionary named 'nosuch' in profile 'default'" in result.stderr
    assert requests(api) == []


def test_show_unknown_id_exits_1_with_a_hint_to_list(api) -> None:
    result = run("dict", "show", "0123456789abcdef01234567")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: no dictionary '0123456789abcdef01234567' on the API\n"
        "Hint: `smallest dict list` shows the dictionaries and their ids\n"
    )


def test_show_json_reads_back_as_a_file(api) -> None:
    created(api)
    Path("back.json").write_text(run("dict", "show", "product", "--json").stdout)
    assert run("dict", "push", "back.json", "--name", "product").stderr == "product: unchanged\n"


def test_a_rejected_key_exits_4(api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "not-a-key")
    result = run("dict", "list")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.startswith("Error: ")


@pytest.mark.no_contract  # the request breaks the schema on purpose
def test_the_emulators_zod_400_names_the_line_of_the_file(api) -> None:
    """The API's own 400 body (an entry our checks would have refused, sent anyway) comes
    back naming the line of the user's file and the field."""
    from smallest_cli.context import AppContext

    context = AppContext()
    client = context.client()
    entries = [Entry("nginx", "engine x", 2), Entry("SQL", "", 7)]
    with pytest.raises(Exception) as caught:
        _sending(lambda: client.dictionaries.create(entries), entries, "words.tsv")
    context.close()
    assert str(caught.value) == (
        "Invalid request body: words.tsv line 7 (pronunciation of 'SQL'): "
        "String must contain at least 1 character(s) (HTTP 400)"
    )
    [post] = writes(api)
    assert post.status == 400


def test_the_apis_400_names_the_line_of_the_file() -> None:
    body = {
        "error": "Invalid request body",
        "details": [{"code": "too_small", "path": ["items", 1, "word"], "message": "Too short"}],
    }
    entries = [Entry("a", "b", 2), Entry("c", "d", 5)]

    def send():
        raise status_error(400, {}, json.dumps(body).encode())

    with pytest.raises(Exception) as caught:
        _sending(send, entries, "words.tsv")
    assert str(caught.value) == (
        "Invalid request body: words.tsv line 5 (word of 'c'): Too short (HTTP 400)"
    )


# -- edit, add, remove -------------------------------------------------------------------------


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    plan = tmp_path / "plan"
    plan.mkdir()
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {SCRIPT}")
    monkeypatch.setenv("SCRIPTED_EDITOR_DIR", str(plan))
    return plan


def test_edit_a_valid_change_is_one_put_and_a_summary(api, editor: Path) -> None:
    dict_id = created(api)
    (editor / "1.txt").write_text(
        "API\tay pee eye\nnginx\tengine ex\nRedis\tred iss\nKafka\tcaf ka\n"
    )
    result = run("dict", "edit", "product")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "product: +2 added, -1 removed, ~1 changed\n"
    shown = (editor / "seen-1.txt").read_text()
    assert shown.startswith(f"# Pronunciation dictionary product ({dict_id}).\n")
    assert shown.endswith("API\tay pee eye\nnginx\tengine x\nSQL\tsequel\n")
    [put] = writes(api)
    assert put.method == "PUT" and len(json.loads(put.body)["items"]) == 4


def test_edit_an_invalid_change_reopens_until_fixed(api, editor: Path) -> None:
    created(api)
    (editor / "1.txt").write_text("API\tay pee eye\nnginx\n")
    (editor / "2.txt").write_text("API\tay pee eye\nnginx\tengine x\n")
    result = run("dict", "edit", "product")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "product: +0 added, -1 removed, ~0 changed\n"
    assert (
        (editor / "seen-2.txt")
        .read_text()
        .startswith("# ERROR: line 4: no tab between the word and its pronunciation\n#\nAPI")
    )
    assert len(writes(api)) == 1


@pytest.mark.no_contract  # the fault's 400 has no zod body
def test_edit_a_failed_put_keeps_the_edit_in_a_file(api, editor: Path) -> None:
    created(api)
    (editor / "1.txt").write_text("nginx\tengine ex\nKafka\tcaf ka\n")
    api.state.faults.replace([f"400*1+1@{PATH}"], 0)  # the GET goes through, the PUT fails
    result = run("dict", "edit", "product")
    assert (result.exit_code, result.stdout) == (1, "")
    found = re.search(r"your edit is kept in (\S+\.tsv)", result.stderr)
    assert found, result.stderr
    assert "`smallest dict push " + found.group(1) + " --name product`" in result.stderr
    kept = Path(found.group(1))
    assert kept.read_text().endswith("Kafka\tcaf ka\nnginx\tengine ex\n")
    kept.unlink()


def test_edit_keeps_a_word_starting_with_hash_that_the_listing_cannot_hold(
    api, editor: Path
) -> None:
    made = run("dict", "create", "--word", "#1", "--say", "number one", "--name", "product")
    dict_id = made.stdout.strip()
    run("dict", "add", "product", "nginx", "engine x")
    api.state.clear()
    unchanged = run("dict", "edit", "product")  # step 1: saved as it was shown
    assert unchanged.stderr == "product: no changes; nothing was sent.\n"
    assert writes(api) == []
    assert "'#1'" in (editor / "seen-1.txt").read_text().split("\nnginx")[0]
    (editor / "2.txt").write_text("nginx\tengine ex\n")
    changed = run("dict", "edit", "product")
    assert changed.stderr == "product: +0 added, -0 removed, ~1 changed\n"
    [put] = writes(api)
    assert json.loads(put.body) == {
        "id": dict_id,
        "items": [
            {"word": "nginx", "pronunciation": "engine ex"},
            {"word": "#1", "pronunciation": "number one"},
        ],
    }


def test_edit_emptied_file_cancels_and_no_change_sends_nothing(api, editor: Path) -> None:
    created(api)
    (editor / "1.txt").write_text("# nothing left\n")
    cancelled = run("dict", "edit", "product")
    assert (cancelled.exit_code, cancelled.stdout) == (0, "")
    assert cancelled.stderr == "Edit cancelled: the file was emptied; nothing was sent.\n"
    unchanged = run("dict", "edit", "product")  # step 2: the editor saves nothing new
    assert unchanged.stderr == "product: no changes; nothing was sent.\n"
    assert writes(api) == []


def test_edit_without_an_editor_or_a_terminal_refuses_before_any_request(
    api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created(api)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for default in ("vi", "notepad"):  # stand-ins that would show they were run
        fake = bin_dir / default
        fake.write_text(f"#!/bin/sh\ntouch {tmp_path / 'ran'}\n")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    result = run("dict", "edit", "product")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("Error: no editor: VISUAL and EDITOR are unset")
    assert "`smallest dict add`" in result.stderr
    assert not (tmp_path / "ran").exists() and requests(api) == []


@pytest.mark.parametrize(
    ("word", "say", "problem"),
    [("", "x", "empty word"), ("a\tb", "x", "a tab or newline inside the word")],
)
def test_add_refuses_a_bad_pair_naming_its_arguments(api, word, say, problem) -> None:
    created(api)
    result = run("dict", "add", "product", word, say)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"Error: dict add: {problem}\n")
    assert requests(api) == []


def test_add_and_remove_send_the_complete_list(api) -> None:
    created(api)
    added = run("dict", "add", "product", "Redis", "red iss")
    assert (added.exit_code, added.stderr) == (0, "product: +1 added, -0 removed, ~0 changed\n")
    removed = run("dict", "remove", "product", "SQL", "API")
    assert (removed.exit_code, removed.stderr) == (0, "product: +0 added, -2 removed, ~0 changed\n")
    first, second = writes(api)
    assert len(json.loads(first.body)["items"]) == 4
    assert json.loads(second.body)["items"] == [
        {"word": "nginx", "pronunciation": "engine x"},
        {"word": "Redis", "pronunciation": "red iss"},
    ]
    missing = run("dict", "remove", "product", "sql")
    assert missing.exit_code == 2
    assert "Error: no word 'sql' in product" in missing.stderr
    assert len(writes(api)) == 2


# -- delete ----------------------------------------------------------------------------------


def test_delete_refuses_to_guess_without_a_terminal(api) -> None:
    created(api)
    result = run("dict", "delete", "product")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "pass --yes" in result.stderr
    assert requests(api) == []


def test_delete_asks_on_a_terminal(api) -> None:
    dict_id = created(api)
    declined = run("dict", "delete", "product", input="n\n", stdin_isatty=True)
    assert declined.exit_code == 0 and "Nothing was deleted." in declined.stderr
    assert writes(api) == []
    accepted = run("dict", "delete", "product", input="y\n", stdin_isatty=True)
    assert accepted.exit_code == 0, accepted.stderr
    [delete] = writes(api)
    assert (delete.method, json.loads(delete.body)) == ("DELETE", {"id": dict_id})
    assert "product" not in config_text()


def test_delete_of_a_name_whose_dictionary_is_gone_forgets_the_name(api) -> None:
    dict_id = created(api)
    api.state.dictionaries.clear()  # deleted elsewhere
    result = run("dict", "delete", "product", "--yes")
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert result.stderr == (
        f"Warning: product ({dict_id}) was already gone from the API; forgot the name 'product'\n"
    )
    assert "product" not in config_text()
    assert run("dict", "show", "product").exit_code == 2


def test_delete_yes_and_an_unknown_id(api) -> None:
    dict_id = created(api)
    assert run("dict", "delete", dict_id, "--yes").exit_code == 0
    again = run("dict", "delete", dict_id, "--yes")
    assert again.exit_code == 1
    assert "`smallest dict list`" in again.stderr


# -- pull --------------------------------------------------------------------------------------


def test_pull_writes_a_sorted_listing_that_pushes_unchanged(api) -> None:
    created(api)
    result = run("dict", "pull", "product", "-o", "pulled.tsv")
    assert (result.exit_code, result.stdout) == (0, "")
    text = Path("pulled.tsv").read_text()
    assert text.endswith("API\tay pee eye\nnginx\tengine x\nSQL\tsequel\n")
    assert text.startswith("# ")
    assert run("dict", "pull", "product").stdout == text
    assert push("pulled.tsv", "--name", "product").stderr == "product: unchanged\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("words.csv", 'word,pronunciation\n"a,b",c\nAPI,ay pee eye\nnginx,engine x\nSQL,sequel\n'),
        (
            "words.json",
            '[\n  {"word": "a,b", "pronunciation": "c"},\n'
            '  {"word": "API", "pronunciation": "ay pee eye"},\n'
            '  {"word": "nginx", "pronunciation": "engine x"},\n'
            '  {"word": "SQL", "pronunciation": "sequel"}\n]\n',
        ),
    ],
)
def test_pull_writes_the_format_of_the_extension_so_push_reads_it(api, name, expected) -> None:
    created(api, text=WORDS + "a,b\tc\n")
    result = run("dict", "pull", "product", "-o", name)
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert Path(name).read_text() == expected
    assert push(name, "--name", "product").stderr == "product: unchanged\n"


def test_pull_warns_of_a_word_a_tsv_file_reads_as_a_comment(api) -> None:
    made = run("dict", "create", "--word", "#1", "--say", "number one", "--name", "product")
    assert made.exit_code == 0, made.stderr
    result = run("dict", "pull", "product", "-o", "words.tsv")
    assert result.exit_code == 0
    assert "Warning: the word '#1' starts with '#'" in result.stderr
    assert "words.json" in result.stderr
    kept = run("dict", "pull", "product", "-o", "words.json")
    assert "Warning" not in kept.stderr
    assert push("words.json", "--name", "product").stderr == "product: unchanged\n"


def test_pull_to_a_missing_directory_fails_before_any_request(api) -> None:
    created(api)
    result = run("dict", "pull", "product", "-o", "no/such/dir/words.tsv")
    assert result.exit_code == 2
    assert requests(api) == []


# -- speech --------------------------------------------------------------------------------------


def test_tts_say_resolves_local_names_and_refuses_unknown_ones(api, tmp_path: Path) -> None:
    dict_id = created(api)
    other = run("dict", "create", "--word", "x", "--say", "ex").stdout.strip()
    api.state.clear()
    said = run(
        "tts",
        "say",
        "Deploy it",
        "--dict",
        "product",
        "--dict",
        other,
        "-o",
        str(tmp_path / "a.wav"),
    )
    assert said.exit_code == 0, said.stderr
    [tts] = [e for e in requests(api) if e.path.startswith("/waves/v1/tts")]
    assert json.loads(tts.body)["pronunciation_dicts"] == [dict_id, other]
    api.state.clear()
    refused = run("tts", "say", "Deploy it", "--dict", "prodcut", "-o", str(tmp_path / "b.wav"))
    assert refused.exit_code == 2
    assert "no dictionary named 'prodcut'" in refused.stderr
    assert requests(api) == []


def test_tts_say_with_an_unknown_id_hints_at_dict_list(api, tmp_path: Path) -> None:
    result = run(
        "tts", "say", "Hi", "--dict", "0123456789abcdef01234567", "-o", str(tmp_path / "a.wav")
    )
    assert (result.exit_code, result.stdout) == (1, "")
    assert "Hint: is every --dict id still there? `smallest dict list` shows them" in result.stderr


def test_try_speaks_with_the_dictionary_to_a_file(api, tmp_path: Path) -> None:
    dict_id = created(api)
    target = tmp_path / "try.wav"
    result = run("dict", "try", "product", "Deploy it with nginx", "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert sf.info(target).frames > 0
    [tts] = [e for e in requests(api) if e.path.startswith("/waves/v1/tts")]
    body = json.loads(tts.body)
    assert (body["text"], body["pronunciation_dicts"]) == ("Deploy it with nginx", [dict_id])


@pytest.mark.usefixtures("no_sound_device")
def test_try_plays_on_a_terminal_and_pipes_audio_otherwise(api) -> None:
    created(api)
    speakers = run("dict", "try", "product", "Deploy it with nginx", stdout_isatty=True)
    assert speakers.exit_code == 1
    assert "cannot play audio: no output device" in speakers.stderr
    assert [e for e in requests(api) if e.path.startswith("/waves/v1/tts")] == []
    piped = run("dict", "try", "product", "Deploy it with nginx")
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout_bytes[:4] == b"RIFF"


# -- completion ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words", ["smallest dict show ", "smallest tts say Hi --dict ", "smallest dict delete x "]
)
def test_completion_offers_names_and_cached_ids_without_a_request(api, words: str) -> None:
    dict_id = created(api)
    unnamed = run("dict", "create", "--word", "x", "--say", "ex").stdout.strip()
    run("dict", "list")  # fills the cache
    api.state.clear()
    env = {
        **os.environ,
        "_SMALLEST_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split())),
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert proc.stdout.split() == ["product", dict_id, unnamed]
    modules = json.loads(proc.stderr.split("MODULES ", 1)[1])
    assert not {"httpx", "rich", "uvicorn", "starlette"} & set(modules)
    assert api.state.exchanges() == []


def test_round_trip_the_dictionary_is_heard_by_stt(api, tmp_path: Path) -> None:
    created(api, "infra", "nginx\tengine x\n")
    with_dict, without = tmp_path / "with.wav", tmp_path / "without.wav"
    said = run("tts", "say", "Deploy it with nginx", "--dict", "infra", "-o", str(with_dict))
    assert said.exit_code == 0, said.stderr
    assert run("tts", "say", "Deploy it with nginx", "-o", str(without)).exit_code == 0
    heard = run("stt", "transcribe", str(with_dict))
    assert (heard.exit_code, heard.stdout) == (0, "Deploy it with engine x.\n"), heard.stderr
    plain = run("stt", "transcribe", str(without))
    assert plain.exit_code == 0 and "engine" not in plain.stdout
    assert "nginx" in plain.stdout.lower()


def test_the_in_process_emulator_remembers_no_names(isolation, tmp_path: Path) -> None:
    words = tmp_path / "words.tsv"
    words.write_text(WORDS)
    result = run("--emulator", "dict", "push", str(words), "--name", "product")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.strip()) == 24
    assert "Warning: the name 'product' is not remembered: --emulator forgets" in result.stderr
    assert not (Path(os.environ["SMALLEST_CONFIG_DIR"]) / "config.toml").exists()


@pytest.mark.parametrize("name", ["0123456789abcdef01234567", "-x", "a b", "9lives"])
def test_names_that_cannot_be_told_from_ids_or_options_are_refused(api, name: str) -> None:
    Path("words.tsv").write_text(WORDS)
    result = push("words.tsv", "--name", name)
    assert result.exit_code == 2
    assert f"Error: invalid dictionary name {name!r}" in result.stderr
    assert requests(api) == []


def test_a_long_name_with_digits_is_still_a_name(api) -> None:
    dict_id = created(api, "release-words-2026")
    assert run("dict", "show", "release-words-2026").exit_code == 0
    assert run("dict", "list").stdout.startswith(f"{dict_id}\trelease-words-2026\t")


def test_pull_with_a_name_adopts_a_dictionary_so_push_updates_it(api) -> None:
    dict_id = run("dict", "create", "--word", "nginx", "--say", "engine x").stdout.strip()
    pulled = run("dict", "pull", dict_id, "-o", "words.tsv", "--name", "infra")
    assert pulled.exit_code == 0, pulled.stderr
    assert f'infra = "{dict_id}"' in config_text()
    with Path("words.tsv").open("a") as handle:
        handle.write("Redis\tred iss\n")
    api.state.clear()
    pushed = push("words.tsv", "--name", "infra")
    assert (pushed.exit_code, pushed.stdout) == (0, dict_id + "\n")
    [put] = writes(api)
    assert put.method == "PUT"
