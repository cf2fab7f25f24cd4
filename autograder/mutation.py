"""Automatic mutations of the reference answers, and how many of them the checks catch.

The registered mutants (:mod:`autograder.mutants`) are the mistakes someone thought of. Here the
reference answer of every exercise (its solution cell in the source notebook) is mutated mechanically,
one small change at a time, through its syntax tree:

* ``sign``: ``a + b`` and ``a - b`` swapped, a unary minus dropped;
* ``divisor``: the divisor ``d`` of ``x / d`` replaced by ``d - 1`` and by ``d + 1``;
* ``term``: one operand of a sum or difference dropped;
* ``axis``: a ``dim=`` / ``axis=`` argument moved to another axis;
* ``transpose``: a ``.T`` / ``.mT`` / ``.t()`` dropped, or the left operand of ``@`` transposed.

Each mutation is scored like an answer (:func:`autograder.inprocess.score_exercise`): it is *caught*
when it loses points. A mutation that survives is either a gap in the checks (which then gets a case)
or an equivalent rewrite of the reference (``-(a - b)`` for ``b - a``, an axis of length one), recorded
with its reason in the chapter's mutant module::

    EQUIVALENT_MUTATIONS = {"softmax": {"term: z - m -> z": "the max shift cancels in the ratio"}}

``python -m autograder.mutation`` prints the table, chapter by chapter; ``--write-readme`` puts it in
the README. The number of mutations per exercise is capped (:data:`PER_EXERCISE`), the sample fixed.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from .inprocess import reference_namespace, score_exercise
from .notebooks import nbgrader_meta, read_notebook, solution_cells, strip_solution_markers

__all__ = ["Mutation", "ExerciseReport", "mutations", "mutate_exercise", "chapter_reports", "table",
           "PER_EXERCISE"]

PER_EXERCISE = 8  # mutations scored per exercise (a fixed sample when there are more)
TIME_LIMIT_S = 20  # a mutation that runs longer (a loop that no longer ends) counts as caught

_AXIS_KEYWORDS = ("dim", "axis")
_TRANSPOSES = ("T", "mT")


@dataclass(frozen=True)
class Mutation:
    """One mechanical change of a reference answer: its kind, a stable id, and the changed source."""

    kind: str
    id: str
    source: str


class _Points(ast.NodeVisitor):
    """Every place a mutation can apply, as (kind, node, replacement node)."""

    def __init__(self):
        self.points: list[tuple[str, ast.AST, ast.AST]] = []

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, (ast.Add, ast.Sub)):
            flipped = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            self.points.append(("sign", node, ast.BinOp(node.left, flipped, node.right)))
            self.points.append(("term", node, node.left))
            if isinstance(node.op, ast.Add):
                self.points.append(("term", node, node.right))
        if isinstance(node.op, (ast.Div, ast.FloorDiv)):
            for op in (ast.Sub(), ast.Add()):
                shifted = ast.BinOp(node.right, op, ast.Constant(1))
                self.points.append(("divisor", node, ast.BinOp(node.left, node.op, shifted)))
        if isinstance(node.op, ast.MatMult):
            left = ast.Call(ast.Attribute(node.left, "transpose", ast.Load()),
                            [ast.Constant(-1), ast.Constant(-2)], [])
            self.points.append(("transpose", node, ast.BinOp(left, node.op, node.right)))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.USub):
            self.points.append(("sign", node, node.operand))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _TRANSPOSES and isinstance(node.ctx, ast.Load):
            self.points.append(("transpose", node, node.value))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "t" and not node.args:
            self.points.append(("transpose", node, node.func.value))
        for i, kw in enumerate(node.keywords):
            if kw.arg in _AXIS_KEYWORDS and isinstance(kw.value, (ast.Constant, ast.UnaryOp)):
                try:
                    axis = ast.literal_eval(kw.value)
                except ValueError:
                    continue
                if not isinstance(axis, int):
                    continue
                other = 0 if axis != 0 else -1
                keywords = list(node.keywords)
                keywords[i] = ast.keyword(kw.arg, ast.Constant(other))
                self.points.append(("axis", node, ast.Call(node.func, node.args, keywords)))
        self.generic_visit(node)


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST):
        self.target, self.replacement = target, replacement

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return self.replacement
        return super().visit(node)


def _snippet(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def mutations(source: str) -> list[Mutation]:
    """Every mechanical mutation of ``source`` (a solution cell), each compiled and distinct, in order."""
    tree = ast.parse(source)
    finder = _Points()
    finder.visit(tree)
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    seen: set[str] = {ast.unparse(tree)}
    out: list[Mutation] = []
    ids: dict[str, int] = {}
    for kind, node, replacement in finder.points:
        mutated = _replace_at(source, node, replacement)
        if mutated is None:
            continue
        text = ast.unparse(mutated)
        if text in seen:
            continue
        try:
            compile(text, "<mutation>", "exec")
        except SyntaxError:
            continue
        seen.add(text)
        context = parents.get(node)
        while isinstance(context, (ast.keyword, ast.arg, ast.arguments)):
            context = parents.get(context)
        where = f" in `{_snippet(context)}`" if isinstance(context, ast.expr) else ""
        base = f"{kind}: `{_snippet(node)}` -> `{_snippet(replacement)}`{where}"
        ids[base] = ids.get(base, 0) + 1
        out.append(Mutation(kind, base if ids[base] == 1 else f"{base} #{ids[base]}", text))
    return out


def _replace_at(source: str, node: ast.AST, replacement: ast.AST) -> ast.AST | None:
    """A fresh tree of ``source`` with the node at ``node``'s position (and type) replaced."""
    tree = ast.parse(source)
    key = (type(node), getattr(node, "lineno", None), getattr(node, "col_offset", None),
           getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None))
    for candidate in ast.walk(tree):
        if (type(candidate), getattr(candidate, "lineno", None), getattr(candidate, "col_offset", None),
                getattr(candidate, "end_lineno", None), getattr(candidate, "end_col_offset", None)) == key:
            fresh = ast.parse(ast.unparse(replacement), mode="eval").body  # same text, nodes of its own
            return ast.fix_missing_locations(_Replace(candidate, fresh).visit(tree))
    return None


