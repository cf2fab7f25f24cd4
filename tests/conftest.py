"""Shared fixtures: the course root, devices (CUDA added automatically when present) and dtypes."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="session")
def root() -> Path:
    """The course repository."""
    return ROOT


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """Every available device: the CPU, and CUDA when a GPU is present."""
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request) -> torch.dtype:
    """Both floating dtypes the reference code must support."""
    return request.param


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "cuda" in item.name:
            item.add_marker(pytest.mark.cuda)


# `make test` runs two pytest-xdist workers with --dist loadfile: a file is one unit of work, so a notebook's
# cells stay in order on one kernel and a module's fixtures are built once. The files sharing an expensive
# session fixture are one unit together, so it is built once: the sample class graded by nbgrader
# (graded_class) on one worker while the student environments (student_env) run the release notebooks on
# the other. tests/test_config.py checks that this table names every file using them.
SHARED_FIXTURE_FILES = {
    "graded_class": ("tests/test_roundtrip.py", "tests/test_release.py", "tests/test_engine.py"),
    "student_env": ("tests/test_student_envs.py", "tests/test_browser.py"),
}


def unit_of_work(nodeid: str) -> str:
    """The xdist work unit of a test: its file, or the shared fixture its file uses."""
    file = nodeid.split("::")[0]
    return next((fixture for fixture, files in SHARED_FIXTURE_FILES.items() if file in files), file)


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, with the files of SHARED_FIXTURE_FILES kept together."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    return SharedFixtureScheduling(config, log)


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The sample class (perfect, blank, partly wrong) of every built chapter, graded by real nbgrader.

    Runs in a copy of the course (source notebooks and nbgrader_config.py) so the repository is untouched.
    Yields the Course and the demo summary.
    """
    from autograder.pipeline import Course, run_demo

    course_root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "source_notebooks", course_root / "source_notebooks")
    shutil.copy(ROOT / "nbgrader_config.py", course_root)
    shutil.copy(ROOT / "course.toml", course_root)  # the release writes the install cell and badge from it
    course = Course.open(course_root, course_root / "classes" / "sample")
    summary = run_demo(course, course.chapter_ids(), log=lambda *_: None)
    return course, summary


@pytest.fixture(scope="session")
def student_wheel(tmp_path_factory) -> Path:
    """The student wheel (`course` alone), built once per test run."""
    from autograder.student import build_student_wheel

    return build_student_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def student_bundle(tmp_path_factory) -> tuple[Path, Path]:
    """The student bundle of the committed release/ (folder, zip), written by `autograder bundle`."""
    from typer.testing import CliRunner

    from autograder.cli import app

    folder = tmp_path_factory.mktemp("bundle") / "handout"
    result = CliRunner().invoke(app, ["bundle", str(folder), "--course-root", str(ROOT)])
    assert result.exit_code == 0, result.output
    return folder, folder.with_suffix(".zip")


@pytest.fixture(scope="session")
def config():
    """course.toml and the student package's name and version."""
    from autograder.student import CourseConfig

    return CourseConfig.load(ROOT)


@pytest.fixture(scope="session")
def student_env(config, student_wheel, tmp_path_factory):
    """(python, workdir): a fresh environment (.test-envs/student) with the student package's dependencies but
    not the package itself; the wheel lies in workdir, where the notebooks' install cell finds and installs it."""
    import student_envs as envs

    python = envs.venv("student", envs.student_requirements())
    envs.remove_student_package(python, config.package)
    workdir = tmp_path_factory.mktemp("student-env")
    shutil.copy(student_wheel, workdir)
    return python, workdir


def hash_tree(*folders: Path) -> dict[str, str]:
    """{path: sha256} of every file under ``folders`` (no bytecode caches): what an attack must not change."""
    import hashlib

    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
