"""Annotation with Label Studio: export a dataset's cue groups as a project, import votes back.

``export_label_studio(dataset, out)`` writes three files into ``out/``:

* ``config.xml`` — the labeling config. Objects: ``stills`` (``<Image valueList>``, the
  stills of the cue group), ``face_clip`` (``<Video>``), ``audio`` (``<Audio>``, the
  *blurred* voice), ``audio_raw`` (the unblurred voice, only when asked), ``text``
  (``<Text>``), a ``<Header>`` with the non-verbal tags. Controls (their names are the
  contract with ``import_label_studio``): ``label`` (required, single choice, the
  taxonomy's classes), ``gender`` and ``age_band`` (optional single choices, the
  taxonomy's lists).
* ``tasks.json`` — one task per accepted cue group, ``data`` = ``cue_id``, ``text``,
  ``nonverbal`` (tags joined, "-" when none), ``stills`` (list of URLs), ``face_clip``,
  ``audio`` (and ``audio_raw``); media URLs are ``url_prefix`` + the file's path relative
  to the dataset (checked to stay inside it). Machine pre-labels
  (``labels/prelabels.parquet``) with a label in the taxonomy become Label Studio
  ``predictions`` with ``model_version`` = the method (no score): shown as suggestions,
  never read back as votes.
* ``README.md`` — how to serve the media, create the project, export and import back.

The default ``url_prefix`` ``/data/local-files/?d=`` suits Label Studio's own local-files
serving with ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT`` = the dataset folder and a local
storage on ``DATASET/media``; any static HTTP server works with
``url_prefix="http://HOST:PORT/"`` serving the dataset folder.

``import_label_studio(dataset, export.json)`` reads Label Studio's JSON export (a list of
tasks, each with ``annotations``). Every non-cancelled annotation is one vote:

* the annotator is ``ls-user-<id>``, the Label Studio user id of ``completed_by``
  (an int, or an object with an ``id``); ids are stable within a Label Studio instance
  and its users page shows whose they are. E-mails are not used because the default
  export gives only the id;
* the time is the annotation's ``updated_at`` (else ``created_at``), stored in UTC ms;
* ``predictions`` and cancelled (skipped) annotations are never votes.

The file is one round (its SHA-256), exactly as a CSV: re-importing it adds nothing; a
later export of the same project is a new round, where each annotator's latest vote
counts. The whole file is checked before anything is written: bad JSON, a task without a
known accepted ``cue_id``, a label outside the taxonomy, two choices in one field, an
annotation without a class or the same annotator twice on a cue gives one
``LabelFileError`` line naming the file and the task.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import pyarrow as pa
import pyarrow.parquet as pq

from empathynet.errors import DatasetError
from empathynet.labels.aggregate import DEFAULT_TIE_RULE, check_tie_rule
from empathynet.labels.store import LabelsLayout, dataset_taxonomy
from empathynet.labels.taxonomy import Taxonomy
from empathynet.labels.votes import (
    ExportResult,
    ImportResult,
    LabelFileError,
    Vote,
    accepted_cue_rows,
    add_vote_round,
    parse_vote_time,
)
from empathynet.store.atomic import atomic_write_bytes
from empathynet.store.layout import require_dataset
from empathynet.store.lock import writes_dataset
from empathynet.store.outputs import exporting

#: Default prefix of media URLs: Label Studio's local-files serving, with
#: ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT`` set to the dataset folder.
LOCAL_FILES_PREFIX = "/data/local-files/?d="

#: Names of the config's controls, read back by the import.
LABEL_FIELD = "label"
GENDER_FIELD = "gender"
AGE_BAND_FIELD = "age_band"
#: The object every control points to.
CHOICES_TARGET = "text"

#: Machine pre-labels: cue_id, method, label (nullable), score (nullable).
PRELABELS_NAME = "prelabels.parquet"

ANNOTATOR_PREFIX = "ls-user-"


def label_studio_config(taxonomy: Taxonomy, *, raw_audio: bool = False) -> str:
    """The labeling config XML for ``taxonomy`` (see the module docstring for the names)."""

    def choices(name: str, values: tuple[str, ...], required: bool, hint: str) -> list[str]:
        required_attr = ' required="true"' if required else ""
        lines = [
            f"  <Header value={quoteattr(hint)}/>",
            f'  <Choices name="{name}" toName="{CHOICES_TARGET}" choice="single"'
            f'{required_attr} showInline="true">',
        ]
        for value in values:
            hint_text = taxonomy.description_of(value) if name == LABEL_FIELD else None
            hint_attr = f" hint={quoteattr(hint_text)}" if hint_text else ""
            lines.append(f"    <Choice value={quoteattr(value)}{hint_attr}/>")
        lines.append("  </Choices>")
        return lines

    lines = [
        "<View>",
        '  <Header value="Stills"/>',
        '  <Image name="stills" valueList="$stills"/>',
        '  <Header value="Face clip"/>',
        '  <Video name="face_clip" value="$face_clip"/>',
        '  <Header value="Voice (blurred: the words are not intelligible)"/>',
        '  <Audio name="audio" value="$audio"/>',
    ]
    if raw_audio:
        lines += [
            '  <Header value="Voice (raw)"/>',
            '  <Audio name="audio_raw" value="$audio_raw"/>',
        ]
    lines += [
        '  <Header value="Subtitle text"/>',
        f'  <Text name="{CHOICES_TARGET}" value="$text"/>',
        '  <Header value="Non-verbal tags: $nonverbal" size="6"/>',
    ]
    lines += choices(LABEL_FIELD, taxonomy.classes, True, "Class (required)")
    lines += choices(GENDER_FIELD, taxonomy.genders, False, "Gender (if clear)")
    lines += choices(AGE_BAND_FIELD, taxonomy.age_bands, False, "Age band (if clear)")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def media_url(url_prefix: str, relative: str) -> str:
    """``url_prefix`` + the dataset-relative path, percent-encoded except ``/``."""
    return url_prefix + quote(relative, safe="/")


def read_prelabels(root: Path, taxonomy: Taxonomy) -> dict[str, list[dict[str, str]]]:
    """``cue_id -> [{method, label}]`` from ``labels/prelabels.parquet`` (absent: empty),
    keeping only labels in the taxonomy (canonical names). The score is left out: its
    meaning depends on the method (a cluster id for ``clusters``), while Label Studio
    would show it as the prediction's confidence."""
    path = LabelsLayout(root).folder / PRELABELS_NAME
    if not path.exists():
        return {}
    try:
        table = pq.read_table(path, columns=["cue_id", "method", "label"])
    except (OSError, pa.ArrowInvalid, KeyError) as error:
        raise DatasetError(f"cannot read the machine pre-labels: {error}", path) from None
    found: dict[str, list[dict[str, str]]] = {}
    for row in table.to_pylist():
        label = taxonomy.canonical_label(row["label"]) if row["label"] else None
        if label is None or not row["cue_id"] or not row["method"]:
            continue
        found.setdefault(row["cue_id"], []).append({"method": row["method"], "label": label})
    return found


