"""Checks with helpful messages, for the visible test cells of every chapter.

A visible test cell calls a student's function on a small input and hands the result to
:func:`expect_close` (or one of its siblings). When the result is wrong the cell fails with an
``AssertionError`` whose message says exactly what is off::

    >>> import torch
    >>> from course.checks import expect_close
    >>> expect_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]), what="softmax(x)",
    ...              hint="Did you subtract the maximum first?")
    Traceback (most recent call last):
    ...
    AssertionError: softmax(x) is wrong: 1 of 2 entries differ (max abs error 0.5, max rel error 0.2).
      first bad index (1,): expected 2.5, got 2
      hint: Did you subtract the maximum first?

The same comparison (:func:`diagnose_close`) decides the hidden tests, so a correct answer written
differently (loops, float32 where allowed, another equivalent formula) passes both: tolerances come
from the precision of the expected value, not from the reference's rounding nor the answer's dtype.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
import sys
from typing import Any

import numpy as np

__all__ = [
    "as_array",
    "tolerance",
    "diagnose_close",
    "diagnose_contract",
    "plain",
    "expect_close",
    "expect_true",
    "expect_shape",
    "expect_raises",
    "CheckFailed",
]

# (rtol, atol) by the precision of the expected value.
_TOLERANCES = {
    np.dtype(np.float16): (1e-2, 1e-3),
    np.dtype(np.float32): (1e-4, 1e-6),
    np.dtype(np.float64): (1e-7, 1e-10),
}


class CheckFailed(AssertionError):
    """A visible test that failed. In Jupyter it shows its diagnosis alone, not a traceback into this module
    (IPython prints what ``_render_traceback_`` returns); elsewhere it is a plain ``AssertionError``."""

    def _render_traceback_(self) -> list[str]:
        first, *rest = str(self).splitlines() or [""]
        return [f"\x1b[1;31m✗ test failed:\x1b[0m {first}", *rest]


# A visible test cell passes silently unless someone says so: after a cell that ran checks, all of which
# passed, IPython's post_run_cell event prints one line.
_cell_checks: list[str] = []
_hooked_shells: set[int] = set()


def _count_check(what: str) -> None:
    """Note a check of the running cell; hook the cell's end into IPython the first time (if any)."""
    try:
        shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    except Exception:
        shell = None
    if shell is None:
        return
    if id(shell) not in _hooked_shells:  # first check in this shell: the cell began before the hook
        _hooked_shells.add(id(shell))
        shell.events.register("pre_run_cell", _start_cell)
        shell.events.register("post_run_cell", _report_cell)
        _cell_checks.clear()
    _cell_checks.append(what)


def _start_cell(*_: Any) -> None:
    _cell_checks.clear()


def _report_cell(result: Any = None) -> None:
    if _cell_checks and getattr(result, "success", False):
        n = len(_cell_checks)
        print(f"✓ test passed ({n} check{'s' * (n != 1)}); when graded, hidden tests try more cases.")
    _cell_checks.clear()


def _raise(message: str, hint: str | None = None) -> None:
    raise CheckFailed(message + (f"\n  hint: {hint}" if hint else ""))


def as_array(value: Any) -> np.ndarray:
    """Turn a tensor, array, number or nested list into a numpy array (on the CPU, detached)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def tolerance(*values: np.ndarray) -> tuple[float, float]:
    """(rtol, atol) that fit the least precise floating dtype among ``values`` (float64 if none).

    Comparisons pass only the expected value here: an answer's own (lower) precision never buys it a
    looser tolerance.
    """
    worst = (0.0, 0.0)
    for value in values:
        dtype = {np.dtype(np.complex64): np.dtype(np.float32),
                 np.dtype(np.complex128): np.dtype(np.float64)}.get(value.dtype, value.dtype)
        tol = _TOLERANCES.get(dtype, _TOLERANCES[np.dtype(np.float64)])
        worst = (max(worst[0], tol[0]), max(worst[1], tol[1]))
    return worst if worst != (0.0, 0.0) else _TOLERANCES[np.dtype(np.float64)]


def plain(x: Any) -> str:
    """A number as a reader wants it: ``3``, ``True``, ``0.25``, ``1.5e-09`` (never ``np.int64(3)``)."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return _digits(float(x), 6)
    if isinstance(x, (complex, np.complexfloating)):
        return str(complex(x))
    return repr(x)


