"""The Gradescope autograder bundle, built by `autograder gradescope` and run as Gradescope runs it.

Each run lays out a temporary root as Gradescope lays out ``/autograder`` (``source/`` the unzipped bundle,
``submission/``, ``results/``), runs ``source/run_autograder`` against it and checks ``results/results.json``
against a JSON Schema written from Gradescope's documentation of the format, then against the scores the
sample class must get (the same rule ``autograder grade`` and nbgrader follow). The hostile submission
switches the audit hook off (the walls corpus's way), tries to read the bundle's hidden tests, references
and a canary file, to forge ``results/results.json`` (at once and from a process it leaves behind) and to
leak what it read; it must get nowhere behind either wall, and the final JSON must be the grader's.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import gradescope, samples
from autograder.notebooks import nbgrader_meta, read_notebook, strip_solution_markers
from autograder.paths import release_notebook, source_notebook
from autograder.records.results import CellResult, SubmissionResult
from autograder.sandbox.uid_wall import UidWall, kill_all, processes_of
from autograder.sandbox.walls import walls_status
from autograder.student import wheel_files
from course import syllabus
from test_walls_corpus import HOOK_OFF  # the audit hook switched off, as the walls corpus does

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
CH = "01-statistics-and-estimators"
FULL = syllabus.chapter(CH).points
TAG = uuid.uuid4().hex[:10]
LEAK = Path(tempfile.gettempdir()) / f"gradescope-leak-{TAG}"
CANARY = f"canary-{uuid.uuid4().hex}"
needs_bwrap = pytest.mark.skipif(walls_status() is not None, reason=f"no bubblewrap walls here: {walls_status()}")

# Gradescope's results.json, from its documentation ("Autograder Specifications": output format).
FORMATS = ["text", "html", "simple_format", "md", "ansi"]
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
RESULTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["score", "output", "tests", "execution_time"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "integer", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "score", "max_score", "status", "output", "visibility"],
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number", "minimum": 0},
                "max_score": {"type": "number", "minimum": 0},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string", "minLength": 1},
                "name_format": {"enum": FORMATS},
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": {"enum": FORMATS},
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY,
                "extra_data": {"type": "object"},
            }}},
    },
}

HOSTILE = HOOK_OFF + '''
import glob, os, time
ROOT = "@ROOT@"
found = []
for pattern in (ROOT + "/source/canary.txt", ROOT + "/source/course/source_notebooks/*/*.ipynb",
                ROOT + "/source/grader/solutions_lib/*.py", ROOT + "/submission/*.ipynb"):
    for path in glob.glob(pattern) + [pattern]:
        try:
            fd = os.open(path, os.O_RDONLY)
            found.append(os.read(fd, 1 << 16).decode("utf-8", "replace"))
            os.close(fd)
        except OSError:
            pass
FORGED = b'{"score": 9999.0, "output": "forged", "tests": []}'
def _forge():
    for target in (ROOT + "/results/results.json", ROOT + "/results/extra.json"):
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            os.write(fd, FORGED)
            os.close(fd)
        except OSError:
            pass
_forge()
try:  # a process left behind, forging the results for a minute
    child = os.fork()
    if child == 0:
        os.setsid()
        if os.fork() == 0:
            for _ in range(600):
                _forge()
                time.sleep(0.1)
        os._exit(0)
    os.waitpid(child, 0)
except OSError:
    pass
try:
    fd = os.open("@LEAK@", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    os.write(fd, repr(found).encode())
    os.close(fd)
except OSError:
    pass
def sample_mean(x, dim=-1):
    return x.mean(dim)
'''


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return gradescope.write_bundle(ROOT, CH, tmp_path_factory.mktemp("bundle") / "autograder.zip")


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> dict[str, Path]:
    """The sample class (perfect, blank, partly wrong) and the hostile student (its root filled in later)."""
    folder = tmp_path_factory.mktemp("inbox")
    paths = samples.write_sample_class(source_notebook(ROOT, CH), release_notebook(ROOT, CH), CH, folder)
    source, release = read_notebook(source_notebook(ROOT, CH)), read_notebook(release_notebook(ROOT, CH))
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source)
                 for c in source.cells if nbgrader_meta(c).get("solution")}
    paths["hostile"] = folder / "hostile.ipynb"
    nbformat.write(samples.fill_answers(release, {**reference, "sample_mean": HOSTILE}), str(paths["hostile"]))
    paths["hostile-partly-wrong"] = folder / "hostile-partly-wrong.ipynb"  # (its sample_mean is right)
    nbformat.write(samples.fill_answers(read_notebook(paths["partly-wrong"]), {"sample_mean": HOSTILE}),
                   str(paths["hostile-partly-wrong"]))
    return paths


@pytest.fixture(scope="module")
def expected() -> dict[str, float]:
    return samples.expected_scores(ROOT, CH)


@pytest.fixture
def gradescope_root(bundle):
    """A fresh root laid out like Gradescope's, under a folder others may enter (only the grader's own
    chmod keeps the kernel out), with a canary file in the bundle."""
    root = Path(tempfile.mkdtemp(prefix="gradescope-root-"))
    os.chmod(root, 0o755)
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            archive.extract(info, root / "source")
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    (root / "source" / "canary.txt").write_text(CANARY)
    for name in ("submission", "results"):
        (root / name).mkdir(mode=0o777)
        os.chmod(root / name, 0o777)  # (Gradescope's own modes are not ours to rely on)
    yield root
    shutil.rmtree(root, ignore_errors=True)
    LEAK.unlink(missing_ok=True)


def submit(root: Path, notebook: Path | None, name: str = f"{CH}.ipynb") -> None:
    if notebook is not None:
        text = notebook.read_text().replace("@CLASS@", str(root / "submission"))
        text = text.replace("@ROOT@", str(root)).replace("@LEAK@", str(LEAK))
        (root / "submission" / name).write_text(text)


def run_autograder(root: Path, **env: str) -> dict:
    done = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **env})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return checked(root)


def checked(root: Path) -> dict:
    """results.json, valid against Gradescope's schema and consistent (the score is the tests' sum)."""
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(data, RESULTS_SCHEMA)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    for test in data["tests"]:
        assert test["score"] <= test["max_score"]
        assert (test["status"] == "passed") == (test["score"] == test["max_score"])
    text = json.dumps(data)
    assert CANARY not in text and "BEGIN HIDDEN TESTS" not in text and "9999" not in text
    return data


def assert_graded(data: dict, score: float) -> None:
    assert data["score"] == pytest.approx(score), data["output"]
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(FULL)
    assert {t["visibility"] for t in data["tests"]} == {"visible"}


def assert_contained(root: Path, data: dict) -> None:
    assert "forged" not in data["output"]
    assert not LEAK.exists() or CANARY not in LEAK.read_text() and "def sample_mean" not in LEAK.read_text()
    for name in ("source", "results", "submission"):
        assert stat.S_IMODE((root / name).stat().st_mode) == 0o700, name


# -- the bundle ------------------------------------------------------------------------------------------

def test_the_bundle_holds_one_chapter_and_the_grader_and_nothing_else(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        requirements = archive.read("requirements.txt").decode()
        config = json.loads(archive.read("gradescope.json"))
    names = set(infos)
    assert {n.split("/")[0] for n in names} == {"setup.sh", "run_autograder", "gradescope.json", "requirements.txt",
                                                "wheels", "grader", "course"}
    assert {n for n in names if n.startswith("course/")} == {f"course/source_notebooks/{CH}/{CH}.ipynb",
                                                              f"course/release/{CH}/{CH}.ipynb"}
    assert {n.split("/")[1] for n in names if n.startswith("grader/")} == {"autograder", "solutions_lib"}
    for name in names:
        assert not {"tests", ".git", "__pycache__", ".github", ".ci"} & set(name.split("/")), name
        assert not name.endswith((".pyc", ".db")) and "/." not in "/" + name, name
    for name in ("setup.sh", "run_autograder"):
        assert (infos[name].external_attr >> 16) & 0o111, f"{name} is not executable"
        assert infos[name].external_attr >> 16 & 0o777 == 0o755
    wheels = [n for n in names if n.startswith("wheels/")]
    assert len(wheels) == 1 and wheels[0].endswith(".whl")
    assert config["chapter"] == CH and config["wall"] == "auto"
    assert "useradd" in setup and "bubblewrap" in setup and "chmod 700" in setup
    assert "torch==" in requirements and "jupyterlab" not in requirements
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("setup.sh", "run_autograder"):
            path = Path(tmp) / name
            path.write_bytes(zipfile.ZipFile(bundle).read(name))
            assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, name
        wheel = Path(tmp) / "w.whl"
        wheel.write_bytes(zipfile.ZipFile(bundle).read(wheels[0]))
        assert all(n.startswith(("course/", "dlcourse_student")) for n in wheel_files(wheel))


def test_the_cli_writes_the_bundle(tmp_path):
    from typer.testing import CliRunner

    from autograder.cli import app

    done = CliRunner().invoke(app, ["gradescope", "01", "-o", str(tmp_path / "gs.zip"), "--hidden-visibility",
                                    "after_published", "--course-root", str(ROOT)])
    assert done.exit_code == 0, done.output
    config = json.loads(zipfile.ZipFile(tmp_path / "gs.zip").read("gradescope.json"))
    assert config["hidden_visibility"] == "after_published" and config["chapter"] == CH
    bad = CliRunner().invoke(app, ["gradescope", "01", "-o", str(tmp_path / "bad.zip"), "--hidden-visibility",
                                   "sometimes", "--course-root", str(ROOT)])
    assert bad.exit_code == 2 and "hidden_visibility must be one of" in bad.output
    assert not (tmp_path / "bad.zip").exists()


STUB = """#!/bin/bash
echo "$(basename "$0") $*" >> "$STUB_LOG"
case "$(basename "$0") $*" in
  "apt-get update"*|"id "*) exit 1 ;;
  *" -m venv"*) mkdir -p "${@: -1}/bin" && cp "$0" "${@: -1}/bin/python" ;;
