"""The report's plots: each drawing function on small arrays, and ``write_plots`` on
synthetic datasets (which plots, same bytes twice, stale files removed, hostile text)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from empathynet.evaluate.leaderboard import Board, BoardRow, Confusion
from empathynet.labels import import_labels
from empathynet.report.plots import (
    ScorePanel,
    agreement_figure,
    blur_figure,
    class_balance_figure,
    confusion_figure,
    duration_axis_end,
    durations_figure,
    face_sizes_figure,
    is_plot_file,
    leaderboard_figure,
    reasons_figure,
    svg_bytes,
    write_plots,
)
from empathynet.store.atomic import atomic_write_json, atomic_write_table
from empathynet.store.layout import DatasetLayout, read_dataset_json
from empathynet.store.parts import read_part
from empathynet.tasks.make import TaskRequest, make_task
from empathynet.testing.synthetic import write_synthetic_dataset, write_votes_csv

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>x</script>"  # short enough to be shown whole


def svg_texts(data: bytes) -> list[str]:
    """The text of every ``<text>`` element of an SVG (it must parse as XML)."""
    root = ElementTree.fromstring(data)
    assert root.tag == f"{SVG}svg"
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def check_svg(data: bytes, *expected: str) -> list[str]:
    texts = svg_texts(data)
    for text in expected:
        assert any(text in shown for shown in texts), f"{text!r} not in {texts}"
    assert b"<script" not in data  # no script, whatever the data says
    return texts


RNG = np.random.default_rng(0)


def test_durations_figure_shows_limits_and_groups() -> None:
    figure = durations_figure(
        {"accepted": RNG.uniform(0.6, 6, 500), "rejected": np.array([0.2, 0.3, 6.5])},
        min_s=0.5,
        max_s=6.0,
    )
    texts = check_svg(svg_bytes(figure), "Sentence durations by outcome", "accepted (500)")
    assert any("shortest kept 0.5 s" in t for t in texts)
    assert any("longest kept 6 s" in t for t in texts)


def test_duration_axis_leaves_out_a_far_outlier_but_shows_a_near_limit() -> None:
    typical = np.linspace(1.0, 6.0, 1000)
    assert duration_axis_end(np.append(typical, 600.0), [0.5, 20.0]) < 10  # one 10-minute row
    assert duration_axis_end(typical, [0.5, 7.0]) == pytest.approx(7.0 * 1.02)


def test_face_sizes_figure_draws_the_threshold() -> None:
    figure = face_sizes_figure(
        {
            "accepted": RNG.uniform(0.2, 0.6, 200),
            "rejected: face too small": RNG.uniform(0, 0.2, 50),
        },
        threshold=0.2,
        measure_label="face size",
    )
    check_svg(
        svg_bytes(figure), "Face sizes", "large face \u2265 0.2", "rejected: face too small (50)"
    )


def test_reasons_figure_lists_each_reason_with_its_count() -> None:
    figure = reasons_figure([("rejected", "no_face", 1200), ("failed", "CorruptMediaError", 3)])
    check_svg(svg_bytes(figure), "Rows per rejection and failure reason", "no_face", "1,200")


def test_class_balance_figure_has_a_bar_group_per_class() -> None:
    panels = {"task cls": {"test": {"joy": 3, "anger": 1}, "train": {"joy": 9, "anger": 4}}}
    texts = check_svg(
        svg_bytes(class_balance_figure(panels, title="Class balance")), "Class balance"
    )
    assert "task cls: train 13, test 4" in texts  # splits in train, validation, test order


def test_agreement_figure_marks_classes_without_a_value() -> None:
    figure = agreement_figure(
        ["joy", "anger"],
        {
            "Fleiss' \u03ba": [(0.5, 0.4, 0.6), (None, None, None)],
            "alpha": [(0.45, None, None)] * 2,
        },
    )
    check_svg(svg_bytes(figure), "Annotator agreement per class", "n/a", "joy")


def test_confusion_figure_writes_counts_in_cells() -> None:
    matrix = np.array([[7, 1], [2, 12345]])
    figure = confusion_figure(
        {"majority": matrix, "random": matrix.T},
        ["joy", "anger"],
        title="Task cls, test split",
        row_label="true class",
        column_label="predicted class",
    )
    texts = check_svg(svg_bytes(figure), "Task cls, test split", "12,345", "majority", "random")
    assert texts.count("7") == 2  # one cell in each panel


def test_blur_figure_has_a_panel_per_measure() -> None:
    figure = blur_figure(
        {
            "pitch contour correlation": {"resynth": RNG.uniform(0.7, 1, 90)},
            "speaking rate": {"resynth": RNG.normal(1, 0.1, 90), "lowpass": RNG.normal(1, 0.1, 9)},
        },
        {"speaking rate": 1.0},
    )
    check_svg(svg_bytes(figure), "Blurred voice per blur method", "speaking rate", "lowpass")


def test_leaderboard_figure_lists_models_not_scored() -> None:
    panel = ScorePanel(
        task="mcq",
        metric="accuracy",
        models=("random", "face"),
        values=(0.25, None),
        lows=(0.2, None),
        highs=(0.3, None),
        chance=0.25,
        note="audit passed",
    )
    check_svg(svg_bytes(leaderboard_figure([panel])), "Baselines per task", "not scored", "face")


def test_dollar_signs_stay_text_and_markup_is_escaped() -> None:
    names = [HOSTILE, "costs $5 & $6"]
    figure = confusion_figure(
        {"": np.array([[1, 2], [3, 4]])}, names, title=HOSTILE, row_label="a", column_label="b"
    )
    data = svg_bytes(figure)
    texts = check_svg(data, HOSTILE, "costs $5 & $6")  # parsed back: exactly the names
    assert b"&lt;script&gt;" in data
    assert "costs $5 & $6" in texts  # not math: the $ pair did not swallow the text


def enrich_manifest(root: Path, seed: int = 0) -> None:
    """Give a synthetic dataset what a build records and the synthetic one lacks: the
    build's rules in dataset.json, face sizes, blur figures, varied reasons and failures."""
    rng = np.random.default_rng(seed)
    layout = DatasetLayout(root)
    for part in layout.cue_parts():
        table = read_part(part)
        n = table.num_rows
        accepted = np.asarray(pc.equal(table.column("status"), "accepted").to_numpy(False))
        pick = rng.integers(0, 4, n)
        status = np.where(accepted, "accepted", np.where(pick == 3, "failed", "rejected"))
        reason = np.array(["no_face", "face_too_small", "several_faces", "CorruptMediaError"])[pick]
        width = np.where(
            accepted, rng.uniform(0.2, 0.5, n), np.where(pick == 1, 0.1, rng.uniform(0.2, 0.4, n))
        )
        has_face = accepted | (pick == 1) | (pick == 2)
        method = np.where(np.arange(n) % 3 == 0, "lowpass", "resynth")

        def floats(values: np.ndarray, where: np.ndarray) -> pa.Array:
            return pa.array(values.astype(np.float32), pa.float32(), mask=~where)

        replaced = {
            "status": pa.array(status, pa.string()),
            "reason": pa.array(reason, pa.string(), mask=accepted),
            "face_width_fraction": floats(width, has_face),
            "face_height_fraction": floats(width * 1.6, has_face),
            "face_area_fraction": floats(width * width * 1.6, has_face),
            "blur_method": pa.array(method, pa.string(), mask=~accepted),
            "f0_correlation": floats(rng.uniform(0.6, 1.0, n), accepted),
            "speaking_rate_ratio": floats(rng.normal(1.0, 0.1, n), accepted),
            "wer_blur": floats(rng.uniform(0.8, 1.2, n), accepted & (method == "resynth")),
        }
        for name, column in replaced.items():
            table = table.set_column(table.schema.get_field_index(name), name, column)
        atomic_write_table(part, table)
    info = read_dataset_json(root)
    info["build_config"] = {
        "select": {"min_duration_ms": 500, "max_duration_ms": 20_000},
        "faces": {"large_fraction": 0.2, "size_measure": "dims"},
    }
    atomic_write_json(layout.dataset_json, info)


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """A synthetic dataset with rejected and failed rows, face and blur figures, votes
    and a classification task."""
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=120, sources=6, rejected=40)
    enrich_manifest(dataset.root)
    votes = write_votes_csv(tmp_path / "votes.csv", dataset.truth, annotators=3, seed=2)
    import_labels(dataset.root, votes)
    make_task(dataset.root, TaskRequest(family="classification", query="text", name="cls-text"))
    return dataset.root


