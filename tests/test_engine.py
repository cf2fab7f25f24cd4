"""The hardened grader end to end: agreement with nbgrader, resumable and idempotent runs, backups,
re-grading one student, and reports that never leak hidden tests.

The bad-submission corpus (hangs, bombs, crashes, tampering, fooling, delegation) is in
``test_sandbox_corpus.py``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import engine, intake, samples
from autograder.mutants import ch01
from autograder.records import store
from autograder.notebooks import grade_cells, nbgrader_meta, read_notebook, strip_solution_markers
from autograder.paths import release_notebook, source_notebook
from autograder.pipeline import Course
from autograder.records.results import SubmissionResult
from autograder.sandbox.supervisor import Limits
from conftest import one_chapter_per_half
from course import syllabus



CHAPTER = "01-statistics-and-estimators"
HALVES = one_chapter_per_half([c.id for c in syllabus.chapters(built_only=True)])
FULL = syllabus.chapter(CHAPTER).points
SAMPLE_WRONG_POINTS = sum(e.points for e in syllabus.chapter(CHAPTER).exercises
                          if e.name in ch01.SAMPLE_WRONG)
LIMITS = Limits(cell_seconds=60, notebook_seconds=300)


def _grades(class_dir: Path, chapter: str = CHAPTER) -> dict[tuple[str, str], float]:
    """Every (student, cell) auto score in the class's gradebook."""
    out = {}
    with Gradebook(f"sqlite:///{class_dir / 'gradebook.db'}") as gb:
        for student in gb.students:
            try:
                submission = gb.find_submission(chapter, student.id)
            except Exception:  # noqa: BLE001  (no submission of this chapter)
                continue
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    out[(student.id, grade.name)] = grade.auto_score
    return out


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, root) -> Path:
    """Five students of chapter 01: the three samples and two with other wrong answers."""
    from autograder.mutants import ch01

    folder = tmp_path_factory.mktemp("inbox")
    samples.write_sample_class(source_notebook(root, CHAPTER), release_notebook(root, CHAPTER), CHAPTER, folder)
    release, source = read_notebook(release_notebook(root, CHAPTER)), read_notebook(source_notebook(root, CHAPTER))
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source)
                 for c in source.cells if nbgrader_meta(c).get("solution")}
    for student, exercises in (("dana", ["sample_mean", "gaussian_mle"]), ("eve", ["empirical_risk"])):
        answers = dict(reference)
        for exercise in exercises:
            answers[exercise] = list(ch01.MUTANTS[exercise].values())[-1]
        path = folder / student / f"{CHAPTER}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(samples.fill_answers(release, answers), str(path))
    return folder


@pytest.fixture(scope="module")
def course_root(root, tmp_path_factory) -> Path:
    """A copy of the course (notebooks and config) so releasing never touches the repository."""
    copy = tmp_path_factory.mktemp("course")
    shutil.copytree(root / "source_notebooks" / CHAPTER, copy / "source_notebooks" / CHAPTER)
    shutil.copytree(root / "release" / CHAPTER, copy / "release" / CHAPTER)
    shutil.copy(root / "nbgrader_config.py", copy)
    return copy


def _released_class(root: Path, folder: Path) -> Course:
    course = Course.open(root, folder)
    course.release(CHAPTER)
    return course


def _grade(course: Course, inbox: Path, **kwargs):
    students = course.collect(CHAPTER, inbox)
    return course.grade_sandboxed(CHAPTER, students, LIMITS, **kwargs)


@pytest.fixture(scope="module")
def straight_run(course_root, inbox, tmp_path_factory):
    """One uninterrupted sandboxed run of the five students."""
    course = _released_class(course_root, tmp_path_factory.mktemp("straight"))
    run = _grade(course, inbox, workers=2)
    return course, run


@pytest.mark.slow
def test_sandbox_scores_match_nbgrader_on_honest_submissions(course_root, inbox, straight_run, tmp_path):
    course, run = straight_run
    plain = _released_class(course_root, tmp_path / "plain")
    plain.autograde(CHAPTER, plain.collect(CHAPTER, inbox))
    assert _grades(course.class_dir) == _grades(plain.class_dir)
    totals = {r.student: r.score for r in run.results}
    assert totals["perfect"] == FULL and totals["blank"] == 0 and 0 < totals["partly-wrong"] < FULL


