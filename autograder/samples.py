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