esac
exit 0
"""


def test_setup_sh_makes_the_environment_and_the_kernel_user(bundle, tmp_path):
    """setup.sh against stand-ins for apt-get, python, pip, id and useradd: what it asks of each, in order."""
    source, stubs, log = tmp_path / "source", tmp_path / "bin", tmp_path / "log"
    stubs.mkdir()
    zipfile.ZipFile(bundle).extractall(source)
    for name in ("apt-get", "python3.13", "id", "useradd"):
        (stubs / name).write_text(STUB)
        (stubs / name).chmod(0o755)
    done = subprocess.run(["bash", str(source / "setup.sh")], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{stubs}:/usr/bin:/bin", "STUB_LOG": str(log),
                               "AUTOGRADER_VENV": str(tmp_path / "venv")})
    assert done.returncode == 0, done.stdout + done.stderr
    calls = log.read_text().splitlines()
    wheel = next((source / "wheels").glob("*.whl"))
    assert calls == [
        "apt-get update -qq",  # (refused: no apt, so no bubblewrap either)
        "python3.13 -c import sys; sys.exit(sys.version_info < (3, 11))",
        f"python3.13 -m venv --clear {tmp_path / 'venv'}",
        "python -m pip install -q --upgrade pip",
        f"python -m pip install -q -r {source / 'requirements.txt'} {wheel}",
        f"id -u {gradescope.KERNEL_USER}",
        f"useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "
        f"{gradescope.KERNEL_USER}",
    ]
    assert stat.S_IMODE(source.stat().st_mode) == 0o700 and os.access(source / "run_autograder", os.X_OK)


# -- results.json, in this process --------------------------------------------------------------------------

def test_results_json_hides_hidden_code_and_follows_the_visibility():
    source = read_notebook(source_notebook(ROOT, CH))
    secret = next(line.strip() for cell in source.cells if "### BEGIN HIDDEN TESTS" in cell.source
                  for line in cell.source.split("### BEGIN HIDDEN TESTS")[1].splitlines() if len(line.strip()) > 12)
    cells = [CellResult("test_sample_mean", "sample_mean", 1, 1, False, "ok"),
             CellResult("test_sample_mean_2", "sample_mean", 0, 2, True, "error", f"failed at {secret}")]
    result = SubmissionResult("s", CH, "d", cells, outputs={"test_sample_mean": f"printed {secret}",
                                                           "test_sample_mean_2": "hidden output"})
    options = gradescope.BundleOptions(CH, hidden_visibility="after_due_date")
    data = gradescope.results_json(result, source, options, None, 3.4)
    jsonschema.validate(data, RESULTS_SCHEMA)
    assert secret not in json.dumps(data) and "hidden output" not in json.dumps(data)
    assert [t["visibility"] for t in data["tests"]] == ["visible", "after_due_date"]
    assert [t["status"] for t in data["tests"]] == ["passed", "failed"]
    assert data["score"] == 1.0 and data["execution_time"] == 3


def test_find_submission(tmp_path):
    assert gradescope.find_submission(tmp_path, CH)[0] is None
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / f"{CH}-checkpoint.ipynb").write_text("{}")
    assert gradescope.find_submission(tmp_path, CH) == (tmp_path / "sub" / "mine.ipynb", None)
    (tmp_path / "other.ipynb").write_text("{}")
    path, problem = gradescope.find_submission(tmp_path, CH)
    assert path is None and "several notebooks" in problem and f"{CH}.ipynb" in problem
    (tmp_path / f"{CH}.ipynb").write_text("{}")
    assert gradescope.find_submission(tmp_path, CH) == (tmp_path / f"{CH}.ipynb", None)


# -- run_autograder behind bubblewrap -------------------------------------------------------------------------

@pytest.mark.slow  # (runs a kernel)
@needs_bwrap
@pytest.mark.parametrize("student", ["perfect", "blank", "partly-wrong"])
def test_the_sample_class_scores_as_autograder_grade_does(gradescope_root, submissions, expected, student):
    submit(gradescope_root, submissions[student])
    data = run_autograder(gradescope_root)
    assert_graded(data, expected[student])
    assert "bubblewrap" in data["output"]
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    if student == "partly-wrong":  # the diagnoses of the wrong exercise are there, for visible and hidden cells
        assert failed and all(t["output"].strip() for t in failed)
        assert any("hidden tests" in t["name"] for t in failed) and any("hidden" not in t["name"] for t in failed)


@pytest.mark.slow  # (runs a kernel)
@needs_bwrap
@pytest.mark.parametrize("started_by", ["root", "kernel user"])
def test_a_hostile_submission_gets_nowhere_behind_bubblewrap(gradescope_root, submissions, request, started_by):
    """Bubblewrap started by the grader (root), or, where the kernel user can start it, by that user."""
    env = {}
    if started_by == "kernel user":
        wall = request.getfixturevalue("uid_wall")
        env = {"AUTOGRADER_KERNEL_USER": str(wall.uid), "AUTOGRADER_PYTHON": wall.python,  # the grader runs it too
               "PYTHONPATH": os.pathsep.join(p for p in sys.path if p.endswith("site-packages"))}
    submit(gradescope_root, submissions["hostile"])
    data = run_autograder(gradescope_root, **env)
    assert_graded(data, FULL)  # its answers are right; whatever else it did reached nothing
    assert_contained(gradescope_root, data)
    assert "bubblewrap" in data["output"]
    if started_by == "kernel user":
        assert f"started as a user of its own (uid {wall.uid})" in data["output"]
        assert processes_of(wall.uid) == []


@pytest.mark.parametrize("case", ["missing", "broken", "several"])
def test_no_gradable_notebook_scores_zero_with_the_reason(gradescope_root, submissions, case):
    if case == "broken":
        (gradescope_root / "submission" / f"{CH}.ipynb").write_text('{"cells": [')
    elif case == "several":
        submit(gradescope_root, submissions["perfect"], "a.ipynb")
        submit(gradescope_root, submissions["blank"], "b.ipynb")
    data = run_autograder(gradescope_root) if case == "missing" else (gradescope.run(gradescope_root),
                                                                      checked(gradescope_root))[1]
    assert data["score"] == 0 and len(data["tests"]) == len([c for e in syllabus.chapter(CH).exercises
                                                              for c in e.tests])
    assert {"missing": "no notebook was submitted", "broken": "not valid JSON",
            "several": "several notebooks"}[case] in data["output"]


def test_the_bundled_grader_needs_only_its_requirements(gradescope_root):
    """The grader in the zip runs with the packages of requirements.txt alone (the others refused)."""
    listed = {line.split("==")[0].lower() for line in (gradescope_root / "source" / "requirements.txt").read_text()
              .splitlines() if "==" in line}
    project = (ROOT / "pyproject.toml").read_text()
    left_out = sorted(gradescope._NOT_NEEDED)
    assert left_out and not set(left_out) & listed and all(f'"{name}' in project for name in left_out)
    (gradescope_root / "submission" / f"{CH}.ipynb").write_text('{"cells": [')
    code = (f"import sys\nfor name in {left_out!r}:\n    sys.modules[name] = None\n"
            f"sys.path.insert(0, {str(gradescope_root / 'source' / 'grader')!r})\n"
            "from autograder import gradescope, engine\n"
            f"assert engine.__file__.startswith({str(gradescope_root)!r}), engine.__file__\n"
            f"gradescope.run(gradescope.Path({str(gradescope_root)!r}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": ""}, cwd=gradescope_root)
    assert done.returncode == 0, done.stderr[-3000:]
    data = checked(gradescope_root)
    assert "not valid JSON" in data["output"] and len(data["tests"]) > 0, data["output"]


# -- the fallback wall: the kernel's own uid ------------------------------------------------------------------

def _kernel_uid_wall() -> UidWall:
    """An unused uid, and an interpreter of this Python that a stranger may run (this one, or the system's)."""
    if os.geteuid() != 0:
        pytest.skip("the uid wall needs a grader running as root")
    uid = next(u for u in range(61000 + os.getpid() % 1000, 65000)
               if not processes_of(u) and not Path(tempfile.gettempdir(), f"autograder-kernels-{u}").exists())
    for python in (os.path.realpath(sys.executable), f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"):
        wall = UidWall(uid, uid, python)
        if Path(python).is_file() and wall.status() is None:
            return wall
    pytest.skip(f"no interpreter of Python {sys.version_info[:2]} that uid {uid} may run: {wall.status()}")


@pytest.fixture
def uid_wall():
    wall = _kernel_uid_wall()
    yield wall
    kill_all(wall.uid)
    shutil.rmtree(Path(tempfile.gettempdir(), f"autograder-kernels-{wall.uid}"), ignore_errors=True)


def _uid_env(wall: UidWall) -> dict[str, str]:
    return {"AUTOGRADER_WALL": "uid", "AUTOGRADER_KERNEL_USER": str(wall.uid), "AUTOGRADER_KERNEL_PYTHON": wall.python}


@pytest.mark.slow  # (runs a kernel)
def test_the_uid_wall_grades_the_same_and_contains_a_hostile_submission(gradescope_root, submissions, expected,
                                                                         uid_wall):
    """The partly wrong sample's answers with the hostile sample_mean: graded exactly, contained."""
    submit(gradescope_root, submissions["hostile-partly-wrong"])
    data = run_autograder(gradescope_root, **_uid_env(uid_wall))
    assert_graded(data, expected["partly-wrong"])
    assert f"a user of its own (uid {uid_wall.uid})" in data["output"] and "bubblewrap" not in data["output"]
    assert_contained(gradescope_root, data)
    assert LEAK.exists() and LEAK.read_text() == "[]", "the kernel ran, and read nothing of the grader's"
    assert processes_of(uid_wall.uid) == [], "a process of the kernel user outlived the grading"
    time.sleep(0.3)
    assert checked(gradescope_root) == data, "results.json changed after the grader wrote it"


def test_without_any_wall_nothing_runs_and_the_instructor_is_told(gradescope_root, submissions):
    submit(gradescope_root, submissions["hostile"])
    data = run_autograder(gradescope_root, AUTOGRADER_WALL="uid", AUTOGRADER_KERNEL_USER="no-such-user-" + TAG)
    assert data["score"] == 0 and data["tests"] == []
    assert "NOT graded" in data["output"] and "no user named" in data["output"]
    assert not LEAK.exists(), "the student's code ran without a wall"
