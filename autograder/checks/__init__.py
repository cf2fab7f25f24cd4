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
thing, or changes its inputs in place. Before the values, the contract is checked: what comes back
must have the kind (tensor, array, number), dtype, shape and device of the reference's output (or,
without a reference, of the expected value in the dtype of the case's inputs), except what the
check's ``free`` leaves open; the tolerance follows the expected value's dtype, never the answer's.
When values are wrong, the message's hint names the registered mutant whose outputs the answer
reproduces (:mod:`autograder.diagnosis`), or else gives the check's general hint.

A check runs in two halves that never share a process when a class is graded (:mod:`autograder.engine`):

* :func:`probe_case` (in the student's kernel) calls the function on one case and turns what comes out
  (the result, and the arguments after the call) into plain data with :mod:`autograder.sandbox.codec`;
* :func:`judge` (in the grader) rebuilds that plain data and compares it with the reference's output.

A check whose exercise is a class, or whose function needs driving, gives a ``probe(fn, case)`` that
does the driving in the kernel and returns plain data. :func:`run_check` runs both halves here, through
the same pickling and codec, so the notebook, the mutant tests and the sandbox agree exactly.
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import pickle
import pkgutil
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from course.checks import as_array, diagnose_close, diagnose_contract

from ..sandbox import codec

__all__ = ["Case", "Check", "CheckResult", "check", "run_check", "registry", "probe_case", "judge",
           "pack_cases", "unpack_cases"]

_UNSET = object()


@dataclass(frozen=True)
class Case:
    """One probe: a label for messages, the arguments, and optionally the expected output.

    ``spec`` is extra data for a check's own ``probe`` (a seed, a program to replay); unlike ``expected``
    it is sent to the student's kernel, so it must never hold an answer.
    """

    label: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    expected: Any = _UNSET
    spec: Any = None


Compare = Callable[[Any, Any, Case], "str | None"]
Probe = Callable[[Callable, Case], Any]


def close(rtol: float | None = None, atol: float | None = None) -> Compare:
    """A ``compare`` that accepts outputs within tolerance of the expected value.

    The tolerance comes from the expected value's dtype (the reference's output), or from ``rtol`` and
    ``atol`` where the operation's conditioning needs more room; never from the answer's dtype.
    """

    def compare(got: Any, expected: Any, case: Case) -> str | None:
        return diagnose_close(got, expected, what="the output", rtol=rtol, atol=atol)

    return compare


@dataclass
class Check:
    """The hidden test of one exercise.

    ``by_hand`` marks exercises whose point is to write a derivative by hand: code that reaches for
    ``torch.autograd`` (or ``torch.func``) there loses the points (see :mod:`autograder.delegation`).

    The contract: before the values are compared, what came back must be what the reference returns:
    a tensor for a tensor, a numpy array for an array, a plain number for a number, the same floating
    dtype and the same shape, part by part (:func:`course.checks.diagnose_contract`). ``free`` names
    what the exercise's statement leaves open (``"type"``, ``"dtype"``, ``"shape"``); ``contract=False``
    leaves the whole comparison to ``compare``; a check with a ``probe`` compares what the probe records,
    and its ``compare`` checks the contract itself.
    """

    name: str
    cases: Callable[[], Iterable[Case]]
    reference: Callable | None = None
    compare: Compare = field(default_factory=close)
    hint: str = ""
    allow_inplace: bool = False
    probe: Probe | None = None
    by_hand: bool = False
    free: tuple[str, ...] = ()
    contract: bool = True


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
          hint: str = "", allow_inplace: bool = False, probe: Probe | None = None,
          by_hand: bool = False, free: Iterable[str] = (), contract: bool = True) -> Callable:
    """Register the decorated case generator as the hidden check for exercise ``name``."""

    def register(cases: Callable[[], Iterable[Case]]) -> Callable[[], Iterable[Case]]:
        if name in _REGISTRY:
            raise ValueError(f"a hidden check named {name!r} is registered twice")
        _REGISTRY[name] = Check(name, cases, reference, compare or close(), hint, allow_inplace, probe, by_hand,
                                tuple(free), contract)
        return cases

    return register


def _chapter_modules() -> list[str]:
    return [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__)]


