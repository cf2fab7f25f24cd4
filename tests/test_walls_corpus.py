"""Attacks on the grader itself, each a real submission graded through `autograder grade` next to correct
classmates, behind the operating system's walls (:mod:`autograder.sandbox.walls`).

Every attacker first switches the audit hook off (the refusal is raised inside the hook, so its
traceback reaches the hook's handler table), then tries what the hook alone could not stop: C-level
I/O (``os.open`` with ``dir_fd``, ``torch.from_file``, ``sqlite3``), processes the hook never sees
(``_posixsubprocess.fork_exec``), signalling every process it can name, forging the gradebook and the
result files, reading classmates' notebooks and the sample class's perfect answers, breaking the result
channel (a 12-byte ``[1]`` frame, a record that makes the decoder raise, a 240 MB frame), driving its
own cell clock with forged frames, and filling the disk.

The whole class is graded in one `autograder grade` run (and once more, after the saved results were
forged between runs). Asserted: the run finishes (exit 0); every attacker scores nothing; every
classmate keeps full marks (or exactly their honest score); the gradebook, the result files (signed)
and the export agree; nothing outside the class folder changed; the grader's source is unchanged.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.checks import Case, Check, judge
from autograder.notebooks import nbgrader_meta, read_notebook, solution_cells, strip_solution_markers
from autograder.paths import release_notebook, source_notebook
from autograder.pipeline import Course
from autograder.records import store
from autograder.samples import fill_answers
from autograder.sandbox.supervisor import CellRun, KernelRun, Limits, _Frames, _Protocol
from autograder.sandbox.walls import walls_status
from conftest import hash_tree
from course import syllabus

ROOT = Path(__file__).resolve().parents[1]
CH = "01-statistics-and-estimators"
FULL = syllabus.chapter(CH).points
RISK_POINTS = next(e.points for e in syllabus.chapter(CH).exercises if e.name == "empirical_risk")
TAG = uuid.uuid4().hex[:10]
OUTSIDE = Path(tempfile.gettempdir()) / f"walls-outside-{TAG}"
needs_walls = pytest.mark.skipif(walls_status() is not None, reason=f"no walls here: {walls_status()}")

# The hook's handler table, reached through the traceback of a refusal; cleared, the hook allows everything.
HOOK_OFF = '''
import os, sys
def _hook_handlers():
    for path in ("@ROOT@/solutions_lib/statistics.py", "@CLASS@/gradebook.db", "/proc/1/environ"):
        try:
            open(path).close()
        except PermissionError as err:
            tb = err.__traceback__
            while tb is not None:
                if "handlers" in tb.tb_frame.f_locals:
                    return tb.tb_frame.f_locals["handlers"]
                tb = tb.tb_next
        except OSError:
            pass
_handlers = _hook_handlers()
if _handlers is not None:
    _handlers.clear()
print("hook off:", _handlers is not None)
'''

STEAL = '''
def _steal(text):
    """Define the course's answers from whatever source text was read."""
    if "def sample_mean" in text:
        exec(text, globals())
        return True
    return False
'''

ATTACKS = {
    # the hook off: read solutions_lib, start processes, backdoor the grader's own source
    "hook-off": HOOK_OFF + STEAL + '''
import subprocess
for path in ("@ROOT@/solutions_lib/statistics.py",):
    try:
        _steal(open(path).read())
    except OSError as err:
        print("read", err)
try:
    subprocess.run(["/bin/sh", "-c", "echo pwned > @OUTSIDE@-hook; echo '#' >> @ROOT@/autograder/engine.py"])
except OSError as err:
    print("process", err)
for path in ("@ROOT@/autograder/checks/ch01.py", "@ROOT@/autograder/sandbox/guard.py"):
    try:
        with open(path, "a") as f:
            f.write("\\n# backdoor\\n")
    except OSError as err:
        print("backdoor", err)
''',
    # C-level I/O and processes that raise no audit event
    "c-level": HOOK_OFF + STEAL + '''
