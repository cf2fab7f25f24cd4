"""Hidden checks: the probes and oracles behind every hidden test cell.

A hidden test cell in a source notebook reads, in full::

    ### BEGIN HIDDEN TESTS
    _result = run_check("softmax", softmax)
    assert _result.passed, _result.message
    ### END HIDDEN TESTS

so the feedback a student sees (the cell, its traceback) shows nothing but the exercise name and the
diagnosis. The cases themselves live here, one module per chapter (``ch01.py``, ``ch03.py``, ...), each
registering its checks with :func:`check`::

    @check("softmax", reference=solutions_lib.linear.softmax, hint="Subtract the row maximum first.")
    def _softmax_cases():
        yield Case("float64, logits near 1000", (1000 + torch.randn(4, 5, dtype=torch.float64),))

Each case is run on a fresh copy of its inputs; the student's output is compared with the oracle's
(``reference(*args)``) or with the case's own ``expected`` value by ``compare`` (default:
:func:`course.checks.diagnose_close`). A check fails if the function raises, returns the wrong
thing, or changes its inputs in place.
"""
from __future__ import annotations

import copy
import importlib
import pkgutil
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from course.checks import as_array, diagnose_close

__all__ = ["Case", "Check", "CheckResult", "check", "run_check", "registry"]

_UNSET = object()


@dataclass(frozen=True)
class Case:
    """One probe: a label for messages, the arguments, and optionally the expected output."""

    label: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    expected: Any = _UNSET


Compare = Callable[[Any, Any, Case], "str | None"]


def close(rtol: float | None = None, atol: float | None = None) -> Compare:
    """A ``compare`` that accepts outputs within tolerance of the expected value."""

    def compare(got: Any, expected: Any, case: Case) -> str | None:
        return diagnose_close(got, expected, what="the output", rtol=rtol, atol=atol)

    return compare


@dataclass
class Check:
    """The hidden test of one exercise."""

    name: str
    cases: Callable[[], Iterable[Case]]
    reference: Callable | None = None
    compare: Compare = field(default_factory=close)
    hint: str = ""
    allow_inplace: bool = False


@dataclass
class CheckResult:
    """What :func:`run_check` found: ``passed`` and a message for the student."""

    name: str
    passed: bool
    n_cases: int
    failures: list[str]

    @property
    def message(self) -> str:
        if self.passed:
            return f"{self.name}: all {self.n_cases} hidden cases pass."
        shown = "\n".join(self.failures[:3])
        more = f"\n  ... and {len(self.failures) - 3} more failing cases" if len(self.failures) > 3 else ""
        return f"{self.name} fails {len(self.failures)} of {self.n_cases} hidden cases:\n{shown}{more}"

    def __bool__(self) -> bool:
        return self.passed


_REGISTRY: dict[str, Check] = {}


def check(name: str, *, reference: Callable | None = None, compare: Compare | None = None,
          hint: str = "", allow_inplace: bool = False) -> Callable:
    """Register the decorated case generator as the hidden check for exercise ``name``."""

    def register(cases: Callable[[], Iterable[Case]]) -> Callable[[], Iterable[Case]]:
        if name in _REGISTRY:
            raise ValueError(f"a hidden check named {name!r} is registered twice")
        _REGISTRY[name] = Check(name, cases, reference, compare or close(), hint, allow_inplace)
        return cases

    return register


def registry() -> dict[str, Check]:
    """All hidden checks, by exercise name (imports every chapter module once)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return _REGISTRY


def _same(a: Any, b: Any) -> bool:
    """Whether an argument still equals its saved copy (to catch in-place changes)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if hasattr(a, "shape") and hasattr(b, "shape"):
        x, y = as_array(a), as_array(b)
        if x.dtype.kind in "fc":
            return x.shape == y.shape and bool(np.array_equal(x, y, equal_nan=True))
        return bool(np.array_equal(x, y))
    return True


def _expected(chk: Check, case: Case) -> Any:
    if case.expected is not _UNSET:
        return case.expected
    if chk.reference is None:
        raise ValueError(f"check {chk.name!r}: case {case.label!r} has no expected value and no reference")
    return chk.reference(*copy.deepcopy(case.args), **copy.deepcopy(dict(case.kwargs)))


def run_check(name: str, fn: Callable) -> CheckResult:
    """Run the hidden check ``name`` against ``fn``; never raises for a wrong ``fn``."""
    chk = registry().get(name)
    if chk is None:
        raise KeyError(f"no hidden check named {name!r}")
    failures: list[str] = []
    cases = list(chk.cases())
    for case in cases:
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(dict(case.kwargs))
        saved = copy.deepcopy(args)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = fn(*args, **kwargs)
        except NotImplementedError:
            return CheckResult(name, False, len(cases), [f"  [{case.label}] not implemented yet."])
        except Exception as err:
            failures.append(f"  [{case.label}] raised {type(err).__name__}: {str(err)[:300]}")
            continue
        problem = chk.compare(got, _expected(chk, case), case)
        if problem is None and not chk.allow_inplace and not _same(args, saved):
            problem = "it changed its input arguments in place; work on copies instead."
        if problem:
            failures.append(f"  [{case.label}] " + problem.replace("\n", "\n  "))
    if failures and chk.hint:
        failures[0] += f"\n  hint: {chk.hint}"
    return CheckResult(name, not failures, len(cases), failures)
