"""The comparison helpers behind visible and hidden tests."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.checks import Case, check, run_check
from course.checks import diagnose_close, expect_close, expect_raises, expect_shape, expect_true, tolerance


def test_agreeing_values_pass_across_types():
    assert diagnose_close(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0])) is None
    assert diagnose_close(2.5, np.float64(2.5)) is None
    assert diagnose_close((torch.tensor(1.0), [1.0, 2.0]), (1.0, np.array([1.0, 2.0]))) is None
    assert diagnose_close({"a": 1.0}, {"a": 1.0}) is None
    assert diagnose_close(np.array([np.nan, np.inf]), np.array([np.nan, np.inf])) is None


def test_wrong_values_get_a_precise_diagnosis():
    message = diagnose_close(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.5, 3.0]), what="f(x)")
    assert "f(x) is wrong: 1 of 3 entries differ" in message
    assert "first bad index (1,): expected 2.5, got 2" in message
    assert "shape (2,), expected (3,)" in diagnose_close(np.zeros(2), np.zeros(3))
    assert "None" in diagnose_close(None, 1.0)
    nan = diagnose_close(np.array([np.nan, 1.0]), np.array([0.5, 1.0]))
    assert "1 NaN where the answer is a number" in nan and "max abs error" not in nan, \
        "a NaN is counted, never reported as an error of 0"
    assert "should be a tuple" in diagnose_close(1.0, (1.0, 2.0))
    assert "entries differ" in diagnose_close(np.array([1, 2]), np.array([1, 3]))


def test_tolerance_follows_the_least_precise_dtype():
    assert tolerance(np.zeros(1, np.float64)) == (1e-7, 1e-10)
    assert tolerance(np.zeros(1, np.float64), np.zeros(1, np.float32)) == (1e-4, 1e-6)
    # a float32 answer to a float64 question passes at float32 precision, and a 1/n slip does not
    exact = np.array([1 / 3, 2 / 3], np.float64)
    assert diagnose_close(exact.astype(np.float32), exact) is None
    assert diagnose_close(exact * (1 - 1e-3), exact) is not None


def test_expect_helpers_raise_assertion_errors_with_hints():
    with pytest.raises(AssertionError, match="hint: divide by n-1"):
        expect_close(1.0, 2.0, hint="divide by n-1")
    with pytest.raises(AssertionError, match="shape"):
        expect_shape(np.zeros((2, 3)), (3, 2))
    with pytest.raises(AssertionError, match="boom"):
        expect_true(False, "boom")
    expect_raises(ValueError, int, "x")
    with pytest.raises(AssertionError, match="returned normally"):
        expect_raises(ValueError, int, "3")
    with pytest.raises(NotImplementedError):  # a blank answer fails the test, it does not pass it
        expect_raises(ValueError, lambda: (_ for _ in ()).throw(NotImplementedError()))


@check("_selftest_double", reference=lambda x: 2 * x, hint="multiply by two")
def _double_cases():
    yield Case("float64 vector", (torch.arange(4, dtype=torch.float64),))
    yield Case("closed form", (torch.tensor([1.5]),), expected=torch.tensor([3.0]))


def test_run_check_passes_a_correct_function_and_explains_a_wrong_one():
    assert run_check("_selftest_double", lambda x: x + x).passed
    wrong = run_check("_selftest_double", lambda x: x * 3)
    assert not wrong.passed and "fails 2 of 2 hidden cases" in wrong.message and "multiply by two" in wrong.message


def test_run_check_reports_exceptions_stubs_and_in_place_changes():
    def stub(x):
        raise NotImplementedError()

    assert "not implemented" in run_check("_selftest_double", stub).message
    crash = run_check("_selftest_double", lambda x: x.undefined_attribute)
    assert "raised AttributeError" in crash.message

    def in_place(x):
        return x.mul_(2)

    assert "in place" in run_check("_selftest_double", in_place).message
    with pytest.raises(KeyError):
        run_check("no_such_exercise", stub)


def test_integers_print_as_a_student_writes_them():
    message = diagnose_close(np.array([1, 2], dtype=np.int64), np.array([1, 3], dtype=np.int64))
    assert "expected 3, got 2" in message and "np.int64" not in message
    assert "expected 3, got 2.5" in diagnose_close(np.float64(2.5), np.int64(3))


def test_a_visible_test_says_when_it_passed_and_fails_with_its_diagnosis_alone():
    """In IPython (a Jupyter kernel's shell) a passing test cell prints one line; a failing one shows the
    diagnosis and the hint, not a traceback through course/checks.py."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    try:
        shell.run_cell("import numpy as np\nfrom course.checks import expect_close, expect_true")
        with capture_output() as passed:
            shell.run_cell("expect_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]), what='x')\n"
                           "expect_true(True, 'always')")
        assert passed.stdout.count("\n") == 1 and passed.stdout.startswith("✓ test passed (2 checks)")
        with capture_output() as quiet:
            shell.run_cell("y = 1 + 1")
        assert quiet.stdout == "", "cells without checks print nothing"
        with capture_output() as failed:
            result = shell.run_cell("expect_close(np.array([1.0, 2.0]), np.array([1.0, 2.5]), what='softmax(x)', "
                                    "hint='Subtract the maximum first.')")
        assert not result.success and isinstance(result.error_in_exec, AssertionError)
        assert "✓" not in failed.stdout
        shown = failed.stdout + failed.stderr
        assert "softmax(x) is wrong" in shown and "expected 2.5, got 2" in shown and "hint: Subtract" in shown
        assert "Traceback" not in shown and "checks.py" not in shown
    finally:
        InteractiveShell.clear_instance()
