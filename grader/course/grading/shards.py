"""Split a class's submissions into N shards, so N machines (a CI matrix) grade one each.

Shard K of N holds the submissions at sorted positions K-1, K-1+N, K-1+2N, … of the list
``find_submissions`` gives (sorted by file name, then by path). Sorted position modulo N, not a
hash of the file name: shards then differ in size by one at most, so the slowest job of a matrix
is as short as it can be (hashed into three shards, 36 submissions leave 15 or more in the
largest about half the time, a binomial draw; here it holds 12), and the positions depend only
on the file names, which every job of a workflow sees alike in the same checkout. Every
submission lands in exactly one shard. The price is that adding a submission moves the ones
after it to other shards: shards of different folders do not mix, and ``merge`` refuses them.

Report names are given over the whole list, never over one shard: two ``hw.ipynb`` in
different folders are told apart the same way whichever shards they land in.

A shard's output folder holds, besides the usual reports, ``shard.json``: the lab, K and N, and
every submission of the whole list with its report name and shard, which is what ``merge``
needs to put the shards back in order and to name the submissions a missing shard held.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "shard.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (both from 1, as people write ``2/3``)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` as a shard; ValueError saying what is wrong otherwise (``0/3``, ``4/3``,
        ``2``, ``a/b``)."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if match is None:
            raise ValueError(f"{text!r} is not K/N (shard K of N, e.g. 2/3)")
        index, count = int(match[1]), int(match[2])
        if count < 1:
            raise ValueError(f"{text!r}: N must be 1 or more")
        if not 1 <= index <= count:
            raise ValueError(f"{text!r}: K must be between 1 and N ({count})")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, position: int) -> bool:
        """Whether the submission at 0-based ``position`` of the sorted list is this shard's."""
        return position % self.count == self.index - 1

    def select(self, paths: list[Path]) -> list[Path]:
        """This shard's share of ``paths`` (already in ``find_submissions`` order), in order."""
        return [p for n, p in enumerate(paths) if self.holds(n)]


def shard_of(position: int, count: int) -> int:
    """The shard (from 1) of the submission at 0-based ``position`` when split in ``count``."""
    return position % count + 1


def manifest(lab: str, shard: Shard, paths: list[Path], names: dict[Path, str]) -> dict[str, Any]:
    """The ``shard.json`` of shard ``shard`` of the whole sorted list ``paths`` of lab ``lab``."""
    return {
        "version": MANIFEST_VERSION,
        "lab": lab,
        "shard": shard.index,
        "shards": shard.count,
        "submissions": [
            {"student": names[p], "submission": p.name, "shard": shard_of(n, shard.count)}
            for n, p in enumerate(paths)
        ],
    }


def write_manifest(out: Path, data: dict[str, Any]) -> Path:
    """Write a shard's manifest into its output folder."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / MANIFEST
    path.write_text(json.dumps(data, indent=2))
    return path
