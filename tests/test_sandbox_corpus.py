"""A corpus of bad submissions, each graded through the real sandbox.

Every submission is the perfect one (all reference answers) with ONE answer cell replaced by bad code,
or its JSON tampered with. The whole corpus is graded in one ``grade_class(..., workers=2)`` call, and
each case asserts: the targeted exercise gets 0 with a clear reason, the other exercises keep their
points (or, when the case kills the kernel, the exercises before it do), nothing outside the kernel's
own folder is touched. Unit tests for :mod:`autograder.sandbox.codec`, :mod:`autograder.merge` and
:mod:`autograder.delegation` follow.
"""
from __future__ import annotations

import copy
import json
import math
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
import numpy as np
import pytest
import torch

from autograder.sandbox import codec
from autograder.delegation import delegation_reasons
from autograder.engine import grade_class
from autograder.intake import find_submissions
from autograder.merge import merge
from autograder.notebooks import nbgrader_meta, read_notebook, solution_cells, strip_solution_markers
from autograder.paths import release_notebook, source_notebook
from autograder.samples import fill_answers
from autograder.sandbox.supervisor import Limits
from course import syllabus

ROOT = Path(__file__).resolve().parents[1]
CH = "01-statistics-and-estimators"
EXERCISES = [e.name for e in syllabus.chapter(CH).exercises]  # in the notebook's order
POINTS = {e.name: e.points for e in syllabus.chapter(CH).exercises}  # visible + hidden cells of each
FULL = syllabus.chapter(CH).points


def _uses() -> dict[str, set[str]]:
    """{exercise: the other exercises its reference answer calls} (a make-it-work task calls earlier ones)."""
    import ast

    source = read_notebook(source_notebook(ROOT, CH))
    uses = {}
    for cell in solution_cells(source):
        name = nbgrader_meta(cell)["grade_id"]
        tree = ast.parse(strip_solution_markers(cell.source))
        uses[name] = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & (set(EXERCISES) - {name})
    return uses


USES = _uses()


def _callers(attacked: set[str]) -> set[str]:
    """The exercises whose answer calls an attacked one: they may lose their points along with it."""
    return {e for e in EXERCISES if e not in attacked and USES.get(e, set()) & attacked}
pytestmark = pytest.mark.slow  # 17 sandboxed kernels: about 75 s on 2 cores

LIMITS = Limits(cell_seconds=5, notebook_seconds=60, memory_mb=3072, file_mb=16, output_chars=20000)
TAG = uuid.uuid4().hex[:10]  # makes the paths the attacks try to write unique to this run


def wrong(name: str) -> str:
    """An answer that is simply wrong (for cases that try to fool the checks)."""
    return f"def {name}(*args, **kwargs):\n    return 0.0\n"


def cell_of(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def insert_after(grade_id: str, source: str) -> Callable[[dict], None]:
    """An edit adding a student code cell right after the cell ``grade_id``."""
    def edit(nb: dict) -> None:
        at = nb["cells"].index(cell_of(nb, grade_id))
        nb["cells"].insert(at + 1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                    "source": source, "id": f"extra-{uuid.uuid4().hex[:8]}"})
    return edit


@dataclass
class Bad:
    id: str
    target: str | None  # the exercise the case attacks
    code: str | None = None  # replaces the target's answer cell (placeholders @ROOT@, @OUTSIDE@, ...)
    edit: Callable[[dict], None] | None = None  # then edits the notebook JSON
    expect: str = "zero"  # "zero", "killed" (the kernel dies in the target's answer cell), "full"
    reason: str = ""  # regex (case-insensitive) in the target's cell messages, or the notes for "killed"
    note: str = ""  # regex (case-insensitive) that some note must match
    answer_output: str = ""  # regex the target's answer cell output (executed notebook) must match
    absent: list[str] = field(default_factory=list)  # paths (placeholders allowed) that must not exist after


def _edit_test_source(nb):
    cell_of(nb, "test_sample_mean")["source"] = "pass"


def _delete_tests(nb):
    nb["cells"] = [c for c in nb["cells"]
                   if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in
                   ("test_sample_variance", "test_sample_variance_2")]


def _rename_test(nb):
    cell_of(nb, "test_unbiased_variance")["metadata"]["nbgrader"]["grade_id"] = "test_unbiased_variance_x"


def _inflate_points(nb):
    cell_of(nb, "test_plugin_variance_bias")["metadata"]["nbgrader"]["points"] = 100
    cell_of(nb, "test_plugin_variance_bias_2")["metadata"]["nbgrader"]["points"] = 100


def _duplicate_hidden(nb):
    real = cell_of(nb, "test_gaussian_nll_2")
    fake = copy.deepcopy(real)
    fake["source"], fake["id"] = "pass", "fake-hidden"
    nb["cells"].insert(nb["cells"].index(real), fake)


def _checksum(nb):
    for grade_id in ("test_standardized_means", "test_standardized_means_2"):
        cell_of(nb, grade_id)["metadata"]["nbgrader"]["checksum"] = "0" * 32


