"""The test suite's own layout: the two xdist workers of `make test` build each expensive fixture once."""
from __future__ import annotations

import ast

from conftest import LONGEST_UNITS, ROOT, SHARED_FIXTURE_FILES, unit_of_work, unit_rank


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
    assert unit_of_work("tests/test_release.py::test_x[01-a]") == "graded_class[0]"
    assert unit_of_work("tests/test_roundtrip.py::test_y[02-information-theory]") == "graded_class[1]"
    assert unit_of_work("tests/test_engine.py::test_z[13-gans-and-adversarial-examples]") == "graded_class[0]"
    assert unit_of_work("tests/test_engine.py::test_rerun") == "tests/test_engine.py"
    assert unit_of_work("tests/test_browser.py::test_y") == unit_of_work("tests/test_student_envs.py::z")
    assert unit_of_work("tests/test_checks.py::test_a") == "tests/test_checks.py"
    assert unit_of_work("source_notebooks/01-x/01-x.ipynb::Cell 3") == "source_notebooks/01-x/01-x.ipynb"


def test_the_longest_units_start_first():
    units = {"tests/test_checks.py": 90, "graded_class[1]": 60, "tests/test_cli.py": 20, "student_env": 45,
             "graded_class[0]": 30}
    order = sorted(units, key=lambda unit: unit_rank(unit, units[unit]))
    assert order == ["graded_class[0]", "graded_class[1]", "student_env", "tests/test_checks.py", "tests/test_cli.py"]
    for unit in LONGEST_UNITS:
        assert unit.split("[")[0] in SHARED_FIXTURE_FILES or (ROOT / unit).is_file(), f"{unit} is not a unit of work"


def test_every_test_of_the_graded_class_names_its_chapter():
    """A test taking graded_class is parametrized by chapter_id: that puts it in its half's unit of work."""
    for file in SHARED_FIXTURE_FILES["graded_class"]:
        for node in ast.walk(ast.parse((ROOT / file).read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and \
                    "graded_class" in {a.arg for a in node.args.args}:
                params = [d.args[0].value for d in node.decorator_list if isinstance(d, ast.Call)
                          and getattr(d.func, "attr", "") == "parametrize" and isinstance(d.args[0], ast.Constant)]
                assert "chapter_id" in params, f"{file}::{node.name} takes graded_class without a chapter_id"
