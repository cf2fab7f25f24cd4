"""Feedback that names the mistake: match a failed answer against the exercise's registered mutants.

When a hidden case fails, :func:`autograder.checks.judge` asks :func:`named_mistake` whether the answer
behaves like one of the exercise's classic wrong answers (:mod:`autograder.mutants`): the same outputs
on the cases it gets wrong, and right exactly where the answer is right. The mutants run here, in the
grader's process, on fresh copies of the same cases (never in the student's kernel); their outputs are
cached per case, so a class costs each mutant one run per case. A match replaces the check's general
hint with the mutant's own::

    [float64 vector of 50] the output is wrong: 1 of 1 entries differ (max abs error 0.0244979, ...).
      first bad value: expected 1.22489, got 1.2004
      hint: your variance divides by n, not n - 1 (Bessel's correction).

A mutant module may give hints in an optional table ``HINTS = {exercise: {label: hint}}``; without one
the hint is built from the mutant's label.
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from .sandbox import codec

__all__ = ["named_mistake", "mutant_hint", "mutant_output"]

_MAX_CASES = 3  # failed cases on which a mutant's output must equal the answer's (it must fail all of them)
_OUTPUTS: dict[tuple[str, str, str], Any] = {}  # (exercise, mutant, case label) -> (output, args after)


@functools.lru_cache(maxsize=None)
def _mutant_module(exercise: str):
    from . import mutants

    for module in mutants.all_modules():
        if exercise in getattr(module, "MUTANTS", {}):
            return module
    return None


@functools.lru_cache(maxsize=4)
def _chapter_namespace(chapter_id: str) -> dict:
    """The chapter's imports and reference answers (mutants may call the chapter's other functions)."""
    from .inprocess import reference_namespace
    from .notebooks import read_notebook
    from .paths import find_course_root, source_notebook

    root = find_course_root(Path(__file__).resolve().parent)
    return reference_namespace(read_notebook(source_notebook(root, chapter_id)))


def mutant_hint(module: Any, exercise: str, label: str) -> str:
    """The hint a student sees when their answer behaves like mutant ``label`` of ``exercise``."""
    hint = getattr(module, "HINTS", {}).get(exercise, {}).get(label)
    if hint:
        return hint
    return f"your answer gives the same results as a classic mistake: it {label}." if _is_verb(label) else \
        f"your answer gives the same results as a classic mistake ({label})."


def _is_verb(label: str) -> bool:
    first = label.split()[0] if label.split() else ""
    return first.endswith("s") and not first.endswith("ss") and first not in ("its", "is", "has")


def mutant_output(chk: Any, case: Any, module: Any, label: str) -> tuple[Any, Any] | None:
    """(output, arguments after the call) of mutant ``label`` on ``case``, as the grader decodes them."""
    from .checks import _Fixed, pack_cases, probe_case, unpack_cases

    key = (chk.name, label, case.label)  # cases are drawn from fixed seeds: a label names one case
    if key in _OUTPUTS:
        return _OUTPUTS[key]
    namespace = dict(_chapter_namespace(module.CHAPTER))
    result = None
    try:
        exec(compile(module.MUTANTS[chk.name][label], f"<mutant {chk.name}: {label}>", "exec"), namespace)
        fn = namespace[chk.name]
        probe, by_hand, (fresh,) = unpack_cases(pack_cases([_Fixed(chk, [case])]))[chk.name]
        record = probe_case(fn, fresh, probe, by_hand)
        if record.get("status") == "ok":
            result = (codec.decode(record["got"]), codec.decode(record["args"]))
    except Exception:  # noqa: BLE001  (a mutant that cannot run explains nothing)
        result = None
    if len(_OUTPUTS) > 8192:
        _OUTPUTS.clear()
    _OUTPUTS[key] = result
    return result


def named_mistake(chk: Any, wrong: list[tuple[Any, Any, Any]], passed: list[Any] = ()) -> str | None:
    """The hint of the first mutant that behaves like the answer on every hidden case, or None.

    ``wrong`` holds ``(case, the answer's output, the case as judged)`` for every case whose values were
    wrong, ``passed`` the cases the answer got right. A mutant behaves like the answer when its output
    equals the answer's (within the tolerance of the mutant's dtype) on each wrong case, and it passes
    exactly the cases the answer passes: a mistake that happens to agree with the answer on one case
    but fails others the answer gets right is not the answer's mistake.
    """
    from .checks import Case, _expected, _revive

    module = _mutant_module(chk.name)
    if module is None or not wrong or chk.name in getattr(module, "JUDGED_ON_A_TARGET", ()):
        # A make-it-work task is not matched against its mutants: that would train every registered mutant
        # again for each failing submission, multiplying the grader's cost on a class by their number. Its
        # message says which target was missed and by how much; the pieces it uses name their own mistakes.
        return None
    for label in module.MUTANTS[chk.name]:
        if _behaves_like(chk, module, label, wrong, passed, Case, _expected, _revive):
            return mutant_hint(module, chk.name, label)
    return None


def _behaves_like(chk, module, label, wrong, passed, Case, _expected, _revive) -> bool:
    def verdict(case):  # (the mutant's output, whether it passes the case), or None when it cannot run
        out = mutant_output(chk, case, module, label)
        if out is None:
            return None
        expected, _ = _expected(chk, case)
        seen = Case(case.label, _revive(tuple(case.args), out[1] if isinstance(out[1], tuple) else ()),
                    case.kwargs, case.expected, case.spec)
        return out[0], chk.compare(copy.deepcopy(out[0]), expected, seen) is None

    for case, got, _ in wrong[:_MAX_CASES]:
        result = verdict(case)
        if result is None or result[1] or not _same_output(got, result[0]):
            return False
    for case, _, _ in wrong[_MAX_CASES:]:
        result = verdict(case)
        if result is None or result[1]:
            return False
    for case in passed:
        result = verdict(case)
        if result is None or not result[1]:
            return False
    return True


def _same_output(a: Any, b: Any) -> bool:
    """Whether two recorded outputs agree: structure, strings and flags exactly, numbers within tolerance."""
    from course.checks import diagnose_close

    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_output(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_output(x, y) for x, y in zip(a, b))
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return a == b
    try:
        return diagnose_close(a, b) is None
    except Exception:  # noqa: BLE001  (objects that are not numbers: equal only if identical)
        return a is b
