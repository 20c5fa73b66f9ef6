"""Task suites as YAML: the standard suite ships as a file; a user's suite file works the
same way; a broken suite file is one line naming the file and the task."""

from __future__ import annotations

from pathlib import Path

import pytest

from empathynet.cli.main import main
from empathynet.errors import ConfigError
from empathynet.tasks.make import STANDARD_SUITE, make_suite, suite_requests
from empathynet.tasks.suites import builtin_suites, load_suite
from empathynet.testing.synthetic import write_synthetic_dataset


def test_the_standard_suite_ships_as_yaml() -> None:
    assert "standard" in builtin_suites()
    suite = load_suite("standard")
    assert [t["name"] for t in suite.tasks] == [entry[0] for entry in STANDARD_SUITE]
    families = [entry[1] for entry in STANDARD_SUITE]
    assert families.count("classification") == 4 and families.count("mcq") == 3
    requests = suite_requests("standard", seed=3, min_confidence=0.5)
    assert all(r.seed == 3 for r in requests)
    assert {r.min_confidence for r in requests if r.family != "generation"} == {0.5}
    assert {r.min_confidence for r in requests if r.family == "generation"} == {None}


def test_a_suite_file_of_ones_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ds"
    write_synthetic_dataset(
        root, cue_groups=120, sources=12, labels_in_manifest=True, attributes_in_manifest=True
    )
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\ntasks:\n"
        "  - {name: words, family: classification, query: text}\n"
        "  - {name: six-way, family: mcq, query: text, answer: stills, options: 3,\n"
        "     distractors: any, split_ratios: [0.6, 0.2, 0.2]}\n"
    )
    result = make_suite(root, path)
    assert [m.name for m in result.made] == ["words", "six-way"] and not result.skipped
    assert main(["tasks", "make", str(root), "--suite", str(path)]) == 0
    assert "six-way: mcq" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tasks: []\n", "the suite has no tasks"),
        ("tasks:\n  - {name: a, family: mcq, query: text, colour: red}\n", "unknown field colour"),
        ("tasks:\n  - {family: mcq, query: text}\n", "task 1 has no name"),
        (
            "tasks:\n  - {name: a, family: classification, query: text}\n"
            "  - {name: a, family: classification, query: stills}\n",
            "task name 'a' is there twice",
        ),
        ("tasks:\n  - {name: a, family: poetry, query: text}\n", "task 1: unknown family"),
        ("name: [unclosed\n", "not YAML"),
    ],
)
def test_a_broken_suite_file_names_the_file_and_task(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        suite_requests(path, seed=0)
    assert "broken.yaml" in str(caught.value)


def test_an_unknown_suite_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"give one of \['standard'\] or a suite YAML file"):
        load_suite("extended")