import _posixsubprocess, sqlite3, torch
root = os.open("/", os.O_RDONLY)
for attempt in (lambda: os.read(os.open("@ROOTREL@/solutions_lib/statistics.py", os.O_RDONLY, dir_fd=root), 10**6).decode(),
                lambda: bytes(torch.from_file("@ROOT@/solutions_lib/statistics.py", size=4000,
                                              dtype=torch.uint8).tolist()).decode(errors="ignore")):
    try:
        _steal(attempt())
    except Exception as err:
        print("c-level read", type(err).__name__, err)
try:
    db = sqlite3.connect("@CLASS@/gradebook.db")
    db.execute("UPDATE grade SET auto_score = 0")
    db.commit()
except Exception as err:
    print("sqlite", err)
try:
    r, w = os.pipe()
    _posixsubprocess.fork_exec([b"/bin/sh", b"-c", b"echo pwned > @OUTSIDE@-fork; kill -9 -1"], [b"/bin/sh"], True,
                               (w,), None, None, -1, -1, -1, -1, -1, -1, r, w, True, True, -1, None, None, None,
                               -1, None, False)
except Exception as err:
    print("fork_exec", err)
''',
    # every process it can name: signalled (pidfd, kill, kill(-1))
    "killer": HOOK_OFF + '''
import signal
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) != os.getpid():
        for how in (lambda pid: signal.pidfd_send_signal(os.pidfd_open(pid), signal.SIGKILL),
                    lambda pid: os.kill(pid, signal.SIGKILL)):
            try:
                how(int(name))
            except Exception as err:
                print("kill", name, err)
for pid in range(1, 200):
    try:
        os.kill(pid, signal.SIGKILL) if pid != os.getpid() else None
    except Exception:
        pass
''',
    # the gradebook, the result files (digest kept) and the export, rewritten from inside
    "forger": HOOK_OFF + '''
import glob, json, sqlite3
for path in glob.glob("@CLASS@/results/@CH@/*.json"):
    try:
        data = json.load(open(path))
        for cell in data["cells"]:
            cell["points"] = cell["max_points"] if data["student"] == "forger" else 0.0
        json.dump(data, open(path, "w"))
    except OSError as err:
        print("results", err)
try:
    with open("@CLASS@/results/@CH@/forger.json", "w") as f:
        f.write("{}")
    with open("@CLASS@/grades.csv", "w") as f:
        f.write("student,score\\nforger,27\\n")
except OSError as err:
    print("export", err)
try:
    db = sqlite3.connect("@CLASS@/gradebook.db")
    db.execute("UPDATE grade SET auto_score = 100")
    db.commit()
except Exception as err:
    print("sqlite", err)
''',
    # classmates' notebooks, the class folders, the sample class's perfect answers
    "reader": HOOK_OFF + STEAL + '''
import glob, json
for pattern in ("@INBOX@/*/@CH@.ipynb", "@CLASS@/submitted/*/@CH@/@CH@.ipynb", "@ROOT@/classes/*/submitted/*/@CH@/*.ipynb",
                "@COURSE@/source_notebooks/@CH@/@CH@.ipynb", "/job/../*/*.ipynb"):
    for path in glob.glob(pattern):
        try:
            nb = json.load(open(path))
            _steal("\\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"))
        except Exception as err:
            print("read", path, err)
''',
    # the channel: a 12-byte frame [1]
    "frame-list": '''
import os, struct
os.write(3, struct.pack(">Q", 3) + b"[1]")
''',
    # the channel: a 240 MB frame
    "frame-huge": '''
import os, struct
os.write(3, struct.pack(">Q", 240 * 2**20) + b"{" + b" " * 2**16)
''',
    # the channel: records that make the decoder raise (a generator state of the wrong size, a bad dtype)
    "frame-decoder": '''