def registry() -> dict[str, Check]:
    """All hidden checks, by exercise name (imports every chapter module once)."""
    for module in _chapter_modules():
        importlib.import_module(module)
    return _REGISTRY


# -- the kernel's half ----------------------------------------------------------------------------------

def pack_cases(checks: Iterable[Check]) -> bytes:
    """The probes and cases of ``checks`` as bytes for a kernel: no expected values, no references.

    The chapter modules' helpers are pickled by value (cloudpickle), so the kernel never imports a
    module that can reach ``solutions_lib``.
    """
    import cloudpickle

    for module in _chapter_modules():
        cloudpickle.register_pickle_by_value(importlib.import_module(module))
    payload = {chk.name: (chk.probe, chk.by_hand, [(c.label, c.args, dict(c.kwargs), c.spec) for c in chk.cases()])
               for chk in checks}
    return cloudpickle.dumps(payload)


def unpack_cases(blob: bytes) -> dict[str, tuple[Probe | None, bool, list[Case]]]:
    """The kernel's side of :func:`pack_cases`: ``{name: (probe, by_hand, cases)}``."""
    payload = pickle.loads(blob)
    return {name: (probe, by_hand, [Case(label, args, kwargs, spec=spec) for label, args, kwargs, spec in cases])
            for name, (probe, by_hand, cases) in payload.items()}


def _no_autograd():
    """``torch.no_grad()`` (a by-hand exercise gets no autograd graph to lean on), or nothing without torch."""
    import sys

    torch = sys.modules.get("torch")
    return torch.no_grad() if torch is not None else contextlib.nullcontext()


def probe_case(fn: Callable, case: Case, probe: Probe | None = None, by_hand: bool = False) -> dict:
    """Call ``fn`` on one case (or let ``probe`` drive it) and record what happened as plain data.

    For a ``by_hand`` check the call runs with autograd switched off.
    """
    record: dict[str, Any] = {"label": case.label}
    try:
        with warnings.catch_warnings(), (_no_autograd() if by_hand else contextlib.nullcontext()):
            warnings.simplefilter("ignore")
            got = probe(fn, case) if probe is not None else fn(*case.args, **case.kwargs)
    except NotImplementedError:
        record["status"] = "not implemented"
        return record
    except Exception as err:  # noqa: BLE001  (any failure of the student's code is a failed case)
        record.update(status="raised", error=f"{type(err).__name__}: {str(err)[:300]}")
        return record
    try:
        record.update(status="ok", got=codec.encode(got), args=codec.encode(tuple(case.args)),
                      kwargs=codec.encode(dict(case.kwargs)))
    except codec.TooBig as err:
        record.update(status="raised", error=f"the result is too large to grade ({err})")
    return record


# -- the grader's half ----------------------------------------------------------------------------------

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


def _shared(value: Any) -> bool:
    return bool(getattr(type(value), "_shared_with_check", False))


def _revive(original: Any, after: Any) -> Any:
    """``original`` with its shared-with-the-check parts (a state dict, a generator) as the kernel left them."""
    if _shared(original):
        if isinstance(original, dict):
            return type(original)(after) if isinstance(after, dict) else after
        if hasattr(original, "set_state") and hasattr(after, "get_state"):
            revived = type(original)()
            revived.set_state(after.get_state())
            return revived
        return after
    if isinstance(original, (tuple, list)) and isinstance(after, (tuple, list)) and len(original) == len(after):
        return type(original)(_revive(o, a) for o, a in zip(original, after))
    if isinstance(original, dict) and isinstance(after, dict) and original.keys() == after.keys():
        return {k: _revive(original[k], after[k]) for k in original}
    return original


_REFERENCE_CACHE: dict[tuple[str, int], tuple[Case, Any]] = {}


def _reference_output(chk: Check, case: Case) -> Any:
    """The reference's output on ``case`` (cached per case object), or ``_UNSET`` without a reference."""
    if chk.reference is None:
        return _UNSET
    key = (chk.name, id(case))
    hit = _REFERENCE_CACHE.get(key)
    if hit is None or hit[0] is not case:
        if len(_REFERENCE_CACHE) > 4096:
            _REFERENCE_CACHE.clear()
        hit = _REFERENCE_CACHE[key] = (case, chk.reference(*copy.deepcopy(case.args),
                                                            **copy.deepcopy(dict(case.kwargs))))
    return copy.deepcopy(hit[1])