def _task(
    row: dict[str, Any],
    url_prefix: str,
    raw_audio: bool,
    prelabels: list[dict[str, str]],
) -> dict[str, Any]:
    def url(relative: str | None) -> str:
        return media_url(url_prefix, relative) if relative else ""

    tags = [str(tag) for tag in row["nonverbal"] or []]
    data: dict[str, Any] = {
        "cue_id": row["cue_id"],
        "source_id": row["source_id"],
        "start_ms": row["start_ms"],
        "end_ms": row["end_ms"],
        "speaker": row["speaker"] or "",
        "text": row["text"] or "",
        "nonverbal": ", ".join(tags) if tags else "-",
        "nonverbal_tags": tags,
        "stills": [url(p) for p in row["still_paths"] or []],
        "face_clip": url(row["face_clip_path"]),
        "audio": url(row["audio_blur_path"]),
    }
    if raw_audio:
        data["audio_raw"] = url(row["audio_path"])
    task: dict[str, Any] = {"data": data}
    if prelabels:
        task["predictions"] = [
            {
                "model_version": found["method"],
                "result": [
                    {
                        "from_name": LABEL_FIELD,
                        "to_name": CHOICES_TARGET,
                        "type": "choices",
                        "value": {"choices": [found["label"]]},
                    }
                ],
            }
            for found in prelabels
        ]
    return task


