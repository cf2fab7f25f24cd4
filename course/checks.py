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
from the precision of the numbers compared, not from the reference's rounding.
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
    "expect_close",
    "expect_true",
    "expect_shape",
    "expect_raises",
    "CheckFailed",
]

# (rtol, atol) by the precision of the less precise of the two values compared.
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
    """(rtol, atol) that fit the least precise floating dtype among ``values`` (float64 if none)."""
    worst = (0.0, 0.0)
    for value in values:
        dtype = {np.dtype(np.complex64): np.dtype(np.float32),
                 np.dtype(np.complex128): np.dtype(np.float64)}.get(value.dtype, value.dtype)
        tol = _TOLERANCES.get(dtype, _TOLERANCES[np.dtype(np.float64)])
        worst = (max(worst[0], tol[0]), max(worst[1], tol[1]))
    return worst if worst != (0.0, 0.0) else _TOLERANCES[np.dtype(np.float64)]


def _fmt(x: Any) -> str:
    """A number as a student would write it: ``1``, ``0.5``, ``nan``, not ``np.int64(1)``."""
    if isinstance(x, np.generic):
        x = x.item()
    return np.format_float_positional(x, precision=6, trim="-") if isinstance(x, float) else repr(x)


def diagnose_close(got: Any, expected: Any, *, what: str = "result",
                   rtol: float | None = None, atol: float | None = None) -> str | None:
    """Compare ``got`` with ``expected``; return ``None`` when they agree, else a diagnosis.

    Tuples, lists and dicts are compared entry by entry. Arrays must match in shape; floats agree when
    ``|got - expected| <= atol + rtol * |expected|`` entry-wise, with NaN and infinities in the same places.
    Integers and booleans must be equal.

    Args:
        got: the value to judge (tensor, array, number, or a tuple/list/dict of them).
        expected: the correct value, same structure.
        what: how to name the value in the message, e.g. ``"softmax(logits)"``.
        rtol, atol: override the tolerances picked from the dtypes (see :func:`tolerance`).
    """
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
        return (f"{what} is wrong: {int(bad.sum())} of {e.size} entries differ.\n"
                f"  first bad index {idx}: expected {_fmt(e[idx])}, got {_fmt(g[idx])}")
    if g.dtype.kind not in "fcbiu":
        return f"{what} should be numeric, got dtype {g.dtype}."

    default_rtol, default_atol = tolerance(*(a for a in (g, e) if a.dtype.kind in "fc"))
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
    # Errors are measured where both values are numbers; NaN and infinities are counted, never measured.
    measured = bad & np.isfinite(err)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = err / np.maximum(np.abs(e64), 1e-300)
    errors = (f" (max abs error {_fmt(float(err[measured].max()))}, max rel error {_fmt(float(rel[measured].max()))})"
              if measured.any() else "")
    lines = [f"{what} is wrong: {int(bad.sum())} of {e.size} entries differ{errors}."]
    nonfinite = bad & ~np.isfinite(g64)
    if nonfinite.any():
        n_nan = int(np.isnan(g64[nonfinite]).sum())
        n_inf = int(nonfinite.sum()) - n_nan
        kinds = " and ".join(k for k in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} infinite" if n_inf else "") if k)
        lines.append(f"  {kinds} where the answer is a number (an overflow? exp of a large number? 0/0?)")
    where = f"index {idx}" if idx else "value"
    lines.append(f"  first bad {where}: expected {_fmt(e64[idx].real if e64.dtype.kind != 'c' else e64[idx])}, "
                 f"got {_fmt(g64[idx].real if g64.dtype.kind != 'c' else g64[idx])}")
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