_fmt = plain  # the older name, kept for code that still uses it


def _digits(x: float, significant: int) -> str:
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return format(x, f".{significant}g")


def _pair(expected: float, got: float) -> tuple[str, str]:
    """``expected`` and ``got`` printed with just enough digits to tell them apart."""
    for significant in range(6, 18):
        e, g = _digits(expected, significant), _digits(got, significant)
        if e != g:
            return e, g
    return repr(float(expected)), repr(float(got))


def _kind(value: Any) -> str:
    """What sort of value the caller gets: a tensor, an array, a number, or something else."""
    if hasattr(value, "detach") and hasattr(value, "dtype") and hasattr(value, "device"):
        return "tensor"
    if isinstance(value, np.ndarray):
        return "number" if value.ndim == 0 else "array"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    return type(value).__name__


_KIND_WORDS = {"tensor": "a tensor", "array": "a numpy array", "number": "a plain number", "bool": "a bool"}


def _dtype_name(value: Any) -> str:
    return str(getattr(value, "dtype", type(value).__name__)).replace("torch.", "")


def diagnose_contract(got: Any, expected: Any, *, what: str = "result", free: Sequence[str] = ()) -> str | None:
    """Check what a statement fixes besides the values: the kind of result, its dtype and its shape.

    ``expected`` is the reference's own output. A tensor must come back as a tensor, a numpy array as an
    array and a number as a plain number (``float``, ``int`` or a numpy scalar, not a 0-d tensor); a
    tensor stays on the expected device; a tensor or array keeps the expected dtype exactly (``int64``
    indices stay ``int64``); shapes match exactly. Tuples, lists and dicts are checked part by part.
    ``free`` names what the statement leaves open: ``"type"`` (tensor, array or number alike),
    ``"dtype"``, ``"shape"``, ``"device"``; an entry ``"type@['step']"`` frees only the parts whose name
    ends in ``['step']``.
    Returns ``None`` when the contract holds, else a message such as
    ``"the output is float64 where float32 is expected (it returns float64 for a float32 input)."``
    """
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return None  # a summary of the output, or the wrong structure: the value comparison says which
        for key in expected:
            if key in got:
                problem = diagnose_contract(got[key], expected[key], what=f"{what}[{key!r}]", free=free)
                if problem:
                    return problem
        return None
    if isinstance(expected, (tuple, list)) and not _is_numeric_list(expected):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return None  # the value comparison says what is wrong with the structure
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = diagnose_contract(g, e, what=f"{what}[{i}]", free=free)
            if problem:
                return problem
        return None
    if got is None or expected is None:
        return None
    free = {f.split("@")[0] for f in free if "@" not in f or what.endswith(f.split("@", 1)[1])}
    want, have = _kind(expected), _kind(got)
    if want not in _KIND_WORDS or have not in _KIND_WORDS:
        return None
    if "type" not in free and want != have and not {want, have} <= {"number", "bool"}:
        return f"{what} should be {_KIND_WORDS[want]}, got {_KIND_WORDS[have]} ({_dtype_name(got)})."
    if "device" not in free and want == have == "tensor" and str(got.device) != str(expected.device):
        return f"{what} is on {got.device} where {expected.device} is expected (keep the input's device)."
    try:
        g, e = as_array(got), as_array(expected)
    except Exception:  # noqa: BLE001  (the value comparison reports it)
        return None
    if "dtype" not in free and want in ("tensor", "array") and have == want:
        if e.dtype.kind == "f" and g.dtype != e.dtype:
            return (f"{what} is {_dtype_name(got)} where {_dtype_name(expected)} is expected "
                    f"(it returns {_dtype_name(got)} for a {_dtype_name(expected)} input).")
        if e.dtype.kind in "iub" and g.dtype != e.dtype:
            return f"{what} is {_dtype_name(got)} where {_dtype_name(expected)} is expected."
    if "dtype" not in free and want == "number" and have == "number":
        if e.dtype.kind in "iu" and g.dtype.kind == "f":
            return f"{what} should be an integer, got the float {plain(got)}."
    if "shape" not in free and want == have and g.shape != e.shape:
        return f"{what} has shape {tuple(g.shape)}, expected {tuple(e.shape)}."
    return None


