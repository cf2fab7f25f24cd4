"""Reports from hand-made grading results: feedback HTML, class summary, Gradescope JSON and CSV."""
from __future__ import annotations

import csv
import doctest
import json

import nbformat
import pytest
from nbformat import v4

from autograder.records import result_reports as reports
from autograder.records.result_reports import (class_summary, feedback_html, gradescope_results, summary_markdown,
                                write_csv, write_feedback, write_gradescope, write_summary)
from autograder.records.results import CellResult, SubmissionResult

CHAPTER = "01-demo"
SECRET_SOURCE = "SECRET_HIDDEN_CASE"
SECRET_TRACEBACK = "SECRET_TRACEBACK_LINE"
DIAGNOSTIC = "square(3) returned 6, expected 9 (did you add instead of multiply?)"


def _meta(grade_id: str, *, grade: bool, solution: bool, points: float = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def make_notebook(student_output: str = "hello") -> nbformat.NotebookNode:
    """A markdown cell, a solution cell, a visible test cell and a hidden test cell (executed)."""
    solution = v4.new_code_cell("def square(x):\n    return x + x\nprint('student output')",
                                metadata=_meta("square", grade=False, solution=True))
    solution.outputs = [v4.new_output("stream", name="stdout", text=student_output)]
    visible = v4.new_code_cell("assert square(2) == 4", metadata=_meta("test_square", grade=True,
                                                                       solution=False, points=1))
    hidden = v4.new_code_cell(
        "# Hidden tests run when your notebook is graded.\n### BEGIN HIDDEN TESTS\n"
        f"assert square(3) == 9, 'case {SECRET_SOURCE}'\n### END HIDDEN TESTS",
        metadata=_meta("test_square_2", grade=True, solution=False, points=2))
    hidden.outputs = [v4.new_output(
        "error", ename="AssertionError", evalue="case",
        traceback=["\x1b[31mAssertionError\x1b[0m Traceback (most recent call last)",
                   f"----> 3 assert square(3) == 9, 'case {SECRET_SOURCE}'", SECRET_TRACEBACK])]
    return v4.new_notebook(cells=[v4.new_markdown_cell("# Squares\nWrite **square**."), solution, visible,
                                  hidden])


def make_result(student: str = "alice", hidden_points: float = 0) -> SubmissionResult:
    return SubmissionResult(
        student=student, chapter=CHAPTER, digest="abc",
        cells=[CellResult("test_square", "square", 1, 1, False, "ok"),
               CellResult("test_square_2", "square", hidden_points, 2, True,
                          "ok" if hidden_points == 2 else "error", "" if hidden_points == 2 else DIAGNOSTIC)],
        notes=["a locked test cell was edited; the original was restored"],
        outputs={"test_square_2": f"Traceback ... {SECRET_TRACEBACK}"})


# ----------------------------------------------------------------------------------------- feedback

def test_feedback_hides_hidden_tests_and_shows_the_diagnostic():
    page = feedback_html(make_result(), make_notebook())
    assert SECRET_SOURCE not in page
    assert SECRET_TRACEBACK not in page
    assert "BEGIN HIDDEN TESTS" not in page and "END HIDDEN TESTS" not in page
    assert "AssertionError" not in page  # the hidden cell's traceback is gone
    assert "Hidden tests for square (not shown)" in page
    assert __import__("html").escape(DIAGNOSTIC) in page
    assert "Score: 1 / 3" in page
    assert "alice" in page and CHAPTER in page
    assert "a locked test cell was edited" in page
    assert "assert square(2) == 4" in page  # visible tests stay visible
    assert "<h1>Squares</h1>" in page and "<strong>square</strong>" in page  # markdown rendered
    assert 'class="failed"' in page  # the failed row is highlighted


def test_hidden_result_hides_cell_even_without_markers():
    nb = make_notebook()
    nb.cells[2].outputs = [v4.new_output("stream", name="stdout", text="VISIBLE_BUT_RESULT_SAYS_HIDDEN")]
    result = make_result()
    result.cells[0].hidden = True
    page = feedback_html(result, nb)
    assert "VISIBLE_BUT_RESULT_SAYS_HIDDEN" not in page
    assert "assert square(2) == 4" not in page


def test_hidden_code_printed_by_another_cell_is_blanked():
    leak = f"In[4]: assert square(3) == 9, 'case {SECRET_SOURCE}'"
    page = feedback_html(make_result(), make_notebook(student_output=leak))
    assert SECRET_SOURCE not in page
    assert reports.REMOVED in page


def test_student_text_is_escaped():
    evil = "<script>alert(1)</script>"
    result = make_result(student="bob<img src=x onerror=alert(2)>")
    result.notes = [evil]
    nb = make_notebook(student_output=evil)
    nb.cells[1].source = f"# {evil}\ndef square(x):\n    return x * x"
    nb.cells.append(v4.new_markdown_cell(f"student markdown {evil}"))
    nb.cells.append(v4.new_code_cell("display()", outputs=[v4.new_output(
        "display_data", data={"text/html": evil, "text/plain": "<IPython.core.display.HTML object>"})]))
    page = feedback_html(result, nb)
    assert "<script" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;IPython.core.display.HTML object&gt;" in page


def test_long_output_is_capped():
    huge = "x" * 5_000_000
    page = feedback_html(make_result(), make_notebook(student_output=huge))
    assert len(page) < 100_000
    assert f"… {5_000_000 - reports.OUTPUT_LIMIT:,} more characters" in page


def test_output_cap_is_per_cell_across_outputs():
    nb = make_notebook()
    nb.cells[1].outputs = [v4.new_output("stream", name="stdout", text="a" * 15_000),
                           v4.new_output("stream", name="stderr", text="b" * 15_000)]
    page = feedback_html(make_result(), nb)
    assert page.count("a") >= 15_000
    assert "b" * 5_000 in page and "b" * 5_001 not in page
    assert "… 10,000 more characters" in page


def test_problem_renders_without_notebook():
    result = SubmissionResult("carol", CHAPTER, "d", problem="not a notebook: invalid JSON <at line 1>")
    page = feedback_html(result, None)
    assert "not a notebook: invalid JSON &lt;at line 1&gt;" in page
    assert "Score: 0 / 0" in page
    assert "Your notebook" not in page


def test_no_notebook_still_lists_cells_and_diagnostics():
    page = feedback_html(make_result(), None)
    assert "test_square_2" in page and __import__("html").escape(DIAGNOSTIC) in page
    assert "Your notebook" not in page


def test_passed_hidden_cell_shows_placeholder():
    page = feedback_html(make_result(hidden_points=2), make_notebook())
    assert "Score: 3 / 3" in page
    assert "Hidden tests for square (not shown)" in page
    assert SECRET_TRACEBACK not in page and SECRET_SOURCE not in page


def test_write_feedback_reads_the_autograded_notebook(tmp_path):
    nb_path = tmp_path / "autograded" / "alice" / CHAPTER / f"{CHAPTER}.ipynb"
    nb_path.parent.mkdir(parents=True)
    nbformat.write(make_notebook(student_output="FROM_THE_NOTEBOOK"), str(nb_path))
    paths = write_feedback(tmp_path, CHAPTER, [make_result("alice"), make_result("dave")])
    assert paths == [tmp_path / "feedback" / s / CHAPTER / f"{CHAPTER}.html" for s in ("alice", "dave")]
    alice, dave = (p.read_text(encoding="utf-8") for p in paths)
    assert "FROM_THE_NOTEBOOK" in alice and SECRET_SOURCE not in alice
    assert "FROM_THE_NOTEBOOK" not in dave and "Your notebook" not in dave


def test_unsafe_student_id_is_refused(tmp_path):
    with pytest.raises(ValueError):
        write_feedback(tmp_path, CHAPTER, [make_result("../escape")])


# ------------------------------------------------------------------------------------------ summary

def _class() -> list[SubmissionResult]:
    """Scores 0, 10 and 27 of 27: a fails everything, b fails t2 and t3, c passes."""
    def cells(p1, p2, p3, msg2="wrong shape\nmore detail"):
        return [CellResult("test_a", "a", p1, 7, False, "ok" if p1 == 7 else "error", "" if p1 == 7 else "a bad"),
                CellResult("test_b", "b", p2, 10, True, "ok" if p2 == 10 else "error", "" if p2 == 10 else msg2),
                CellResult("test_c", "c", p3, 10, True, "ok" if p3 == 10 else "timeout", "")]
    return [
        SubmissionResult("s0", CHAPTER, "d", cells(0, 0, 0, msg2="nan in output"), notes=["n1", "n2"]),
        SubmissionResult("s1", CHAPTER, "d", cells(7, 3, 0)),
        SubmissionResult("s2", CHAPTER, "d", cells(7, 10, 10), notes=["n3"]),
    ]


def test_class_summary_numbers():
    s = class_summary(_class())
    assert (s.n_students, s.max_score) == (3, 27)
    assert s.mean == pytest.approx(37 / 3)
    assert (s.median, s.min, s.max) == (10, 0, 27)
    assert [b.count for b in s.histogram] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert s.histogram[0].lo == 0 and s.histogram[-1].hi == pytest.approx(27)
    assert (s.problems, s.notes, s.students_with_notes) == (0, 3, 2)


def test_class_summary_most_failed_first():
    s = class_summary(_class())
    assert [(f.grade_id, f.failed, f.graded) for f in s.failures] == [
        ("test_b", 2, 3), ("test_c", 2, 3), ("test_a", 1, 3)]
    by_id = {f.grade_id: f for f in s.failures}
    assert by_id["test_b"].exercise == "b" and by_id["test_b"].hidden
    assert by_id["test_b"].common_message == "nan in output"  # tie: the first seen wins
    assert by_id["test_c"].common_message == "(timeout)"
    assert by_id["test_a"].common_message == "a bad"


def test_class_summary_counts_problems():
    results = _class() + [SubmissionResult("s3", CHAPTER, "d", problem="empty file")]
    s = class_summary(results)
    assert (s.n_students, s.problems, s.min, s.median) == (4, 1, 0, 5)


def test_summary_markdown_and_files(tmp_path):
    text = summary_markdown(class_summary(_class()))
    assert "| 3 | 12.33 | 10 | 0 | 27 | 27 | 0 | 3 (2 students) |" in text
    assert text.index("test_b") < text.index("test_a")
    path = write_summary(tmp_path, CHAPTER, _class())
    assert path == tmp_path / "reports" / CHAPTER / "summary.html"
    page = path.read_text(encoding="utf-8")
    assert "<svg" in page and "score histogram" in page
    assert (path.parent / "summary.md").read_text(encoding="utf-8") == text


# --------------------------------------------------------------------------------------- Gradescope

def test_gradescope_results():
    data = json.loads(json.dumps(gradescope_results(make_result())))
    assert data["score"] == 1.0
    assert [(t["score"], t["max_score"], t["status"]) for t in data["tests"]] == [
        (1.0, 1.0, "passed"), (0.0, 2.0, "failed")]
    assert sum(t["max_score"] for t in data["tests"]) == 3.0
    assert data["tests"][1]["output"] == DIAGNOSTIC
    assert all(t["visibility"] == "visible" for t in data["tests"])
    assert "test_square_2" in data["tests"][1]["name"]
    assert SECRET_TRACEBACK not in json.dumps(data)


def test_write_gradescope(tmp_path):
    problem = SubmissionResult("erin", CHAPTER, "d", problem="not a notebook")
    paths = write_gradescope(tmp_path, CHAPTER, [make_result(), problem])
    assert paths[0] == tmp_path / "reports" / CHAPTER / "gradescope" / "alice" / "results.json"
    erin = json.loads(paths[1].read_text(encoding="utf-8"))
    assert erin["score"] == 0.0 and erin["tests"] == [] and "not a notebook" in erin["output"]


# ---------------------------------------------------------------------------------------------- CSV

def test_csv_round_trip(tmp_path):
    results = _class() + [SubmissionResult("s3", CHAPTER, "d", problem="bad, \"quoted\" file")]
    path = write_csv(tmp_path, CHAPTER, results)
    assert path == tmp_path / "reports" / CHAPTER / "grades.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        assert reader.fieldnames == ["student", "chapter", "score", "max_score", "problem",
                                     "test_a", "test_b", "test_c"]
    assert [r["student"] for r in rows] == ["s0", "s1", "s2", "s3"]
    assert rows[1] == {"student": "s1", "chapter": CHAPTER, "score": "10", "max_score": "27", "problem": "",
                       "test_a": "7", "test_b": "3", "test_c": "0"}
    assert rows[3]["problem"] == "bad, \"quoted\" file" and rows[3]["test_a"] == ""


def test_doctests():
    failures, attempted = doctest.testmod(reports)
    assert attempted > 5 and failures == 0
