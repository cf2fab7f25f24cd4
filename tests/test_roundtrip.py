"""The whole instructor pipeline through real nbgrader on the sample class of every built chapter.

The blank release scores 0, the solutions score full marks, the partly wrong student loses exactly the
points of the exercises they got wrong, and feedback shows no hidden test and no reference code.
"""
from __future__ import annotations

import csv
import html
import re

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import mutants, samples
from autograder.inprocess import score_exercise
from autograder.notebooks import read_notebook, solution_cells
from autograder.paths import release_notebook, source_notebook
from conftest import graded_half, one_chapter_per_half
from course import syllabus

pytestmark = pytest.mark.slow
BUILT = [c.id for c in syllabus.chapters(built_only=True)]
HALVES = one_chapter_per_half(BUILT)  # the tests of a half of the graded class as a whole


def _scores(graded_class, chapter_id):
    _, summary = graded_class(chapter_id)
    return {(r.student, r.chapter): r for r in summary.rows}


def _cell_grades(course, chapter_id, student) -> dict[str, float]:
    with Gradebook(course.api.coursedir.db_url, course.api.coursedir.course_id) as gb:
        notebook = gb.find_submission_notebook(chapter_id, chapter_id, student)
        return {g.name: float(g.score) for g in notebook.grades}


@pytest.mark.parametrize("chapter_id", BUILT)
def test_solution_scores_full_marks_and_blank_scores_zero(graded_class, chapter_id):
    scores = _scores(graded_class, chapter_id)
    total = syllabus.chapter(chapter_id).points
    assert scores[("perfect", chapter_id)].score == scores[("perfect", chapter_id)].max_score == total
    assert scores[("blank", chapter_id)].score == 0
    assert 0 < scores[("partly-wrong", chapter_id)].score < total


@pytest.mark.parametrize("chapter_id", BUILT)
def test_the_readme_table_is_what_nbgrader_gave(graded_class, root, chapter_id):
    scores = _scores(graded_class, chapter_id)
    row = samples.readme_table({chapter_id: {s: scores[(s, chapter_id)].score for s in samples.SAMPLE_STUDENTS}})
    assert row.splitlines()[2] in samples.readme_section(root / "README.md").splitlines(), \
        "the README's sample-class table is stale: run `python -m autograder.samples --write-readme`"


def test_the_readme_table_adds_up(root):
    """The README's total row is the sum of its chapter rows, one per built chapter (each row is checked
    against nbgrader above)."""
    lines = samples.readme_section(root / "README.md").splitlines()
    rows = {line.split("|")[1].strip(): [cell.strip().strip("*").split(" / ") for cell in line.split("|")[2:5]]
            for line in lines[2:]}
    total = rows.pop("**total**")
    assert sorted(rows) == sorted(c[:2] for c in BUILT)
    for column in range(3):
        for part in range(2):
            assert float(total[column][part]) == sum(float(r[column][part]) for r in rows.values())


@pytest.mark.parametrize("chapter_id", BUILT)
def test_partly_wrong_loses_exactly_its_wrong_exercises(graded_class, chapter_id):
    course, _ = graded_class(chapter_id)
    module = mutants.for_chapter(chapter_id)
    chapter = syllabus.chapter(chapter_id)
    grades = _cell_grades(course, chapter_id, "partly-wrong")
    nb = read_notebook(source_notebook(course.root, chapter_id))
    for exercise in chapter.exercises:
        earned = sum(grades[test] for test in exercise.tests)
        if exercise.name in module.SAMPLE_WRONG:
            assert earned < exercise.points, f"{exercise.name}: the mutant kept full marks in nbgrader"
            # the in-process scorer used by the mutant tests agrees with nbgrader, cell by cell
            answer = next(iter(module.MUTANTS[exercise.name].values()))
            local = score_exercise(nb, exercise.name, answer)
            assert local.earned == earned
            assert set(local.failures) == {t for t in exercise.tests if grades[t] == 0}
        else:
            assert earned == exercise.points, f"{exercise.name}: a correct answer lost points in nbgrader"


def _squash(text: str) -> str:
    """Whitespace collapsed and Markdown code ticks dropped, to compare rendered HTML with cell sources."""
    return " ".join(text.replace("`", "").split())