@pytest.mark.slow
def test_a_run_killed_half_way_resumes_to_the_same_gradebook(course_root, inbox, straight_run, tmp_path):
    course = _released_class(course_root, tmp_path / "killed")
    command = [str(Path(sys.executable).parent / "autograder"), "grade", CHAPTER, str(inbox), "--class-dir",
               str(course.class_dir), "--workers", "1", "--course-root", str(course_root),
               "--cell-timeout", str(LIMITS.cell_seconds), "--notebook-timeout", str(LIMITS.notebook_seconds)]
    proc = subprocess.Popen(command, cwd=course_root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    results = course.class_dir / "results" / CHAPTER
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(list(results.glob("*.json"))) < 2 and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(results.glob("*.json")))
    assert 2 <= done_before < 5, "the run should have been killed half way"
    run = _grade(course, inbox, workers=2)
    assert run.graded == 5 - done_before  # finished results were re-used, not graded again
    assert _grades(course.class_dir) == _grades(straight_run[0].class_dir)


@pytest.mark.slow
def test_rerun_is_idempotent_and_backs_up_the_gradebook(course_root, inbox, tmp_path):
    course = _released_class(course_root, tmp_path / "twice")
    _grade(course, inbox, workers=2)
    first = _grades(course.class_dir)
    again = _grade(course, inbox, workers=2)
    assert again.graded == 0 and _grades(course.class_dir) == first
    assert again.backup is not None and again.backup.exists()
    with Gradebook(f"sqlite:///{again.backup}") as gb:
        assert len(gb.students) == 5  # the backup holds the gradebook as it was before the second run


@pytest.mark.slow
def test_regrading_one_student_touches_no_one_else(course_root, root, inbox, tmp_path):
    course = _released_class(course_root, tmp_path / "one")
    _grade(course, inbox, workers=2)
    before = _grades(course.class_dir)
    saved = {p.name: p.read_bytes() for p in (course.class_dir / "results" / CHAPTER).glob("*.json")}
    only_blank = tmp_path / "only-blank"
    shutil.copytree(inbox / "blank", only_blank / "blank")
    release = read_notebook(release_notebook(root, CHAPTER))
    source = read_notebook(source_notebook(root, CHAPTER))
    answer = next(c.source for c in source.cells if nbgrader_meta(c).get("grade_id") == "sample_mean")
    nbformat.write(samples.fill_answers(release, {"sample_mean": strip_solution_markers(answer)}),
                   str(only_blank / "blank" / f"{CHAPTER}.ipynb"))
    run = _grade(course, only_blank, workers=1)
    mean = next(e for e in syllabus.chapter(CHAPTER).exercises if e.name == "sample_mean")
    assert [r.student for r in run.results] == ["blank"] and run.results[0].score == mean.points
    after = _grades(course.class_dir)
    assert {k: v for k, v in after.items() if k[0] != "blank"} == {k: v for k, v in before.items() if k[0] != "blank"}
    assert {name: after[("blank", name)] for name in mean.tests} == mean.tests
    for name, data in saved.items():
        if name != "blank.json":
            assert (course.class_dir / "results" / CHAPTER / name).read_bytes() == data


@pytest.mark.slow
def test_reports_are_written_and_never_show_hidden_tests(root, straight_run):
    course, run = straight_run
    source = read_notebook(source_notebook(root, CHAPTER))
    hidden_lines = {line.strip() for c in grade_cells(source) if "BEGIN HIDDEN TESTS" in c.source
                    for line in c.source.splitlines() if len(line.strip()) > 12}
    feedback = sorted((course.class_dir / "feedback").glob(f"*/{CHAPTER}/{CHAPTER}.html"))
    assert len(feedback) == 5
    for path in feedback:
        text = path.read_text()
        leaked = [line for line in hidden_lines if line in text]
        assert not leaked, f"{path}: hidden test code in the feedback: {leaked[:2]}"
    partly = (course.class_dir / "feedback" / "partly-wrong" / CHAPTER / f"{CHAPTER}.html").read_text()
    assert "hidden cases" in partly  # the diagnostic of a failed hidden check is shown
    reports_dir = course.class_dir / "reports" / CHAPTER
    gradescope = json.loads((reports_dir / "gradescope" / "perfect" / "results.json").read_text())
    assert gradescope["score"] == FULL
    assert (reports_dir / "summary.html").exists() and (reports_dir / "grades.csv").exists()
    result = SubmissionResult.load(store.result_path(course.class_dir, CHAPTER, "eve"))
    assert {c.grade_id for c in result.cells if not c.passed} == {"test_empirical_risk", "test_empirical_risk_2"}


@pytest.mark.parametrize("chapter_id", [c.id for c in syllabus.chapters(built_only=True)])
def test_hidden_cases_sent_to_kernels_carry_no_reference_code(root, chapter_id):
    """The cases travel into the student's kernel: no solutions_lib function may ride along as an argument."""
    blob = engine.Chapter.load(root, chapter_id).blob
    assert b"solutions_lib" not in blob and b"autograder.mutants" not in blob


