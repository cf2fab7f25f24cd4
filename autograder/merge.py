"""Rebuild a submission from trusted parts: the student's answers, the course's tests.

A submitted notebook is untrusted JSON. :func:`merge` walks it in the student's order (as nbgrader
does) and keeps only what is the student's to write: the source of each answer cell (matched by its
nbgrader ``grade_id``) and any code cells the student added. Every locked cell and test cell comes
from the instructor's source notebook, hidden tests included, with the instructor's metadata and
points, wherever the student's copy was edited, re-labelled, duplicated or deleted. Each repair is
noted for the report:

    merged = merge(source_nb, release_nb, student_nb)
    [c.grade_id for c in merged.cells if c.kind == "test"]
    merged.notes   # ["the locked cell test_softmax was edited; the original was restored", ...]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from .notebooks import exercise_of, has_hidden_tests, nbgrader_meta

__all__ = ["MergedCell", "Merged", "merge"]


@dataclass
class MergedCell:
    """One cell to run (or show): ``kind`` is "solution", "test", "locked", "extra" or "markdown"."""

    kind: str
    source: str
    grade_id: str | None = None
    points: float = 0.0
    hidden: bool = False

    @property
    def exercise(self) -> str | None:
        return exercise_of(self.grade_id) if self.kind == "test" and self.grade_id else None


@dataclass
class Merged:
    cells: list[MergedCell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    course_code: set[str] = field(default_factory=set)  # the release's ungraded code cells (demos), stripped

    def code_cells(self) -> list[tuple[int, MergedCell]]:
        return [(i, c) for i, c in enumerate(self.cells) if c.kind != "markdown"]

    def student_sources(self) -> list[str]:
        """The code the student wrote: answer cells and added cells."""
        return [c.source for c in self.cells if c.kind in ("solution", "extra")]

    def own_sources(self) -> list[str]:
        """:meth:`student_sources` less the course's own ungraded code cells left as released (demos)."""
        return [c.source for c in self.cells if c.kind == "solution"
                or (c.kind == "extra" and c.source.strip() not in self.course_code)]

    def to_notebook(self, template: NotebookNode) -> NotebookNode:
        """The merged notebook as nbformat (graded cells carry the instructor's nbgrader metadata)."""
        trusted = {nbgrader_meta(c).get("grade_id"): c for c in template.cells if nbgrader_meta(c).get("grade_id")}
        nb = nbformat.v4.new_notebook(metadata=template.metadata)
        for index, cell in enumerate(self.cells):
            if cell.kind == "markdown":
                new = nbformat.v4.new_markdown_cell(cell.source)
            else:
                new = nbformat.v4.new_code_cell(cell.source)
                if cell.grade_id in trusted:
                    new.metadata["nbgrader"] = dict(trusted[cell.grade_id].metadata["nbgrader"])
            new["id"] = f"merged-{index:03d}"
            nb.cells.append(new)
        return nb


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _source(cell) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _trusted(cell: NotebookNode) -> MergedCell:
    meta = nbgrader_meta(cell)
    kind = "test" if meta.get("grade") and not meta.get("solution") else "locked"
    return MergedCell(kind, cell.source, meta["grade_id"], float(meta.get("points", 0) or 0),
                      has_hidden_tests(cell.source))


def merge(source: NotebookNode, release: NotebookNode, student: NotebookNode | dict) -> Merged:
    """The notebook to grade: ``student``'s answers and added cells around ``source``'s locked and test cells.

    ``release`` gives the starting code of answer cells the student deleted.
    """
    template = [c for c in source.cells if nbgrader_meta(c).get("grade_id")]
    order = [nbgrader_meta(c)["grade_id"] for c in template]
    by_id = {nbgrader_meta(c)["grade_id"]: c for c in template}
    starters = {nbgrader_meta(c).get("grade_id"): c.source for c in release.cells if nbgrader_meta(c).get("grade_id")}
    checksums = {nbgrader_meta(c).get("grade_id"): nbgrader_meta(c).get("checksum") for c in release.cells
                 if nbgrader_meta(c).get("grade_id")}
    merged = Merged(course_code={c.source.strip() for c in release.cells
                                 if c.cell_type == "code" and not nbgrader_meta(c).get("grade_id")})
    placed: dict[str, int] = {}
    cells = student.get("cells", []) if isinstance(student, dict) else []
    for raw in cells if isinstance(cells, list) else []:
        if not isinstance(raw, dict):
            continue
        grade_id, text, cell_type = _grade_id(raw), _source(raw), raw.get("cell_type")
        if grade_id in by_id and grade_id not in placed:
            trusted = by_id[grade_id]
            meta = nbgrader_meta(trusted)
            if meta.get("solution"):
                merged.cells.append(MergedCell("solution", text, grade_id, float(meta.get("points", 0) or 0)))
                if cell_type != trusted.cell_type:
                    merged.notes.append(f"the answer cell {grade_id} had its type changed; it was graded as code")
            else:
                merged.cells.append(_trusted(trusted))
                if text.strip() != trusted.source.strip() and not has_hidden_tests(trusted.source):
                    merged.notes.append(f"the locked cell {grade_id} was edited; the original was restored")
                student_meta = raw.get("metadata", {}).get("nbgrader") if isinstance(raw.get("metadata"), dict) else None
                if isinstance(student_meta, dict) and any(
                        student_meta.get(k) != meta.get(k) for k in ("points", "grade", "solution", "locked")):
                    merged.notes.append(f"the nbgrader metadata of {grade_id} was changed; the original was used")
                if isinstance(student_meta, dict) and "checksum" in student_meta and checksums.get(grade_id) \
                        and student_meta["checksum"] != checksums[grade_id]:
                    merged.notes.append(f"the nbgrader checksum of {grade_id} was changed; the original cell was "
                                        "graded")
            placed[grade_id] = len(merged.cells) - 1
            continue
        if grade_id in by_id:
            merged.notes.append(f"a second cell claims grade_id {grade_id}: it ran as an ordinary cell, ungraded")
        elif grade_id is not None:
            merged.notes.append(f"a cell claims grade_id {grade_id!r}, which this chapter does not have: "
                                "it ran as an ordinary cell, ungraded")
        if cell_type == "code":
            merged.cells.append(MergedCell("extra", text))
        elif cell_type == "markdown":
            merged.cells.append(MergedCell("markdown", text))
    missing = [g for g in order if g not in placed]
    for grade_id in missing:
        position = 0
        for earlier in order[:order.index(grade_id)]:
            if earlier in placed:
                position = placed[earlier] + 1
        trusted = by_id[grade_id]
        if nbgrader_meta(trusted).get("solution"):
            cell = MergedCell("solution", starters.get(grade_id, ""), grade_id,
                              float(nbgrader_meta(trusted).get("points", 0) or 0))
            merged.notes.append(f"the answer cell {grade_id} was missing; the empty starter was graded")
        else:
            cell = _trusted(trusted)
            merged.notes.append(f"the cell {grade_id} was deleted; it was restored")
        merged.cells.insert(position, cell)
        placed = {g: (i + 1 if i >= position else i) for g, i in placed.items()}
        placed[grade_id] = position
    return merged
