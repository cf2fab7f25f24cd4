"""The autograder command line: help for every step, clear errors for bad input."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from autograder.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["release"], ["grade"], ["feedback"], ["export"], ["demo"],
                                     ["build-notebooks"], ["check-chapter"], ["report"]])
def test_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_unknown_chapter_is_a_clear_error(root):
    result = runner.invoke(app, ["feedback", "99", "--course-root", str(root)])
    assert result.exit_code == 2
    assert "no chapter '99'" in result.output


def test_missing_submissions_is_a_clear_error(root, tmp_path):
    result = runner.invoke(app, ["grade", "03", str(tmp_path / "missing.zip"), "--course-root", str(root),
                                 "--class-dir", str(tmp_path / "class")])
    assert result.exit_code == 2
    assert "no submissions at" in result.output


def test_outside_a_course_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["release", "--course-root", str(tmp_path)])
    assert result.exit_code == 2
    assert "no course root" in result.output


def test_demo_refuses_to_wipe_a_folder_it_did_not_make(root, tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    result = runner.invoke(app, ["demo", "--class-dir", str(tmp_path), "--course-root", str(root)])
    assert result.exit_code == 2 and "refusing to wipe" in result.output
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_report_without_results_is_a_clear_error(root, tmp_path):
    result = runner.invoke(app, ["report", "01", "--course-root", str(root), "--class-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no saved results" in result.output


def test_unknown_engine_is_a_clear_error(root, tmp_path):
    result = runner.invoke(app, ["grade", "01", str(tmp_path), "--engine", "docker", "--course-root", str(root),
                                 "--class-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown engine" in result.output
