"""Every graded exercise fails its classic wrong answers and accepts correct alternatives.

Each answer is scored on the exercise's real test cells (visible and hidden), taken from the source
notebook, the way nbgrader scores them (see autograder.inprocess; test_roundtrip checks the two agree).
"""
from __future__ import annotations

import pytest

from autograder import mutants
from autograder.inprocess import reference_namespace, score_exercise
from course import syllabus

BUILT = [c.id for c in syllabus.chapters(built_only=True)]
CASES = []
for _chapter in syllabus.chapters(built_only=True):
    _module = mutants.for_chapter(_chapter.id)
    for _exercise in _chapter.exercises:
        for _kind, _table in (("mutant", getattr(_module, "MUTANTS", {})), ("alternative", getattr(_module, "ALTERNATIVES", {}))):
            for _label in _table.get(_exercise.name, {}):
                CASES.append(pytest.param(_chapter.id, _exercise.name, _kind, _label,
                                          id=f"{_chapter.number}-{_exercise.name}-{_kind}-{_label}"))


@pytest.mark.parametrize("chapter_id", BUILT)
def test_every_exercise_has_mutants_and_alternatives(chapter_id):
    module = mutants.for_chapter(chapter_id)
    assert module is not None, f"{chapter_id} needs autograder/mutants/chNN.py"
    for exercise in syllabus.chapter(chapter_id).exercises:
        assert len(module.MUTANTS.get(exercise.name, {})) >= 2, f"{exercise.name} needs at least two mutants"
        assert len(module.ALTERNATIVES.get(exercise.name, {})) >= 1, f"{exercise.name} needs a correct alternative"
    assert len(module.SAMPLE_WRONG) >= 1 and set(module.SAMPLE_WRONG) <= set(module.MUTANTS)


@pytest.mark.parametrize("chapter_id", BUILT)
def test_reference_answers_score_full_marks(mutant_scores, chapter_id):
    for exercise in syllabus.chapter(chapter_id).exercises:
        score = mutant_scores(chapter_id, exercise.name, "reference", None)
        assert score.full, f"{exercise.name}: the reference loses points: {score.failures}"
        assert score.max_points == exercise.points


@pytest.mark.parametrize("chapter_id, exercise, kind, label", CASES)
def test_answer_scores_as_it_should(mutant_scores, chapter_id, exercise, kind, label):
    score = mutant_scores(chapter_id, exercise, kind, label)
    if kind == "mutant":
        assert score.earned < score.max_points, f"mutant {label!r} of {exercise} keeps full marks"
        hidden = [t for t in score.failures if t != f"test_{exercise}"]
        assert hidden, f"mutant {label!r} of {exercise} passes every hidden test"
    else:
        assert score.full, f"correct alternative {label!r} of {exercise} loses points: {score.failures}"


@pytest.mark.parametrize("chapter_id", BUILT)
def test_sample_wrong_answers_hurt_no_other_exercise(mutant_scores, chapter_id):
    """The demo's partly wrong student must lose exactly the exercises it gets wrong: no other exercise's
    answer may call one of them (in a kernel, every cell shares one namespace)."""
    nb, _ = mutant_scores.chapter_env(chapter_id)
    module = mutants.for_chapter(chapter_id)
    namespace = reference_namespace(nb)  # a fresh one: the reference functions look names up in it
    for exercise in module.SAMPLE_WRONG:
        exec(next(iter(module.MUTANTS[exercise].values())), namespace)
    for exercise in syllabus.chapter(chapter_id).exercises:
        if exercise.name not in module.SAMPLE_WRONG:
            score = score_exercise(nb, exercise.name, None, namespace)
            assert score.full, f"{exercise.name} loses points when {module.SAMPLE_WRONG} are wrong"