_GUIDE = """\
# Annotating {name} with Label Studio

Files: `config.xml` (labeling config), `tasks.json` ({tasks} tasks, one per accepted cue
group{predictions_note}), this guide. Media URLs are `{url_prefix}` + the file's path
inside the dataset{raw_note}.

## 1. Serve the media

Either let Label Studio serve the dataset's files (default URLs), starting it with

    export LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true
    export LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT={root}
    label-studio start

and, in the project (Settings > Cloud Storage > Add Source Storage > Local files), a
local storage with the absolute path `{root}/media` (a subfolder of the document root;
do not sync it: the tasks come from `tasks.json`). Or serve the dataset folder with any
static HTTP server and export with `--url-prefix http://HOST:PORT/`, e.g.

    cd {root} && python -m http.server 8000
    empathynet labels export {root} --format label-studio --out DIR --url-prefix http://localhost:8000/

## 2. Create the project

Create a project, paste `config.xml` into Settings > Labeling Interface > Code, add the
local storage of step 1 if Label Studio serves the media, then import `tasks.json`
(Import). Through the API (`$LS` the server, `$TOKEN` your access token, `$ID` the new
project's id), from this folder:

    AUTH="Authorization: Token $TOKEN"; JSON="Content-Type: application/json"
    python3 -c 'import json; print(json.dumps({{"title": "EmpathyNet {name}",
        "label_config": open("config.xml").read()}}))' |
      curl -s -H "$AUTH" -H "$JSON" -d @- "$LS/api/projects/"
    MEDIA="{root}/media"
    curl -s -H "$AUTH" -H "$JSON" "$LS/api/storages/localfiles/" \\
      -d '{{"project": '"$ID"', "title": "media", "path": "'"$MEDIA"'"}}'
    curl -s -H "$AUTH" -H "$JSON" --data-binary @tasks.json "$LS/api/projects/$ID/import"

Several annotators per cue group: set Settings > Annotation > overlap (or let each
annotator open every task). `label` is required; gender and age band only when clear.

## 3. Export and import back

Export the project as JSON (Export > JSON, or
`GET $LS/api/projects/$ID/export?exportType=JSON`) and import it:

    empathynet labels import {root} export.json

Every annotation is a vote of `ls-user-<Label Studio user id>` at its update time;
skipped annotations and the machine predictions are never votes. Re-importing the same
file adds nothing; a later export is a new round in which each annotator's latest vote
counts. `empathynet labels summary {root}` shows the result.
"""


#: The files ``export_label_studio`` writes.
EXPORT_FILES: tuple[str, ...] = ("config.xml", "tasks.json", "README.md")


