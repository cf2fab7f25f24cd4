"""Reading chapter notebooks: their jupytext twins, their nbgrader cells, their exercises.

Each chapter is written as a jupytext percent script ``source_notebooks/<id>/<id>.py`` (easy to review
and diff) and built into ``source_notebooks/<id>/<id>.ipynb`` (what nbgrader reads) by
:func:`build_notebook`; a test checks that the two agree.
"""
from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
from nbformat import NotebookNode

__all__ = [
    "build_notebook",
    "write_notebook",
    "read_notebook",
    "nbgrader_meta",
    "solution_cells",
    "grade_cells",
    "exercise_of",
    "strip_solution_markers",
    "HIDDEN_BEGIN",
    "HIDDEN_END",
    "has_hidden_tests",
]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3", "file_extension": ".py",
                 "mimetype": "text/x-python", "codemirror_mode": {"name": "ipython", "version": 3},
                 "nbconvert_exporter": "python"}
_JUPYTEXT_CELL_KEYS = ("lines_to_next_cell", "cell_marker", "title", "region_name")
_TEST_ID = re.compile(r"^test_(?P<name>[A-Za-z_][A-Za-z0-9_]*?)(?:_(?P<n>\d+))?$")


def build_notebook(script: Path) -> NotebookNode:
    """Build the instructor notebook from its jupytext percent script, with clean metadata and no outputs."""
    nb = jupytext.read(script, fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    for index, cell in enumerate(nb.cells):
        for key in _JUPYTEXT_CELL_KEYS:
            cell.metadata.pop(key, None)
        cell["id"] = f"cell-{index:03d}" if "grade_id" not in nbgrader_meta(cell) else nbgrader_meta(cell)["grade_id"]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    return nb


def write_notebook(nb: NotebookNode, path: Path) -> bool:
    """Write ``nb`` to ``path`` unless the file already holds exactly that; return whether it changed."""
    text = nbformat.writes(nb) + "\n"
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def read_notebook(path: Path) -> NotebookNode:
    """Read an .ipynb file (nbformat 4)."""
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's nbgrader metadata (empty for plain cells)."""
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def solution_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The autograded-answer cells (``solution: true``), in notebook order."""
    return [c for c in nb.cells if nbgrader_meta(c).get("solution") and c.cell_type == "code"]


def grade_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The autograder test cells (``grade: true``, code), in notebook order."""
    return [c for c in nb.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"
            and not nbgrader_meta(c).get("solution")]


def exercise_of(grade_id: str) -> str:
    """The exercise a test cell belongs to: ``test_softmax_2`` -> ``softmax``."""
    match = _TEST_ID.match(grade_id)
    if not match:
        raise ValueError(f"test cell id {grade_id!r} does not follow test_<function>[_<n>]")
    return match.group("name")


HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def has_hidden_tests(source: str) -> bool:
    """Whether a cell's source holds a block of hidden tests (removed from the student release)."""
    return HIDDEN_BEGIN in source


def strip_solution_markers(source: str) -> str:
    """The solution code as a student would type it: the BEGIN/END SOLUTION lines removed."""
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
