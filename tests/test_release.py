"""release/ is exactly what nbgrader generates from source_notebooks/, and leaks nothing."""
from __future__ import annotations

import re

import pytest

from autograder.notebooks import grade_cells, nbgrader_meta, read_notebook, solution_cells
from autograder.paths import release_notebook, source_notebook
from course import syllabus

BUILT = [c.id for c in syllabus.chapters(built_only=True)]
FORBIDDEN = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "run_check", "autograder",
             "solutions_lib"]
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def _expected_stub(source: str) -> str:
    """The source cell with its BEGIN/END SOLUTION region replaced by nbgrader's stub (indentation kept)."""
    def replace(match):
        return "\n".join(match.group(1) + line for line in STUB.splitlines())
    return re.sub(r"(?ms)^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION", replace, source)


def test_release_folder_has_only_the_built_chapters(root):
    released = sorted(p.name for p in (root / "release").iterdir() if p.is_dir())
    assert released == sorted(BUILT)
    for path in (root / "release").rglob("*"):
        if path.is_file():
            assert path.suffix == ".ipynb", f"{path.relative_to(root)}: only notebooks are released"


@pytest.mark.parametrize("chapter_id", BUILT)
def test_release_leaks_no_solution_or_hidden_test(root, chapter_id):
    path = release_notebook(root, chapter_id)
    text = path.read_text()
    for word in FORBIDDEN:
        assert word not in text, f"{path.name} contains {word!r}"
    source, release = read_notebook(source_notebook(root, chapter_id)), read_notebook(path)
    expected = {nbgrader_meta(c)["grade_id"]: _expected_stub(c.source) for c in solution_cells(source)}
    got = {nbgrader_meta(c)["grade_id"]: c.source for c in solution_cells(release)}
    assert got == expected, "release solution cells must be the signature, docstring and stub only"
    for cell in grade_cells(release):
        code = [line for line in cell.source.splitlines() if line.strip() and not line.strip().startswith("#")]
        source_cell = next(c for c in grade_cells(source) if nbgrader_meta(c)["grade_id"] == nbgrader_meta(cell)["grade_id"])
        if "BEGIN HIDDEN TESTS" in source_cell.source:
            assert not code, f"{nbgrader_meta(cell)['grade_id']}: hidden test cell keeps code in the release"
    for cell in release.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, "release notebooks carry no outputs"


@pytest.mark.slow
@pytest.mark.parametrize("chapter_id", BUILT)
def test_release_is_what_nbgrader_generates(root, graded_class, chapter_id):
    course, _ = graded_class(chapter_id)
    fresh = release_notebook(course.root, chapter_id).read_text()
    committed = release_notebook(root, chapter_id).read_text()
    assert fresh == committed, f"release/{chapter_id} drifted from its source: run `make release`"
