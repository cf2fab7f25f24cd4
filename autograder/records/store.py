"""The class's records: result files, the nbgrader gradebook (written from one process only), backups.

Every graded submission is first saved as ``results/<chapter>/<student>.json`` (atomically), then copied
into the gradebook in one transaction per student. A run that is killed half way leaves whole result
files and whole gradebook entries; running it again re-uses the results whose digest still matches and
re-writes their gradebook entries, so it ends where an uninterrupted run would have.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .results import SubmissionResult

__all__ = ["result_path", "load_result", "backup_gradebook", "write_grades", "KEEP_BACKUPS"]

KEEP_BACKUPS = 10


def result_path(class_dir: Path, chapter: str, student: str) -> Path:
    return Path(class_dir) / "results" / chapter / f"{student}.json"


def load_result(class_dir: Path, chapter: str, student: str) -> SubmissionResult | None:
    """The saved result of ``student``, or None if there is none or it cannot be read."""
    path = result_path(class_dir, chapter, student)
    try:
        return SubmissionResult.load(path)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def backup_gradebook(db_path: Path, backups: Path) -> Path | None:
    """Copy the gradebook (with SQLite's online backup, so a half-written page is never copied)."""
    db_path = Path(db_path)
    if not db_path.exists():
        return None
    backups.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = backups / f"gradebook-{stamp}.db"
    with sqlite3.connect(db_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    for old in sorted(backups.glob("gradebook-*.db"))[:-KEEP_BACKUPS]:
        old.unlink()
    return target


def write_grades(db_url: str, course_id: str, result: SubmissionResult) -> None:
    """Replace ``result.student``'s submission of ``result.chapter`` in the gradebook with ``result``.

    Nobody else's rows are touched. Manual grades of this student's submission are dropped with it,
    as ``nbgrader autograde --force`` would.
    """
    points = {cell.grade_id: cell.points for cell in result.cells}
    with Gradebook(db_url, course_id) as gb:
        gb.update_or_create_student(result.student)
        try:
            gb.remove_submission(result.chapter, result.student)
        except MissingEntry:
            pass
        submission = gb.add_submission(result.chapter, result.student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = float(points.get(grade.name, 0.0))
                grade.needs_manual_grade = False
            for comment in notebook.comments:
                comment.auto_comment = None
        gb.db.commit()