import json, os, struct, sys
def sample_mean(x, dim=-1):
    frame, found = sys._getframe(), {}
    while frame is not None:
        for key in ("cases", "current"):
            if key in frame.f_locals and key not in found:
                found[key] = frame.f_locals[key]
        frame = frame.f_back
    cases = found["cases"]
    bomb = {"$generator": {"dtype": "<u1", "shape": [3], "data": "AAAA"}}
    records = [{"label": c.label, "status": "ok", "got": bomb, "args": {"$tuple": [bomb]},
                "kwargs": {"$dict": [[{"$tensor": {"torch_dtype": "Generator", "dtype": "<f8", "shape": [], "data": ""}}, 1]]}}
               for c in cases]
    data = json.dumps({"t": "record", "i": found["current"]["cell"], "check": "sample_mean",
                       "records": records}).encode()
    os.write(3, struct.pack(">Q", len(data)) + data)
    return x.mean(dim)
''',
    # its own cell clock: forged start frames (for every cell index) while the cell runs on
    "clock": '''
import json, os, struct, time
started = time.monotonic()
while time.monotonic() - started < 40:
    for index in range(200):
        data = json.dumps({"t": "start", "i": index}).encode()
        os.write(3, struct.pack(">Q", len(data)) + data)
    time.sleep(2)
''',
    # the disk: 1.5 GB in 3,000 files
    "disk": '''
import os
os.makedirs("fill", exist_ok=True)
written = 0
try:
    for i in range(3000):
        with open(f"fill/{i}.bin", "wb") as f:
            f.write(b"0" * 2**19)
        written += 2**19
