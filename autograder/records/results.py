"""What grading one submission produces: a plain, JSON-serializable record per student and chapter.

The sandboxed grader (:mod:`autograder.engine`) writes one :class:`SubmissionResult` per student to
``<class>/results/<chapter>/<student>.json``; the gradebook, the feedback HTML, the class summary, the CSV
and the Gradescope ``results.json`` are all made from these files, so any of them can be rebuilt without
grading again.

    result = SubmissionResult.load(path)
    result.score, result.max_score          # 21.0, 27.0
    [c.grade_id for c in result.cells if not c.passed]
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["CellResult", "SubmissionResult", "RESULT_VERSION"]

RESULT_VERSION = 2


@dataclass
class CellResult:
    """The grade of one graded test cell.

    ``status`` says how the cell ended in the kernel: ``"ok"``, ``"error"`` (it raised), ``"stderr"`` (it
    wrote to stderr), ``"timeout"`` (its time limit), ``"not run"`` (the kernel died or the notebook's
    time limit passed before it). ``message`` is what the student is told: the diagnosis of the failed
    check (never the hidden test's code), or why the cell did not count.
    """

    grade_id: str
    exercise: str
    points: float
    max_points: float
    hidden: bool
    status: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


@dataclass
class SubmissionResult:
    """The outcome of grading one student's notebook of one chapter."""

    student: str
    chapter: str
    digest: str  # sha256 of the submitted file and the grader's inputs: equal digests, equal results
    cells: list[CellResult] = field(default_factory=list)
    problem: str | None = None  # why the whole notebook scored 0 (unreadable, not a notebook, ...)
    notes: list[str] = field(default_factory=list)  # tampering found and repaired, limits hit, ...
    outputs: dict[str, str] = field(default_factory=dict)  # grade_id -> the cell's captured output (capped)
    seconds: float = 0.0
    grader_error: bool = False  # the grader failed on this notebook (0 points; an instructor should look)
    flagged: dict[str, list[str]] = field(default_factory=dict)  # exercise -> evidence it is not the student's own
    version: int = RESULT_VERSION
    signature: str = ""  # HMAC of everything above with the class's grading key (autograder.records.store)

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    def signed_bytes(self) -> bytes:
        """What the signature covers: every field but the signature itself."""
        data = asdict(self)
        data.pop("signature")
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        cells = [CellResult(**c) for c in data.get("cells", [])]
        return cls(**{**data, "cells": cells})

    @classmethod
    def load(cls, path: Path) -> "SubmissionResult":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: Path) -> Path:
        """Write atomically (a killed run never leaves half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)
        return path
