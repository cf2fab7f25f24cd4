"""The instructor pipeline: the steps of :mod:`autograder`, composed for one course and one class.

    course = Course.open()                        # the repository, grading in the repository root
    course.release("03-linear-models-and-softmax")
    students = course.collect("03-linear-models-and-softmax", Path("inbox.zip"))
    course.autograde("03-linear-models-and-softmax", students)
    course.feedback("03-linear-models-and-softmax")
    course.export_csv(Path("grades.csv"))

Each step is a function in its own module (:mod:`.intake`, :mod:`.nbgrader_path.grading`, :mod:`.records`,
:mod:`.samples`); this class only holds the paths and the nbgrader API they share.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

from nbgrader.apps import NbGraderAPI

from course import syllabus

import nbformat

from . import bundle, engine, intake, mutants, samples
from .nbgrader_path import grading
from .records import gradebook_rows as report
from .records import result_reports as reports
from .records import store
from .config import nbgrader_api
from .errors import GradingError
from .inprocess import ExerciseScore, reference_namespace, score_exercise
from .notebooks import build_notebook, read_notebook, write_notebook
from .records.results import SubmissionResult
from .sandbox.supervisor import Limits, WallsMissing
from .student import CourseConfig, with_student_cells
from .paths import CourseRootNotFound, find_course_root, release_notebook, source_notebook, source_script

__all__ = ["Course", "MutantRow", "DemoSummary", "run_demo"]


@dataclass(frozen=True)
class MutantRow:
    """One answer scored by :meth:`Course.check_chapter`; ``ok`` when its score is what it should be."""

    exercise: str
    label: str
    kind: str  # "reference", "mutant" or "alternative"
    score: ExerciseScore

    @property
    def ok(self) -> bool:
        return (self.score.earned < self.score.max_points) if self.kind == "mutant" else self.score.full


@dataclass
class Course:
    """A course repository (``root``) and the folder of the class being graded (``class_dir``)."""

    root: Path
    class_dir: Path

    @classmethod
    def open(cls, course_root: Path | None = None, class_dir: Path | None = None) -> "Course":
        try:
            root = find_course_root(course_root)
        except CourseRootNotFound as err:
            raise GradingError(str(err)) from None
        folder = Path(class_dir).resolve() if class_dir else root
        folder.mkdir(parents=True, exist_ok=True)
        return cls(root, folder)

    @cached_property
    def api(self) -> NbGraderAPI:
        return nbgrader_api(self.root, self.class_dir)

    # -- chapters ----------------------------------------------------------------------------------
    def chapter_ids(self, requested: list[str] | None = None) -> list[str]:
        """Resolve chapter ids or numbers (default: every built chapter)."""
        if not requested:
            return [c.id for c in syllabus.chapters(built_only=True)]
        out = []
        for name in requested:
            try:
                chapter = syllabus.chapter(name)
            except KeyError as err:
                raise GradingError(err.args[0]) from None
            out.append(chapter.id)
        return out

    def build_notebook(self, chapter_id: str) -> bool:
        """Rebuild the source .ipynb from its jupytext twin; return whether it changed."""
        script = source_script(self.root, chapter_id)
        if not script.is_file():
            raise GradingError(f"{chapter_id} has no jupytext script at {script}")
        return write_notebook(build_notebook(script), source_notebook(self.root, chapter_id))

    def check_chapter(self, chapter_id: str) -> list[MutantRow]:
        """Score the reference, every mutant and every alternative of each exercise, in this process."""
        nb = read_notebook(source_notebook(self.root, chapter_id))
        module = mutants.for_chapter(chapter_id)
        if module is None:
            raise GradingError(f"{chapter_id} has no mutants module in autograder/mutants/")
        namespace = reference_namespace(nb)
        rows = []
        for exercise in [e.name for e in syllabus.chapter(chapter_id).exercises] or list(module.MUTANTS):
            rows.append(MutantRow(exercise, "reference", "reference", score_exercise(nb, exercise, None, namespace)))
            for kind, table in (("mutant", module.MUTANTS), ("alternative", module.ALTERNATIVES)):
                for label, source in table.get(exercise, {}).items():
                    rows.append(MutantRow(exercise, label, kind, score_exercise(nb, exercise, source, namespace)))
        return rows

    # -- the grading steps ---------------------------------------------------------------------------
    def release(self, chapter_id: str) -> Path:
        """``nbgrader generate_assignment``: source_notebooks/<id> -> release/<id>, and into the gradebook."""
        if not source_notebook(self.root, chapter_id).is_file():
            raise GradingError(f"{chapter_id} has no notebook at {source_notebook(self.root, chapter_id)}: "
                               "build it with `autograder build-notebooks`")
        outcome = self.api.generate_assignment(chapter_id, force=True, create=True)
        if not outcome["success"]:
            raise GradingError(f"nbgrader could not generate {chapter_id}:\n{(outcome.get('error') or '')[-1500:]}")
        path = release_notebook(self.root, chapter_id)
        write_notebook(with_student_cells(read_notebook(path), self.config, chapter_id), path)
        return path

    @cached_property
    def config(self) -> CourseConfig:
        """``course.toml``: how students install the course and where its notebooks live."""
        return CourseConfig.load(self.root)

    def bundle(self, out_dir: Path, chapter_ids: list[str]) -> tuple[Path, Path]:
        """Write the student bundle (release notebooks, student wheel, README) as a folder and a zip."""
        return bundle.write_bundle(self.root, out_dir, chapter_ids, self.config)

    def collect(self, chapter_id: str, submissions: Path) -> list[intake.Submission]:
        """Find, check and file the submissions of ``chapter_id`` (a folder or a zip)."""
        with intake.unpacked(submissions) as folder:
            found = intake.find_submissions(folder, chapter_id)
            intake.file_submissions(found, self.class_dir, chapter_id)
        return found

    def autograde(self, chapter_id: str, submissions: list[intake.Submission],
                  progress: bool = False) -> list[grading.StudentResult]:
        """Autograde the filed submissions (the gradebook must know the chapter: run release first)."""
        return grading.autograde(self.api, chapter_id, submissions, progress=progress)

    def grade_sandboxed(self, chapter_id: str, submissions: list[intake.Submission], limits: Limits = Limits(),
                        workers: int = 2, force: bool = False,
                        progress: Callable[[SubmissionResult], None] | None = None,
                        executor=None) -> engine.ClassRun:
        """Grade filed submissions with the hardened grader (:mod:`.engine`); write every report.

        The gradebook is backed up first and then written from this process only, one student at a
        time; results already graded with the same inputs are re-used (``force`` re-grades them).
        ``executor``: where the submissions run (:func:`autograder.cluster.dask_grading`), else local workers.
        """
        grading.require_assignment(self.api, chapter_id)
        db = Path(self.api.coursedir.root) / "gradebook.db"
        backup = store.backup_gradebook(db, self.class_dir / "backups")
        db_url, course_id = self.api.coursedir.db_url, self.api.coursedir.course_id

        def keep(result: SubmissionResult, notebook) -> None:
            store.save_result(self.class_dir, result)
            target = self.class_dir / "autograded" / result.student / chapter_id / f"{chapter_id}.ipynb"
            if notebook is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, str(target))
            elif result.problem and target.exists():
                target.unlink()
            store.write_grades(db_url, course_id, result)
            grading.write_problem(self.class_dir, chapter_id, result.student, result.problem)

        try:
            run = engine.grade_class(self.root, self.class_dir, chapter_id, submissions, limits, workers, force,
                                     on_result=keep, progress=progress, executor=executor)
        except WallsMissing as err:
            raise GradingError(str(err)) from None
        run.backup = backup
        reports.write_all(self.class_dir, chapter_id, run.results)
        return run

    def saved_results(self, chapter_id: str) -> list[SubmissionResult]:
        """The results the sandboxed grader saved for ``chapter_id`` (empty if it never graded it).

        Every file must carry this class's signature: one that does not (edited by hand, forged, copied)
        stops the reports with its name, so that nothing is reported from it.
        """
        folder = self.class_dir / "results" / chapter_id
        paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
        results, bad = [], []
        for path in paths:
            result = store.load_result(self.class_dir, chapter_id, path.stem)
            (results.append(result) if result is not None else bad.append(path.name))
        if bad:
            raise GradingError(f"result files not signed by this class's grader (edited, forged or copied): "
                               f"{', '.join(bad)} in {folder}; grade them again with `autograder grade --force`")
        return results

    def write_reports(self, chapter_id: str) -> list[Path]:
        """Re-make feedback, summary, CSV and Gradescope files from the saved results (no re-grading)."""
        results = self.saved_results(chapter_id)
        if not results:
            raise GradingError(f"no saved results for {chapter_id} in {self.class_dir}: grade it first")
        return reports.write_all(self.class_dir, chapter_id, results)

    def feedback(self, chapter_id: str) -> list[Path]:
        """Feedback HTML for every graded student of the chapter (from saved results, else nbgrader's)."""
        results = self.saved_results(chapter_id)
        if results:
            return reports.write_feedback(self.class_dir, chapter_id, results)
        return grading.generate_feedback(self.api, chapter_id)

    def grade_rows(self) -> list[report.GradeRow]:
        """Every grade in the class gradebook."""
        return report.grade_rows(self.api.coursedir.db_url, self.api.coursedir.course_id,
                                 grading.read_problems(self.class_dir))

    def export_csv(self, path: Path) -> Path:
        """Write every grade to ``path`` (relative paths are taken in the class folder)."""
        path = path if path.is_absolute() else self.class_dir / path
        return report.write_csv(self.grade_rows(), path)


@dataclass
class DemoSummary:
    csv: Path
    rows: list[report.GradeRow]


_CLASS_ARTEFACTS = {"inbox", "submitted", "autograded", "feedback", "gradebook.db", "grades.csv", "problems.json",
                    ".nbgrader.log", "results", "reports", "backups"}


def run_demo(course: Course, chapter_ids: list[str], log: Callable[[str], None] = print,
             engine: str = "nbgrader") -> DemoSummary:
    """The whole pipeline on the sample class: release, sample submissions, grade, feedback, CSV.

    ``engine`` is "nbgrader" (plain ``nbgrader autograde`` and its feedback) or "sandbox" (the hardened grader).
    """
    if course.class_dir == course.root:
        raise GradingError("the demo wipes its class folder: give it its own --class-dir, not the course root")
    unknown = {p.name for p in course.class_dir.iterdir()} - _CLASS_ARTEFACTS
    if unknown:
        raise GradingError(f"{course.class_dir} holds files the demo did not make ({', '.join(sorted(unknown))}); "
                           "refusing to wipe it: pick an empty --class-dir")
    for name in _CLASS_ARTEFACTS:
        target = course.class_dir / name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    for chapter_id in chapter_ids:
        log(f"[bold]{chapter_id}[/]: releasing")
        release_nb = course.release(chapter_id)
        inbox = course.class_dir / "inbox" / chapter_id
        samples.write_sample_class(source_notebook(course.root, chapter_id), release_nb, chapter_id, inbox)
        students = course.collect(chapter_id, inbox)
        if engine == "sandbox":
            log(f"{chapter_id}: grading {len(students)} sample submissions in sandboxed kernels")
            course.grade_sandboxed(chapter_id, students)
        else:
            log(f"{chapter_id}: grading {len(students)} sample submissions with nbgrader")
            course.autograde(chapter_id, students, progress=True)
            course.feedback(chapter_id)
    csv = course.export_csv(Path("grades.csv"))
    return DemoSummary(csv, course.grade_rows())
