"""One scoring rule everywhere: the in-process scorer, the sandboxed grader and plain nbgrader give every
test cell the same points for the same answers.

The rule: a test cell earns its points when it runs clean (no error, nothing on stderr but warnings); a
hidden test cell also needs the answer to be the student's own work; a visible test cell also needs the
exercise's hidden test cells to pass. The answers below include ones that pass their visible test and fail
only the hidden one, where the three used to disagree.
"""
from __future__ import annotations

import html
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import samples
from autograder.inprocess import reference_namespace, score_exercise
from autograder.mutants import ch01
from autograder.notebooks import exercise_of, grade_cells, nbgrader_meta, read_notebook, strip_solution_markers
from autograder.paths import release_notebook, source_notebook
from course import syllabus

CHAPTER = "01-statistics-and-estimators"
# student -> {exercise: answer label}; each of these passes its visible test and fails a hidden one
STUDENTS = {
    "hidden-only": {"unbiased_variance": "returns float64 for a float32 input",
                    "plugin_variance_bias": "returns a tensor for numbers",
                    "sample_mean": "returns a numpy array"},
    "mixed": {"unbiased_variance": "divides by n instead of n - 1",
              "sample_variance": "returns float32 for a float64 input"},
    "perfect": {},
}


def _answers(root: Path) -> dict[str, dict[str, str]]:
    source = read_notebook(source_notebook(root, CHAPTER))
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source)
                 for c in source.cells if nbgrader_meta(c).get("solution")}
    out = {}
    for student, wrong in STUDENTS.items():
        answers = dict(reference)
        answers.update({exercise: ch01.MUTANTS[exercise][label] for exercise, label in wrong.items()})
        out[student] = answers
    return out


def _gradebook_points(class_dir: Path) -> dict[tuple[str, str], float]:
    out = {}
    with Gradebook(f"sqlite:///{class_dir / 'gradebook.db'}") as gb:
        for student in gb.students:
            for notebook in gb.find_submission(CHAPTER, student.id).notebooks:
                for grade in notebook.grades:
                    out[(student.id, grade.name)] = grade.auto_score
    return out


@pytest.fixture(scope="module")
def inbox(root, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inbox")
    release = read_notebook(release_notebook(root, CHAPTER))
    for student, answers in _answers(root).items():
        path = folder / student / f"{CHAPTER}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(samples.fill_answers(release, answers), str(path))
    return folder


@pytest.fixture(scope="module")
def course_root(root, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("course")
    shutil.copytree(root / "source_notebooks" / CHAPTER, copy / "source_notebooks" / CHAPTER)
    shutil.copytree(root / "release" / CHAPTER, copy / "release" / CHAPTER)
    shutil.copy(root / "nbgrader_config.py", copy)
    return copy


def _in_process(root: Path) -> dict[tuple[str, str], float]:
    nb = read_notebook(source_notebook(root, CHAPTER))
    namespace = reference_namespace(nb)
    points = {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in grade_cells(nb)
              if not nbgrader_meta(c).get("solution")}
    out = {}
    for student, answers in _answers(root).items():
        own = dict(namespace)  # every answer of the student, as in their notebook: the make-it-work task
        for source in answers.values():  # calls their sample_mean and unbiased_variance
            exec(compile(source, "<answer>", "exec"), own)
        for exercise in {exercise_of(g) for g in points}:
            score = score_exercise(nb, exercise, answers[exercise], own)
            for grade_id in points:
                if exercise_of(grade_id) == exercise:
                    out[(student, grade_id)] = 0.0 if grade_id in score.failures else points[grade_id]
    return out


def _grade_with_the_cli(course_root: Path, inbox: Path, class_dir: Path, engine: str) -> None:
    """``autograder release`` and ``autograder grade``, as an instructor runs them."""
    cli = str(Path(sys.executable).parent / "autograder")
    common = ["--course-root", str(course_root), "--class-dir", str(class_dir)]
    subprocess.run([cli, "release", CHAPTER, *common], check=True, cwd=course_root, capture_output=True)
    subprocess.run([cli, "grade", CHAPTER, str(inbox), *common, "--engine", engine, "--workers", "2",
                    "--cell-timeout", "60", "--notebook-timeout", "300"], check=True, cwd=course_root,
                   capture_output=True)


@pytest.mark.slow
def test_the_three_graders_give_every_cell_the_same_points(root, course_root, inbox, tmp_path):
    in_process = _in_process(root)
    sandboxed, plain = tmp_path / "sandbox", tmp_path / "plain"
    _grade_with_the_cli(course_root, inbox, sandboxed, "sandbox")
    _grade_with_the_cli(course_root, inbox, plain, "nbgrader")

    assert _gradebook_points(sandboxed) == in_process
    assert _gradebook_points(plain) == in_process
    # the rule itself: a visible cell that passed in the notebook earns nothing while its hidden cell fails
    for exercise in STUDENTS["hidden-only"]:
        assert in_process[("hidden-only", f"test_{exercise}")] == 0
        assert in_process[("hidden-only", f"test_{exercise}_2")] == 0
    assert in_process[("perfect", "test_sample_mean")] == next(
        e.tests["test_sample_mean"] for e in syllabus.chapter(CHAPTER).exercises if e.name == "sample_mean")
    assert sum(v for (s, _), v in in_process.items() if s == "perfect") == syllabus.chapter(CHAPTER).points
    # the sandbox's feedback names the mistake: the registered mutant's hint, computed in the grader
    feedback = html.unescape((sandboxed / "feedback" / "mixed" / CHAPTER / f"{CHAPTER}.html").read_text())
    assert ch01.HINTS["unbiased_variance"]["divides by n instead of n - 1"] in feedback
    assert "is float32 where float64 is expected" in feedback