def test_write_plots_writes_each_plot_with_data_the_same_bytes_twice(labelled: Path) -> None:
    out = labelled / "reports" / "plots"
    plots = write_plots(labelled, out)
    assert [p.name for p in plots] == [
        "durations",
        "face_sizes",
        "reasons",
        "class_balance",
        "agreement_per_class",
        "annotator_confusion",
        "blur",
    ]
    first = {}
    for plot in plots:
        assert plot.file == f"plots/{plot.name}.svg"
        data = (labelled / "reports" / plot.file).read_bytes()
        check_svg(data)
        first[plot.name] = data
        assert plot.title and "\n" not in plot.title
        assert plot.caption.endswith(".")
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{n}.svg" for n in first)
    by_name = {p.name: p for p in plots}
    assert "0.5 s" in by_name["durations"].caption and "20 s" in by_name["durations"].caption
    assert "(0.2)" in by_name["face_sizes"].caption
    assert "failures" in by_name["reasons"].caption
    texts = svg_texts(first["reasons"])
    assert {"no_face", "face_too_small", "several_faces", "CorruptMediaError"} <= set(texts)
    assert "task cls-text" in " ".join(svg_texts(first["class_balance"]))
    blur_texts = " ".join(svg_texts(first["blur"]))
    assert "word error rate" in blur_texts and "lowpass" in blur_texts

    again = write_plots(labelled, out)
    assert again == plots
    assert {p.name: (labelled / "reports" / p.file).read_bytes() for p in again} == first


