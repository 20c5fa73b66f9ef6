"""Errors, registry, config and the data model."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest

from empathynet.config import EmpathyNetConfig, SubtitleConfig, from_mapping, to_mapping
from empathynet.data import (
    CUE_SCHEMA,
    SOURCE_SCHEMA,
    UTTERANCE_SCHEMA,
    BlurCheck,
    CueGroup,
    CueMedia,
    FaceBox,
    FaceSummary,
    Source,
    Utterance,
    make_cue_id,
)
from empathynet.data.schemas import records_to_table, table_to_records
from empathynet.errors import (
    ConfigError,
    CorruptMediaError,
    EmpathyNetError,
    SubtitleFormatError,
)
from empathynet.registry import Registry


def test_errors_are_one_line_and_picklable() -> None:
    error = SubtitleFormatError("bad timestamp\n'00:01:6,500'", "movie.srt", "line 42")
    assert str(error) == "movie.srt, line 42: bad timestamp '00:01:6,500'"
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is SubtitleFormatError
    assert (clone.message, clone.path, clone.position) == (error.message, "movie.srt", "line 42")
    assert isinstance(clone, EmpathyNetError)
    assert str(CorruptMediaError("moov atom not found", "a.mp4")) == "a.mp4: moov atom not found"
    assert str(EmpathyNetError("plain")) == "plain"


def test_registry() -> None:
    registry: Registry[int] = Registry("thing")

    @registry.register("one")
    def _one() -> int:
        return 1

    registry.add("two", 2)  # type: ignore[arg-type]
    assert registry.names() == ["one", "two"]
    assert "one" in registry and "three" not in registry
    assert len(registry) == 2
    with pytest.raises(ConfigError, match="unknown thing 'three'; known: one, two"):
        registry.get("three")
    with pytest.raises(ConfigError, match="registered twice"):
        registry.add("two", 3)
    with pytest.raises(ConfigError, match="invalid"):
        registry.add(" x", 3)


def test_config_from_mapping_checks_keys_and_types() -> None:
    config = from_mapping(EmpathyNetConfig, {"subtitles": {"merge_gap_ms": 900}})
    assert config.subtitles.merge_gap_ms == 900
    assert config.subtitles.max_sentence_ms == SubtitleConfig().max_sentence_ms
    assert to_mapping(config)["subtitles"]["merge_gap_ms"] == 900
    with pytest.raises(ConfigError, match="unknown option"):
        from_mapping(SubtitleConfig, {"merge_gap": 900})
    with pytest.raises(ConfigError, match="must be an integer"):
        from_mapping(SubtitleConfig, {"merge_gap_ms": "900"})
    with pytest.raises(ConfigError, match="must be true or false"):
        from_mapping(SubtitleConfig, {"keep_nonverbal_only": 1})


@pytest.mark.parametrize(
    ("record_type", "schema"),
    [(Source, SOURCE_SCHEMA), (Utterance, UTTERANCE_SCHEMA), (CueGroup, CUE_SCHEMA)],
)
def test_schema_matches_record_fields(record_type: type, schema: pa.Schema) -> None:
    import dataclasses

    if record_type is CueGroup:  # typed parts, flat on disk
        assert CueGroup.column_names() == schema.names
    else:
        assert [f.name for f in dataclasses.fields(record_type)] == schema.names


def test_records_round_trip_through_parquet(tmp_path: object) -> None:
    import pyarrow.parquet as pq

    cue = CueGroup(
        cue_id=make_cue_id("abc", 1500),
        source_id="abc",
        start_ms=1500,
        end_ms=3000,
        text="Hello there.",
        status="accepted",
        nonverbal=("laughs",),
        face=FaceSummary(boxes=(FaceBox(0.25, 0.125, 0.5, 0.5, 0.75),), area_fraction=0.25),
        media=CueMedia(still_paths=("media/abc/x/still_0.jpg",)),
        blur=BlurCheck(method="resynth", f0_correlation=0.5),
    )
    rejected = CueGroup(
        cue_id=make_cue_id("abc", 4000),
        source_id="abc",
        start_ms=4000,
        end_ms=5000,
        text="Bye.",
        status="rejected",
        reason="no_face",
    )
    assert cue.cue_id == "abc-000001500"
    table = records_to_table([cue, rejected], CUE_SCHEMA)
    path = f"{tmp_path}/cues.parquet"
    pq.write_table(table, path)
    back = table_to_records(pq.read_table(path), CueGroup)
    assert back == [cue, rejected]
    flat = cue.to_dict()
    assert flat["face_area_fraction"] == 0.25 and flat["blur_method"] == "resynth"
    assert flat["still_paths"] == ["media/abc/x/still_0.jpg"] and "face" not in flat
    assert cue.column("blur_method") == "resynth"
    moved = cue.with_columns(audio_blur_path="media/abc/x/audio_blur.wav", wer_blur=1.0)
    assert moved.media.audio_blur_path == "media/abc/x/audio_blur.wav"
    assert moved.asr.wer_blur == 1.0 and moved.media.still_paths == cue.media.still_paths
    # columns a user added to the manifest are kept, under custom
    extra = table.append_column("my_rating", pa.array([3, None], pa.int64()))
    kept = table_to_records(extra, CueGroup)
    assert kept[0].custom == {"my_rating": 3} and kept[0].to_dict()["my_rating"] == 3
    with pytest.raises(ValueError, match="not cue columns: blur_methd"):
        CueGroup.from_dict({**cue.to_dict(), "blur_methd": "x"}, strict=True)

    utterance = Utterance(0, 1200, "Hi.", ("sighs",), "JOHN", (3, 4), False, "abc")
    assert table_to_records(records_to_table([utterance], UTTERANCE_SCHEMA), Utterance) == [
        utterance
    ]


def test_cue_rows_need_a_valid_status_and_a_reason() -> None:
    with pytest.raises(ValueError, match="status"):
        CueGroup("a-1", "a", 0, 1, "x", status="maybe")
    with pytest.raises(ValueError, match="reason"):
        CueGroup("a-1", "a", 0, 1, "x", status="rejected")
