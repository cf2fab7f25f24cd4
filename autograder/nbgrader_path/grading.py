"""Steps 2 and 3 of grading: autograde filed submissions with nbgrader, then write feedback HTML.

Problems found at intake (a missing or broken notebook) are recorded in the gradebook as a submission
with no answers, so the student appears in every report with 0 points, and in ``problems.json`` with
the reason.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from tqdm.auto import tqdm

from ..errors import GradingError
from ..intake import Submission

__all__ = ["StudentResult", "autograde", "record_problem", "generate_feedback", "read_problems", "write_problem",
           "require_assignment"]


@dataclass
class StudentResult:
    """The outcome of grading one student: ok, or the problem that gave them 0."""

    student: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _problems_path(class_dir: Path) -> Path:
    return class_dir / "problems.json"


def read_problems(class_dir: Path) -> dict[str, dict[str, str]]:
    """Recorded problems: ``{chapter: {student: reason}}``."""
    path = _problems_path(class_dir)
    return json.loads(path.read_text()) if path.exists() else {}


def write_problem(class_dir: Path, chapter_id: str, student: str, problem: str | None) -> None:
    problems = read_problems(class_dir)
    chapter_problems = problems.setdefault(chapter_id, {})
    if problem is None:
        chapter_problems.pop(student, None)
    else:
        chapter_problems[student] = problem
    _problems_path(class_dir).write_text(json.dumps(problems, indent=1, sort_keys=True) + "\n")


def record_problem(api: NbGraderAPI, chapter_id: str, student: str, problem: str) -> None:
    """Give ``student`` an empty (0-point) submission of ``chapter_id`` and remember why."""
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        gb.update_or_create_student(student)
        try:
            gb.remove_submission(chapter_id, student)
        except MissingEntry:
            pass
        gb.add_submission(chapter_id, student)
    autograded = Path(api.coursedir.format_path(api.coursedir.autograded_directory, student, chapter_id))
    if autograded.exists():
        shutil.rmtree(autograded)
    write_problem(Path(api.coursedir.root), chapter_id, student, problem)


def require_assignment(api: NbGraderAPI, chapter_id: str) -> None:
    """Stop with a clear error unless the class's gradebook knows ``chapter_id`` (it was released)."""
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        try:
            gb.find_assignment(chapter_id)
        except MissingEntry:
            raise GradingError(f"{chapter_id} is not in this class's gradebook yet: run `autograder release` "
                               "with the same --class-dir first") from None


def autograde(api: NbGraderAPI, chapter_id: str, submissions: list[Submission],
              progress: bool = False) -> list[StudentResult]:
    """Run ``nbgrader autograde`` for every usable submission (forced, so a re-run re-grades)."""
    require_assignment(api, chapter_id)
    results = []
    for submission in tqdm(submissions, desc=f"grading {chapter_id}", unit="student", disable=not progress):
        problem = submission.problem
        if problem is None:
            outcome = api.autograde(chapter_id, submission.student, force=True, create=True)
            if not outcome["success"]:
                problem = f"nbgrader could not grade the notebook: {_root_cause(outcome)}"
        if problem is None:
            write_problem(Path(api.coursedir.root), chapter_id, submission.student, None)
        else:
            record_problem(api, chapter_id, submission.student, problem)
        results.append(StudentResult(submission.student, problem))
    return results


_EXCEPTION_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))(?::\s*(.*))?$")


def _root_cause(outcome: dict) -> str:
    """The most specific error line in an nbgrader result (not its generic "see the traceback" wrapper)."""
    text = "\n".join(str(outcome.get(key) or "") for key in ("log", "error"))
    causes = [m for m in map(_EXCEPTION_LINE.match, text.splitlines())
              if m and "NbGraderException" not in m.group(1)]
    if causes:
        return f"{causes[-1].group(1).split('.')[-1]}: {(causes[-1].group(2) or '').strip()[:300]}"
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "unknown error"


def generate_feedback(api: NbGraderAPI, chapter_id: str) -> list[Path]:
    """Feedback HTML for every autograded student of ``chapter_id``; returns the files written."""
    autograded_root = Path(api.coursedir.root) / api.coursedir.autograded_directory
    students = sorted(q.parent.name for q in autograded_root.glob(f"*/{chapter_id}") if q.is_dir())
    written = []
    for student in students:
        outcome = api.generate_feedback(chapter_id, student, force=True)
        if not outcome["success"]:
            raise GradingError(f"feedback for {student} failed: {(outcome.get('error') or '').strip()[-500:]}")
        path = Path(api.coursedir.format_path(api.coursedir.feedback_directory, student, chapter_id))
        written.extend(sorted(path.glob("*.html")))
    return written
