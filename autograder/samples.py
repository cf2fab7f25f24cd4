"""The bundled sample class: a perfect, a blank and a partly wrong submission of each chapter.

The perfect notebook is the student release with every solution cell filled in from the source notebook;
the partly wrong one is the same with the first mutant of each exercise in the chapter's ``SAMPLE_WRONG``
(see :mod:`autograder.mutants`).
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import NotebookNode

from . import mutants
from .notebooks import nbgrader_meta, read_notebook, solution_cells, strip_solution_markers

__all__ = ["SAMPLE_STUDENTS", "fill_answers", "write_sample_class"]

SAMPLE_STUDENTS = ("perfect", "blank", "partly-wrong")


def fill_answers(release: NotebookNode, answers: dict[str, str]) -> NotebookNode:
    """A copy of the release notebook with the solution cells named in ``answers`` replaced."""
    nb = nbformat.from_dict(release)
    for cell in solution_cells(nb):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def write_sample_class(source_nb: Path, release_nb: Path, chapter_id: str, inbox: Path) -> dict[str, Path]:
    """Write ``inbox/<student>/<chapter>.ipynb`` for the three sample students; return their paths."""
    source, release = read_notebook(source_nb), read_notebook(release_nb)
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source) for c in solution_cells(source)}
    module = mutants.for_chapter(chapter_id)
    wrong = dict(reference)
    for exercise in getattr(module, "SAMPLE_WRONG", []):
        wrong[exercise] = next(iter(module.MUTANTS[exercise].values()))
    notebooks = {"perfect": fill_answers(release, reference), "blank": release,
                 "partly-wrong": fill_answers(release, wrong)}
    paths = {}
    for student, nb in notebooks.items():
        path = inbox / student / f"{chapter_id}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        paths[student] = path
    return paths


# -- the README's table of the sample class's grades ---------------------------------------------------------

README_TABLE = ("<!-- sample class table -->", "<!-- end sample class table -->")


def expected_scores(course_root: Path, chapter_id: str) -> dict[str, float]:
    """{student: points} the sample class should get in ``chapter_id``, scored in-process (the one scoring
    rule of :mod:`autograder.inprocess`; tests/test_roundtrip.py checks real nbgrader gives the same)."""
    from course import syllabus

    from .inprocess import reference_namespace, score_exercise
    from .paths import source_notebook

    chapter = syllabus.chapter(chapter_id)
    module = mutants.for_chapter(chapter_id)
    source = read_notebook(source_notebook(course_root, chapter_id))
    namespace = reference_namespace(source)
    lost = 0.0
    for exercise in chapter.exercises:
        if exercise.name in getattr(module, "SAMPLE_WRONG", []):
            answer = next(iter(module.MUTANTS[exercise.name].values()))
            lost += exercise.points - score_exercise(source, exercise.name, answer, namespace=namespace).earned
    return {"blank": 0.0, "partly-wrong": chapter.points - lost, "perfect": chapter.points}


def readme_table(scores: dict[str, dict[str, float]]) -> str:
    """The Markdown table: one row per chapter ({chapter_id: {student: points}}), then the totals."""
    def cell(got: float, total: float, bold: bool = False) -> str:
        text = f"{got:g} / {total:g}"
        return f"**{text}**" if bold else text

    lines = ["| chapter | blank | partly-wrong | perfect |", "|---|---:|---:|---:|"]
    for chapter_id, got in scores.items():
        lines.append(f"| {chapter_id[:2]} | " + " | ".join(cell(got[s], got["perfect"]) for s in
                                                           ("blank", "partly-wrong", "perfect")) + " |")
    total = {s: sum(got[s] for got in scores.values()) for s in SAMPLE_STUDENTS}
    lines.append("| **total** | " + " | ".join(cell(total[s], total["perfect"], True) for s in
                                               ("blank", "partly-wrong", "perfect")) + " |")
    return "\n".join(lines)


def readme_section(readme: Path) -> str:
    text = readme.read_text()
    start, end = (text.index(m) for m in README_TABLE)
    return text[start + len(README_TABLE[0]):end].strip()


def write_readme(course_root: Path) -> str:
    """Recompute the sample class's table for every built chapter and write it into README.md."""
    from course import syllabus

    table = readme_table({c.id: expected_scores(course_root, c.id) for c in syllabus.chapters(built_only=True)})
    readme = course_root / "README.md"
    text = readme.read_text()
    start, end = (text.index(m) for m in README_TABLE)
    readme.write_text(text[:start + len(README_TABLE[0])] + "\n" + table + "\n" + text[end:])
    return table


if __name__ == "__main__":
    import sys

    root = Path(__file__).resolve().parents[1]
    print(write_readme(root) if "--write-readme" in sys.argv[1:] else
          "usage: python -m autograder.samples --write-readme   (the README's table of the sample class)")
