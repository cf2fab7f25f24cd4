"""nbconvert preprocessors the course adds to nbgrader's feedback step."""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from ..notebooks import nbgrader_meta

__all__ = ["ScrubHiddenTestOutputs"]


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
