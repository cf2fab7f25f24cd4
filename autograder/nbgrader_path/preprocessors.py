"""nbconvert preprocessors the course adds to nbgrader's autograde and feedback steps."""
from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from ..notebooks import exercise_of, has_hidden_tests, nbgrader_meta

__all__ = ["ScrubHiddenTestOutputs", "TieVisibleToHidden", "VISIBLE_NEEDS_HIDDEN"]

VISIBLE_NEEDS_HIDDEN = ("this cell passed, but its points count only when the exercise's hidden tests pass too "
                        "(see the hidden test cell's message).")


class ScrubHiddenTestOutputs(NbGraderPreprocessor):
    """Reduce the error output of every test cell to its last line (``AssertionError: <diagnosis>``).

    nbgrader's feedback shows the graded notebook, whose test cells hold the hidden tests again, and an
    error's traceback quotes the failing lines. nbgrader's ``ClearHiddenTests`` removes the hidden code from
    the cell; this removes it from the traceback, keeping the diagnosis the student needs.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and nbgrader_meta(cell).get("grade") and not nbgrader_meta(cell).get("solution"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def _is_test_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _failed(cell) -> bool:
    return any(o.get("output_type") == "error" or (o.get("output_type") == "stream" and o.get("name") == "stderr")
               for o in cell.get("outputs", []))


class TieVisibleToHidden(NbGraderPreprocessor):
    """The course's one scoring rule in plain nbgrader: a visible test cell earns its points only when the
    hidden test cells of its exercise pass too.

    Runs in ``Autograde.autograde_preprocessors`` after ``Execute`` and ``IgnorePattern`` and before
    ``SaveAutoGrades``: a visible test cell whose exercise has a failed hidden test cell gets an error
    output saying so, which nbgrader scores 0. The sandboxed grader (:mod:`autograder.engine`) and the
    in-process scorer (:mod:`autograder.inprocess`) apply the same rule.
    """

    def preprocess(self, nb, resources):
        failed = {exercise_of(nbgrader_meta(c)["grade_id"]) for c in nb.cells
                  if _is_test_cell(c) and has_hidden_tests(c.source) and _failed(c)}
        for cell in nb.cells:
            if (_is_test_cell(cell) and not has_hidden_tests(cell.source) and not _failed(cell)
                    and exercise_of(nbgrader_meta(cell)["grade_id"]) in failed):
                cell.outputs.append(new_output("error", ename="AssertionError", evalue=VISIBLE_NEEDS_HIDDEN,
                                               traceback=[f"AssertionError: {VISIBLE_NEEDS_HIDDEN}"]))
        return nb, resources
