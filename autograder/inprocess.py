"""Score one exercise of a chapter in this process, the way nbgrader would, for a given answer.

The mutant tests use this to show that every classic wrong answer loses the exercise's points and
every correct alternative keeps them, without starting a kernel per variant. It applies the course's
one scoring rule, the same as the sandboxed grader (:mod:`autograder.engine`) and the nbgrader path
(:class:`autograder.nbgrader_path.preprocessors.TieVisibleToHidden`): a test cell earns its points when it raises
nothing and prints nothing on stderr (warnings that ``nbgrader_config.py``'s ``IgnorePattern`` drops
excepted); a hidden test cell also loses them when the answer delegates (:mod:`autograder.delegation`);
a visible test cell earns its points only when the exercise's hidden test cells earn theirs too. One real nbgrader run of a partly wrong
submission (``tests/test_roundtrip.py``) keeps this mirror honest.

The namespace a test cell runs in is the notebook's ``imports`` cell plus every solution cell (the
reference answers), with the exercise under test replaced by the candidate source.
"""
from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field

from nbformat import NotebookNode

from .delegation import delegated_checks
from .notebooks import (exercise_of, grade_cells, has_hidden_tests, nbgrader_meta, solution_cells,
                        strip_solution_markers)

__all__ = ["ExerciseScore", "reference_namespace", "score_exercise"]

# Keep in step with c.IgnorePattern.pattern in nbgrader_config.py (tests/test_config.py checks).
IGNORED_STDERR = re.compile(r"(?s)^(?:(?!Traceback).)*Warning")


@dataclass
class ExerciseScore:
    """Points earned by one answer on one exercise's test cells, with the failures' messages."""

    exercise: str
    earned: float
    max_points: float
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return self.earned == self.max_points


def reference_namespace(nb: NotebookNode) -> dict:
    """Run the notebook's ``imports`` cell and every solution cell; return the resulting globals."""
    namespace: dict = {"__name__": "__main__"}
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == "imports":
            exec(compile(cell.source, "<imports>", "exec"), namespace)
    for cell in solution_cells(nb):
        exec(compile(strip_solution_markers(cell.source), f"<{nbgrader_meta(cell)['grade_id']}>", "exec"),
             namespace)
    return namespace


def _delegation(test_source: str, sources: list[str]) -> str | None:
    """Why a hidden test cell loses its points to delegation (as the sandboxed grader rules), or None."""
    if "run_check" not in test_source:
        return None
    from .checks import registry

    delegated = delegated_checks(test_source, sources, registry())
    return "; ".join(f"{name}: " + "; ".join(reasons) for name, reasons in delegated.items()) or None


def score_exercise(nb: NotebookNode, exercise: str, answer_source: str | None = None,
                   namespace: dict | None = None) -> ExerciseScore:
    """Score ``answer_source`` (code that defines the exercise's function) on the exercise's test cells.

    With ``answer_source=None`` the reference answer from the notebook is scored.
    """
    base = reference_namespace(nb) if namespace is None else namespace
    cells = [c for c in grade_cells(nb) if exercise_of(nbgrader_meta(c)["grade_id"]) == exercise]
    if not cells:
        raise KeyError(f"the notebook has no test cells for exercise {exercise!r}")
    env = dict(base)
    if answer_source is not None:
        exec(compile(answer_source, f"<answer {exercise}>", "exec"), env)
    sources = [strip_solution_markers(c.source) for c in solution_cells(nb)] + [answer_source or ""]
    earned, total, failures = 0.0, 0.0, {}
    hidden_failed: list[str] = []
    # hidden test cells first: a visible cell's points count only when they pass (one rule everywhere)
    for cell in sorted(cells, key=lambda c: not has_hidden_tests(c.source)):
        meta = nbgrader_meta(cell)
        points = float(meta.get("points", 0))
        total += points
        problem = _run_test_cell(cell, sources, env)
        if problem is None and not has_hidden_tests(cell.source) and hidden_failed:
            problem = ("this cell passed, but its points count only when the exercise's hidden tests pass too: "
                       + "; ".join(hidden_failed))
        if problem is not None:
            failures[meta["grade_id"]] = problem
            if has_hidden_tests(cell.source):
                hidden_failed.append(meta["grade_id"])
            continue
        earned += points
    return ExerciseScore(exercise, earned, total, failures)


def _run_test_cell(cell: NotebookNode, sources: list[str], env: dict) -> str | None:
    """Why one test cell earns no points on its own (delegation, an error, stderr), or None."""
    meta = nbgrader_meta(cell)
    delegated = _delegation(cell.source, sources)
    if delegated:
        return delegated
    err_stream, out_stream = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err_stream), contextlib.redirect_stdout(out_stream):
            exec(compile(cell.source, f"<{meta['grade_id']}>", "exec"), dict(env))
    except BaseException as err:  # noqa: BLE001  (a test cell failing in any way loses its points)
        return f"{type(err).__name__}: {err}"
    stderr = err_stream.getvalue()
    if stderr and not IGNORED_STDERR.search(stderr):
        return f"wrote to stderr: {stderr[:300]}"
    return None
