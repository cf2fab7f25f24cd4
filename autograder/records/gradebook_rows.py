"""Step 4: read grades back out of the nbgrader gradebook (both engines write it), as rows and as CSV.

The sandboxed grader's per-cell reports (feedback pages, class summary, Gradescope JSON) are in
:mod:`autograder.records.result_reports`.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook

__all__ = ["GradeRow", "grade_rows", "write_csv"]


@dataclass(frozen=True)
class GradeRow:
    """One student's result on one chapter."""

    student: str
    chapter: str
    score: float
    max_score: float
    problem: str = ""

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0


def grade_rows(db_url: str, course_id: str, problems: dict[str, dict[str, str]]) -> list[GradeRow]:
    """Every submission in the gradebook, sorted by student then chapter."""
    rows = []
    with Gradebook(db_url, course_id) as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                problem = problems.get(assignment.name, {}).get(submission.student_id, "")
                rows.append(GradeRow(submission.student_id, assignment.name, float(submission.score),
                                     float(submission.max_score), problem))
    return sorted(rows, key=lambda r: (r.student, r.chapter))


def write_csv(rows: list[GradeRow], path: Path) -> Path:
    """Write the rows as CSV: student_id, chapter, score, max_score, percent, problem."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "chapter", "score", "max_score", "percent", "problem"])
        for r in rows:
            writer.writerow([r.student, r.chapter, f"{r.score:g}", f"{r.max_score:g}", f"{r.percent:.1f}", r.problem])
    return path