def test_write_plots_removes_its_stale_files_only(labelled: Path, tmp_path: Path) -> None:
    out = labelled / "reports" / "plots"
    out.mkdir(parents=True)
    (out / "leaderboard.svg").write_bytes(b"old")
    (out / "confusion_old-task.svg").write_bytes(b"old")
    (out / "notes.svg").write_bytes(b"someone else's")
    (out / "durations.png").write_bytes(b"someone else's")
    written = write_plots(labelled, out)
    assert not (out / "leaderboard.svg").exists()
    assert not (out / "confusion_old-task.svg").exists()
    assert (out / "notes.svg").exists() and (out / "durations.png").exists()
    assert is_plot_file("confusion_cls-text.svg") and not is_plot_file("confusion_../x.svg")
    # A folder outside reports/ gets paths relative to reports/ all the same.
    elsewhere = write_plots(labelled, tmp_path / "elsewhere")
    assert [p.name for p in elsewhere] == [p.name for p in written]
    assert all((labelled / "reports" / p.file).is_file() for p in elsewhere)


def test_a_dataset_without_votes_or_tasks_has_no_label_plots(tmp_path: Path) -> None:
    dataset = write_synthetic_dataset(tmp_path / "ds", cue_groups=30, sources=3)
    plots = write_plots(dataset.root, tmp_path / "ds" / "reports" / "plots")
    assert [p.name for p in plots] == ["durations"]  # no rejection, face, blur or label
    assert "not recorded" in plots[0].caption

    labels = write_synthetic_dataset(
        tmp_path / "labels", cue_groups=30, sources=3, labels_in_manifest=True
    )
    names = [p.name for p in write_plots(labels.root, tmp_path / "labels" / "plots")]
    assert names == ["durations", "class_balance"]  # labels, but no votes

    for part in DatasetLayout(labels.root).cue_parts():  # a build that committed nothing yet
        part.unlink()
    assert write_plots(labels.root, tmp_path / "labels" / "plots") == []
    assert not list((tmp_path / "labels" / "plots").iterdir())


def board_with_confusions(classes: tuple[str, ...]) -> Board:
    rows = [
        BoardRow("cls-text", "classification", "majority", "top1", 10, 0.4, 0.1, 0.7),
        BoardRow("cls-text", "classification", "text-embedding", "top1", 0, None, None, None, "x"),
        BoardRow("mcq", "mcq", "random", "accuracy", 10, 0.3, 0.1, 0.6),
    ]
    size = len(classes)
    counts = tuple(tuple(int(i == j) * 5 for j in range(size)) for i in range(size))
    confusion = Confusion("test", classes, counts)
    return Board(
        rows,
        {"cls-text": "passed", "mcq": "FAILED: identity"},
        {"cls-text": {"majority": confusion}},
    )


def test_leaderboard_plots_and_hostile_class_names(labelled: Path) -> None:
    classes = (HOSTILE, "costs $5", "joy")
    plots = write_plots(
        labelled, labelled / "reports" / "plots", leaderboard=board_with_confusions(classes)
    )
    names = [p.name for p in plots]
    assert names[-2:] == ["leaderboard", "confusion_cls-text"]
    board_svg = (labelled / "reports" / plots[-2].file).read_bytes()
    check_svg(board_svg, "cls-text (audit passed)", "mcq (audit FAILED: identity)", "not scored")
    confusion_svg = (labelled / "reports" / plots[-1].file).read_bytes()
    check_svg(confusion_svg, HOSTILE, "costs $5", "majority")
    assert b"&lt;script&gt;x&lt;/script&gt;" in confusion_svg

    # Without a leaderboard the next run deletes both.
    plain = write_plots(labelled, labelled / "reports" / "plots")
    assert "leaderboard" not in [p.name for p in plain]
    assert not (labelled / "reports" / "plots" / "confusion_cls-text.svg").exists()


def test_the_leaderboard_keeps_each_classification_baselines_confusion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empathynet.evaluate import leaderboard as board_module
    from empathynet.tasks import read_spec

    root = tmp_path / "ds"
    write_synthetic_dataset(root, cue_groups=40, sources=8, labels_in_manifest=True)
    make_task(root, TaskRequest(family="classification", query="text", name="cls-text"))
    # The two baselines that need no features: quick, and enough to check the wiring.
    monkeypatch.setattr(board_module, "applicable_baselines", lambda spec: ["majority", "random"])
    board = board_module.leaderboard(root)
    spec = read_spec(root, "cls-text")
    kept = board.confusions["cls-text"]
    assert set(kept) == {"majority", "random"}
    for model, confusion in kept.items():
        row = next(r for r in board.rows if r.model == model)
        counts = np.asarray(confusion.counts)
        assert confusion.classes == spec.classes and confusion.split == "test"
        assert counts.sum() == row.items == spec.items("test")
        assert row.value == pytest.approx(np.trace(counts) / counts.sum())
    majority = np.asarray(kept["majority"].counts)
    assert np.count_nonzero(majority.sum(axis=0)) == 1  # one predicted class
