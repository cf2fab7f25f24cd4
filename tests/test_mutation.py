"""Mutation coverage: mechanical mutations of every reference answer must lose points.

Each exercise's solution cell is mutated one small change at a time (signs, divisors, dropped terms,
axes, transposes; see autograder.mutation) and scored like a student's answer. A surviving mutation is a
gap in the hidden cases unless it is recorded, with its reason, as an equivalent rewrite. The table of
the results, chapter by chapter, is printed in the README.
"""
from __future__ import annotations

import pytest

from autograder import mutants
from autograder.mutation import chapter_reports, mutations, readme_table, table
from course import syllabus

BUILT = [c.id for c in syllabus.chapters(built_only=True)]


@pytest.fixture(scope="module")
def results(root):
    return {chapter_id: chapter_reports(root, chapter_id) for chapter_id in BUILT}


@pytest.mark.parametrize("chapter_id", BUILT)
def test_every_mutation_is_caught_or_recorded_as_equivalent(results, chapter_id):
    survivors = [f"{r.exercise}: {m}" for r in results[chapter_id] for m in r.survived]
    assert not survivors, ("mutations no hidden case catches (add a case, or record a true equivalent in "
                           "EQUIVALENT_MUTATIONS with its reason):\n" + "\n".join(survivors))
    for report in results[chapter_id]:
        assert report.caught or report.equivalent or not report.total_found, f"{report.exercise}: nothing scored"


@pytest.mark.parametrize("chapter_id", BUILT)
def test_recorded_equivalents_still_exist(root, chapter_id):
    from autograder.mutation import _solution_source
    from autograder.notebooks import read_notebook
    from autograder.paths import source_notebook

    module = mutants.for_chapter(chapter_id)
    recorded = getattr(module, "EQUIVALENT_MUTATIONS", {})
    nb = read_notebook(source_notebook(root, chapter_id))
    for exercise, table_ in recorded.items():
        ids = {m.id for m in mutations(_solution_source(nb, exercise))}
        stale = set(table_) - ids
        assert not stale, f"{exercise}: recorded equivalent mutations that no longer exist: {sorted(stale)}"
        assert all(reason.strip() for reason in table_.values())


def test_readme_shows_the_current_table(root, results):
    print("\n" + table(results))  # the report, chapter by chapter (pytest -s shows it)
    assert readme_table(root / "README.md") == table(results), \
        "the README's mutation table is stale: run `python -m autograder.mutation --write-readme`"


def test_each_kind_of_mutation_is_generated():
    source = "def f(x, y, n):\n    return -(x @ y.T).sum(dim=-1) / n + x.mean(dim=0) - 1\n"
    kinds = {m.kind for m in mutations(source)}
    assert kinds == {"sign", "divisor", "term", "axis", "transpose"}
    for m in mutations(source):
        compile(m.source, "<m>", "exec")
        assert m.source != source