except OSError as err:
    print("disk full after", written // 2**20, "MB:", err)
''',
}


def _grades(class_dir: Path) -> dict[str, float]:
    out = {}
    with Gradebook(f"sqlite:///{class_dir / 'gradebook.db'}") as gb:
        for student in gb.students:
            try:
                out[student.id] = gb.find_submission(CH, student.id).score
            except Exception:  # noqa: BLE001
                pass
    return out


def _grade(course_root: Path, class_dir: Path, inbox: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from autograder.cli import main; main()", "grade", CH[:2],
                           str(inbox), "--course-root", str(course_root), "--class-dir", str(class_dir),
                           "--cell-timeout", "5", "--notebook-timeout", "90", "--memory-mb", "2048", "-j", "2"],
                          capture_output=True, text=True, timeout=1200, cwd=course_root)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """The class graded twice through `autograder grade`; the second run after results were forged outside."""
    tmp = tmp_path_factory.mktemp("walls")
    course_root, class_dir, inbox = tmp / "course", tmp / "class", tmp / "inbox"
    (course_root / "source_notebooks").mkdir(parents=True)
    import shutil

    shutil.copytree(ROOT / "source_notebooks" / CH, course_root / "source_notebooks" / CH)
    shutil.copytree(ROOT / "release" / CH, course_root / "release" / CH)
    shutil.copy(ROOT / "nbgrader_config.py", course_root)
    Course.open(course_root, class_dir).release(CH)
    source, release = read_notebook(source_notebook(ROOT, CH)), read_notebook(release_notebook(ROOT, CH))
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source) for c in solution_cells(source)}
    places = {"@ROOT@": str(ROOT), "@ROOTREL@": str(ROOT).lstrip("/"), "@CLASS@": str(class_dir),
              "@INBOX@": str(inbox), "@COURSE@": str(course_root), "@OUTSIDE@": str(OUTSIDE), "@CH@": CH}

    def write(student: str, nb) -> None:
        (inbox / student).mkdir(parents=True)
        nbformat.write(nb, str(inbox / student / f"{CH}.ipynb"))

    honest = {"perfect-1": reference, "perfect-2": reference, "perfect-3": reference,
              "partial": {**reference,  # an exercise no other one calls, so the partial student loses it alone
                          "empirical_risk": "def empirical_risk(predictions, targets, loss='squared', dim=-1):\n"
                                            "    return ((targets - predictions) ** 2).sum(dim)\n"}}
    students = list(honest)
    for name, code in ATTACKS.items():
        for key, value in places.items():
            code = code.replace(key, value)
        write(name, fill_answers(release, {"sample_mean": code}))  # every other answer left blank
        students.append(name)
    for name, answers in honest.items():
        write(name, fill_answers(release, answers))
    before = hash_tree(ROOT / "autograder", ROOT / "solutions_lib", ROOT / "course", ROOT / "source_notebooks",
                        course_root / "source_notebooks", inbox)
    first = _grade(course_root, class_dir, inbox)
    after_first = {"grades": _grades(class_dir), "results": {s: store.load_result(class_dir, CH, s) for s in students}}
    # between runs, someone with write access forges saved results, digest kept: they must not be re-used
    forged = []
    for student in ("perfect-2", "hook-off"):
        path = store.result_path(class_dir, CH, student)
        data = json.loads(path.read_text())
        for cell in data["cells"]:
            cell["points"] = 0.0 if student == "perfect-2" else cell["max_points"]
        path.write_text(json.dumps(data))
        forged.append(student)
    second = _grade(course_root, class_dir, inbox)
    after = hash_tree(ROOT / "autograder", ROOT / "solutions_lib", ROOT / "course", ROOT / "source_notebooks",
                       course_root / "source_notebooks", inbox)
    yield {"first": first, "second": second, "after_first": after_first, "class_dir": class_dir,
           "students": students, "honest": honest, "before": before, "after": after, "forged": forged}
    for path in OUTSIDE.parent.glob(OUTSIDE.name + "*"):
        path.unlink()


def _expected(student: str) -> float:
    return {"perfect-1": FULL, "perfect-2": FULL, "perfect-3": FULL, "partial": FULL - RISK_POINTS}.get(student, 0.0)


@pytest.mark.slow  # one class of 14 through `autograder grade`, twice: about 4 minutes on 2 cores
@needs_walls
@pytest.mark.parametrize("run", ["first", "second"])
def test_the_run_finishes(attacked, run):
    done = attacked[run]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "disagrees" not in done.stdout


@pytest.mark.slow  # one class of 14 through `autograder grade`, twice: about 4 minutes on 2 cores
@needs_walls
@pytest.mark.parametrize("student", ["perfect-1", "perfect-2", "perfect-3", "partial", *ATTACKS])
def test_every_score_is_earned(attacked, student):
    first = attacked["after_first"]["results"][student]
    assert first is not None, f"{student}: no signed result after the first run"
    assert first.score == _expected(student), (student, first.score, first.notes, first.problem,
                                               [c.message[:200] for c in first.cells if not c.passed][:3])
    assert attacked["after_first"]["grades"][student] == _expected(student)
    final = store.load_result(attacked["class_dir"], CH, student)
    assert final is not None and final.score == _expected(student)
    assert _grades(attacked["class_dir"])[student] == _expected(student)


@pytest.mark.slow  # one class of 14 through `autograder grade`, twice: about 4 minutes on 2 cores
@needs_walls
def test_forged_results_are_graded_again(attacked):
    out = " ".join(attacked["second"].stdout.split())
    n = len(attacked["students"])
    assert f"graded {len(attacked['forged'])} submissions now, re-used {n - len(attacked['forged'])} earlier" in out, \
        out[-2000:]


@pytest.mark.slow  # one class of 14 through `autograder grade`, twice: about 4 minutes on 2 cores
@needs_walls
def test_the_channel_attacks_stop_only_the_attacker(attacked):
    results = attacked["after_first"]["results"]
    for student in ("frame-list", "frame-huge", "clock"):
        notes = " ".join(results[student].notes)
        assert "broke the grading protocol" in notes, (student, notes)
        assert not results[student].grader_error
    assert results["clock"].seconds < 30, results["clock"].seconds  # not 40 s under a 5 s limit
    decoder = results["frame-decoder"]
    message = " ".join(c.message for c in decoder.cells if c.exercise == "sample_mean")
    assert not decoder.grader_error and "sample_mean" in message


@pytest.mark.slow  # one class of 14 through `autograder grade`, twice: about 4 minutes on 2 cores
@needs_walls
def test_nothing_outside_changed(attacked):
    assert attacked["before"] == attacked["after"]
    assert not list(OUTSIDE.parent.glob(OUTSIDE.name + "*"))
    class_files = {p.name for p in attacked["class_dir"].iterdir()}
    assert "grades.csv" not in class_files or "forger,27" not in (attacked["class_dir"] / "grades.csv").read_text()


# -- the channel and the judge, without a kernel ------------------------------------------------------------

def _protocol():
    run = KernelRun(cells={0: CellRun(), 1: CellRun()})
    return run, _Protocol(run, [{"i": 0, "checks": []}, {"i": 1, "checks": ["softmax"]}], Limits())


@pytest.mark.parametrize("frames", [
    [[1]], ["x"], [{"t": "end", "i": 0}], [{"t": "start", "i": 1}], [{"t": "start", "i": 0}, {"t": "start", "i": 0}],
    [{"t": "start", "i": 0}, {"t": "record", "i": 0, "check": "softmax", "records": []}],
    [{"t": "start", "i": 0}, {"t": "end", "i": 0, "status": "ok", "error": 3}],
    [{"t": "start", "i": 0}, {"t": "end", "i": 0, "status": "great"}], [{"t": "done"}], [{"t": "hello"}],
    [{"t": "start", "i": True}],
])
def test_protocol_refuses_bad_frames(frames):
    run, protocol = _protocol()
    for frame in frames:
        protocol.accept(frame)
    assert protocol.broken and not run.finished


def test_protocol_accepts_a_run_in_order():
    run, protocol = _protocol()
    for frame in [{"t": "start", "i": 0}, {"t": "end", "i": 0, "status": "ok"}, {"t": "start", "i": 1},
                  {"t": "record", "i": 1, "check": "softmax", "records": [1]},
                  {"t": "record", "i": 1, "check": "softmax", "records": [2]},
                  {"t": "end", "i": 1, "status": "error", "error": "E"}, {"t": "done"}]:
        protocol.accept(frame)
        assert not protocol.broken
    assert run.finished and run.records == {1: {"softmax": [1]}} and run.cells[1].status == "error"


def test_frames_refuse_a_huge_length_and_buffer_linearly():
    frames = _Frames(1 << 20)
    with pytest.raises(ValueError):
        list(frames.feed((240 * 2**20).to_bytes(8, "big")))
    frames, payload = _Frames(64 << 20), json.dumps({"t": "done", "pad": "x" * (48 << 20)}).encode()
    data = len(payload).to_bytes(8, "big") + payload
    got = []
    for start in range(0, len(data), 4096):  # 12,000 small chunks: quadratic buffering would take minutes
        got += frames.feed(data[start:start + 4096])
    assert got == [payload]


@pytest.mark.parametrize("record", [
    {"label": "a", "status": "ok", "got": {"$generator": {"dtype": "<u1", "shape": [3], "data": "AAAA"}}},
    {"label": "a", "status": "ok", "got": {"$np_generator": {"$dict": [["bit_generator", "seed"]]}}},
    {"label": "a", "status": "ok", "got": {"$tensor": {"torch_dtype": "Generator", "dtype": "<f8", "shape": [1],
                                                       "data": "AAAAAAAAAAA="}}},
    {"label": "a", "status": "ok", "got": [1.0], "args": {"$tuple": [{"$size": ["x"]}]}},
    {"label": "a", "status": "ok", "got": {"$dict": [[[1], 2]]}, "args": 5, "kwargs": [1]},
])
def test_judge_never_raises(record):
    import torch

    chk = Check("f", lambda: [], reference=lambda x: x * 2)
    result = judge(chk, [Case("a", (torch.ones(2),))], [record])
    assert not result.passed