def _sample(found: list[Mutation], exercise: str, limit: int) -> list[Mutation]:
    """At most ``limit`` mutations, spread over the kinds, in an order fixed by their ids."""
    def rank(m: Mutation) -> str:
        return hashlib.sha256(f"{exercise}|{m.id}".encode()).hexdigest()

    by_kind: dict[str, list[Mutation]] = {}
    for m in sorted(found, key=rank):
        by_kind.setdefault(m.kind, []).append(m)
    chosen: list[Mutation] = []
    while len(chosen) < limit and any(by_kind.values()):
        for kind in sorted(by_kind):
            if by_kind[kind] and len(chosen) < limit:
                chosen.append(by_kind[kind].pop(0))
    return chosen


@contextlib.contextmanager
def _time_limit(seconds: int):
    def stop(signum, frame):
        raise TimeoutError(f"ran past {seconds} s")

    if not hasattr(signal, "SIGALRM"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class ExerciseReport:
    """What became of the sampled mutations of one exercise."""

    exercise: str
    caught: list[str] = field(default_factory=list)
    equivalent: dict[str, str] = field(default_factory=dict)
    survived: list[str] = field(default_factory=list)
    total_found: int = 0


def _solution_source(nb: NotebookNode, exercise: str) -> str | None:
    for cell in solution_cells(nb):
        if nbgrader_meta(cell).get("grade_id") == exercise:
            return strip_solution_markers(cell.source)
    return None


def mutate_exercise(nb: NotebookNode, exercise: str, namespace: dict, equivalent: dict[str, str] | None = None,
                    limit: int = PER_EXERCISE) -> ExerciseReport:
    """Score a fixed sample of ``exercise``'s mutations; sort them into caught, equivalent and surviving."""
    report = ExerciseReport(exercise)
    source = _solution_source(nb, exercise)
    if source is None:
        return report
    found = mutations(source)
    report.total_found = len(found)
    equivalent = equivalent or {}
    for mutation in _sample(found, exercise, limit):
        if mutation.id in equivalent:  # judged by reading, not scored: its running time may vary by machine
            report.equivalent[mutation.id] = equivalent[mutation.id]
            continue
        try:
            with _time_limit(TIME_LIMIT_S), contextlib.redirect_stdout(None):
                score = score_exercise(nb, exercise, mutation.source, namespace)
            caught = not score.full
        except Exception:  # noqa: BLE001  (a mutation that breaks the cell is caught: the cell fails)
            caught = True
        (report.caught if caught else report.survived).append(mutation.id)
    return report


def chapter_reports(root: Path, chapter_id: str, limit: int = PER_EXERCISE) -> list[ExerciseReport]:
    """Every exercise of a chapter, its mutations scored."""
    from . import mutants
    from .paths import source_notebook
    from course import syllabus

    nb = read_notebook(source_notebook(root, chapter_id))
    namespace = reference_namespace(nb)
    module = mutants.for_chapter(chapter_id)
    recorded = getattr(module, "EQUIVALENT_MUTATIONS", {}) if module else {}
    # A make-it-work task is judged on a target it reaches by training: a change to one of its training
    # details (an epoch more, another seed draw) is no wrong answer, and the score depends on the machine's
    # speed. Its registered mutants carry the classic bugs instead.
    tasks = set(getattr(module, "JUDGED_ON_A_TARGET", ())) if module else set()
    return [mutate_exercise(nb, e.name, namespace, recorded.get(e.name, {}), limit)
            if e.name not in tasks else ExerciseReport(e.name)
            for e in syllabus.chapter(chapter_id).exercises]


def table(results: dict[str, list[ExerciseReport]]) -> str:
    """The Markdown table of mutations caught, chapter by chapter."""
    lines = ["| chapter | exercises | mutations scored | caught | equivalent rewrites | surviving | caught / not equivalent |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    totals = [0, 0, 0, 0, 0]
    for chapter_id, reports in results.items():
        scored = sum(len(r.caught) + len(r.equivalent) + len(r.survived) for r in reports)
        caught = sum(len(r.caught) for r in reports)
        equiv = sum(len(r.equivalent) for r in reports)
        survived = sum(len(r.survived) for r in reports)
        row = [len(reports), scored, caught, equiv, survived]
        totals = [a + b for a, b in zip(totals, row)]
        share = f"{100 * caught / (caught + survived):.0f}%" if caught + survived else "-"
        lines.append(f"| {chapter_id} | " + " | ".join(map(str, row)) + f" | {share} |")
    share = f"{100 * totals[2] / (totals[2] + totals[4]):.0f}%" if totals[2] + totals[4] else "-"
    lines.append("| **all** | " + " | ".join(f"**{n}**" for n in totals) + f" | **{share}** |")
    return "\n".join(lines)


_BEGIN, _END = "<!-- mutation table: begin -->", "<!-- mutation table: end -->"


def write_readme(readme: Path, text: str) -> bool:
    """Put ``text`` between the README's mutation-table markers; True when the file changed."""
    content = readme.read_text()
    start, end = content.index(_BEGIN) + len(_BEGIN), content.index(_END)
    new = content[:start] + "\n" + text + "\n" + content[end:]
    if new != content:
        readme.write_text(new)
    return new != content


def readme_table(readme: Path) -> str:
    content = readme.read_text()
    return content[content.index(_BEGIN) + len(_BEGIN):content.index(_END)].strip()


def main(argv: list[str] | None = None) -> int:
    from course import syllabus

    from .paths import find_course_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers or ids (default: every built chapter)")
    parser.add_argument("--write-readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--survivors", action="store_true", help="list every surviving mutation")
    parser.add_argument("--limit", type=int, default=PER_EXERCISE, help="mutations scored per exercise")
    args = parser.parse_args(argv)
    root = find_course_root()
    chapters = [c.id for c in syllabus.chapters(built_only=True)
                if not args.chapters or c.id in args.chapters or c.id[:2] in args.chapters]
    results = {}
    for chapter_id in chapters:
        results[chapter_id] = chapter_reports(root, chapter_id, args.limit)
        if args.survivors:
            for r in results[chapter_id]:
                for m in r.survived:
                    print(f"{chapter_id} {r.exercise}: {m}", file=sys.stderr)
    text = table(results)
    print(text)
    if args.write_readme:
        write_readme(root / "README.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