def export_label_studio(
    dataset: str | Path,
    out: str | Path,
    *,
    raw_audio: bool = False,
    url_prefix: str = LOCAL_FILES_PREFIX,
    overwrite: bool = False,
) -> ExportResult:
    """Write ``config.xml``, ``tasks.json`` and ``README.md`` for a Label Studio project.

    A file of those names in ``out`` that no export wrote is not replaced unless
    ``overwrite`` (``store.outputs``); a re-export into the same folder replaces its own.

    One task per accepted cue group (cue id order). ``raw_audio``: also give the
    unblurred voice (``audio_raw``); off by default so annotators hear only the blurred
    one. ``url_prefix``: prepended to every media path (relative to the dataset, checked
    to stay inside it). Reads the dataset only; each file is written atomically.
    """
    layout = require_dataset(dataset)
    root = layout.root
    out = Path(out)
    with exporting(out, EXPORT_FILES, "label-studio", overwrite=overwrite):
        taxonomy = dataset_taxonomy(root)
        rows = accepted_cue_rows(root)
        prelabels = read_prelabels(root, taxonomy)
        tasks = [
            _task(row, url_prefix, raw_audio, prelabels.get(row["cue_id"], [])) for row in rows
        ]
        predictions = sum(len(task.get("predictions", [])) for task in tasks)
        config = label_studio_config(taxonomy, raw_audio=raw_audio)
        guide = _GUIDE.format(
            name=root.resolve().name,
            root=root.resolve(),
            tasks=len(tasks),
            url_prefix=url_prefix,
            predictions_note=(
                f", with {predictions} machine pre-labels shown as predictions"
                if predictions
                else ""
            ),
            raw_note=" (the raw, unblurred voice included, as asked)" if raw_audio else "",
        )
        files = {
            out / "config.xml": config.encode("utf-8"),
            out / "tasks.json": (json.dumps(tasks, indent=1, ensure_ascii=False) + "\n").encode(),
            out / "README.md": guide.encode("utf-8"),
        }
        for path, content in files.items():
            atomic_write_bytes(path, content)
    return ExportResult(
        format="label-studio",
        out=str(out),
        files=tuple(str(path) for path in files),
        tasks=len(tasks),
        predictions=predictions,
        raw_audio=raw_audio,
        url_prefix=url_prefix,
    )


@dataclass(frozen=True)
class _Where:
    path: Path
    position: int
    task_id: object

    def error(self, message: str) -> LabelFileError:
        ident = f" (id {self.task_id})" if self.task_id is not None else ""
        return LabelFileError(message, self.path, f"task {self.position}{ident}")


def _annotator(value: object, where: _Where) -> str:
    user = value.get("id") if isinstance(value, dict) else value
    if isinstance(user, bool) or not isinstance(user, int | str) or str(user).strip() == "":
        raise where.error(f"annotation without a user id in completed_by ({value!r})")
    return f"{ANNOTATOR_PREFIX}{str(user).strip()}"


def _single_choice(item: dict[str, Any], field: str, where: _Where) -> str | None:
    value = item.get("value")
    picked = value.get("choices") if isinstance(value, dict) else None
    if not isinstance(picked, list) or not all(isinstance(c, str) for c in picked):
        raise where.error(f"field {field!r}: value.choices is not a list of strings")
    if len(picked) > 1:
        raise where.error(f"field {field!r} has {len(picked)} choices {picked}; it takes one")
    return picked[0] if picked else None


def _annotation_vote(
    annotation: dict[str, Any], cue_id: str, taxonomy: Taxonomy, where: _Where
) -> Vote:
    annotator = _annotator(annotation.get("completed_by"), where)
    results = annotation.get("result") or []
    if not isinstance(results, list):
        raise where.error("annotation result is not a list")
    fields: dict[str, str | None] = {}
    for item in results:
        if not isinstance(item, dict) or item.get("type") != "choices":
            continue  # other controls (e.g. a comment box) carry no vote
        field = item.get("from_name")
        if field not in (LABEL_FIELD, GENDER_FIELD, AGE_BAND_FIELD):
            raise where.error(
                f"choices from an unknown field {field!r}; the config exported by "
                f"empathynet names them {[LABEL_FIELD, GENDER_FIELD, AGE_BAND_FIELD]}"
            )
        if field in fields:
            raise where.error(f"field {field!r} appears twice in one annotation")
        fields[field] = _single_choice(item, field, where)
    raw_label = fields.get(LABEL_FIELD)
    if raw_label is None:
        raise where.error(f"annotation by {annotator} has no {LABEL_FIELD!r} choice")
    label = taxonomy.canonical_label(raw_label)
    if label is None:
        raise where.error(f"label {raw_label!r} is not in the taxonomy {list(taxonomy.classes)}")
    attributes: dict[str, str | None] = {}
    for field, allowed in ((GENDER_FIELD, taxonomy.genders), (AGE_BAND_FIELD, taxonomy.age_bands)):
        value = (fields.get(field) or "").strip().lower() or None
        if value is not None and value not in allowed:
            raise where.error(f"{field} {value!r} is not one of {list(allowed)}")
        attributes[field] = value
    stamp = annotation.get("updated_at") or annotation.get("created_at")
    voted_at = None
    if stamp is not None:
        try:
            voted_at = parse_vote_time(str(stamp))
        except ValueError:
            raise where.error(f"annotation time {stamp!r} is not ISO 8601") from None
    return Vote(
        cue_id,
        annotator,
        label,
        attributes[GENDER_FIELD],
        attributes[AGE_BAND_FIELD],
        where.position,
        voted_at,
    )


