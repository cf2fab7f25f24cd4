"""The hardened grader: each submission merged, run in a sandboxed kernel, and judged outside it.

    chapter = Chapter.load(course_root, "03-linear-models-and-softmax")
    result, notebook = grade_submission(path, "alice", chapter, Limits(), walls)

For a whole class, :func:`grade_class` runs :func:`grade_submission` in parallel worker processes (one
kernel each) and writes the result files and the gradebook from the calling process alone.

How a test cell earns its points:

* a hidden test cell: the cell finished in the kernel, and every ``run_check`` in it passes when the
  grader judges the recorded outputs in its own process (:func:`autograder.checks.judge`), and the
  exercise is the student's own work (:mod:`autograder.delegation`);
* a visible test cell: the cell finished in the kernel with nothing on stderr (as in nbgrader), and the
  exercise's hidden checks pass. Code in the kernel can make its own asserts pass; it cannot make the
  grader's comparison pass, so the visible points lean on the hidden ones.
"""
from __future__ import annotations

import concurrent.futures as futures
from concurrent.futures.process import BrokenProcessPool
import hashlib
import importlib.util
import json
import multiprocessing
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import nbformat
from nbformat import NotebookNode

from . import checks as checks_module
from .delegation import delegated_checks, graded_names
from .inprocess import IGNORED_STDERR
from .intake import Submission, check_notebook
from .merge import Merged, merge
from .notebooks import exercise_of, grade_cells, has_hidden_tests, nbgrader_meta, read_notebook
from .paths import release_notebook, source_notebook
from .records.results import RESULT_VERSION, CellResult, SubmissionResult
from .sandbox.supervisor import KernelRun, Limits, WallsMissing, run_kernel
from .sandbox.uid_wall import UidWall
from .sandbox.walls import INSTALL_HINT, walls_status

__all__ = ["Chapter", "Walls", "grade_submission", "grade_class", "ENGINE_VERSION"]

ENGINE_VERSION = f"sandbox-{RESULT_VERSION}.1"


@dataclass
class Walls:
    """What the kernels must not reach: the paths the audit hook refuses (none of them is mounted inside the
    operating system's walls either), and the course root, masked wherever a mounted folder holds it."""

    hidden: list[str] = field(default_factory=list)
    course_root: str = ""
    run_as: UidWall | None = None  # instead of bubblewrap: the kernel's own uid (:mod:`.sandbox.uid_wall`)

    @classmethod
    def for_course(cls, course_root: Path, class_dir: Path, extra: Iterable[Path] = ()) -> "Walls":
        paths = {Path(course_root) / name for name in ("source_notebooks", "tests", ".git", "benchmarks")}
        paths |= {Path(class_dir), *map(Path, extra)}
        for package in ("solutions_lib", "autograder"):
            spec = importlib.util.find_spec(package)
            paths |= {Path(p) for p in (spec.submodule_search_locations or [])} if spec else set()
        return cls(sorted(str(p.resolve()) for p in paths), str(Path(course_root).resolve()))

    @classmethod
    def for_submissions(cls, course_root: Path, class_dir: Path, submissions: Iterable[Submission]) -> "Walls":
        """The walls of a class's grading run: the course's, and every folder the submissions came from."""
        return cls.for_course(course_root, class_dir, [s.source.parent for s in submissions if s.source])


@dataclass
class Chapter:
    """What grading one chapter needs, prepared once per process: notebooks, checks, drawn cases."""

    id: str
    source: NotebookNode
    release: NotebookNode
    checks: dict[str, checks_module.Check]
    cases: dict[str, list[checks_module.Case]]
    blob: bytes
    fingerprint: str

    @classmethod
    def load(cls, course_root: Path, chapter_id: str) -> "Chapter":
        source_path, release_path = source_notebook(course_root, chapter_id), release_notebook(course_root, chapter_id)
        source, release = read_notebook(source_path), read_notebook(release_path)
        registry = checks_module.registry()
        names = sorted({name for cell in grade_cells(source) for name in graded_names(cell.source)})
        unknown = [n for n in names if n not in registry]
        if unknown:
            raise KeyError(f"{chapter_id}: hidden tests name unknown checks {unknown}")
        drawn = {name: list(registry[name].cases()) for name in names}
        fixed = [checks_module._Fixed(registry[name], drawn[name]) for name in names]
        blob = checks_module.pack_cases(fixed)
        fingerprint = hashlib.sha256(source_path.read_bytes() + release_path.read_bytes()
                                     + ENGINE_VERSION.encode()).hexdigest()
        return cls(chapter_id, source, release, {n: registry[n] for n in names}, drawn, blob, fingerprint)


