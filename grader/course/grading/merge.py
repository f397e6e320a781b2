"""Merge the output folders of ``course grade --shard K/N`` into the reports of one run.

The merged folder is what one ``course grade`` of the whole list would have written: the
per-student files (``<student>.json`` and the ``<student>/`` folder) copied as each shard wrote
them, ``grades.csv`` and ``summary.json`` rebuilt with every submission in the whole list's
order. Wall times are the only run-specific fields, and none is in the class table or the
summary: ``duration`` in ``<student>.json`` and ``execution_time`` in Gradescope's
``results.json`` are that submission's own grading time, which is as true after a merge as in
one run, so merge keeps them as measured. A merged folder has no ``shard.json``.

Refused (``MergeError``, nothing written): a folder that is not a shard's output, shards of
different labs, of different N or of different lists of submissions (different folders, or the
same folder changed between jobs), the same shard twice, a shard whose reports do not match its
manifest, and an output folder that is one of the inputs or holds anything already. Missing
shards are not refused: the merge writes what there is and says which shards, and which
submissions with them, are absent, so the instructor can re-run exactly those.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course.grading.shards import MANIFEST, MANIFEST_VERSION


class MergeError(Exception):
    """Shard outputs that cannot be merged into one run's reports; the message says why."""


@dataclass(frozen=True)
class ShardOutput:
    """One shard's output folder, read: its manifest, summary and class table."""

    folder: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    header: list[str]
    rows: dict[str, list[str]]

    @property
    def index(self) -> int:
        return int(self.manifest["shard"])

    @property
    def students(self) -> list[str]:
        """The report names of the submissions this shard graded, in order."""
        return [s["student"] for s in self.manifest["submissions"] if s["shard"] == self.index]


@dataclass
class Merged:
    """What a merge wrote, and what it could not: the shards and submissions that are absent."""

    lab: str
    shards: int
    students: list[str] = field(default_factory=list)
    missing_shards: list[int] = field(default_factory=list)
    #: (report name, submission file, shard) of each submission no given shard graded
    missing: list[tuple[str, str, int]] = field(default_factory=list)


def read_shard(folder: Path) -> ShardOutput:
    """A shard's output folder, read and checked against its own manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise MergeError(
            f"{folder} is not a shard's output (no {MANIFEST}): grade with --shard K/N"
        ) from None
    except (OSError, ValueError) as exc:
        raise MergeError(f"{folder / MANIFEST} cannot be read: {exc}") from None
    if manifest.get("version") != MANIFEST_VERSION:
        raise MergeError(f"{folder / MANIFEST}: unknown version {manifest.get('version')!r}")
    try:
        summary = json.loads((folder / "summary.json").read_text())
        with (folder / "grades.csv").open(newline="") as handle:
            table = list(csv.reader(handle))
    except (OSError, ValueError) as exc:
        raise MergeError(f"{folder} lacks its reports (run it again): {exc}") from None
    shard = ShardOutput(
        folder, manifest, summary, table[0] if table else [], {r[0]: r for r in table[1:]}
    )
    graded = [s["student"] for s in summary.get("submissions", [])]
    if graded != shard.students or list(shard.rows) != shard.students:
        raise MergeError(
            f"{folder}: its reports do not match its {MANIFEST} (a shard stopped half-way, or "
            "files were mixed): grade it again"
        )
    return shard


def _check_together(shards: list[ShardOutput]) -> None:
    first = shards[0]
    labs = {s.manifest["lab"] for s in shards}
    if len(labs) > 1:
        named = ", ".join(f"{s.folder} (lab {s.manifest['lab']})" for s in shards)
        raise MergeError(f"these are outputs of different labs: {named}")
    counts = {s.manifest["shards"] for s in shards}
    if len(counts) > 1:
        named = ", ".join(f"{s.folder} ({s.index}/{s.manifest['shards']})" for s in shards)
        raise MergeError(f"these shards split the class differently: {named}")
    for s in shards[1:]:
        if s.manifest["submissions"] != first.manifest["submissions"]:
            raise MergeError(
                f"{first.folder} and {s.folder} graded different lists of submissions (other "
                "folders, or the folder changed between jobs): grade every shard of one folder"
            )
    seen: dict[int, Path] = {}
    for s in shards:
        if s.index in seen:
            raise MergeError(
                f"shard {s.index}/{s.manifest['shards']} given twice: {seen[s.index]} and "
                f"{s.folder} (their submissions overlap)"
            )
        seen[s.index] = s.folder


def _table(header: list[str], rows: list[list[str]]) -> str:
    """The class table as ``write_class_table`` writes it (csv's own dialect)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def merge(sources: list[Path], out: Path) -> Merged:
    """Merge shard output folders ``sources`` into ``out``, as one run of them all would have
    written it; ``MergeError`` (before writing anything) when they do not belong together."""
    if not sources:
        raise MergeError("no shard outputs to merge")
    resolved = out.resolve()
    if any(src.resolve() == resolved for src in sources):
        raise MergeError(f"the merged output {out} must not be one of the shard outputs")
    if out.is_dir() and any(out.iterdir()):
        # Files of an earlier merge would sit beside this one's as if graded in it.
        raise MergeError(f"{out} is not empty: merge into a new folder (or delete it first)")
    shards = sorted((read_shard(src) for src in sources), key=lambda s: s.index)
    _check_together(shards)
    first = shards[0].manifest
    everyone: list[dict[str, Any]] = first["submissions"]
    by_student = {name: s for s in shards for name in s.students}
    headers = {tuple(s.header) for s in shards if s.rows}
    if len(headers) > 1:
        raise MergeError("the shards' class tables have different columns: grade them again")
    header = list(next(iter(headers))) if headers else shards[0].header
    entries = {e["student"]: e for s in shards for e in s.summary["submissions"]}
    present = [e["student"] for e in everyone if e["student"] in by_student]
    result = Merged(lab=first["lab"], shards=first["shards"], students=present)
    result.missing_shards = sorted(set(range(1, first["shards"] + 1)) - {s.index for s in shards})
    result.missing = [
        (e["student"], e["submission"], e["shard"])
        for e in everyone
        if e["student"] not in by_student
    ]

    out.mkdir(parents=True, exist_ok=True)
    for name in present:
        folder = by_student[name].folder
        shutil.copy2(folder / f"{name}.json", out / f"{name}.json")
        if (folder / name).is_dir():
            shutil.copytree(folder / name, out / name, dirs_exist_ok=True)
    rows = [by_student[name].rows[name] for name in present]
    (out / "grades.csv").write_text(_table(header, rows), newline="")
    summary = dict(shards[0].summary)
    summary["submissions"] = [entries[name] for name in present]
    summary["isolated"] = all(e["isolated"] for e in summary["submissions"])
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return result