def _visible_text(path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


@pytest.mark.parametrize("chapter_id", BUILT)
def test_feedback_shows_no_hidden_tests_or_reference_code(graded_class, chapter_id):
    course, _ = graded_class(chapter_id)
    nb = read_notebook(source_notebook(course.root, chapter_id))
    released = _squash(" ".join(c.source for c in read_notebook(release_notebook(course.root, chapter_id)).cells))
    # every line written inside a solution region that the student's own notebook does not already show
    reference_lines = {line.strip() for cell in solution_cells(nb)
                       for region in re.findall(r"(?s)### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source)
                       for line in region.splitlines()
                       if len(line.strip()) >= 20 and not line.strip().startswith("#")
                       and _squash(line) not in released}
    for student in ("perfect", "blank", "partly-wrong"):
        feedback = course.class_dir / "feedback" / student / chapter_id / f"{chapter_id}.html"
        assert feedback.is_file(), f"no feedback for {student}"
        text = _visible_text(feedback)
        for word in ("BEGIN HIDDEN TESTS", "run_check", "_result"):
            assert word not in text, f"{student}'s feedback shows {word!r}"
        if student == "blank":
            leaked = [line for line in reference_lines if _squash(line) in _squash(text)]
            assert not leaked, f"blank feedback shows reference code: {leaked[:3]}"
    partly = _visible_text(course.class_dir / "feedback" / "partly-wrong" / chapter_id / f"{chapter_id}.html")
    assert "hidden cases" in partly, "a failed hidden test tells the student what went wrong"


@pytest.mark.parametrize("chapter_id", HALVES)
def test_csv_export_has_every_student_and_chapter(graded_class, chapter_id):
    _, summary = graded_class(chapter_id)
    with summary.csv.open() as handle:
        rows = list(csv.DictReader(handle))
    half = [c for c in BUILT if graded_half(c) == graded_half(chapter_id)]
    assert {(r["student_id"], r["chapter"]) for r in rows} == {(s, c) for s in ("perfect", "blank", "partly-wrong")
                                                               for c in half}
    for row in rows:
        assert float(row["score"]) <= float(row["max_score"])


@pytest.mark.parametrize("chapter_id", BUILT[:1])
def test_broken_submissions_get_zero_with_a_reason_and_touch_no_one_else(graded_class, tmp_path, chapter_id):
    course, _ = graded_class(chapter_id)
    before = {(r.student, r.chapter): r.score for r in course.grade_rows()}
    inbox = tmp_path / "inbox"
    (inbox / "broken").mkdir(parents=True)
    (inbox / "broken" / f"{chapter_id}.ipynb").write_text('{"cells": [')
    (inbox / "renamer").mkdir()
    (inbox / "renamer" / "homework.ipynb").write_text("{}")
    (inbox / "empty.ipynb").write_text("")
    students = course.collect(chapter_id, inbox)
    results = {r.student: r for r in course.autograde(chapter_id, students)}
    assert "not valid JSON" in results["broken"].problem
    assert "renamed" in results["renamer"].problem
    assert "empty" in results["empty"].problem
    rows = {(r.student, r.chapter): r for r in course.grade_rows()}
    for student in ("broken", "renamer", "empty"):
        assert rows[(student, chapter_id)].score == 0 and rows[(student, chapter_id)].problem
    assert {k: v.score for k, v in rows.items() if k in before} == before, "other students' grades changed"


@pytest.mark.parametrize("chapter_id", BUILT[:1])
def test_deleting_a_failing_test_cell_does_not_save_its_points(graded_class, tmp_path, chapter_id):
    course, _ = graded_class(chapter_id)
    module = mutants.for_chapter(chapter_id)
    submitted = course.class_dir / "submitted" / "partly-wrong" / chapter_id / f"{chapter_id}.ipynb"
    nb = nbformat.read(str(submitted), as_version=4)
    doomed = {t for e in syllabus.chapter(chapter_id).exercises if e.name in module.SAMPLE_WRONG for t in e.tests}
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in doomed]
    (tmp_path / "inbox" / "cheater").mkdir(parents=True)
    nbformat.write(nb, str(tmp_path / "inbox" / "cheater" / f"{chapter_id}.ipynb"))
    course.autograde(chapter_id, course.collect(chapter_id, tmp_path / "inbox"))
    rows = {(r.student, r.chapter): r.score for r in course.grade_rows()}
    assert rows[("cheater", chapter_id)] == rows[("partly-wrong", chapter_id)]