_PATCH_RECORDER = ("import autograder.checks as _c\nfrom autograder.checks import CheckResult\n"
                   "_c._recorder = lambda name, fn: CheckResult(name, True, 1, [])\n")
_PATCH_RUN_CHECK = ("import autograder.checks as _c\nfrom autograder.checks import CheckResult\n"
                    "_c.run_check = lambda name, fn: CheckResult(name, True, 1, [])\n")

CASES = [
    # 1-2. time
    Bad("hang_in_answer_cell", "sample_variance", "while True:\n    pass\n", reason="NameError",
        answer_output=r"timeout"),
    Bad("hang_ignoring_sigalrm", "gaussian_mle",
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n",
        expect="killed", reason=r"time limit.*killed"),
    Bad("sleep_in_function", "unbiased_variance",
        "import time\ndef unbiased_variance(x, dim=-1):\n    time.sleep(10**6)\n", reason=r"longer than its limit"),
    # 3. memory
    Bad("bytearray_50gb", "plugin_variance_bias",
        "def plugin_variance_bias(sigma2, n):\n    big = bytearray(50 * 2**30)\n    return 0.0\n",
        reason="MemoryError"),
    Bad("growing_list", "standardized_means",
        "import numpy as np\ndef standardized_means(samples, mu, sigma, dim=-1):\n    chunks = []\n"
        "    while True:\n        chunks.append(np.empty(2**27))\n", reason="MemoryError"),
    # 4. processes
    Bad("fork_bomb", "sample_mean", "import os\ndef sample_mean(x, dim=-1):\n    while True:\n        os.fork()\n",
        reason=r"PermissionError.*starting processes|raised PermissionError"),
    Bad("subprocess_run", "sample_variance",
        "import subprocess\ndef sample_variance(x, dim=-1):\n    subprocess.run(['sleep', '100'])\n"
        "    return x.var(dim=dim, unbiased=False)\n", reason="PermissionError"),
    Bad("os_system", "gaussian_nll",
        "import os\ndef gaussian_nll(x, mu, var):\n    os.system('touch @OUTSIDE@-system')\n    return 0.0\n",
        reason="PermissionError", absent=["@OUTSIDE@-system"]),
    # 5. files
    Bad("huge_file_in_work_dir", "empirical_risk",
        "def empirical_risk(predictions, targets, loss='squared', dim=-1):\n    with open('big.bin', 'wb') as f:\n"
        "        for _ in range(100):\n            f.write(b'0' * 2**26)\n", reason=r"File too large|Errno 27"),
    Bad("write_tmp", "sample_mean",
        "def sample_mean(x, dim=-1):\n    open('@OUTSIDE@', 'w').write('pwned')\n    return x.mean(dim)\n",
        reason=r"PermissionError.*writing", absent=["@OUTSIDE@"]),
    Bad("write_class_dir", "bias_variance_mse",
        "def bias_variance_mse(*args):\n    open('@CLASS@/intruder-@TAG@.txt', 'w').write('pwned')\n",
        reason=r"PermissionError.*writing", absent=["@CLASS@/intruder-@TAG@.txt"]),
    Bad("write_source_notebooks", "gaussian_mle",
        "from pathlib import Path\ndef gaussian_mle(x, dim=-1):\n"
        "    Path('@ROOT@/source_notebooks/intruder-@TAG@.txt').write_text('pwned')\n",
        reason=r"PermissionError.*writing", absent=["@ROOT@/source_notebooks/intruder-@TAG@.txt"]),
    # 6. output
    Bad("print_100mb", "sample_mean", "@REF@\n_honest, _said = sample_mean, []\ndef sample_mean(x, dim=-1):\n"
        "    if not _said:  # once, in the visible test cell\n        _said.append(print('x' * 100_000_000))\n"
        "    return _honest(x, dim)\n", expect="full"),
    # 7. leaving / dying
    Bad("sys_exit_in_function", "gaussian_mle", "import sys\ndef gaussian_mle(x, dim=-1):\n    sys.exit()\n",
        reason="SystemExit|did not report"),
    Bad("raise_systemexit", "gaussian_mle", "raise SystemExit(0)\n", reason="NameError",
        answer_output="SystemExit"),
    Bad("os_exit", "gaussian_mle", "import os\nos._exit(0)\n", expect="killed", reason=r"died.*exit status 0"),
    Bad("sigkill_self", "gaussian_mle", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
        expect="killed", reason=r"died.*SIGKILL"),
    Bad("segfault_ctypes", "gaussian_mle", "import ctypes\nctypes.string_at(0)\n", expect="killed",
        reason=r"died.*SIGSEGV"),
    Bad("segfault_faulthandler", "gaussian_mle", "import faulthandler\nfaulthandler._sigsegv()\n",
        expect="killed", reason=r"died.*SIGSEGV"),
    # 8. tampering (with a wrong answer, so a tampering that worked would earn points)
    Bad("edit_test_source", "sample_mean", wrong("sample_mean"), _edit_test_source,
        note="test_sample_mean was edited; the original was restored", reason="fails"),
    Bad("delete_test_cells", "sample_variance", wrong("sample_variance"), _delete_tests,
        note="test_sample_variance_2 was deleted; it was restored", reason="fails"),
    Bad("change_grade_id", "unbiased_variance", wrong("unbiased_variance"), _rename_test,
        note="test_unbiased_variance_x", reason="fails"),
    Bad("inflate_points", "plugin_variance_bias", wrong("plugin_variance_bias"), _inflate_points,
        note="metadata of test_plugin_variance_bias was changed", reason="fails"),
    Bad("duplicate_hidden_cell", "gaussian_nll", wrong("gaussian_nll"), _duplicate_hidden,
        note="second cell claims grade_id test_gaussian_nll_2", reason="fails"),
    Bad("change_checksum", "standardized_means", wrong("standardized_means"), _checksum,
        note="checksum of test_standardized_means_2 was changed", reason="fails"),
    # 9. fooling the checks from inside the kernel (patches that break everything after them: the last exercise)
    Bad("np_allclose", "sample_variance", wrong("sample_variance") + "import numpy as np\n"
        "np.allclose = lambda *a, **k: True\n", reason="fails"),
    Bad("np_assert_allclose", "plugin_variance_bias", wrong("plugin_variance_bias"),
        insert_after("plugin_variance_bias", "import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                                       "np.testing.assert_array_equal = lambda *a, **k: None\n"), reason="fails"),
    Bad("torch_allclose", "gaussian_mle", wrong("gaussian_mle") + "import torch\n"
        "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n", reason="fails"),
    Bad("course_expect_close", "standardized_means", wrong("standardized_means"),
        insert_after("standardized_means", "import course.checks\ncourse.checks.expect_close = lambda *a, **k: None\n"
                                       "course.checks.diagnose_close = lambda *a, **k: None\n"
                                       "expect_close = lambda *a, **k: None\n"), reason="fails"),
    Bad("assertion_error", "bias_variance_mse", wrong("bias_variance_mse") + "import builtins\n"
        "builtins.AssertionError = type('E', (Exception,), {})\n", reason="fails"),
    Bad("builtins_isinstance", "empirical_risk", wrong("empirical_risk"),
        insert_after("empirical_risk", "import builtins\nbuiltins.isinstance = lambda obj, kind: True\n"),
        reason=r"fails|did not report|did not finish"),
    Bad("patch_recorder", "empirical_risk", wrong("empirical_risk"), insert_after("empirical_risk", _PATCH_RECORDER),
        reason=r"did not report|ImportError"),
    Bad("patch_run_check", "empirical_risk", wrong("empirical_risk"), insert_after("empirical_risk", _PATCH_RUN_CHECK),
        reason=r"did not report|ImportError"),
    Bad("eq_always_true", "unbiased_variance",
        "import numpy as np\nclass _Yes(float):\n    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n    def __array__(self, *a, **k): return np.zeros(())\n"
        "    __hash__ = float.__hash__\n"
        "def unbiased_variance(x, dim=-1):\n    return _Yes(0.0)\n", reason="fails"),
    # 10. delegation and reading what is hidden
    Bad("import_solutions_lib", "sample_mean", "from solutions_lib.statistics import sample_mean\n",
        reason=r"solutions_lib|ImportError"),
    Bad("importlib_obfuscated", "sample_variance",
        "import importlib\nsample_variance = importlib.import_module('solutions' + '_lib.statistics').sample_variance\n",
        reason=r"ImportError|NameError"),
    Bad("sys_modules_obfuscated", "unbiased_variance",
        "import sys\nunbiased_variance = sys.modules['solutions' + '_lib.statistics'].unbiased_variance\n",
        reason=r"NameError", answer_output="KeyError"),
    Bad("open_and_exec_solutions", "plugin_variance_bias",
        "_ns = {}\nexec(open('@ROOT@/solutions' + '_lib/statistics.py').read(), _ns)\n"
        "plugin_variance_bias = _ns['plugin_variance_bias']\n", reason="NameError", answer_output="PermissionError"),
    Bad("read_source_notebook", "gaussian_nll",
        "def gaussian_nll(x, mu, var):\n    return open('@ROOT@/source' + '_notebooks/@CH@/@CH@.ipynb').read()\n",
        reason=r"PermissionError.*reading"),
    Bad("listdir_class_dir", "standardized_means",
        "import os\ndef standardized_means(samples, mu, sigma, dim=-1):\n    return os.listdir('@CLASS@')\n",
        reason=r"PermissionError.*reading"),
    Bad("read_grader_memory", "empirical_risk",
        "import os\ndef empirical_risk(predictions, targets, loss='squared', dim=-1):\n"
        "    return open(f'/proc/{os.getppid()}/environ', 'rb').read() + open('/proc/1/cmdline', 'rb').read()\n",
        reason=r"PermissionError.*another process"),
    Bad("read_other_student", "standardized_means",
        "def standardized_means(samples, mu, sigma, dim=-1):\n    return open('@OTHER@').read()\n",
        reason=r"PermissionError.*reading"),
]

FILE_CASES = {  # student -> (how the submission folder is made, the expected problem)
    "renamed": (lambda d: (d / "renamed").mkdir() or (d / "renamed" / "my-notebook.ipynb").write_text("{}"),
                r"no 01-statistics-and-estimators.ipynb.*renamed"),
    "missing": (lambda d: (d / "missing").mkdir() or (d / "missing" / "notes.txt").write_text("sorry"),
                r"no 01-statistics-and-estimators.ipynb in the submission"),
    "badjson": (lambda d: (d / "badjson.ipynb").write_text('{"cells": [,'), r"not valid JSON"),
    "emptyfile": (lambda d: (d / "emptyfile.ipynb").write_bytes(b""), r"empty"),
    "png": (lambda d: (d / "png.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4), r"not UTF-8"),
}


def _exercise_points(result) -> dict[str, float]:
    points = {name: 0.0 for name in EXERCISES}
    for cell in result.cells:
        points[cell.exercise] += cell.points
    return points


def _students(cases: list[Bad], size: int = 4) -> dict[str, list[Bad]]:
    """The submissions to grade: each case that kills the kernel alone; the others in small groups whose
    cases attack different exercises (so every group leaves most exercises alone, to check they keep
    their points), which keeps the corpus to about 17 kernels."""
    students: dict[str, list[Bad]] = {}
    groups: list[list[Bad]] = []
    for case in cases:
        if case.expect == "killed":
            students[case.id.replace("_", "-")] = [case]
            continue
        group = next((g for g in groups if len(g) < size and all(c.target != case.target for c in g)), None)
        if group is None:
            groups.append(group := [])
        group.append(case)
    students.update({f"group-{i:02d}": group for i, group in enumerate(groups)})
    return students


STUDENTS = _students(CASES)
STUDENT_OF = {case.id: student for student, cases in STUDENTS.items() for case in cases}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every case graded in one grade_class call: {student: (result, executed notebook)}, and the paths."""
    tmp = tmp_path_factory.mktemp("corpus")
    inbox, class_dir = tmp / "inbox", tmp / "class"
    inbox.mkdir()
    class_dir.mkdir()
    (class_dir / "gradebook.db").write_text("secret grades")
    source = read_notebook(source_notebook(ROOT, CH))
    release = read_notebook(release_notebook(ROOT, CH))
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source) for c in solution_cells(source)}
    places = {"@ROOT@": str(ROOT), "@CLASS@": str(class_dir), "@OUTSIDE@": str(Path(tempfile.gettempdir()) / f"corpus-outside-{TAG}"),
              "@OTHER@": str(inbox / "perfect" / f"{CH}.ipynb"), "@CH@": CH, "@TAG@": TAG}

    def fill(text: str, target: str | None = None) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text.replace("@REF@", reference.get(target, "")) if target else text

    def write(student: str, nb) -> None:
        (inbox / student).mkdir()
        (inbox / student / f"{CH}.ipynb").write_text(json.dumps(nb), encoding="utf-8")

    write("perfect", fill_answers(release, reference))
    write("blank", release)
    for student, cases in STUDENTS.items():
        answers = dict(reference)
        answers.update({case.target: fill(case.code, case.target) for case in cases if case.code is not None})
        nb = json.loads(nbformat.writes(fill_answers(release, answers)))
        for case in cases:
            if case.edit:
                case.edit(nb)
        write(student, nb)
    for make, _ in FILE_CASES.values():
        make(inbox)
    submissions = find_submissions(inbox, CH)
    outcomes = {}
    # the slow ones (time-outs) first, so the two workers overlap them with the rest
    slow = {STUDENT_OF[name] for name in ("hang_in_answer_cell", "hang_ignoring_sigalrm", "sleep_in_function")}
    submissions.sort(key=lambda s: s.student not in slow)
    run = grade_class(ROOT, class_dir, CH, submissions, LIMITS, workers=2, force=True,
                      on_result=lambda result, nb: outcomes.__setitem__(result.student, (result, nb)))
    assert run.graded == len(submissions) == len(STUDENTS) + len(FILE_CASES) + 2
    yield outcomes, fill
    for case in CASES:
        for path in case.absent:
            Path(fill(path)).unlink(missing_ok=True)


def test_perfect_and_blank(corpus):
    outcomes, _ = corpus
    perfect, _ = outcomes["perfect"]
    assert perfect.score == perfect.max_score == FULL, [(c.grade_id, c.message) for c in perfect.cells if not c.passed]
    assert perfect.notes == []
    blank, _ = outcomes["blank"]
    assert blank.score == 0 and blank.max_score == FULL
    assert all(c.status in ("ok", "error") for c in blank.cells)
    assert any("not implemented" in c.message for c in blank.cells if c.hidden)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_submission(corpus, case):
    outcomes, fill = corpus
    result, nb = outcomes[STUDENT_OF[case.id]]
    attacked = {c.target for c in STUDENTS[STUDENT_OF[case.id]] if c.expect != "full"}
    points = _exercise_points(result)
    target_cells = [c for c in result.cells if c.exercise == case.target]
    assert len(target_cells) == 2
    notes = "\n".join(result.notes)
    said = "\n".join(c.message for c in target_cells) + "\n" + notes
    assert result.problem is None
    # exercises whose answer calls an attacked one, and those after code a case inserts into the notebook to
    # break the recording of hidden checks (it stays patched for every later cell), may lose their points too
    group = [c for c in STUDENTS[STUDENT_OF[case.id]] if c.expect != "full"]
    inserted_after = [EXERCISES.index(c.target) for c in group
                      if c.edit is not None and "did not report" in c.reason and c.target in EXERCISES]
    callers = _callers(attacked) | ({e for e in EXERCISES[min(inserted_after) + 1:]} - attacked
                                    if inserted_after else set())
    assert all(points[e] in (0.0, POINTS[e]) for e in callers), points
    # a case that breaks the kernel's own machinery (builtins.isinstance patched) stops its later cells: that
    # costs only exercises after an attacked one, and the run says the kernel died
    stopped = {c.exercise for c in result.cells if c.status == "not run"}
    if stopped and case.expect != "killed":
        assert re.search(r"kernel died", notes), notes
        assert min(map(EXERCISES.index, stopped)) > min(map(EXERCISES.index, attacked)), (stopped, attacked)
        assert all(points[e] == 0.0 for e in stopped), points
    if case.expect == "full":
        assert points[case.target] == POINTS[case.target], points
    elif case.expect == "zero":
        assert points[case.target] == 0.0, said
    if case.expect in ("full", "zero"):
        # no bad answer costs another exercise its points (but those that call it)
        others = {name: p for name, p in points.items() if name not in attacked | callers | stopped}
        assert len(others) >= 5 and others == {name: POINTS[name] for name in others}, (others, notes)
        assert result.score == sum(others.values()) + sum(points[e] for e in callers - stopped)
    elif case.expect == "killed":
        at = EXERCISES.index(case.target)
        assert {n: points[n] for n in EXERCISES[:at]} == {n: POINTS[n] for n in EXERCISES[:at]}, notes
        assert all(points[n] == 0.0 for n in EXERCISES[at:])
        assert all(c.status == "not run" for c in result.cells if EXERCISES.index(c.exercise) >= at)
        assert result.score == sum(POINTS[n] for n in EXERCISES[:at])
    if case.reason:
        assert re.search(case.reason, said, re.I | re.S), said[:3000]
    if case.note:
        assert re.search(case.note, notes, re.I), notes
    if case.answer_output:
        assert nb is not None
        answer = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == case.target)
        shown = json.dumps(answer.get("outputs", []))
        assert re.search(case.answer_output, shown), shown[:2000]
    for path in case.absent:
        assert not Path(fill(path)).exists(), f"{fill(path)} was written from inside the kernel"
    # whatever the kernel did, what comes back stays small
    assert len(result.to_json()) < 200_000
    assert all(len(text) <= LIMITS.output_chars for text in result.outputs.values())


def test_big_output_is_capped(corpus):
    outcomes, _ = corpus
    result, nb = outcomes[STUDENT_OF["print_100mb"]]
    assert _exercise_points(result)["sample_mean"] == POINTS["sample_mean"]
    assert len(nbformat.writes(nb)) < 1_000_000
    assert result.outputs["test_sample_mean"] == "x" * LIMITS.output_chars
    test_cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_sample_mean")
    shown = "".join(o.get("text", "") for o in test_cell.outputs)
    assert len(shown) < LIMITS.output_chars + 200 and "more characters of output dropped" in shown


def test_no_stray_files(corpus):
    _, fill = corpus
    assert not list((ROOT / "source_notebooks").glob(f"intruder-{TAG}*"))
    assert not list(Path("/tmp").glob(f"corpus-outside-{TAG}*"))


@pytest.mark.parametrize("student", sorted(FILE_CASES))
def test_unusable_file(corpus, student):
    outcomes, _ = corpus
    result, nb = outcomes[student]
    assert nb is None
    assert result.score == 0 and result.max_score == FULL
    assert re.search(FILE_CASES[student][1], result.problem or "", re.I), result.problem
    assert all(c.status == "not run" for c in result.cells)


# -- codec -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int32, torch.uint8, torch.bool, torch.complex64])
def test_codec_tensor_round_trip(dtype):
    t = (torch.randn(3, 4, dtype=torch.float64) * 100).to(dtype) if dtype != torch.bool else torch.rand(3, 4) > 0.5
    back = codec.decode(json.loads(json.dumps(codec.encode(t))))
    assert isinstance(back, torch.Tensor) and back.dtype == dtype and back.shape == t.shape
    assert torch.equal(back, t)


def test_codec_float64_bit_exact_and_special_values():
    t = torch.tensor([math.pi, 1e-310, -0.0, float("inf"), float("nan"), 2.0**-1074], dtype=torch.float64)
    back = codec.decode(json.loads(json.dumps(codec.encode(t))))
    assert back.numpy().tobytes() == t.numpy().tobytes()
    for x in (math.pi, 0.1 + 0.2, float("inf"), -float("inf"), 5e-324):
        assert codec.decode(json.loads(json.dumps(codec.encode(x)))) == x
    assert math.isnan(codec.decode(json.loads(json.dumps(codec.encode(float("nan"))))))
    assert codec.decode(codec.encode(2**100)) == 2**100
    assert codec.decode(codec.encode(torch.tensor(1.0, requires_grad=True))).requires_grad


def test_codec_numpy_and_structures():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    value = {"a": a, "t": (np.float64(0.5), np.int64(3), [1, "x", None, True]), 2: (1 + 2j, torch.Size([2, 3])),
             "dtype": torch.float16}
    back = codec.decode(json.loads(json.dumps(codec.encode(value))))
    assert back.keys() == value.keys()
    assert isinstance(back["a"], np.ndarray) and back["a"].dtype == np.float32 and np.array_equal(back["a"], a)
    assert back["t"][0] == 0.5 and type(back["t"][0]) is np.float64 and back["t"][1] == 3
    assert back["t"][2] == [1, "x", None, True] and isinstance(back["t"], tuple)
    assert back[2] == (1 + 2j, torch.Size([2, 3])) and back["dtype"] is torch.float16
    big_endian = np.arange(4, dtype=">f8")
    assert np.array_equal(codec.decode(codec.encode(big_endian)), big_endian)


def test_codec_generators():
    g = torch.Generator().manual_seed(123)
    g2 = codec.decode(json.loads(json.dumps(codec.encode(g))))
    assert torch.equal(torch.rand(5, generator=g), torch.rand(5, generator=g2))
    n = np.random.default_rng(7)
    n2 = codec.decode(json.loads(json.dumps(codec.encode(n))))
    assert np.array_equal(n.random(5), n2.random(5))


def test_codec_rigged_objects_are_opaque():
    class Yes:
        def __eq__(self, other):
            return True

        def __array__(self, *a, **k):
            return np.zeros(3)

    class RiggedFloat(float):
        def __eq__(self, other):
            return True

    class RiggedTensor(torch.Tensor):
        pass

    for rigged in (Yes(), RiggedFloat(1.0), lambda: 0, object(), torch.zeros(2).as_subclass(RiggedTensor)):
        back = codec.decode(json.loads(json.dumps(codec.encode(rigged))))
        assert isinstance(back, codec.Opaque), (rigged, back)
        assert back != back and not (back == 1.0) and not (back == torch.zeros(2))
    deep = []
    for _ in range(100):
        deep = [deep]
    assert "nested too deeply" in repr(codec.decode(codec.encode(deep)))


@pytest.mark.parametrize("data", [
    {"$tensor": {"dtype": "<f8", "shape": [3], "data": "AAAA", "torch_dtype": "float64"}},  # wrong size
    {"$tensor": {"dtype": "<f8", "shape": [], "data": "AAAAAAAAAAA=", "torch_dtype": "Tensor"}},  # not a dtype
    {"$ndarray": {"dtype": "|O", "shape": [1], "data": ""}},  # object arrays refused
    {"$ndarray": {"dtype": "<f8", "shape": [1], "data": "!!notbase64"}},
    {"$torch_dtype": "nn"}, {"$dict": [[[1], 2]]}, {"$what": 1}, {"$tuple": 3, "extra": 1}, {"$bigint": "x"},
    {"$np_generator": {"$dict": [["bit_generator", "os"]]}},
], ids=lambda d: next(iter(d)))
def test_codec_malformed_is_opaque(data):
    assert isinstance(codec.decode(data), codec.Opaque)


def test_codec_too_big():
    with pytest.raises(codec.TooBig):
        codec.encode(np.zeros(2**20), limit=2**20)
    with pytest.raises(codec.TooBig):
        codec.encode(list(range(codec._MAX_ITEMS + 1)))
    with pytest.raises(codec.TooBig):
        codec.encode(["x" * 600, "y" * 600], limit=1000)
    assert codec.encode(np.zeros(10), limit=80)["$ndarray"]["shape"] == [10]


# -- merge ---------------------------------------------------------------------------------------------------

def _code(source, grade_id=None, **meta):
    cell = nbformat.v4.new_code_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, **meta}
    return cell


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


SOURCE = _nb(_code("import math", "imports", grade=False, solution=False, locked=True),
             _code("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION", "f", grade=False,
                   solution=True, locked=False),
             _code("assert f(1) == 1", "test_f", grade=True, solution=False, locked=True, points=1),
             _code("### BEGIN HIDDEN TESTS\nrun_check('f', f)\n### END HIDDEN TESTS", "test_f_2", grade=True,
                   solution=False, locked=True, points=2))
RELEASE = _nb(_code("import math", "imports", grade=False, solution=False, locked=True),
              _code("def f(x):\n    raise NotImplementedError", "f", grade=False, solution=True, locked=False),
              _code("assert f(1) == 1", "test_f", grade=True, solution=False, locked=True, points=1),
              _code("# hidden", "test_f_2", grade=True, solution=False, locked=True, points=2))


def _student(edit=None):
    nb = json.loads(nbformat.writes(RELEASE))
    nb["cells"][1]["source"] = "def f(x):\n    return x"
    if edit:
        edit(nb)
    return nb


def test_merge_honest():
    merged = merge(SOURCE, RELEASE, _student())
    assert [(c.kind, c.grade_id, c.points, c.hidden) for c in merged.cells] == [
        ("locked", "imports", 0, False), ("solution", "f", 0, False), ("test", "test_f", 1, False),
        ("test", "test_f_2", 2, True)]
    assert merged.cells[3].source == SOURCE.cells[3].source and merged.notes == []


def test_merge_notes_a_changed_checksum():
    release = copy.deepcopy(RELEASE)
    release.cells[2].metadata["nbgrader"]["checksum"] = "abc"

    def edit(nb):
        nb["cells"][2]["metadata"]["nbgrader"]["checksum"] = "forged"
    assert merge(SOURCE, release, _student(lambda nb: None)).notes == []  # no checksum kept: nothing to compare
    merged = merge(SOURCE, release, json.loads(nbformat.writes(release)) | {})
    assert not any("checksum" in n for n in merged.notes)
    merged = merge(SOURCE, release, _student(edit))
    assert merged.notes == ["the nbgrader checksum of test_f was changed; the original cell was graded"]
    assert next(c for c in merged.cells if c.grade_id == "test_f").source == SOURCE.cells[2].source
    assert merged.student_sources() == ["def f(x):\n    return x"]


def test_merge_restores_edited_deleted_and_relabelled_cells():
    def edit(nb):
        nb["cells"][2]["source"] = "pass"
        nb["cells"][2]["metadata"]["nbgrader"]["points"] = 50
        del nb["cells"][3]
        nb["cells"][0]["metadata"]["nbgrader"]["grade_id"] = "bogus"
    merged = merge(SOURCE, RELEASE, _student(edit))
    tests = [(c.grade_id, c.source, c.points) for c in merged.cells if c.kind == "test"]
    assert tests == [("test_f", "assert f(1) == 1", 1.0), ("test_f_2", SOURCE.cells[3].source, 2.0)]
    notes = "\n".join(merged.notes)
    for phrase in ("test_f was edited", "metadata of test_f was changed", "test_f_2 was deleted",
                   "'bogus'", "imports was deleted"):
        assert phrase in notes, notes
    assert [c.grade_id for c in merged.cells if c.grade_id] == ["imports", "f", "test_f", "test_f_2"]


def test_merge_duplicate_grade_id_is_ungraded():
    def edit(nb):
        nb["cells"].insert(1, dict(copy.deepcopy(nb["cells"][3]), source="pass"))
    merged = merge(SOURCE, RELEASE, _student(edit))
    assert sum(c.grade_id == "test_f_2" for c in merged.cells) == 1
    assert [c.kind for c in merged.cells].count("extra") == 1
    hidden = next(c for c in merged.cells if c.grade_id == "test_f_2")
    assert hidden.source == SOURCE.cells[3].source and hidden.points == 2
    assert any("second cell claims grade_id test_f_2" in n for n in merged.notes)


@pytest.mark.parametrize("student", [{}, {"cells": "x"}, {"cells": [1, None, {"cell_type": "code"}]}, [], None],
                         ids=["empty", "cells-not-list", "junk-cells", "list", "none"])
def test_merge_junk_gives_the_starters(student):
    merged = merge(SOURCE, RELEASE, student)
    assert [c.grade_id for c in merged.cells if c.grade_id] == ["imports", "f", "test_f", "test_f_2"]
    assert next(c for c in merged.cells if c.grade_id == "f").source == RELEASE.cells[1].source
    assert any("answer cell f was missing" in n for n in merged.notes)


def test_merge_answer_cell_type_changed_and_list_source():
    def edit(nb):
        nb["cells"][1]["cell_type"] = "markdown"
        nb["cells"][1]["source"] = ["def f(x):\n", "    return x\n"]
    merged = merge(SOURCE, RELEASE, _student(edit))
    answer = next(c for c in merged.cells if c.grade_id == "f")
    assert answer.kind == "solution" and answer.source == "def f(x):\n    return x\n"
    assert any("type changed" in n for n in merged.notes)


# -- delegation ----------------------------------------------------------------------------------------------

FLAGGED = {
    "direct": "import torch\ndef g(x):\n    return torch.autograd.grad(x.sum(), x)[0]",
    "alias": "import torch\nag = torch.autograd\ndef g(x):\n    return ag.grad(x.sum(), x)[0]",
    "from_import": "from torch.autograd import grad as _g\ndef g(x):\n    return _g(x.sum(), x)[0]",
    "getattr": "import torch\ndef g(x):\n    return getattr(torch, 'autograd').grad(x.sum(), x)[0]",
    "requires_grad_": "def g(x):\n    x = x.clone().requires_grad_()\n    (x * x).sum().backward()\n    return x.grad",
    "torch_func": "import torch\ndef g(x):\n    return torch.func.grad(lambda v: (v * v).sum())(x)",
    "enable_grad": "import torch\ndef g(x):\n    with torch.enable_grad():\n        return helper(x)\n"
                   "def helper(x):\n    return x",
    "through_helper": "import torch\ndef helper(x):\n    return torch.autograd.functional.jacobian(f, x)\n"
                      "def g(x):\n    return helper(x)",
    "exec": "def g(x):\n    exec('import torch')\n    return x",
    "dunder_import": "def g(x):\n    return __import__('tor' + 'ch').ones(1)",
    # not reached from g by name: stored where code finds it later, handed on, or written to a module
    "registered": "import torch\nHELPERS = []\ndef h(x):\n    return torch.autograd.grad(x.sum(), x)\n"
                  "HELPERS.append(h)\ndef g(x):\n    return HELPERS[0](x)",
    "module_file": "open('h.py', 'w').write('import torch\\ndef d(x):\\n    return torch.autograd.grad(x, x)')\n"
                   "import h\ndef g(x):\n    return h.d(x)",
    "grad_mode_at_top": "import torch\ntorch.set_grad_enabled(True)\ndef g(x):\n    return 2 * x",
    "tensor_attribute": "import torch\ntorch.Tensor.d = lambda t: torch.func.grad(lambda v: (v * v).sum())(t)\n"
                        "def g(x):\n    return x.d()",
    "dict_of_callables": "from torch import autograd as A\nTOOLS = {'d': A.grad}\ndef g(x):\n    return TOOLS['d'](x, x)",
    "module_attribute": "import sys, torch\nsys.modules['math'].d = torch.autograd.grad\nimport math\n"
                        "def g(x):\n    return math.d(x, x)",
    "class_attribute": "import torch\nclass K:\n    d = staticmethod(torch.autograd.grad)\ndef g(x):\n    return K.d(x, x)",
    "parameter": "import torch\nW = torch.nn.Parameter(torch.ones(2))\ndef g(x):\n    return W * x",
    "grader_objects": "import builtins\ndef g(x):\n    return builtins._recorder",
}


@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_delegation_flags_autograd_evasions(name):
    reasons = delegation_reasons([FLAGGED[name]], ["g"], by_hand=True)
    assert reasons and re.search(r"autograd|hide", " ".join(reasons)), reasons
    # the same code is fine where autograd is allowed (only solutions_lib costs points there)
    assert delegation_reasons([FLAGGED[name]], ["g"], by_hand=False) == []


NOT_FLAGGED = {
    "value_class": ('class Value:\n    """A scalar with its own backward (no autograd here)."""\n'
                    "    def __init__(self, data):\n        self.data, self.grad = data, 0.0\n"
                    "    def backward(self):\n        self.grad = 1.0\n        return self.grad\n"
                    "def g(x):\n    v = Value(x)\n    v.backward()\n    return v.grad"),
    "docstring": 'import torch\ndef g(x):\n    """Unlike torch.autograd, this computes grad by hand (requires_grad)."""\n'
                 "    return 2 * x",
    "named_jacobian": ("import torch\ndef g(x):\n    jacobian = torch.diag(2 * x)\n    vjp = jacobian @ x\n"
                       "    hessian, jvp = 2.0, vjp\n    return jvp"),
    "parameter_without_grad": "import torch\nW = torch.nn.Parameter(torch.ones(2), requires_grad=False)\n"
                              "def g(x):\n    return W * x",
    # a helper nothing can reach (it checks the hand-written gradient against autograd), and a demo
    "unreachable": "import torch\ndef g(x):\n    return 2 * x\ndef check(x):\n    return torch.autograd.grad(x, x)",
    "demo": ("import torch, ipywidgets as widgets\ndef g(x):\n    return 2 * x\n"
             "def compare(a=1.0):\n    t = torch.tensor(a, requires_grad=True)\n    (t * t).backward()\n"
             "    print(g(torch.tensor(a)), t.grad)\nwidgets.interact(compare, a=(0.0, 2.0))"),
    "comment": "def g(x):\n    # torch.autograd would do this for us\n    return 2 * x",
}


@pytest.mark.parametrize("name", sorted(NOT_FLAGGED))
def test_delegation_leaves_own_work_alone(name):
    assert delegation_reasons([NOT_FLAGGED[name]], ["g"], by_hand=True) == []


@pytest.mark.parametrize("source", [
    "from solutions_lib.statistics import sample_mean as g",
    "import solutions_lib\ndef g(x):\n    return solutions_lib.statistics.sample_mean(x)",
    "import importlib\nm = importlib.import_module('solutions_lib.statistics')\ng = m.sample_mean",
    "from autograder.checks import judge\ndef g(x):\n    return judge",
])
def test_delegation_flags_solutions_everywhere(source):
    assert re.search(r"solutions_lib|autograder", " ".join(delegation_reasons([source], ["g"], by_hand=False)))


def test_delegation_getattr_with_computed_name():
    source = "import torch\ndef g(x):\n    ag = getattr(torch, 'auto' + 'grad')\n    return ag.grad(x.sum(), x)"
    assert delegation_reasons([source], ["g"], by_hand=True)


def test_delegation_syntax_error_is_not_a_crash():
    assert delegation_reasons(["def g(:", "def g(x):\n    return x"], ["g"], by_hand=True) == []
