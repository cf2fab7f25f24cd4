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