_LOADED: dict[tuple[str, str], Chapter] = {}


def _chapter(course_root: str, chapter_id: str) -> Chapter:
    key = (course_root, chapter_id)
    if key not in _LOADED:
        _LOADED[key] = Chapter.load(Path(course_root), chapter_id)
    return _LOADED[key]


def submission_digest(path: Path | None, chapter: Chapter, limits: Limits) -> str:
    data = path.read_bytes() if path is not None and path.is_file() else b""
    return hashlib.sha256(data + chapter.fingerprint.encode() + json.dumps(asdict(limits)).encode()).hexdigest()


# -- one submission ----------------------------------------------------------------------------------------

def _zero(chapter: Chapter, student: str, digest: str, problem: str) -> SubmissionResult:
    cells = [CellResult(nbgrader_meta(c)["grade_id"], exercise_of(nbgrader_meta(c)["grade_id"]), 0.0,
                        float(nbgrader_meta(c).get("points", 0) or 0), has_hidden_tests(c.source),
                        "not run", problem)
             for c in grade_cells(chapter.source)]
    return SubmissionResult(student, chapter.id, digest, cells, problem=problem)


def _last_line(error: str) -> str:
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else "an error"


def score_cells(merged: Merged, run: KernelRun, chapter: Chapter,
                flagged: dict[str, list[str]] | None = None) -> list[CellResult]:
    """The points of every graded test cell, from what the kernel reported and the grader's own judging.

    Exercises that lose their points as not the student's own work are added to ``flagged`` with the
    evidence (for the instructor's review).
    """
    sources = merged.student_sources()
    verdicts: dict[str, list[tuple[bool, str]]] = {}  # exercise -> [(passed, message)] of its hidden checks
    hidden_results: dict[int, tuple[bool, str]] = {}
    for index, cell in merged.code_cells():
        if cell.kind != "test" or not cell.hidden:
            continue
        ok, messages = True, []
        delegated = delegated_checks(cell.source, sources, chapter.checks, merged.own_sources())
        for name, evidence in run.autograd.get(index, {}).items():
            if name in chapter.checks and chapter.checks[name].by_hand:
                delegated.setdefault(name, []).append("used autograd while its hidden cases ran ("
                                                      + "; ".join(evidence[:5]) + ")")
        for name in graded_names(cell.source):
            if name in delegated:
                ok = False
                messages.append(f"{name}: no points: the answer " + "; ".join(delegated[name]) + ".")
                if flagged is not None:
                    flagged.setdefault(cell.exercise or name, [])
                    flagged[cell.exercise or name] += [r for r in delegated[name]
                                                       if r not in flagged[cell.exercise or name]]
                continue
            result = checks_module.judge(chapter.checks[name], chapter.cases[name],
                                         run.records.get(index, {}).get(name))
            ok &= result.passed
            if not result.passed:
                messages.append(result.message)
        hidden_results[index] = (ok, "\n".join(messages))
        verdicts.setdefault(cell.exercise, []).append((ok, "\n".join(messages)))
    out = []
    for index, cell in merged.code_cells():
        if cell.kind != "test":
            continue
        ran = run.cells.get(index)
        status = ran.status if ran else "not run"
        if status == "ok" and ran.stderr and not IGNORED_STDERR.search(ran.stderr):
            status = "stderr"
        message = ""
        if cell.hidden:
            passed, message = hidden_results[index]
            if status != "ok":
                passed = False
                message = {"not run": "the hidden tests did not run (the kernel had stopped).",
                           "stderr": "the hidden tests wrote to stderr: " + ran.stderr[:300]}.get(
                    status, f"the hidden tests did not finish: {_last_line(ran.error if ran else '')}") + \
                    (("\n" + message) if message else "")
        else:
            own = verdicts.get(cell.exercise, [])
            passed = status == "ok" and all(ok for ok, _ in own)
            if status == "stderr":
                message = "the cell wrote to stderr: " + ran.stderr[:300]
            elif status != "ok":
                message = (f"{_last_line(ran.error)}\n\n{ran.error[-1500:]}" if ran and ran.error
                           else f"the cell did not run ({status}).")
            elif not passed:
                message = ("this cell passed in the notebook, but its points count only when the exercise's "
                           "hidden tests pass too:\n" + "\n".join(m for ok, m in own if not ok))
        out.append(CellResult(cell.grade_id, cell.exercise or "", cell.points if passed else 0.0, cell.points,
                              cell.hidden, status, message))
    return out


