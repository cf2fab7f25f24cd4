"""course.demos: sliders pass the value they show, and demos name the exercise they still need."""
from __future__ import annotations

import ipywidgets as widgets
import pytest

from course.demos import interact, needs_exercises, pending_message, shown_value


def softmax(x):
    raise NotImplementedError()


def test_pending_message_names_the_unfinished_function(capsys):
    with needs_exercises():
        softmax([1.0])
    out = capsys.readouterr().out
    assert "This demo needs `softmax`" in out and "Traceback" not in out


def test_a_later_demo_missing_an_earlier_result_says_why(capsys):
    with needs_exercises():
        softmax([1.0])
    with needs_exercises():
        undefined_result  # noqa: F821  (what the unfinished demo would have made)
    out = capsys.readouterr().out
    assert "earlier demo" in out and "`softmax`" in out


def test_other_errors_still_raise():
    with pytest.raises(ZeroDivisionError):
        with needs_exercises():
            1 / 0


def test_values_are_passed_as_shown():
    assert shown_value(1.5000000000000002, ".2f") == 1.5
    assert shown_value(0.5623413251903491, ".3g") == 0.562
    assert shown_value(3, "d") == 3 and shown_value("relu", None) == "relu"


def test_interact_passes_readout_values_and_catches_unfinished_exercises(capsys):
    seen = []

    def show(scale=1.0, lr=0.5):
        seen.append((scale, lr))

    shown = interact(show, scale=(0.25, 2.5, 0.25),
                     lr=widgets.FloatLogSlider(value=0.5, base=10, min=-2, max=1.75, step=0.25))
    scale_slider, lr_slider = shown.widget.kwargs_widgets
    assert scale_slider.readout_format == ".2f"
    assert lr_slider.value == pytest.approx(10 ** -0.25), "the starting value sits on the slider's steps"
    scale_slider.value = 0.25 * 6  # 1.5000000000000002 in floating point on the way
    scale_slider.value = 0.1 * 3 / 0.2 + 0.0000000000000002
    assert seen[0] == (1.0, 0.562) and all(s == round(s, 2) for s, _ in seen)

    def needs_softmax(t=1.0):
        softmax([t])

    capsys.readouterr()
    interact(needs_softmax, t=(0.5, 2.0, 0.5))
    assert "This demo needs `softmax`" in capsys.readouterr().out, "named, not an ipywidgets traceback"
    assert pending_message(NotImplementedError()).startswith("This demo needs an exercise above")
