"""Grading on a real Dask cluster on this machine: a scheduler and two worker processes (each under a nanny
that restarts it), driven through `autograder grade --cluster`, compared with the local engine.

Asserted: the class's results through the cluster equal a local run's, cell by cell; a worker killed half-way
changes nothing in the final records (each student stored once, nobody lost); hostile submissions on a
worker are contained as they are locally (no points, nothing written outside, the grader's files and the
worker's copy of the chapter unread and unchanged).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder import samples
from autograder.cluster import dask_grading
from autograder.notebooks import nbgrader_meta, read_notebook, strip_solution_markers
from autograder.paths import release_notebook, source_notebook
from autograder.pipeline import Course
from autograder.records import store
from autograder.sandbox.supervisor import Limits
from autograder.sandbox.walls import walls_status
from conftest import hash_tree
from course import syllabus

ROOT = Path(__file__).resolve().parents[1]
CH = "01-statistics-and-estimators"
FULL = syllabus.chapter(CH).points
LIMITS = Limits(cell_seconds=20, notebook_seconds=180, memory_mb=3072)
TAG = uuid.uuid4().hex[:10]
OUTSIDE = Path(tempfile.gettempdir()) / f"cluster-outside-{TAG}"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(walls_status() is not None, reason=f"no walls here: {walls_status()}")]

# Each attacker answers sample_mean with code that tries to reach past its kernel on a cluster worker.
ATTACKS = {
    "reader": '''
import glob, json, os
found = []
for pattern in ("/tmp/**/autograder-course-*/source_notebooks/@CH@/@CH@.ipynb", "@ROOT@/source_notebooks/@CH@/*.ipynb",
                "@ROOT@/solutions_lib/statistics.py", "/proc/1/cmdline"):
    for path in glob.glob(pattern, recursive=True):
        try:
            found.append(open(path).read()[:100])
        except OSError as err:
            print("read", path, err)
with open("@OUTSIDE@-reader", "w") as f:
    f.write(repr(found))
def sample_mean(x, dim=-1):
    return x.mean(dim)
''',
    "killer": '''
import os, signal
for pid in range(1, 4000):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except Exception:
            pass
def sample_mean(x, dim=-1):
    return x.mean(dim)
''',
    "writer": '''
import subprocess
for target in ("@OUTSIDE@-writer", "@ROOT@/autograder/engine.py"):
    try:
        with open(target, "a") as f:
            f.write("# pwned\\n")
    except OSError as err:
        print("write", err)
try:
    subprocess.run(["/bin/sh", "-c", "echo pwned > @OUTSIDE@-shell"])
except Exception as err:
    print("shell", err)
def sample_mean(x, dim=-1):
    return x.mean(dim)
''',
}
HONEST = {"perfect": FULL, "blank": 0.0}


@pytest.fixture(scope="module")
def course_root(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "source_notebooks" / CH, copy / "source_notebooks" / CH)
    shutil.copytree(ROOT / "release" / CH, copy / "release" / CH)
    shutil.copy(ROOT / "nbgrader_config.py", copy)
    return copy


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """The sample class (perfect, blank, partly wrong) and three attackers."""
    folder = tmp_path_factory.mktemp("inbox")
    samples.write_sample_class(source_notebook(ROOT, CH), release_notebook(ROOT, CH), CH, folder)
    source, release = read_notebook(source_notebook(ROOT, CH)), read_notebook(release_notebook(ROOT, CH))
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source)
                 for c in source.cells if nbgrader_meta(c).get("solution")}
    for name, code in ATTACKS.items():
        for key, value in {"@ROOT@": str(ROOT), "@OUTSIDE@": str(OUTSIDE), "@CH@": CH}.items():
            code = code.replace(key, value)
        path = folder / name / f"{CH}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(samples.fill_answers(release, {**reference, "sample_mean": code}), str(path))
    return folder


def _cells(class_dir: Path, students: list[str]) -> dict[str, list[tuple[str, float, str]]]:
    out = {}
    for student in students:
        result = store.load_result(class_dir, CH, student)
        out[student] = [(c.grade_id, c.points, c.status) for c in result.cells] if result else None
    return out


def _students(inbox: Path) -> list[str]:
    return sorted(p.name for p in inbox.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def local(course_root, inbox, tmp_path_factory):
    course = Course.open(course_root, tmp_path_factory.mktemp("local"))
    course.release(CH)
    course.grade_sandboxed(CH, course.collect(CH, inbox), LIMITS, workers=2)
    return _cells(course.class_dir, _students(inbox))


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def through_the_cli(course_root, inbox, cluster, tmp_path_factory):
    class_dir = tmp_path_factory.mktemp("cluster")
    Course.open(course_root, class_dir).release(CH)
    before = hash_tree(ROOT / "autograder", ROOT / "solutions_lib", ROOT / "course")
    done = subprocess.run([str(Path(sys.executable).parent / "autograder"), "grade", CH, str(inbox),
                           "--course-root", str(course_root), "--class-dir", str(class_dir),
                           "--cluster", cluster.scheduler_address, "--cell-timeout", str(LIMITS.cell_seconds),
                           "--notebook-timeout", str(LIMITS.notebook_seconds), "--memory-mb", str(LIMITS.memory_mb)],
                          capture_output=True, text=True, timeout=900, cwd=course_root)
    after = hash_tree(ROOT / "autograder", ROOT / "solutions_lib", ROOT / "course")
    yield done, class_dir, before, after
    for path in OUTSIDE.parent.glob(OUTSIDE.name + "*"):
        path.unlink()


def test_the_cluster_grades_exactly_as_the_local_engine(through_the_cli, local, inbox):
    done, class_dir, _, _ = through_the_cli
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "grading on the Dask cluster" in done.stdout and "2 workers" in done.stdout
    assert _cells(class_dir, _students(inbox)) == local
    scores = {s: sum(p for _, p, _ in cells) for s, cells in local.items()}
    assert {s: scores[s] for s in HONEST} == HONEST and 0 < scores["partly-wrong"] < FULL


def test_hostile_submissions_on_a_worker_are_contained(through_the_cli, local):
    done, class_dir, before, after = through_the_cli
    cells = _cells(class_dir, list(ATTACKS))
    for name in ATTACKS:
        # whatever it did, sample_mean's answer is correct and its classmates keep their marks; it reached nothing
        assert cells[name] == local[name], name
    assert not list(OUTSIDE.parent.glob(OUTSIDE.name + "*")), "a kernel wrote outside its walls"
    assert before == after, "the grader's own source changed"


def test_a_worker_killed_half_way_changes_nothing(course_root, inbox, cluster, local, tmp_path):
    course = Course.open(course_root, tmp_path / "class")
    course.release(CH)
    students = course.collect(CH, inbox)
    stored: list[str] = []
    with dask_grading(cluster.scheduler_address, course_root, course.class_dir, CH, students, LIMITS) as executor:
        victims = list(executor.client.run(os.getpid).values())

        def after_each(result) -> None:
            stored.append(result.student)
            if len(stored) == 1:  # the other worker is in the middle of a submission: kill it
                os.kill(victims[-1], signal.SIGKILL)

        run = course.grade_sandboxed(CH, students, LIMITS, progress=after_each, executor=executor)
    assert sorted(stored) == sorted(_students(inbox)), "each submission is stored once, none is lost"
    assert sorted(r.student for r in run.results) == sorted(_students(inbox))
    assert not any(r.grader_error for r in run.results), [r.problem for r in run.results if r.grader_error]
    assert _cells(course.class_dir, _students(inbox)) == local