def _like(value: Any, model: Any) -> Any:
    """``value`` (a case's own expected value) in the kind and dtype of ``model`` (the reference's output),
    so that the tolerance follows the reference's precision and not how the case's author wrote a number."""
    if isinstance(model, Mapping) and isinstance(value, Mapping):
        return {k: _like(v, model[k]) if k in model else v for k, v in value.items()}
    if isinstance(model, (tuple, list)) and isinstance(value, (tuple, list)) and len(model) == len(value):
        return type(value)(_like(v, m) for v, m in zip(value, model))
    if isinstance(value, (tuple, list, Mapping)):
        return value
    try:
        if hasattr(model, "detach") and hasattr(model, "dtype") and not hasattr(value, "detach"):
            import torch

            return torch.as_tensor(np.asarray(value), dtype=model.dtype).reshape(model.shape)
        if isinstance(model, np.ndarray) and not isinstance(value, np.ndarray) and not hasattr(value, "detach"):
            return np.asarray(value, dtype=model.dtype).reshape(model.shape)
    except Exception:  # noqa: BLE001  (a value that does not fit the model is compared as written)
        return value
    return value


def _float_dtypes(value: Any, found: set) -> set:
    if isinstance(value, Mapping):
        for v in value.values():
            _float_dtypes(v, found)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _float_dtypes(v, found)
    elif hasattr(value, "dtype") and hasattr(value, "shape") and getattr(value, "is_floating_point", lambda: False)():
        found.add(value.dtype)
    return found


def _retype(value: Any, dtype: Any) -> Any:
    """``value`` with every floating tensor in it cast to ``dtype``."""
    if isinstance(value, Mapping):
        return {k: _retype(v, dtype) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_retype(v, dtype) for v in value)
    if hasattr(value, "is_floating_point") and value.is_floating_point():
        return value.to(dtype)
    return value


def _expected(chk: Check, case: Case) -> tuple[Any, Any]:
    """(the value to compare with, the value whose kinds, dtypes and shapes fix the contract).

    With a reference, its output fixes the contract, and a case's own expected value is taken in the
    reference's kinds and dtypes. Without one, a case's expected value (often an oracle computed in
    float64) is taken in the dtype of the case's floating tensor inputs when they share one: the statement
    keeps the input's dtype, and the tolerance follows it.
    """
    if case.expected is not _UNSET:
        try:
            reference = _reference_output(chk, case)
        except Exception:  # noqa: BLE001  (a case the reference cannot run: its own expected value decides)
            reference = _UNSET
        expected = case.expected
        if reference is not _UNSET:
            return _like(expected, reference), reference
        dtypes = _float_dtypes((case.args, dict(case.kwargs)), set())
        if len(dtypes) == 1:
            expected = _retype(expected, dtypes.pop())
        return expected, expected
    reference = _reference_output(chk, case)
    if reference is _UNSET:
        raise ValueError(f"check {chk.name!r}: case {case.label!r} has no expected value and no reference")
    return reference, reference


def judge(chk: Check, cases: list[Case], records: list[Any]) -> CheckResult:
    """Compare what a kernel recorded for ``cases`` with the reference, in this process; never raises.

    ``records`` comes from an untrusted kernel: anything missing, extra or malformed fails the case, and
    a record that trips the decoding, reviving or comparing fails the check instead of the grader.
    """
    try:
        return _judge(chk, cases, records)
    except Exception as err:  # noqa: BLE001
        return CheckResult(chk.name, False, len(cases), [f"  the recorded results could not be checked "
                                                         f"({type(err).__name__}: {str(err)[:200]})."])