@pytest.mark.parametrize("chapter_id", [c.id for c in syllabus.chapters(built_only=True)])
def test_delegation_never_flags_the_reference_or_an_alternative(root, chapter_id):
    """Run on the whole merged notebook (the release's own demo cells count as the student's code), the
    delegation check must pass every reference answer and every correct alternative."""
    from autograder import mutants
    from autograder.checks import registry
    from autograder.delegation import delegation_reasons, graded_names
    from autograder.merge import merge

    source, release = read_notebook(source_notebook(root, chapter_id)), read_notebook(release_notebook(root, chapter_id))
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source)
                 for c in source.cells if nbgrader_meta(c).get("solution")}
    checks, module = registry(), mutants.for_chapter(chapter_id)

    def student_code(answers):
        merged = merge(source, release, samples.fill_answers(release, answers))
        return merged.student_sources(), merged.own_sources()

    for cell in grade_cells(source):
        for name, fn_names in graded_names(cell.source).items():
            answers = [("reference", reference)] + [
                (label, {**reference, name: alternative}) for label, alternative in module.ALTERNATIVES.get(name, {}).items()]
            for label, chosen in answers:
                reasons = delegation_reasons(*student_code(chosen)[:1], fn_names, checks[name].by_hand,
                                             student_code(chosen)[1])
                assert not reasons, f"{name} / {label}: flagged as delegation: {reasons}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter_id", HALVES)
def test_every_chapter_sample_class_scores_the_same_in_the_sandbox_as_in_nbgrader(graded_class, tmp_path, chapter_id):
    """The sample class of every built chapter (perfect, blank, partly wrong), graded by real nbgrader in the
    shared fixture and again by the sandboxed grader: the same score for every student and chapter (a half
    of the chapters per test, as the fixture grades them)."""
    course, summary = graded_class(chapter_id)
    sandboxed = Course.open(course.root, tmp_path / "sandboxed")
    for chapter_id in sorted({r.chapter for r in summary.rows}):
        sandboxed.release(chapter_id)
        students = sandboxed.collect(chapter_id, course.class_dir / "inbox" / chapter_id)
        sandboxed.grade_sandboxed(chapter_id, students, workers=2)
    plain = {(r.student, r.chapter): (r.score, r.max_score) for r in summary.rows}
    ours = {(r.student, r.chapter): (r.score, r.max_score) for r in sandboxed.grade_rows()}
    assert ours == plain
    assert all(score == maximum for (student, _), (score, maximum) in ours.items() if student == "perfect")


@pytest.mark.slow
def test_grading_without_the_walls_scores_the_same_and_says_so(root, inbox):
    """--no-walls (for machines without bubblewrap) grades the same, and every result says it was unwalled."""
    from dataclasses import replace

    chapter = engine.Chapter.load(root, CHAPTER)
    walls = engine.Walls.for_course(root, inbox)
    scores = {}
    for student in ("perfect", "partly-wrong"):
        path = inbox / student / f"{CHAPTER}.ipynb"
        walled, _ = engine.grade_submission(path, student, chapter, LIMITS, walls)
        bare, _ = engine.grade_submission(path, student, chapter, replace(LIMITS, walls=False), walls)
        assert walled.score == bare.score and walled.problem is None and bare.problem is None
        assert not any("WITHOUT" in n for n in walled.notes)
        assert any("WITHOUT the operating system's walls" in n for n in bare.notes)
        scores[student] = walled.score
    assert scores == {"perfect": FULL, "partly-wrong": FULL - SAMPLE_WRONG_POINTS}


def test_forged_or_foreign_result_files_are_never_reused(tmp_path):
    """A result file is re-used only with this class's signature: edited, forged or copied ones are not."""
    from autograder.records.results import CellResult

    result = SubmissionResult("ann", CHAPTER, "d" * 64, [CellResult("test_f", "f", 0.0, 2.0, True, "ok", "")])
    store.save_result(tmp_path / "class", result)
    assert store.load_result(tmp_path / "class", CHAPTER, "ann").score == 0
    path = store.result_path(tmp_path / "class", CHAPTER, "ann")
    data = json.loads(path.read_text())
    data["cells"][0]["points"] = 2.0  # digest and signature kept
    path.write_text(json.dumps(data))
    assert store.load_result(tmp_path / "class", CHAPTER, "ann") is None
    store.save_result(tmp_path / "other", result)  # signed with another class's key
    shutil.copy(store.result_path(tmp_path / "other", CHAPTER, "ann"), path)
    assert store.load_result(tmp_path / "class", CHAPTER, "ann") is None
    assert (tmp_path / "class" / ".grading-key").stat().st_mode & 0o077 == 0