def executed_notebook(merged: Merged, run: KernelRun, chapter: Chapter) -> NotebookNode:
    """The merged notebook with each cell's captured output (hidden cells: none; the report shows the verdict)."""
    nb = merged.to_notebook(chapter.source)
    for (index, cell), nb_cell in zip(enumerate(merged.cells), nb.cells):
        ran = run.cells.get(index)
        if cell.kind == "markdown" or ran is None or cell.hidden:
            continue
        for name in ("stdout", "stderr"):
            text = getattr(ran, name)
            if text:
                nb_cell.outputs.append(nbformat.v4.new_output("stream", name=name, text=text))
        if ran.status in ("error", "timeout") and ran.error:
            nb_cell.outputs.append(nbformat.v4.new_output("error", ename=ran.status, evalue=_last_line(ran.error),
                                                          traceback=ran.error.splitlines()))
    return nb


def grade_submission(path: Path | None, student: str, chapter: Chapter, limits: Limits, walls: Walls,
                     problem: str | None = None, digest: str = "") -> tuple[SubmissionResult, NotebookNode | None]:
    """Grade one student's notebook file of ``chapter``; never raises for anything in the file."""
    started = time.monotonic()
    problem = problem or (check_notebook(path) if path is not None else "no notebook was submitted")
    if problem is None:
        try:
            student_nb = json.loads(path.read_bytes())
        except (OSError, ValueError) as err:
            problem = f"the notebook could not be read: {err}"
    if problem is not None:
        result = _zero(chapter, student, digest, problem)
        result.seconds = round(time.monotonic() - started, 3)
        return result, None
    merged = merge(chapter.source, chapter.release, student_nb)
    cells = [{"i": i, "source": c.source, "checks": sorted(graded_names(c.source)) if c.hidden else []}
             for i, c in merged.code_cells()]
    run = run_kernel(cells, chapter.blob, limits, walls.hidden,
                     course_root=Path(walls.course_root) if walls.course_root else None, run_as=walls.run_as)
    flagged: dict[str, list[str]] = {}
    result = SubmissionResult(student, chapter.id, digest, score_cells(merged, run, chapter, flagged),
                              notes=merged.notes + run.notes, flagged=flagged)
    result.outputs = {c.grade_id: (run.cells[i].stdout + run.cells[i].stderr)[:limits.output_chars]
                      for i, c in merged.code_cells() if c.kind == "test" and not c.hidden and i in run.cells}
    result.seconds = round(time.monotonic() - started, 3)
    return result, executed_notebook(merged, run, chapter)


def grader_error(chapter: Chapter, student: str, digest: str, err: BaseException | str) -> SubmissionResult:
    """The result of a submission the grader failed on: 0 points, said plainly, for that student alone."""
    what = err if isinstance(err, str) else f"{type(err).__name__}: {str(err)[:300]}"
    result = _zero(chapter, student, digest, f"grader error (the grader failed on this notebook; an instructor "
                                              f"should look at it): {what}")
    result.grader_error = True
    return result


def _worker(course_root: str, chapter_id: str, path: str | None, student: str, problem: str | None,
            limits: dict, hidden: list[str], digest: str) -> tuple[str, str | None]:
    """Runs in a worker process: grade one submission, return (result JSON, executed notebook JSON).

    Whatever goes wrong while grading one submission ends as a "grader error" result for that student alone.
    """
    chapter = _chapter(course_root, chapter_id)
    try:
        result, nb = grade_submission(Path(path) if path else None, student, chapter, Limits(**limits),
                                      Walls(hidden, course_root), problem, digest)
        return result.to_json(), (nbformat.writes(nb) if nb is not None else None)
    except WallsMissing:
        raise
    except Exception as err:  # noqa: BLE001
        return grader_error(chapter, student, digest, err).to_json(), None


