"""What students receive: the student wheel holds `course` alone, the release notebooks' first cells come from
course.toml, and the bundle leaks no answer."""
from __future__ import annotations

import ast
import dataclasses
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from autograder.bundle import find_leaks
from autograder.errors import GradingError
from autograder.notebooks import read_notebook, write_notebook
from autograder.paths import release_notebook
from autograder.student import (BADGE_ID, INSTALL_ID, CourseConfig, badge_markdown, install_cell_source,
                                with_student_cells)
from course import syllabus

BUILT = [c.id for c in syllabus.chapters(built_only=True)]
ANSWERS = ("solutions_lib", "autograder")


# -- the student wheel -----------------------------------------------------------------------------------
def test_student_wheel_holds_the_course_package_alone(root, student_wheel):
    names = zipfile.ZipFile(student_wheel).namelist()
    dist_info = f"{student_wheel.name.split('-')[0]}-{student_wheel.name.split('-')[1]}.dist-info/"
    strays = [n for n in names if not n.startswith("course/") and not n.startswith(dist_info)]
    assert not strays, f"the student wheel holds more than `course`: {strays}"
    assert not [n for n in names if any(a in n for a in ANSWERS + ("source_notebooks", "tests/"))]
    # every module and data file of the package made it in (a new subpackage or data folder must be listed
    # in course/pyproject.toml)
    shipped = {n.removeprefix("course/") for n in names if n.startswith("course/")}
    tracked = subprocess.run(["git", "ls-files", "course"], cwd=root, capture_output=True, text=True).stdout.split()
    wanted = {p.removeprefix("course/") for p in tracked if p != "course/pyproject.toml"} or \
        {str(p.relative_to(root / "course")) for p in (root / "course").rglob("*")
         if p.is_file() and "__pycache__" not in p.parts and p.name != "pyproject.toml"}
    assert wanted <= shipped, f"missing from the student wheel: {sorted(wanted - shipped)}"


def test_student_package_metadata(root, student_wheel):
    project = tomllib.loads((root / "course" / "pyproject.toml").read_text())["project"]
    instructor = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["name"] != instructor["name"], "the student package has a name of its own"
    import course

    assert project["version"] == course.__version__
    deps = {d.split(">")[0].split("<")[0].split("=")[0].strip().lower() for d in project["dependencies"]}
    assert {"numpy", "torch", "matplotlib", "ipywidgets", "gymnasium", "scikit-learn", "pyyaml"} <= deps
    assert not deps & {"nbgrader", "ipython", "jupyterlab", "dlcourse"}, "nothing instructor-side"
    ipywidgets = next(d for d in project["dependencies"] if d.startswith("ipywidgets"))
    assert ">=7.6" in ipywidgets, "Colab ships ipywidgets 7.7"
    assert not any(d.startswith("torch") and ("==" in d or "<" in d) for d in project["dependencies"]), \
        "never pin torch (Colab keeps its own)"


def test_every_module_the_notebooks_import_comes_with_the_student_package(root):
    project = tomllib.loads((root / "course" / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    distribution = {"sklearn": "scikit-learn", "yaml": "pyyaml", "IPython": "ipywidgets"}  # IPython: ipywidgets needs it
    missing = set()
    for chapter_id in BUILT:
        for cell in read_notebook(release_notebook(root, chapter_id)).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                for name in (n.split(".")[0] for n in names):
                    if name and name != "course" and name not in sys.stdlib_module_names \
                            and distribution.get(name, name).lower() not in declared:
                        missing.add(f"{name} ({chapter_id})")
    assert not missing, f"release notebooks import what the student package does not install: {sorted(missing)}"


def test_course_never_imports_the_answers(root):
    for path in sorted((root / "course").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ANSWERS, f"{path.relative_to(root)} imports {name}"
    modules = ["course"] + [f"course.{p.stem}" for p in (root / "course").glob("*.py") if p.stem != "__init__"]
    modules += [f"course.envs.{p.stem}" for p in (root / "course" / "envs").glob("*.py") if p.stem != "__init__"]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {ANSWERS!r}]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=300)


# -- course.toml and the release's first cells -------------------------------------------------------------
def _config(root, **changes) -> CourseConfig:
    return dataclasses.replace(CourseConfig.load(root), **changes)


@pytest.mark.parametrize("chapter_id", BUILT)
def test_release_starts_with_badge_and_install_cell_from_the_config(root, chapter_id):
    config = CourseConfig.load(root)
    nb = read_notebook(release_notebook(root, chapter_id))
    assert nb.cells[0].get("id") == BADGE_ID and nb.cells[0].source == badge_markdown(config, chapter_id)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].get("id") == INSTALL_ID and code[0].source == install_cell_source(config), \
        "release/ is out of step with course.toml: run `make release`"
    assert sum(INSTALL_ID == c.get("id") or 'find_spec("course")' in c.source for c in nb.cells) == 1
    text = release_notebook(root, chapter_id).read_text()
    assert "git+https://github.com/dlcourse/dlcourse" not in text and "OWNER" not in text


def test_changing_the_config_changes_every_notebook(root):
    published = _config(root, requirement="dlcourse-student @ https://files.course.test/dlcourse_student-0.1.0-py3-none-any.whl",
                        notebooks_url="https://github.com/some-school/deep-learning/blob/main/release")
    for chapter_id in BUILT:
        before = read_notebook(release_notebook(root, chapter_id))
        after = with_student_cells(read_notebook(release_notebook(root, chapter_id)), published, chapter_id)
        assert len(after.cells) == len(before.cells), "the cells are replaced, not added"
        changed = [i for i, (a, b) in enumerate(zip(before.cells, after.cells)) if a.source != b.source]
        install = next(i for i, c in enumerate(after.cells) if c.get("id") == INSTALL_ID)
        assert changed == [0, install], "only the badge and the install cell change"
        assert (f"https://colab.research.google.com/github/some-school/deep-learning/blob/main/release/"
                f"{chapter_id}/{chapter_id}.ipynb") in after.cells[0].source
        assert published.requirement in after.cells[install].source
        again = with_student_cells(after, CourseConfig.load(root), chapter_id)
        assert [c.source for c in again.cells] == [c.source for c in before.cells], "and back"