def read_label_studio_export(
    path: str | Path, taxonomy: Taxonomy, statuses: dict[str, str]
) -> list[Vote]:
    """The votes of a Label Studio JSON export, checked against the taxonomy and the
    manifest's cue statuses (see the module docstring). ``LabelFileError`` (file, task)
    for the first problem."""
    path = Path(path)
    try:
        tasks = json.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as error:
        raise LabelFileError(f"cannot read: {error.strerror or error}", path) from None
    except UnicodeDecodeError:
        raise LabelFileError("not UTF-8 text", path) from None
    except json.JSONDecodeError as error:
        raise LabelFileError(
            f"not valid JSON ({error.msg}); export the project again as JSON",
            path,
            f"line {error.lineno} column {error.colno}",
        ) from None
    if isinstance(tasks, dict):
        tasks = [tasks]  # a single task exported alone
    if not isinstance(tasks, list):
        raise LabelFileError("not a Label Studio JSON export (expected a list of tasks)", path)
    votes: list[Vote] = []
    seen: dict[tuple[str, str], int] = {}
    for position, task in enumerate(tasks, start=1):
        if not isinstance(task, dict):
            raise LabelFileError("a task is not a JSON object", path, f"task {position}")
        where = _Where(path, position, task.get("id"))
        data = task.get("data")
        cue_id = data.get("cue_id") if isinstance(data, dict) else None
        if not isinstance(cue_id, str) or not cue_id:
            raise where.error("task without data.cue_id: not exported by empathynet")
        status = statuses.get(cue_id)
        if status is None:
            raise where.error(f"unknown cue id {cue_id!r}: no such row in the dataset's manifest")
        if status != "accepted":
            raise where.error(f"cue id {cue_id!r} is a {status} row, not a cue group")
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            raise where.error("annotations is not a list")
        for annotation in annotations:
            if not isinstance(annotation, dict):
                raise where.error("an annotation is not a JSON object")
            if annotation.get("was_cancelled"):
                continue  # skipped by the annotator: no vote
            vote = _annotation_vote(annotation, cue_id, taxonomy, where)
            key = (cue_id, vote.annotator)
            if key in seen:
                raise where.error(
                    f"{vote.annotator} has two annotations on cue {cue_id!r} (first in task "
                    f"{seen[key]}); delete one in Label Studio and export again"
                )
            seen[key] = position
            votes.append(vote)
    if not votes:
        raise LabelFileError("no annotations to import (none, or all skipped)", path)
    return votes


@writes_dataset
def import_label_studio(
    dataset: str | Path,
    export_json: str | Path,
    *,
    taxonomy_path: str | Path | None = None,
    tie_rule: str = DEFAULT_TIE_RULE,
) -> ImportResult:
    """Import a Label Studio JSON export into ``dataset`` as one round of votes and
    recompute the aggregate (same rules as a CSV: ``labels.votes``). ``tie_rule``: see
    ``labels.aggregate``. Nothing is written when the file has a problem."""
    check_tie_rule(tie_rule)
    layout = require_dataset(dataset)
    path = Path(export_json)
    return add_vote_round(
        layout.root,
        path,
        lambda taxonomy, statuses: read_label_studio_export(path, taxonomy, statuses),
        taxonomy_path=taxonomy_path,
        tie_rule=tie_rule,
    )