def _judge(chk: Check, cases: list[Case], records: list[Any]) -> CheckResult:
    failures: list[str] = []
    wrong_values: list[tuple[Case, Any, Case]] = []  # (case, the answer's output, the case as judged)
    passed: list[Case] = []  # the cases the answer got right
    n_contract = 0  # failures of the contract alone (kind, dtype, shape)
    if not isinstance(records, list) or len(records) != len(cases):
        return CheckResult(chk.name, False, len(cases),
                           ["  the kernel did not report every hidden case (it stopped, or its report was altered)."])
    for case, record in zip(cases, records):
        if not isinstance(record, dict) or record.get("label") != case.label:
            failures.append(f"  [{case.label}] no result was recorded.")
            continue
        status = record.get("status")
        if status == "not implemented":
            return CheckResult(chk.name, False, len(cases), [f"  [{case.label}] not implemented yet."])
        if status != "ok":
            failures.append(f"  [{case.label}] raised {str(record.get('error', 'an error'))[:400]}")
            continue
        got = codec.decode(record.get("got"))
        after_args = codec.decode(record.get("args"))
        after_kwargs = codec.decode(record.get("kwargs"))
        args = _revive(tuple(case.args), after_args if isinstance(after_args, tuple) else ())
        kwargs = _revive(dict(case.kwargs), after_kwargs if isinstance(after_kwargs, dict) else {})
        seen = Case(case.label, args, kwargs, case.expected, case.spec)
        problem = None
        try:
            expected, contract = _expected(chk, case)
            if chk.contract and chk.probe is None:
                problem = diagnose_contract(got, contract, what="the output", free=chk.free)
                n_contract += problem is not None
            if problem is None:
                problem = chk.compare(got, expected, seen)
                if problem:
                    wrong_values.append((case, got, seen))
        except Exception as err:  # noqa: BLE001  (a result of the wrong kind can trip a compare)
            problem = f"the result could not be checked ({type(err).__name__}: {str(err)[:200]})"
        if problem is None and not chk.allow_inplace and not (
                _same(after_args, args) and _same(after_kwargs, kwargs)):
            problem = "it changed its input arguments in place; work on copies instead."
        if problem:
            failures.append(f"  [{case.label}] " + problem.replace("\n", "\n  "))
        else:
            passed.append(case)
    if failures and (wrong_values or len(failures) > n_contract):  # not for a wrong dtype or kind alone
        hint = _named_mistake(chk, wrong_values, passed) or chk.hint
        if hint:
            failures[0] += f"\n  hint: {hint}"
    return CheckResult(chk.name, not failures, len(cases), failures)


def _named_mistake(chk: Check, wrong: list[tuple[Case, Any, Case]], passed: list[Case]) -> str | None:
    """The hint of the registered mutant that behaves like the answer (:func:`autograder.diagnosis.named_mistake`)."""
    if not wrong:
        return None
    try:
        from ..diagnosis import named_mistake
    except ImportError:  # a distribution without the mutants: the check's general hint
        return None
    try:
        return named_mistake(chk, wrong, passed)
    except Exception:  # noqa: BLE001  (a diagnosis must never change a verdict)
        return None


# -- both halves here, or the kernel's half alone ----------------------------------------------------------

_recorder: Callable[[str, Callable], CheckResult] | None = None


def run_check(name: str, fn: Callable) -> CheckResult:
    """Run the hidden check ``name`` against ``fn``; never raises for a wrong ``fn``.

    In a sandboxed grading kernel this only records ``fn``'s outputs (the grader judges them); anywhere
    else it probes and judges here, through the same pickling and codec as the sandbox.
    """
    if _recorder is not None:
        return _recorder(name, fn)
    chk = registry().get(name)
    if chk is None:
        raise KeyError(f"no hidden check named {name!r}")
    cases = list(chk.cases())
    probe, by_hand, kernel_cases = unpack_cases(pack_cases([_Fixed(chk, cases)]))[name]
    return judge(chk, cases, probe_all(fn, kernel_cases, probe, by_hand))


def probe_all(fn: Callable, cases: list[Case], probe: Probe | None = None, by_hand: bool = False) -> list[dict]:
    """:func:`probe_case` on every case, stopping at the first "not implemented"."""
    records: list[dict] = []
    for case in cases:
        record = probe_case(fn, case, probe, by_hand)
        records.append(record)
        if record.get("status") == "not implemented":
            records.extend({"label": c.label, "status": "not implemented"} for c in cases[len(records):])
            break
    return records


@dataclass
class _Fixed:
    """A check with its cases already drawn (so packing and judging see the very same cases)."""

    chk: Check
    drawn: list[Case]

    @property
    def name(self) -> str:
        return self.chk.name

    @property
    def probe(self) -> Probe | None:
        return self.chk.probe

    @property
    def by_hand(self) -> bool:
        return self.chk.by_hand

    def cases(self) -> list[Case]:
        return self.drawn