# -- a class -----------------------------------------------------------------------------------------------

@dataclass
class ClassRun:
    results: list[SubmissionResult]
    graded: int  # how many were graded now (the rest were re-used from an earlier run)
    backup: Path | None


def grade_class(course_root: Path, class_dir: Path, chapter_id: str, submissions: list[Submission],
                limits: Limits = Limits(), workers: int = 2, force: bool = False,
                on_result: Callable[[SubmissionResult, NotebookNode | None], None] | None = None,
                progress: Callable[[SubmissionResult], None] | None = None,
                executor: futures.Executor | None = None) -> ClassRun:
    """Grade ``submissions`` in ``workers`` processes; ``on_result`` (here, in this process) stores each one.

    A submission whose saved result has the same digest is not graded again unless ``force``. With an
    ``executor`` (a Dask cluster's, :mod:`autograder.cluster`), each submission is one task submitted to
    it instead; results still come back here, the only writer.
    """
    from .records import store

    course_root, class_dir = Path(course_root).resolve(), Path(class_dir).resolve()
    if limits.walls and walls_status() is not None:
        raise WallsMissing(f"the operating system's walls cannot be built here: {walls_status()}; {INSTALL_HINT}, "
                           "or grade without them (--no-walls; every report will say so)")
    chapter = _chapter(str(course_root), chapter_id)
    walls = Walls.for_submissions(course_root, class_dir, submissions)
    results, todo = [], []
    for sub in submissions:
        digest = submission_digest(sub.source, chapter, limits)
        saved = None if force else store.load_result(class_dir, chapter_id, sub.student)
        if saved is not None and saved.digest == digest and saved.version == RESULT_VERSION:
            results.append(saved)
            if on_result:
                on_result(saved, None)
            if progress:
                progress(saved)
        else:
            todo.append((sub, digest))
    args = [(str(course_root), chapter_id, str(sub.source) if sub.source else None, sub.student, sub.problem,
             asdict(limits), walls.hidden, digest) for sub, digest in todo]

    def finish(task: tuple, outcome: tuple[str, str | None] | BaseException) -> None:
        if isinstance(outcome, BaseException):
            result, nb = grader_error(chapter, task[3], task[7], outcome), None
        else:
            try:
                result = SubmissionResult.from_dict(json.loads(outcome[0]))
                nb = nbformat.reads(outcome[1], as_version=4) if outcome[1] else None
            except Exception as err:  # noqa: BLE001
                result, nb = grader_error(chapter, task[3], task[7], err), None
        results.append(result)
        if on_result:
            on_result(result, nb)
        if progress:
            progress(result)

    if executor is not None:
        task_of = {executor.submit(_worker, *task): task for task in args}
        for future in futures.as_completed(task_of):
            try:
                outcome = future.result()
            except WallsMissing:
                raise
            except Exception as err:  # noqa: BLE001  (a task lost more often than the cluster retries it)
                outcome = err
            finish(task_of[future], outcome)
    elif workers <= 1 or len(args) <= 1:
        for task in args:
            try:
                outcome = _worker(*task)
            except WallsMissing:
                raise
            except Exception as err:  # noqa: BLE001
                outcome = err
            finish(task, outcome)
    else:
        remaining, attempt = args, 0
        context = multiprocessing.get_context("spawn")
        while remaining:  # a worker process that dies takes the pool with it: the unfinished go to a new pool
            attempt, retry = attempt + 1, []
            with futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                task_of = {pool.submit(_worker, *task): task for task in remaining}
                for future in futures.as_completed(task_of):
                    task = task_of[future]
                    try:
                        outcome = future.result()
                    except WallsMissing:
                        raise
                    except BrokenProcessPool as err:
                        if attempt < 3:
                            retry.append(task)
                            continue
                        outcome = err
                    except Exception as err:  # noqa: BLE001
                        outcome = err
                    finish(task, outcome)
            remaining = retry
    order = {s.student: i for i, s in enumerate(submissions)}
    results.sort(key=lambda r: order.get(r.student, 0))
    return ClassRun(results, len(todo), None)
