"""The test suite's own layout: the two xdist workers of `make test` build each expensive fixture once."""
from __future__ import annotations

import ast

from conftest import ROOT, SHARED_FIXTURE_FILES, unit_of_work


def _files_taking(fixture: str) -> set[str]:
    """The test files with a function (test or fixture) that takes ``fixture`` as an argument."""
    files = set()
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text())
        if any(isinstance(node, ast.FunctionDef) and fixture in {a.arg for a in node.args.args}
               for node in ast.walk(tree)):
            files.add(path.relative_to(ROOT).as_posix())
    return files


def test_every_file_using_a_shared_fixture_is_in_its_unit_of_work():
    for fixture, files in SHARED_FIXTURE_FILES.items():
        assert _files_taking(fixture) == set(files), (
            f"{fixture}: list these files in conftest.SHARED_FIXTURE_FILES so one worker builds it once")


def test_units_of_work_keep_files_and_notebooks_whole():
    assert unit_of_work("tests/test_release.py::test_x[01-a]") == "graded_class"
    assert unit_of_work("tests/test_browser.py::test_y") == unit_of_work("tests/test_student_envs.py::z")
    assert unit_of_work("tests/test_checks.py::test_a") == "tests/test_checks.py"
    assert unit_of_work("source_notebooks/01-x/01-x.ipynb::Cell 3") == "source_notebooks/01-x/01-x.ipynb"
