"""Feedback names the mistake that was made, in numbers a reader can read.

Every registered mutant that fails a hidden case must be told its own mistake: the grader runs the
exercise's mutants on the failed cases and shows the hint of the one the answer behaves like. The message
read here is the one the exercise's hidden test cell raised when the mutant tests scored the mutant.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder import mutants
from autograder.checks import registry
from autograder.diagnosis import mutant_hint
from course import syllabus
from course.checks import diagnose_close, diagnose_contract, plain

# mutants whose outputs depend on the global random state
_NOT_REPRODUCIBLE = {"ignores the generator (global random state)", "global random state instead of the generator",
                     "draws its own noise", "random orders drawn without the generator"}


MUTANT_CASES = [pytest.param(c.id, e.name, label, id=f"{c.number}-{e.name}-{label}")
                for c in syllabus.chapters(built_only=True)
                for e in c.exercises
                for label in getattr(mutants.for_chapter(c.id), "MUTANTS", {}).get(e.name, {})]


@pytest.mark.parametrize("chapter_id, exercise, label", MUTANT_CASES)
def test_a_failed_mutant_is_told_its_own_mistake(mutant_scores, chapter_id, exercise, label):
    module = mutants.for_chapter(chapter_id)
    if exercise not in registry():
        pytest.skip("no hidden check")
    if exercise in getattr(module, "JUDGED_ON_A_TARGET", ()):
        pytest.skip("a make-it-work task: told the target it missed (its mutants are not trained again)")
    score = mutant_scores(chapter_id, exercise, "mutant", label)  # the hidden cells ran run_check on it
    messages = [message for cell, message in score.failures.items() if cell != f"test_{exercise}"]
    message = next((m for m in messages if "hint:" in m), None)
    if message is None:
        pytest.skip("caught by the visible test, by delegation or by the contract alone")
    if any(words in message for words in (" in place", "] raised ", "not implemented")):
        pytest.skip("the message itself names the mistake (an in-place change, an exception)")
    if label in _NOT_REPRODUCIBLE:
        pytest.skip("its outputs change from run to run: no answer can match them")
    hint = message.split("hint: ", 1)[1].split("\n")[0]
    ours = mutant_hint(module, exercise, label)
    assert hint == ours or hint in {mutant_hint(module, exercise, other) for other in module.MUTANTS[exercise]}, \
        f"{label!r} is told {hint!r}"


def test_relative_error_only_where_the_expected_value_is_not_zero():
    message = diagnose_close(torch.tensor([0.5, 1.0]), torch.tensor([0.0, 1.0]))
    assert "rel error" not in message and "max abs error 0.5" in message
    message = diagnose_close(torch.tensor([0.5, 1.5], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert "max rel error 0.5" in message and "e+" not in message


def test_enough_digits_to_show_the_difference():
    message = diagnose_close(1.566668, 1.5666666666666667)
    line = message.splitlines()[-1]
    expected, got = line.split("expected ")[1].split(", got ")
    assert expected != got, line


def test_plain_numbers():
    message = diagnose_close(np.array([1, 2, 4]), np.array([1, 2, 3]))
    assert "expected 3, got 4" in message and "np." not in message
    assert plain(np.int64(3)) == "3" and plain(np.float32(0.25)) == "0.25" and plain(np.bool_(True)) == "True"


def test_the_tolerance_comes_from_the_expected_value_not_the_answer():
    expected = torch.tensor([1.1, 2.3], dtype=torch.float64)
    assert diagnose_close(expected.half(), expected) is not None  # float16 buys no looser tolerance
    assert diagnose_close(expected * (1 + 0.0093), expected) is not None
    assert diagnose_close(expected.float(), expected.float()) is None


@pytest.mark.parametrize("got, expected, words", [
    (torch.zeros(2, dtype=torch.float64), torch.zeros(2), "returns float64 for a float32 input"),
    (torch.zeros(2), torch.zeros(2, dtype=torch.float64), "returns float32 for a float64 input"),
    (torch.zeros(2, dtype=torch.float16), torch.zeros(2), "returns float16"),
    (torch.tensor(0.5), 0.5, "should be a plain number, got a tensor"),
    (np.zeros(2), torch.zeros(2), "should be a tensor, got a numpy array"),
    (torch.zeros(1, 2), torch.zeros(2), "has shape (1, 2), expected (2,)"),
    (torch.zeros(2), torch.zeros(2, dtype=torch.long), "float32 where int64 is expected"),
    (torch.zeros(2, dtype=torch.int32), torch.zeros(2, dtype=torch.long), "int32 where int64 is expected"),
    (2.0, 3, "should be an integer"),
    (torch.zeros(2, device="meta"), torch.zeros(2), "is on meta where cpu is expected"),
])
def test_the_contract_is_checked(got, expected, words):
    assert words in diagnose_contract(got, expected, what="the output")


@pytest.mark.parametrize("got, expected, free", [
    (0.5, np.float64(0.5), ()),
    (3, 3.0, ()),
    (np.int32(3), 3, ()),
    (torch.zeros(2, dtype=torch.float64), torch.zeros(2), ("dtype",)),
    (np.zeros(2), torch.zeros(2), ("type",)),
    ({"step": torch.tensor(3.0)}, {"step": 3}, ("type@['step']", "dtype@['step']")),
])
def test_what_the_statement_leaves_free_is_free(got, expected, free):
    assert diagnose_contract(got, expected, what="the output", free=free) is None


def test_a_make_it_work_task_is_not_matched_against_its_mutants(monkeypatch):
    """Naming the mistake of a failed make-it-work task would train each of its mutants again; it is not tried."""
    from autograder import diagnosis

    def no_training(*_):
        raise AssertionError("a mutant of a make-it-work task was run for the diagnosis")

    monkeypatch.setattr(diagnosis, "mutant_output", no_training)
    for chapter in syllabus.chapters(built_only=True):
        for task in getattr(mutants.for_chapter(chapter.id), "JUDGED_ON_A_TARGET", ()):
            chk = registry()[task]
            case = next(iter(chk.cases()))
            assert diagnosis.named_mistake(chk, [(case, None, case)]) is None
