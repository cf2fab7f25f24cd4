"""Demo helpers for the notebooks: sliders that pass the value they show, and demos that wait politely.

:func:`interact` is ``ipywidgets.interact`` (7.x on Colab, 8.x elsewhere) with two differences:

* the function receives a slider's value as its readout shows it (``1.5``, not ``1.5000000000000002``;
  a log slider reading ``0.562`` passes ``0.562``), and float sliders made from ``(min, max, step)`` show
  as many decimals as their step;
* when the function needs an exercise that is not done yet (it raises ``NotImplementedError``), the demo
  prints which function to implement instead of a traceback through ipywidgets.

:func:`needs_exercises` does the second for a plain cell::

    with needs_exercises():
        plt.plot(xs, softmax(logits))

Example:
    >>> def show(scale=1.0):
    ...     print(f"scale {scale}")
    >>> interact(show, scale=(0.25, 2.5, 0.25));   # doctest: +SKIP
"""
from __future__ import annotations

import inspect
import math
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Callable, Iterator

__all__ = ["interact", "needs_exercises", "pending_message", "shown_value"]


# The exercises demos found unfinished so far: a later demo that misses a result of theirs says why.
_pending: list[str] = []


def pending_message(err: BaseException) -> str:
    """What a demo says when an exercise it uses still raises ``NotImplementedError``."""
    tb: TracebackType | None = err.__traceback__
    name = None
    while tb is not None:  # the innermost frame is the function that is not written yet
        code = tb.tb_frame.f_code
        name = getattr(code, "co_qualname", code.co_name)
        tb = tb.tb_next
    if name and not name.startswith("<"):
        what = f"`{name}`"
        if what not in _pending:
            _pending.append(what)
    else:
        what = "an exercise above"
    return (f"This demo needs {what}, which is not implemented yet (it raises NotImplementedError). "
            "Write it in its exercise cell, run that cell, then run this one again.")


@contextmanager
def needs_exercises() -> Iterator[None]:
    """Run a demo cell's body; if an unfinished exercise raises ``NotImplementedError``, say which one
    (and if a result of an earlier demo is missing because of one, say that)."""
    try:
        yield
    except NotImplementedError as err:
        print(pending_message(err))
    except NameError as err:
        if not _pending:
            raise
        print(f"This demo uses a result of an earlier demo that could not run ({err}): implement "
              f"{' and '.join(_pending)} first, then run the cells from there again.")


def _decimals(step: float) -> int:
    text = f"{step:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def shown_value(value: Any, readout_format: str | None) -> Any:
    """A float as a slider with this readout format displays it (other values unchanged)."""
    if isinstance(value, float) and readout_format:
        try:
            return float(format(value, readout_format))
        except (ValueError, TypeError):
            return value
    return value


def _snap_to_step(widget: Any) -> None:
    """Put a slider's starting value on its grid of steps, where the browser will show it anyway (a log
    slider starting at 0.5 with steps of 0.25 in the exponent shows 0.562 while the kernel keeps 0.5)."""
    import ipywidgets as widgets

    step = getattr(widget, "step", None)
    if not step:
        return
    if isinstance(widget, widgets.FloatLogSlider) and widget.value > 0:
        exponent = math.log(widget.value, widget.base)
        exponent = widget.min + round((exponent - widget.min) / step) * step
        widget.value = float(widget.base ** min(max(exponent, widget.min), widget.max))
    elif isinstance(widget, (widgets.FloatSlider, widgets.IntSlider)):
        value = widget.min + round((widget.value - widget.min) / step) * step
        widget.value = type(widget.value)(min(max(value, widget.min), widget.max))


def interact(fn: Callable[..., Any], /, **controls: Any) -> Callable[..., Any]:
    """``ipywidgets.interact(fn, **controls)``: the values ``fn`` gets are those the controls show, and an
    unfinished exercise is named instead of raising. Returns ``fn`` (with ``.widget``), like ipywidgets."""
    import ipywidgets as widgets

    params = inspect.signature(fn).parameters
    made: dict[str, Any] = {}
    for name, abbrev in controls.items():
        if (isinstance(abbrev, tuple) and 2 <= len(abbrev) <= 3
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in abbrev)):
            default = params[name].default if name in params else inspect.Parameter.empty
            widget = widgets.interactive.widget_from_abbrev(abbrev, default)
            if isinstance(widget, widgets.FloatSlider) and len(abbrev) == 3:
                widget.readout_format = f".{_decimals(abbrev[2])}f"
            made[name] = widget
        else:
            made[name] = abbrev
        _snap_to_step(made[name])

    def shown(**values: Any) -> Any:
        for name, value in values.items():
            values[name] = shown_value(value, getattr(made.get(name), "readout_format", None))
        with needs_exercises():
            return fn(**values)
        return None

    shown.__signature__ = inspect.signature(fn)  # ipywidgets reads the parameters and their defaults
    shown.__name__ = getattr(fn, "__name__", "demo")
    shown.__doc__ = fn.__doc__
    widget = widgets.interactive(shown, **made)
    from IPython.display import display

    display(widget)
    fn_with_widget = fn
    try:
        fn_with_widget.widget = widget
    except AttributeError:
        pass
    return fn_with_widget
