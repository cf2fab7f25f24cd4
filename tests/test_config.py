"""nbgrader's configuration is what the course relies on."""
from __future__ import annotations

from pathlib import Path

from autograder.config import class_config
from autograder.inprocess import IGNORED_STDERR
from autograder.nbgrader_path.preprocessors import ScrubHiddenTestOutputs


def test_config_points_nbgrader_at_the_course(root, tmp_path):
    config = class_config(root, tmp_path)
    assert config.CourseDirectory.source_directory == str(root / "source_notebooks")
    assert config.CourseDirectory.release_directory == str(root / "release")
    assert Path(config.CourseDirectory.root) == tmp_path
    assert "*.py" in config.CourseDirectory.ignore, "jupytext twins hold solutions: never release them"


def test_warnings_on_stderr_do_not_cost_points(root, tmp_path):
    config = class_config(root, tmp_path)
    assert config.IgnorePattern.enabled
    assert config.IgnorePattern.pattern == IGNORED_STDERR.pattern, "inprocess.py must mirror nbgrader_config.py"
    assert IGNORED_STDERR.search("x.py:3: RuntimeWarning: overflow encountered in exp\n")
    assert not IGNORED_STDERR.search("Traceback (most recent call last):\n ... UserWarning")
    assert not IGNORED_STDERR.search("some other message on stderr")


def test_feedback_strips_hidden_tests(root, tmp_path):
    config = class_config(root, tmp_path)
    names = [p.__name__ for p in config.GenerateFeedback.preprocessors]
    assert "ClearHiddenTests" in names and ScrubHiddenTestOutputs.__name__ in names
    assert names.index("GetGrades") < names.index("ClearHiddenTests")


def test_deleted_test_cells_are_restored(root, tmp_path):
    assert class_config(root, tmp_path).OverwriteCells.add_missing_cells


def test_plain_nbgrader_applies_the_one_scoring_rule(root, tmp_path):
    """A visible test cell counts only when its exercise's hidden cells pass, in plain nbgrader too."""
    import nbformat

    from autograder.nbgrader_path.preprocessors import TieVisibleToHidden

    names = [p.__name__ for p in class_config(root, tmp_path).Autograde.autograde_preprocessors]
    assert names.index("Execute") < names.index("IgnorePattern") < names.index(TieVisibleToHidden.__name__) \
        < names.index("SaveAutoGrades")

    def cell(grade_id, source, error):
        c = nbformat.v4.new_code_cell(source)
        c.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": 1, "solution": False}
        c.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="", traceback=[])] if error else []
        return c

    nb = nbformat.v4.new_notebook(cells=[
        cell("test_f", "expect_close(f(1), 2)", False),
        cell("test_f_2", "### BEGIN HIDDEN TESTS\nrun_check('f', f)\n### END HIDDEN TESTS", True),
        cell("test_g", "expect_close(g(1), 2)", False),
        cell("test_g_2", "### BEGIN HIDDEN TESTS\nrun_check('g', g)\n### END HIDDEN TESTS", False),
    ])
    nb, _ = TieVisibleToHidden().preprocess(nb, {})
    assert [bool(c.outputs) for c in nb.cells] == [True, True, False, False]