def test_install_cell_keeps_colabs_torch_and_works_without_a_url(root):
    unset = _config(root, requirement="", notebooks_url="")
    source = install_cell_source(unset)
    compile(source, "<install>", "exec")
    assert "torch" not in source.replace("dlcourse", "")
    assert f"pip install {unset.wheel_name}" in source, "with no URL set the cell says how to install locally"
    assert "http" not in source
    assert "https://colab.research.google.com/" in badge_markdown(unset, BUILT[0])
    published = _config(root, requirement="dlcourse-student @ git+https://github.com/some-school/dl@main#subdirectory=course")
    assert "torch" not in install_cell_source(published).replace("dlcourse", "")


@pytest.mark.parametrize("field, value", [
    ("requirement", "dlcourse @ git+https://github.com/some-school/dl"),  # the instructor distribution
    ("requirement", "dlcourse-student torch==2.1"),
    ("requirement", "dlcourse-student @ git+https://github.com/OWNER/REPO"),
    ("notebooks_url", "https://gitlab.com/some-school/dl/-/tree/main/release"),
    ("notebooks_url", "https://github.com/<owner>/<repo>/blob/main/release"),
])
def test_config_refuses_answers_torch_and_placeholders(root, field, value):
    with pytest.raises(GradingError):
        _config(root, **{field: value}).validate()


def test_release_command_follows_the_config(root, tmp_path):
    """`autograder release` in a copy of the course: a new course.toml rewrites the notebook's first cells."""
    for name in ("source_notebooks", "course"):
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "nbgrader_config.py", tmp_path)
    config = (root / "course.toml").read_text().replace(
        'notebooks_url = ""', 'notebooks_url = "https://github.com/some-school/deep-learning/blob/main/release"')
    (tmp_path / "course.toml").write_text(config)
    chapter_id = BUILT[0]
    _release(tmp_path, chapter_id)
    nb = read_notebook(release_notebook(tmp_path, chapter_id))
    assert "colab.research.google.com/github/some-school/deep-learning/blob/main/release" in nb.cells[0].source
    committed = read_notebook(release_notebook(root, chapter_id))
    assert [c.source for c in nb.cells[1:]] == [c.source for c in committed.cells[1:]]


def _release(course_root, chapter_id):
    from typer.testing import CliRunner

    from autograder.cli import app

    result = CliRunner().invoke(app, ["release", chapter_id, "--course-root", str(course_root),
                                      "--class-dir", str(course_root / "classes" / "t")])
    assert result.exit_code == 0, result.output


# -- the bundle --------------------------------------------------------------------------------------------
def test_bundle_holds_notebooks_wheel_and_readme_and_leaks_nothing(root, student_bundle):
    folder, archive = student_bundle
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == sorted(["README.md", CourseConfig.load(root).wheel_name]
                           + [f"{c}/{c}.ipynb" for c in BUILT])
    for chapter_id in BUILT:
        assert (folder / chapter_id / f"{chapter_id}.ipynb").read_bytes() == \
            release_notebook(root, chapter_id).read_bytes()
    assert find_leaks(folder, root) == []
    with zipfile.ZipFile(archive) as zf:
        assert sorted(n.removeprefix(folder.name + "/") for n in zf.namelist()) == files
        blob = b"".join(zf.read(n) for n in zf.namelist() if not n.endswith(".whl"))
    for word in (b"BEGIN SOLUTION", b"BEGIN HIDDEN TESTS", b"run_check", b"solutions_lib", b"autograder"):
        assert word not in blob
    readme = (folder / "README.md").read_text()
    for topic in ("JupyterLab", "Colab", "Submit", "hint", "pip install"):
        assert topic in readme


def test_leak_scan_catches_every_kind_of_leak(root, student_bundle, tmp_path):
    folder, _ = student_bundle
    chapter_id = BUILT[0]

    def leaky(name, change):
        copy = tmp_path / name
        shutil.copytree(folder, copy)
        change(copy)
        return find_leaks(copy, root)

    def solved(copy):  # a notebook with a reference solution pasted in
        import inspect

        import solutions_lib.statistics as ref

        path = copy / chapter_id / f"{chapter_id}.ipynb"
        nb = read_notebook(path)
        nb.cells[-1].source = inspect.getsource(ref.unbiased_variance)
        write_notebook(nb, path)

    assert leaky("source", lambda c: shutil.copy(root / "source_notebooks" / chapter_id / f"{chapter_id}.ipynb",
                                                 c / chapter_id / "copy.ipynb"))
    assert leaky("twin", lambda c: shutil.copy(root / "source_notebooks" / chapter_id / f"{chapter_id}.py", c))
    assert leaky("autograder", lambda c: shutil.copytree(root / "autograder" / "checks", c / "autograder"))
    assert any("body of solutions_lib" in p for p in leaky("solved", solved))

    def wheel_with_answers(copy):
        wheel = next(copy.glob("*.whl"))
        with zipfile.ZipFile(wheel, "a") as zf:
            zf.write(root / "solutions_lib" / "__init__.py", "solutions_lib/__init__.py")

    assert any("the `course` package alone" in p for p in leaky("wheel", wheel_with_answers))
