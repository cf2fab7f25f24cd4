"""The class's records: result files, the nbgrader gradebook (written from one process only), backups.

Only the grader writes them, in the class folder, which no kernel can see (:mod:`autograder.sandbox.walls`).
Every result file carries an HMAC-SHA256 signature made with the class's grading key (``.grading-key`` in
the class folder, readable by its owner only, never inside a kernel's walls); a result whose signature does
not verify (edited, forged, copied from another class) is never re-used: it is graded again.

Every graded submission is first saved as ``results/<chapter>/<student>.json`` (atomically), then copied
into the gradebook in one transaction per student. A run that is killed half way leaves whole result
files and whole gradebook entries; running it again re-uses the results whose digest still matches and
re-writes their gradebook entries, so it ends where an uninterrupted run would have.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .results import SubmissionResult

__all__ = ["result_path", "load_result", "save_result", "sign", "verify", "backup_gradebook", "write_grades",
           "KEEP_BACKUPS"]

KEEP_BACKUPS = 10


def result_path(class_dir: Path, chapter: str, student: str) -> Path:
    return Path(class_dir) / "results" / chapter / f"{student}.json"


def _key(class_dir: Path) -> bytes:
    """The class's grading key (made on first use, owner-only)."""
    path = Path(class_dir) / ".grading-key"
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    return path.read_bytes()


def sign(class_dir: Path, result: SubmissionResult) -> SubmissionResult:
    result.signature = hmac.new(_key(class_dir), result.signed_bytes(), hashlib.sha256).hexdigest()
    return result


def verify(class_dir: Path, result: SubmissionResult) -> bool:
    expected = hmac.new(_key(class_dir), result.signed_bytes(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(result.signature))


def save_result(class_dir: Path, result: SubmissionResult) -> Path:
    """Sign ``result`` and write it (atomically) to its place in the class folder."""
    return sign(class_dir, result).save(result_path(class_dir, result.chapter, result.student))


def load_result(class_dir: Path, chapter: str, student: str) -> SubmissionResult | None:
    """The saved result of ``student``, or None if there is none, it cannot be read or it is not signed
    with this class's key."""
    path = result_path(class_dir, chapter, student)
    try:
        result = SubmissionResult.load(path)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not verify(class_dir, result) or result.student != student or result.chapter != chapter:
        return None
    return result


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
