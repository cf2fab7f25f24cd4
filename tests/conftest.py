"""Shared fixtures: the course root, devices (CUDA added automatically when present) and dtypes."""
from __future__ import annotations

import os
import re
import shutil
import time
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


# The tests' own processes use one torch thread: `make test` runs two workers on two cores, and on a machine
# that shows more CPUs than it grants, torch's default (one thread per core it sees) would make every small
# tensor operation wait on threads that have no core. Kernels the tests start inherit the variables.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# The first test of each half of the nbgrader-graded sample class grades that half (about 8 minutes on a
# quiet machine, several times that on a loaded one): those tests get longer than pyproject.toml's timeout.
GRADED_CLASS_TIMEOUT_S = 3600


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "cuda" in item.name:
            item.add_marker(pytest.mark.cuda)
        if "graded_class" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(GRADED_CLASS_TIMEOUT_S))


def pytest_runtest_setup(item):
    """Past the run's deadline (DLCOURSE_TEST_DEADLINE, seconds since the epoch; .ci/run sets it), every
    remaining test fails at once, so that the run still ends with its report and its slowest steps."""
    deadline = os.environ.get("DLCOURSE_TEST_DEADLINE")
    if deadline and time.time() > float(deadline):
        pytest.fail("the test run's time budget is spent (DLCOURSE_TEST_DEADLINE): see the slowest steps below",
                    pytrace=False)


# `make test` runs two pytest-xdist workers with --dist loadfile: a file is one unit of work, so a notebook's
# cells stay in order on one kernel and a module's fixtures are built once. The files sharing an expensive
# session fixture (or an in-process cache) are one unit together, so it is built once: each half of the
# sample class graded by nbgrader (graded_class, split by chapter), the student environments (student_env)
# that run the release notebooks, and the mutants' scores (mutant_scores, shared by the mutant and
# feedback tests).
# tests/test_suite_layout.py checks that this table names every file using them.
SHARED_FIXTURE_FILES = {
    "graded_class": ("tests/test_roundtrip.py", "tests/test_release.py", "tests/test_engine.py"),
    "student_env": ("tests/test_student_envs.py", "tests/test_browser.py"),
    "mutant_scores": ("tests/test_mutants.py", "tests/test_feedback.py"),
}

# The units that take longest, longest first: a worker starts them before anything else, so that the
# slowest unit never begins last and leaves the other worker idle (the rest follow by number of tests).
LONGEST_UNITS = ("graded_class[0]", "graded_class[1]", "mutant_scores", "student_env",
                 "tests/test_sandbox_corpus.py", "tests/test_walls_corpus.py")


GRADED_HALVES = 2


def graded_half(chapter_id: str) -> int:
    """Which half of the sample class grades ``chapter_id`` (alternate chapters, so each half gets some of
    the slow ones)."""
    return (int(chapter_id[:2]) - 1) % GRADED_HALVES


def one_chapter_per_half(chapter_ids: list[str]) -> list[str]:
    """The first chapter of each half: the parameter of a test that looks at a whole half of the class."""
    return sorted({graded_half(c): c for c in reversed(chapter_ids)}.values())


def unit_of_work(nodeid: str) -> str:
    """The xdist work unit of a test: its file, or the shared fixture its file uses. A test of the graded
    class belongs to the half of the chapter it is parametrized with (a test of these files with no chapter
    takes no graded class and is a unit of its own)."""
    file = nodeid.split("::")[0]
    fixture = next((fixture for fixture, files in SHARED_FIXTURE_FILES.items() if file in files), file)
    if fixture == "graded_class":
        chapter = re.search(r"\[(\d\d)-[a-z]", nodeid)
        return f"graded_class[{graded_half(chapter.group(1))}]" if chapter else file
    return fixture


def unit_rank(unit: str, n_tests: int) -> tuple[int, int]:
    """Sort key of a unit of work: the known long units first, in LONGEST_UNITS order, then by size."""
    return (LONGEST_UNITS.index(unit) if unit in LONGEST_UNITS else len(LONGEST_UNITS), -n_tests)


@pytest.hookimpl(optionalhook=True)  # pytest without xdist still runs the suite (one process)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, with the files of SHARED_FIXTURE_FILES kept together and LONGEST_UNITS first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

        def _assign_work_unit(self, node) -> None:
            first = min(self.workqueue, key=lambda unit: unit_rank(unit, len(self.workqueue[unit])))
            self.workqueue.move_to_end(first, last=False)
            super()._assign_work_unit(node)

    return SharedFixtureScheduling(config, log)


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """``graded_class(chapter_id)`` -> (Course, DemoSummary): the sample class (perfect, blank, partly wrong)
    of the built chapters in ``chapter_id``'s half (:func:`graded_half`), graded by real nbgrader.

    Each half is graded once per process, in its own copy of the course (source notebooks and
    nbgrader_config.py) so the repository is untouched; ``make test`` grades the two halves on the two workers.
    """
    from autograder.pipeline import Course, run_demo
    from course import syllabus

    halves: dict = {}

    def graded(chapter_id: str):
        half = graded_half(chapter_id)
        if half not in halves:
            course_root = tmp_path_factory.mktemp(f"course-half-{half}")
            shutil.copytree(ROOT / "source_notebooks", course_root / "source_notebooks")
            shutil.copy(ROOT / "nbgrader_config.py", course_root)
            shutil.copy(ROOT / "course.toml", course_root)  # the release writes the install cell and badge from it
            course = Course.open(course_root, course_root / "classes" / "sample")
            chapters = [c.id for c in syllabus.chapters(built_only=True) if graded_half(c.id) == half]
            halves[half] = course, run_demo(course, chapters, log=lambda *_: None)
        return halves[half]

    return graded


@pytest.fixture(scope="session")
def mutant_scores(root):
    """``score(chapter_id, exercise, kind, label)``: the ExerciseScore of a registered mutant or correct
    alternative on the exercise's real test cells (visible and hidden), computed once per run: the mutant
    tests read the points, the feedback tests the hidden cells' messages."""
    from autograder import mutants
    from autograder.inprocess import reference_namespace, score_exercise
    from autograder.notebooks import read_notebook
    from autograder.paths import source_notebook

    chapters: dict = {}
    scores: dict = {}

    def chapter_env(chapter_id):
        if chapter_id not in chapters:
            nb = read_notebook(source_notebook(root, chapter_id))
            chapters[chapter_id] = nb, reference_namespace(nb)
        return chapters[chapter_id]

    def score(chapter_id, exercise, kind, label):
        key = chapter_id, exercise, kind, label
        if key not in scores:
            nb, namespace = chapter_env(chapter_id)
            if kind == "reference":
                source = None
            else:
                module = mutants.for_chapter(chapter_id)
                source = (module.MUTANTS if kind == "mutant" else module.ALTERNATIVES)[exercise][label]
            scores[key] = score_exercise(nb, exercise, source, namespace)
        return scores[key]

    score.chapter_env = chapter_env
    return score


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
