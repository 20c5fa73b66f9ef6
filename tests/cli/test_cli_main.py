"""Every command's --help, and the README's synopsis of the command line against it."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from empathynet.cli.main import build_parser, main
from empathynet.cli.parsing import CommandParser
from empathynet.tasks.make import TaskRequest

README = Path(__file__).resolve().parents[2] / "README.md"


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (command words, parser) of the command line, the top level first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from commands(child, (*path, name))
    if isinstance(parser, CommandParser):
        for word, child in parser.words.items():
            yield from commands(child, (*path, word))


def options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        action.option_strings[-1]
        for action in parser._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
    ]


ALL = list(commands(build_parser()))


def test_every_command_is_listed() -> None:
    names = {" ".join(path) for path, _ in ALL}
    assert {"build", "inspect", "blur", "blur verify", "tasks make", "evaluate"} <= names


@pytest.mark.parametrize(("path", "parser"), ALL, ids=[" ".join(p) or "empathynet" for p, _ in ALL])
def test_help_reads_cleanly(
    path: tuple[str, ...],
    parser: argparse.ArgumentParser,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert text == parser.format_help()
    assert "%%" not in text and "%(" not in text  # escapes that argparse did not format
    assert max(len(line) for line in text.splitlines()) <= 100  # prose is wrapped
    if path:  # each command says what it does, and every option what it is for
        assert parser.description
        undocumented = [
            action.option_strings
            for action in parser._actions
            if action.option_strings and not action.help
        ]
        assert undocumented == []


def test_evaluate_help_shows_a_plain_percent_sign(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "with 95% percentile-bootstrap intervals" in text


def test_blur_verify_help_documents_verify(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["blur", "verify", "--help"])
    text = capsys.readouterr().out
    assert text.startswith("usage: empathynet blur verify [-h] [--json] [--no-asr]")
    assert "Transcribe every accepted cue's raw and blurred audio" in " ".join(text.split())
    assert "--method" not in text  # a blur option, not a verify one


def synopsis() -> dict[str, str]:
    """The README's "Command line" block: command words -> their synopsis text."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("\n- ", 1)[0]
    entries: dict[str, str] = {}
    current: list[str] = []
    for line in block.splitlines():
        stripped = line.strip()
        if not stripped:
            current = []
        elif stripped.startswith("empathynet "):
            words = []
            for token in stripped.split()[1:]:
                if not re.fullmatch(r"[a-z][a-z|-]*", token):
                    break
                words.append(token)
            current = []
            if not words:  # 'empathynet --help'
                continue
            alternatives = [w.split("|") for w in words]
            for first in alternatives[0]:
                for rest in alternatives[1] if len(alternatives) > 1 else [""]:
                    key = f"{first} {rest}".strip()
                    entries.setdefault(key, "")  # a command may have several forms
                    current.append(key)
        for key in current:
            entries[key] += " " + stripped
    return entries


def test_the_readme_synopsis_shows_every_option_of_every_command() -> None:
    entries = synopsis()
    missing = {}
    for path, parser in ALL:
        name = " ".join(path)
        if not path or any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            continue  # the top level and command groups (labels, tasks): their actions are
        assert name in entries, f"README synopsis lacks 'empathynet {name}'"
        absent = [
            option
            for option in options(parser)
            if not re.search(re.escape(option) + r"(?![\w-])", entries[name])
        ]
        if absent:
            missing[name] = absent
    assert missing == {}


def test_the_readme_says_how_to_get_the_command_and_states_real_defaults() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "source .venv/bin/activate" in text
    stated = re.search(r"by default \(`--distractors ([a-z-]+)`\)", text)
    assert stated is not None
    make = dict(ALL)[("tasks", "make")]
    (distractors,) = [a for a in make._actions if "--distractors" in a.option_strings]
    assert (
        stated.group(1) == distractors.default == TaskRequest("mcq", "text", "stills").distractors
    )


BAD_DATASET_JSON = [
    "[1, 2, 3]",
    '{"format": "empathynet-dataset", "format_version": 1, "na',
    '{"name": "d", "format": "empathynet-dataset", "format_version": 99}',
    '{"name": "d"}',
]
READERS = [
    ["inspect", "{d}"],
    ["build", "{video}", "--out", "{d}", "--no-progress"],
    ["blur", "{d}", "--no-progress"],
    ["blur", "verify", "{d}", "--no-asr"],
    ["labels", "import", "{d}", "{csv}"],
    ["labels", "summary", "{d}"],
    ["labels", "aggregate", "{d}"],
    ["tasks", "make", "{d}", "--suite", "standard"],
    ["tasks", "ls", "{d}"],
    ["tasks", "validate", "{d}", "cls-text"],
    ["evaluate", "{d}", "cls-text", "{preds}"],
    ["baseline", "{d}", "cls-text", "--model", "random"],
    ["audit", "{d}", "cls-text"],
    ["leaderboard", "{d}"],
    ["report", "{d}"],
]


@pytest.mark.parametrize("text", BAD_DATASET_JSON)
def test_a_malformed_dataset_json_is_one_error_line_from_every_command(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = tmp_path / "d"
    (dataset / "cues").mkdir(parents=True)
    (dataset / "dataset.json").write_text(text, encoding="utf-8")
    values = {"d": dataset, "video": tmp_path / "film.mp4", "csv": tmp_path / "votes.csv"}
    values["preds"] = tmp_path / "preds.jsonl"
    values["video"].write_bytes(b"")
    values["csv"].write_text("cue_id,annotator,label\n")
    values["preds"].write_text("")
    for command in READERS:
        argv = [part.format(**values) for part in command]
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"empathynet: error: {dataset / 'dataset.json'}: "), argv
        assert err.count("\n") == 1, argv
    # nothing was written into the folder, not even a lock file
    assert sorted(p.name for p in dataset.iterdir()) == ["cues", "dataset.json"]
