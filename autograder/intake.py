"""Step 1 of grading: find each student's notebook in a folder or zip, check it, and file it for nbgrader.

Accepted layouts (``NB`` is the chapter's notebook, e.g. ``03-linear-models-and-softmax.ipynb``)::

    submissions/alice/NB                 one folder per student
    submissions/alice/03-.../NB          nbgrader's own submitted/ layout
    submissions/alice.ipynb              one file per student

A student whose notebook is missing, empty, not JSON or not a notebook is not dropped: they are reported
with the reason (and score 0); the run goes on. Input that makes the whole run ambiguous stops it with a
:class:`GradingError`: a path that does not exist, a zip that is not a zip or escapes its folder, two
submissions that map to the same student id.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import nbformat

from .errors import GradingError

__all__ = ["Submission", "find_submissions", "check_notebook", "normalize_student_id", "file_submissions",
           "unpacked"]

MAX_NOTEBOOK_BYTES = 64 * 2**20
_ID_OK = re.compile(r"[^a-z0-9_.-]+")


@dataclass
class Submission:
    """One student's entry: where it came from and, if unusable, why."""

    student: str
    source: Path | None
    problem: str | None = None


def normalize_student_id(raw: str) -> str:
    """A student id nbgrader accepts: lower case, letters, digits, ``_ . -`` (others become ``_``)."""
    student = _ID_OK.sub("_", raw.strip().lower()).strip("._")
    if not student:
        raise GradingError(f"cannot make a student id from {raw!r}: it has no letters or digits")
    return student


def check_notebook(path: Path) -> str | None:
    """Why ``path`` cannot be graded as a notebook, or None if it can."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return f"the file is too large to be a notebook ({size / 2**20:.0f} MB; the limit is " \
                   f"{MAX_NOTEBOOK_BYTES // 2**20} MB)"
        raw = path.read_bytes()
    except OSError as err:
        return f"cannot read the file: {err.strerror}"
    if not raw.strip():
        return "the notebook file is empty"
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "the file is not a notebook (not UTF-8 text)"
    except json.JSONDecodeError as err:
        return f"the notebook is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        return "the file is JSON but not a Jupyter notebook (no cells / nbformat)"
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several types for a broken structure
        return f"the notebook's structure is invalid: {str(err).splitlines()[0][:200]}"
    return None


@contextmanager
def unpacked(submissions: Path) -> Iterator[Path]:
    """The submissions as a folder: the folder itself, or a zip extracted to a temporary folder."""
    submissions = Path(submissions)
    if not submissions.exists():
        raise GradingError(f"no submissions at {submissions}: give a folder or a .zip file")
    if submissions.is_dir():
        yield submissions
        return
    if not zipfile.is_zipfile(submissions):
        raise GradingError(f"{submissions} is neither a folder nor a zip file")
    with tempfile.TemporaryDirectory(prefix="submissions-") as tmp:
        target = Path(tmp).resolve()
        with zipfile.ZipFile(submissions) as archive:
            for member in archive.infolist():
                destination = (target / member.filename).resolve()
                if not destination.is_relative_to(target):
                    raise GradingError(f"{submissions}: entry {member.filename!r} points outside the archive")
            archive.extractall(target)
        yield target


def find_submissions(folder: Path, chapter_id: str) -> list[Submission]:
    """Every student's submission of ``chapter_id`` under ``folder`` (see the module doc for layouts)."""
    notebook_name = f"{chapter_id}.ipynb"
    found: dict[str, Submission] = {}
    origins: dict[str, str] = {}

    def add(raw_id: str, source: Path | None, problem: str | None = None) -> None:
        student = normalize_student_id(raw_id)
        where = str(source or raw_id)
        if student in found:
            raise GradingError(f"two submissions for student id {student!r}: {origins[student]} and {where}; "
                               "rename one of them")
        found[student] = Submission(student, source, problem)
        origins[student] = where

    entries = sorted(p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX")))
    for entry in entries:
        if entry.is_file() and entry.suffix == ".ipynb":
            add(entry.stem, entry)
        elif entry.is_dir():
            candidates = [entry / notebook_name, entry / chapter_id / notebook_name]
            notebook = next((c for c in candidates if c.is_file()), None)
            if notebook is not None:
                add(entry.name, notebook)
                continue
            others = sorted(p.name for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            problem = (f"no {notebook_name} in the submission" +
                       (f" (found {', '.join(others)}: was the notebook renamed?)" if others else ""))
            add(entry.name, None, problem)
    if not found:
        raise GradingError(f"no submissions of {chapter_id} in {folder}: expected <student>/{notebook_name} "
                           "or <student>.ipynb")
    for submission in found.values():
        if submission.problem is None and submission.source is not None:
            submission.problem = check_notebook(submission.source)
    return sorted(found.values(), key=lambda s: s.student)


def file_submissions(submissions: list[Submission], class_dir: Path, chapter_id: str) -> None:
    """Copy the usable notebooks to ``class_dir/submitted/<student>/<chapter>/<chapter>.ipynb``."""
    for submission in submissions:
        target = class_dir / "submitted" / submission.student / chapter_id
        if target.exists():
            shutil.rmtree(target)
        if submission.problem is None and submission.source is not None:
            target.mkdir(parents=True)
            shutil.copyfile(submission.source, target / f"{chapter_id}.ipynb")
            submission.source = target / f"{chapter_id}.ipynb"