_fmt = plain  # the visible checks' name for it


def diagnose_close(got: Any, expected: Any, *, what: str = "result",
                   rtol: float | None = None, atol: float | None = None,
                   strict: bool = False, free: Sequence[str] = ()) -> str | None:
    """Compare ``got`` with ``expected``; return ``None`` when they agree, else a diagnosis.

    Tuples, lists and dicts are compared entry by entry. Arrays must match in shape; floats agree when
    ``|got - expected| <= atol + rtol * |expected|`` entry-wise, with NaN and infinities in the same places.
    Integers and booleans must be equal.

    Args:
        got: the value to judge (tensor, array, number, or a tuple/list/dict of them).
        expected: the correct value, same structure.
        what: how to name the value in the message, e.g. ``"softmax(logits)"``.
        rtol, atol: override the tolerances picked from the expected value's dtype (see :func:`tolerance`).
        strict: also check the contract (kind, dtype, shape; see :func:`diagnose_contract`), leaving
            open what ``free`` names.
    """
    if strict:
        problem = diagnose_contract(got, expected, what=what, free=free)
        if problem:
            return problem
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return f"{what} should be a dict with keys {sorted(expected)}, got {type(got).__name__}."
        missing = [k for k in expected if k not in got]
        if missing:
            return f"{what} is missing the keys {missing}."
        for key in expected:
            problem = diagnose_close(got[key], expected[key], what=f"{what}[{key!r}]", rtol=rtol, atol=atol)
            if problem:
                return problem
        return None
    if isinstance(expected, (tuple, list)) and not _is_numeric_list(expected):
        if got is None or not isinstance(got, (tuple, list)):
            return f"{what} should be a tuple of {len(expected)} values, got {type(got).__name__}."
        if len(got) != len(expected):
            return f"{what} should have {len(expected)} parts, got {len(got)}."
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = diagnose_close(g, e, what=f"{what}[{i}]", rtol=rtol, atol=atol)
            if problem:
                return problem
        return None

    if got is None:
        return f"{what} is None: did the function forget to `return` its result?"
    try:
        g = as_array(got)
    except Exception as err:  # an object that is not array-like at all
        return f"{what} should be a number or an array, got {type(got).__name__} ({err})."
    e = as_array(expected)
    if g.dtype == object:
        return f"{what} should be numeric, got an array of Python objects ({type(got).__name__})."
    if g.shape != e.shape:
        if g.size == e.size == 1:
            g, e = g.reshape(()), e.reshape(())
        else:
            return f"{what} has shape {tuple(g.shape)}, expected {tuple(e.shape)}."
    if e.dtype.kind in "biu" and g.dtype.kind in "biu":
        bad = g != e
        if not bad.any():
            return None
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"index {idx}" if idx else "value"
        return (f"{what} is wrong: {int(bad.sum())} of {e.size} entries differ.\n"
                f"  first bad {where}: expected {plain(e[idx])}, got {plain(g[idx])}")
    if g.dtype.kind not in "fcbiu":
        return f"{what} should be numeric, got dtype {g.dtype}."

    if hasattr(expected, "dtype"):  # a tensor, array or numpy scalar: its own precision decides
        default_rtol, default_atol = tolerance(e) if e.dtype.kind in "fc" else tolerance()
    else:  # a Python number or list has no precision of its own: the answer's, never looser than float32's
        default_rtol, default_atol = min(tolerance(g), _TOLERANCES[np.dtype(np.float32)]) \
            if g.dtype.kind in "fc" else tolerance()
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    g64 = g.astype(np.complex128 if g.dtype.kind == "c" or e.dtype.kind == "c" else np.float64)
    e64 = e.astype(g64.dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        both_nan = np.isnan(g64) & np.isnan(e64)
        same_inf = np.isinf(e64) & (g64 == e64)
        err = np.abs(g64 - e64)
        ok = (err <= atol + rtol * np.abs(e64)) | both_nan | same_inf
    if ok.all():
        return None
    bad = ~ok
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    # Errors are measured on the wrong entries where both values are numbers; NaN and infinities are counted.
    measured = bad & np.isfinite(err)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        nonzero = measured & (np.abs(e64) > 0)  # the relative error exists only where the expected value is not 0
        max_rel = float((err[nonzero] / np.abs(e64[nonzero])).max()) if nonzero.any() else None
    errors = ""
    if measured.any():
        errors = f" (max abs error {plain(float(err[measured].max()))}" + (
            f", max rel error {plain(max_rel)})" if max_rel is not None else ")")
    lines = [f"{what} is wrong: {int(bad.sum())} of {e.size} entries differ{errors}."]
    nonfinite = bad & ~np.isfinite(g64)
    if nonfinite.any():
        n_nan = int(np.isnan(g64[nonfinite]).sum())
        n_inf = int(nonfinite.sum()) - n_nan
        kinds = " and ".join(k for k in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} infinite" if n_inf else "") if k)
        lines.append(f"  {kinds} where the answer is a number (an overflow? exp of a large number? 0/0?)")
    where = f"index {idx}" if idx else "value"
    if e64.dtype.kind == "c":
        shown_e, shown_g = str(complex(e64[idx])), str(complex(g64[idx]))
    else:
        shown_e, shown_g = _pair(float(e64[idx]), float(g64[idx]))
    lines.append(f"  first bad {where}: expected {shown_e}, got {shown_g}")
    return "\n".join(lines)


def _is_numeric_list(value: Sequence) -> bool:
    """True for plain nested lists of numbers (compared as one array), False for tuples of results."""
    if isinstance(value, tuple):
        return False
    try:
        return np.asarray(value).dtype.kind in "fcbiu"
    except Exception:
        return False


def expect_close(got: Any, expected: Any, *, what: str = "result", hint: str | None = None,
                 rtol: float | None = None, atol: float | None = None) -> None:
    """Raise ``AssertionError`` with a diagnosis (and ``hint``) unless ``got`` matches ``expected``.

    Example:
        >>> import numpy as np
        >>> expect_close(np.float64(2.5), 2.5, what="variance([1, 2, 3, 4])")
    """
    problem = diagnose_close(got, expected, what=what, rtol=rtol, atol=atol)
    if problem:
        _raise(problem, hint)
    _count_check(what)


def expect_true(condition: Any, message: str, *, hint: str | None = None) -> None:
    """Raise ``AssertionError(message)`` (plus ``hint``) unless ``condition`` is true."""
    if not bool(condition):
        _raise(message, hint)
    _count_check(message)


def expect_shape(got: Any, shape: tuple[int, ...], *, what: str = "result") -> None:
    """Raise ``AssertionError`` unless ``got`` is an array or tensor of the given shape."""
    if got is None:
        _raise(f"{what} is None: did the function forget to `return` its result?")
    actual = tuple(as_array(got).shape)
    if actual != tuple(shape):
        _raise(f"{what} has shape {actual}, expected {tuple(shape)}.")
    _count_check(what)


def expect_raises(exception: type[BaseException], fn, *args, what: str = "the call", **kwargs) -> None:
    """Raise ``AssertionError`` unless ``fn(*args, **kwargs)`` raises ``exception``."""
    try:
        fn(*args, **kwargs)
    except exception:
        _count_check(what)
        return
    except NotImplementedError:
        raise
    except Exception as err:
        raise CheckFailed(f"{what} should raise {exception.__name__}, but raised "
                          f"{type(err).__name__}: {err}") from None
    _raise(f"{what} should raise {exception.__name__}, but returned normally.")
