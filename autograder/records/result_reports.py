"""Reports made from graded submissions: student feedback HTML, class summary, CSV and Gradescope JSON.

Everything here reads :class:`~autograder.records.results.SubmissionResult` records (and, for the feedback page,
the executed notebook in ``<class>/autograded/<student>/<chapter>/<chapter>.ipynb``); nothing grades again.

Files written under ``<class_dir>``:

* ``feedback/<student>/<chapter>/<chapter>.html`` -- :func:`write_feedback`, one page per student;
* ``reports/<chapter>/summary.html`` and ``summary.md`` -- :func:`write_summary`;
* ``reports/<chapter>/grades.csv`` -- :func:`write_csv`;
* ``reports/<chapter>/gradescope/<student>/results.json`` -- :func:`write_gradescope`.

The feedback page never shows hidden tests: the source of every hidden test cell is replaced by a one-line
placeholder and its outputs (tracebacks that would quote the hidden code) by the cell's diagnostic
:attr:`CellResult.message`; any line of hidden test code that turns up in another cell's output (a student
can print ``In``) is blanked too. All student-controlled text is HTML-escaped and long outputs are capped.
"""
from __future__ import annotations

import base64
import csv
import functools
import html
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.notebooks import HIDDEN_BEGIN, HIDDEN_END, exercise_of, nbgrader_meta
from autograder.records.results import CellResult, SubmissionResult

__all__ = [
    "OUTPUT_LIMIT",
    "HIDDEN_BEGIN",
    "HIDDEN_END",
    "cap_text",
    "hidden_lines",
    "is_hidden_cell",
    "scrub",
    "render_markdown",
    "feedback_html",
    "feedback_path",
    "autograded_path",
    "write_feedback",
    "Bin",
    "Failure",
    "ClassSummary",
    "class_summary",
    "summary_markdown",
    "summary_html",
    "histogram_svg",
    "write_summary",
    "gradescope_results",
    "write_gradescope",
    "write_csv",
    "write_all",
]

OUTPUT_LIMIT = 20_000  # characters of output shown per cell
IMAGE_LIMIT = 2_000_000  # base64 characters of one embedded image
REMOVED = "[hidden test code removed]"
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_MIN_SECRET_LINE = 8  # shorter hidden lines (``)``, ``else:``) are too common to blank


# --------------------------------------------------------------------------------------------- helpers

def _num(x: float) -> str:
    """A score without a trailing ``.0``: ``_num(2.0) == '2'``, ``_num(2.5) == '2.5'``."""
    return f"{float(x):g}"


def _safe_name(name: str, what: str) -> str:
    """``name`` if it is usable as one path component, else ValueError (no ``..``, no ``/``)."""
    if not name or name in (".", "..") or any(ch in name for ch in "/\\\0:") or name != name.strip():
        raise ValueError(f"{what} {name!r} cannot be used as a file name")
    return name


def _source(cell: NotebookNode) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def cap_text(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, with a note saying how much was left out.

    >>> cap_text("abcdef", 4)
    'abcd\\n… 2 more characters'
    >>> cap_text("abc", 4)
    'abc'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… {len(text) - limit:,} more characters"


def _hidden_blocks(source: str) -> list[str]:
    """The text between each BEGIN/END HIDDEN TESTS pair (an unclosed block runs to the end)."""
    blocks, rest = [], source
    while HIDDEN_BEGIN in rest:
        rest = rest.split(HIDDEN_BEGIN, 1)[1]
        block, _, rest = rest.partition(HIDDEN_END)
        blocks.append(block)
    return blocks


def _redact_blocks(source: str) -> str:
    r"""``source`` with each hidden-test block, markers included, replaced by a placeholder.

    >>> _redact_blocks("a\n### BEGIN HIDDEN TESTS\nsecret\n### END HIDDEN TESTS\nb")
    'a\n[hidden test code removed]\nb'
    """
    if HIDDEN_BEGIN not in source and HIDDEN_END not in source:
        return source
    out, rest = [], source
    while HIDDEN_BEGIN in rest:
        head, _, rest = rest.partition(HIDDEN_BEGIN)
        out += [head, REMOVED]
        rest = rest.partition(HIDDEN_END)[2]
    out.append(rest.replace(HIDDEN_END, REMOVED))
    return "".join(out)


def hidden_lines(nb: NotebookNode | None) -> list[str]:
    """Every non-trivial line of hidden test code in ``nb`` (stripped, longest first), to blank elsewhere.

    >>> cell = nbformat.v4.new_code_cell("# x\\n### BEGIN HIDDEN TESTS\\nassert f(3) == 9\\n### END HIDDEN TESTS")
    >>> hidden_lines(nbformat.v4.new_notebook(cells=[cell]))
    ['assert f(3) == 9']
    """
    if nb is None:
        return []
    lines = {line.strip() for cell in nb.cells for block in _hidden_blocks(_source(cell))
             for line in block.splitlines()}
    return sorted((s for s in lines if len(s) >= _MIN_SECRET_LINE), key=lambda s: (-len(s), s))


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every occurrence of a hidden line and of the hidden-test markers blanked.

    >>> scrub("line 3: assert f(3) == 9", ["assert f(3) == 9"])
    'line 3: [hidden test code removed]'
    """
    for secret in [*secrets, HIDDEN_BEGIN, HIDDEN_END]:
        if secret in text:
            text = text.replace(secret, REMOVED)
    return text


def is_hidden_cell(cell: NotebookNode, results: dict[str, CellResult] | None = None) -> bool:
    """Whether a cell holds hidden tests: a hidden-test marker in it, or its result says ``hidden``.

    >>> is_hidden_cell(nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\\n### END HIDDEN TESTS"))
    True
    >>> is_hidden_cell(nbformat.v4.new_code_cell("assert True"))
    False
    """
    source = _source(cell)
    if HIDDEN_BEGIN in source or HIDDEN_END in source:
        return True
    grade_id = nbgrader_meta(cell).get("grade_id")
    return bool(results and grade_id in results and results[grade_id].hidden)


def _exercise(grade_id: str, results: dict[str, CellResult]) -> str:
    if grade_id in results and results[grade_id].exercise:
        return results[grade_id].exercise
    try:
        return exercise_of(grade_id)
    except ValueError:
        return grade_id


@functools.lru_cache(maxsize=1)
def _markdown_it():
    """A markdown-it renderer with raw HTML off (math kept verbatim when mdit-py-plugins is there)."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # pragma: no cover - markdown-it is installed with jupytext
        return None
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    try:
        from mdit_py_plugins.dollarmath import dollarmath_plugin
        md.use(dollarmath_plugin)
    except ImportError:  # pragma: no cover
        pass
    return md


def render_markdown(text: str) -> str:
    """Markdown as HTML, with raw HTML in it escaped (markdown-it, else mistune, else ``<pre>``).

    >>> render_markdown("# Hi <script>x</script>")
    '<h1>Hi &lt;script&gt;x&lt;/script&gt;</h1>\\n'
    """
    renderer = _markdown_it()
    if renderer is not None:
        return renderer.render(text)
    try:  # pragma: no cover
        import mistune
        return mistune.create_markdown(escape=True)(text)
    except (ImportError, AttributeError):  # pragma: no cover
        return f"<pre>{html.escape(text)}</pre>"


# ------------------------------------------------------------------------------------------- feedback

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;margin:2rem auto;
     padding:0 1rem;color:#1f2328;line-height:1.5}
header{border-bottom:2px solid #d0d7de;margin-bottom:1.5rem}
h1{margin-bottom:.2rem} .meta{color:#57606a}
.score{font-size:1.6rem;font-weight:600}
.problem{background:#ffebe9;border:1px solid #ff8182;padding:.6rem 1rem;border-radius:6px}
.notes{background:#fff8c5;border:1px solid #d4a72c;padding:.6rem 1rem;border-radius:6px}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa} tr.failed td{background:#ffebe9} tr.passed td.status{color:#1a7f37}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.cell{margin:1rem 0} .md{padding:0 .2rem}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.6rem;overflow-x:auto;
    white-space:pre-wrap;word-break:break-word;margin:.2rem 0;font-size:.85rem}
pre.out{background:#fff} pre.err{background:#fff5f5;border-color:#ff8182}
.label{font-size:.75rem;color:#57606a;font-family:monospace}
.test{border-left:4px solid #d0d7de;padding-left:.6rem} .test.failed{border-color:#cf222e}
.test.passed{border-color:#1a7f37}
.hidden-src{font-style:italic;color:#57606a}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;font-weight:600}
.badge.failed{background:#cf222e;color:#fff} .badge.passed{background:#1a7f37;color:#fff}
.badge.ungraded{background:#d0d7de}
.diag{background:#ffebe9;border:1px solid #cf222e;border-radius:6px;padding:.6rem;font-weight:500;
      white-space:pre-wrap;font-family:monospace;font-size:.85rem}
.diag.ok{background:#dafbe1;border-color:#1a7f37}
img{max-width:100%}
.math{font-family:"Cambria Math","STIX Two Math",serif;color:#0550ae} div.math{text-align:center;margin:.5rem 0}
"""


def _status_word(cell: CellResult) -> str:
    return "passed" if cell.passed else ("failed" if cell.status == "ok" else f"failed ({cell.status})")


def _header_html(result: SubmissionResult, secrets: list[str]) -> str:
    percent = f" ({100 * result.score / result.max_score:.0f}%)" if result.max_score else ""
    parts = [
        "<header>",
        f"<h1>Feedback: {html.escape(result.chapter)}</h1>",
        f'<p class="meta">Student: <b>{html.escape(result.student)}</b></p>',
        f'<p class="score">Score: {_num(result.score)} / {_num(result.max_score)}{percent}</p>',
    ]
    if result.problem:
        parts.append(f'<div class="problem"><b>Problem:</b> {html.escape(scrub(result.problem, secrets))}'
                     "</div>")
    if result.notes:
        items = "".join(f"<li>{html.escape(scrub(n, secrets))}</li>" for n in result.notes)
        parts.append(f'<div class="notes"><b>Notes</b><ul>{items}</ul></div>')
    parts.append("</header>")
    return "\n".join(parts)


def _table_html(result: SubmissionResult, secrets: list[str]) -> str:
    if not result.cells:
        return "<p>No graded cells.</p>"
    rows = []
    for c in result.cells:
        state = "passed" if c.passed else "failed"
        gid = html.escape(c.grade_id)
        rows.append(
            f'<tr class="{state}"><td><a href="#{gid}">{gid}</a></td><td>{html.escape(c.exercise)}</td>'
            f'<td class="num">{_num(c.points)} / {_num(c.max_points)}</td>'
            f'<td>{"hidden" if c.hidden else "visible"}</td>'
            f'<td class="status">{html.escape(_status_word(c))}</td>'
            f'<td>{html.escape(cap_text(scrub(_first_line(c.message), secrets), 300)) if not c.passed else ""}'
            "</td></tr>")
    return ("<h2>Graded cells</h2><table><thead><tr><th>Test cell</th><th>Exercise</th><th>Points</th>"
            "<th>Tests</th><th>Status</th><th>Diagnostic</th></tr></thead><tbody>\n"
            + "\n".join(rows) + "\n</tbody></table>")


def _output_text(output: NotebookNode) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        return "".join(text) if isinstance(text, list) else str(text)
    if kind == "error":
        return "\n".join(output.get("traceback") or [f"{output.get('ename')}: {output.get('evalue')}"])
    data = output.get("data", {})
    text = data.get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _outputs_html(outputs: list[NotebookNode], secrets: list[str], limit: int) -> str:
    """A code cell's outputs: text escaped and capped (``limit`` characters for the whole cell), images
    embedded as data URIs, HTML/JS outputs shown as their plain-text form (never as markup)."""
    parts, budget = [], limit
    for output in outputs:
        data = output.get("data", {}) if output.get("output_type") in ("display_data", "execute_result") else {}
        image = next((m for m in ("image/png", "image/jpeg", "image/svg+xml") if m in data), None)
        if image:
            raw = data[image]
            raw = "".join(raw) if isinstance(raw, list) else str(raw)
            if image == "image/svg+xml":  # shown through <img>, where an SVG's scripts do not run
                raw = base64.b64encode(raw.encode("utf-8")).decode("ascii")
            if len(raw) > IMAGE_LIMIT or not _BASE64.match(raw):
                parts.append('<pre class="out">[image left out: too large or malformed]</pre>')
            else:
                parts.append(f'<img alt="output image" src="data:{image};base64,{"".join(raw.split())}">')
            continue
        text = _ANSI.sub("", _output_text(output))
        if not text:
            continue
        if budget <= 0:
            parts.append(f'<pre class="out">… {len(text):,} more characters</pre>')
            continue
        shown = cap_text(text, budget)
        budget -= min(len(text), budget)
        css = "out err" if output.get("output_type") == "error" or output.get("name") == "stderr" else "out"
        parts.append(f'<pre class="{css}">{html.escape(scrub(shown, secrets))}</pre>')
    return "\n".join(parts)


def _diagnostic_html(cell: CellResult | None, secrets: list[str]) -> str:
    if cell is None:
        return '<div class="diag">This test cell was not graded.</div>'
    if cell.passed:
        text = cell.message or "All checks passed."
        return f'<div class="diag ok">{html.escape(cap_text(scrub(text, secrets)))}</div>'
    text = cell.message or {"timeout": "The cell ran past its time limit.",
                            "not run": "The cell did not run (the kernel stopped before it)."}.get(
        cell.status, "A check failed.")
    return f'<div class="diag">{html.escape(cap_text(scrub(text, secrets)))}</div>'


def _code_cell_html(cell: NotebookNode, results: dict[str, CellResult], secrets: list[str],
                    limit: int) -> str:
    meta = nbgrader_meta(cell)
    grade_id = meta.get("grade_id")
    is_test = bool(meta.get("grade")) and not meta.get("solution")
    hidden = is_hidden_cell(cell, results)
    anchor = f' id="{html.escape(grade_id)}"' if grade_id else ""
    if not is_test and not hidden:
        source = _redact_blocks(_source(cell))  # no markers here (is_hidden_cell): a second lock
        label = (f'<div class="label">{html.escape(grade_id)} (your answer)</div>'
                 if meta.get("solution") and grade_id else "")
        return (f'<div class="cell code"{anchor}>{label}<pre class="src">{html.escape(source)}</pre>\n'
                f'{_outputs_html(cell.get("outputs", []), secrets, limit)}</div>')

    graded = results.get(grade_id) if grade_id else None
    state = "ungraded" if graded is None else ("passed" if graded.passed else "failed")
    points = f" {_num(graded.points)} / {_num(graded.max_points)}" if graded else ""
    badge = f'<span class="badge {state}">{state}{points}</span>'
    title = f'<div class="label">{html.escape(grade_id or "test cell")} {badge}</div>'
    if hidden:
        exercise = _exercise(grade_id, results) if grade_id else "this exercise"
        body = (f'<pre class="src hidden-src">Hidden tests for {html.escape(exercise)} (not shown)</pre>\n'
                f"{_diagnostic_html(graded, secrets)}")
    else:
        diagnostic = _diagnostic_html(graded, secrets) if graded is None or not graded.passed else ""
        body = (f"{diagnostic}<pre class=\"src\">{html.escape(_source(cell))}</pre>\n"
                f'{_outputs_html(cell.get("outputs", []), secrets, limit)}')
    return f'<div class="cell test {state}"{anchor}>{title}{body}</div>'


def _notebook_html(nb: NotebookNode, results: dict[str, CellResult], secrets: list[str], limit: int) -> str:
    parts = ["<h2>Your notebook</h2>"]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = _redact_blocks(_source(cell))
            parts.append(f'<div class="cell md">{render_markdown(source)}</div>')
        elif cell.cell_type == "code":
            parts.append(_code_cell_html(cell, results, secrets, limit))
        else:
            parts.append(f'<div class="cell raw"><pre>{html.escape(_redact_blocks(_source(cell)))}</pre></div>')
    return "\n".join(parts)


def feedback_html(result: SubmissionResult, notebook: NotebookNode | None, *,
                  output_limit: int = OUTPUT_LIMIT) -> str:
    """The student's feedback page: score, problem and notes, the table of graded cells, then the notebook.

    Hidden test cells show a placeholder and the diagnostic message instead of their code and outputs;
    failed test cells show their diagnostic above the code. Without a notebook (``None``, e.g. the
    submission could not be read) the page has the header and the table only.

    >>> cell = CellResult("test_f", "f", 1, 2, False, "error", "f(2) is wrong")
    >>> r = SubmissionResult("s1", "01-intro", "d", [cell])
    >>> page = feedback_html(r, None)
    >>> "1 / 2" in page and "f(2) is wrong" in page
    True
    """
    results = {c.grade_id: c for c in result.cells}
    secrets = hidden_lines(notebook)
    body = [_header_html(result, secrets), _table_html(result, secrets)]
    if notebook is not None:
        body.append(_notebook_html(notebook, results, secrets, output_limit))
    title = html.escape(f"{result.chapter}: feedback for {result.student}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{title}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def autograded_path(class_dir: Path, student: str, chapter: str) -> Path:
    """``<class_dir>/autograded/<student>/<chapter>/<chapter>.ipynb``."""
    return Path(class_dir) / "autograded" / student / chapter / f"{chapter}.ipynb"


def feedback_path(class_dir: Path, student: str, chapter: str) -> Path:
    """``<class_dir>/feedback/<student>/<chapter>/<chapter>.html``."""
    return Path(class_dir) / "feedback" / student / chapter / f"{chapter}.html"


def _read_notebook_or_none(path: Path) -> NotebookNode | None:
    if not path.is_file():
        return None
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception:  # an unreadable notebook still gets a header-and-table page
        return None


def write_feedback(class_dir: Path, chapter: str, results: list[SubmissionResult]) -> list[Path]:
    """Write each student's feedback page (reading their autograded notebook if there is one)."""
    _safe_name(chapter, "chapter")
    paths = []
    for result in results:
        student = _safe_name(result.student, "student")
        nb = _read_notebook_or_none(autograded_path(class_dir, student, chapter))
        path = feedback_path(class_dir, student, chapter)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(feedback_html(result, nb), encoding="utf-8")
        paths.append(path)
    return paths


# -------------------------------------------------------------------------------------- class summary

@dataclass(frozen=True)
class Bin:
    """One histogram bar: scores in ``[lo, hi)`` (the last bin also holds ``hi``)."""

    lo: float
    hi: float
    count: int


@dataclass(frozen=True)
class Failure:
    """How often one test cell failed across the class, and what students were told most often."""

    grade_id: str
    exercise: str
    hidden: bool
    failed: int
    graded: int
    common_message: str  # the most frequent first line of the failure messages ("" if none failed)


@dataclass
class ClassSummary:
    """Statistics of one chapter over the class (see :func:`class_summary`)."""

    chapter: str
    n_students: int
    max_score: float
    mean: float
    median: float
    min: float
    max: float
    histogram: list[Bin] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # most failed first
    problems: int = 0  # submissions that scored 0 because of a problem
    notes: int = 0  # notes over all submissions
    students_with_notes: int = 0
    review: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (student, exercise, evidence)
    grader_errors: list[tuple[str, str]] = field(default_factory=list)  # (student, what went wrong)
    warnings: list[str] = field(default_factory=list)  # about the run itself (graded without walls, ...)


def _histogram(scores: list[float], max_score: float, bins: int) -> list[Bin]:
    if bins < 1:
        raise ValueError("bins must be at least 1")
    top = max([max_score, *scores]) or 1.0
    width = top / bins
    counts = [0] * bins
    for s in scores:
        counts[min(max(int(s // width), 0), bins - 1)] += 1
    return [Bin(round(i * width, 6), round((i + 1) * width, 6), n) for i, n in enumerate(counts)]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def class_summary(results: list[SubmissionResult], bins: int = 10) -> ClassSummary:
    """Scores, their histogram and the most-failed test cells of one chapter.

    A submission with a ``problem`` counts with its score (0); it adds to ``failed`` only for the cells
    it has results for. ``failures`` lists every test cell, most failed first (ties in notebook order).

    >>> cell = lambda pts: CellResult("test_f", "f", pts, 2, False, "ok" if pts == 2 else "error", "bad")
    >>> s = class_summary([SubmissionResult("a", "c", "", [cell(2)]), SubmissionResult("b", "c", "", [cell(0)])])
    >>> s.mean, s.failures[0].failed, s.failures[0].common_message
    (1.0, 1, 'bad')
    """
    scores = [r.score for r in results]
    chapters = sorted({r.chapter for r in results})
    order: dict[str, int] = {}
    graded: Counter = Counter()
    failed: Counter = Counter()
    messages: dict[str, Counter] = {}
    info: dict[str, CellResult] = {}
    for r in results:
        for c in r.cells:
            order.setdefault(c.grade_id, len(order))
            info.setdefault(c.grade_id, c)
            graded[c.grade_id] += 1
            if not c.passed:
                failed[c.grade_id] += 1
                line = _first_line(c.message) or f"({c.status})"
                messages.setdefault(c.grade_id, Counter())[line] += 1
    failures = [Failure(gid, info[gid].exercise, info[gid].hidden, failed[gid], graded[gid],
                        messages[gid].most_common(1)[0][0] if gid in messages else "")
                for gid in order]
    failures.sort(key=lambda f: (-f.failed, order[f.grade_id]))
    max_score = max((r.max_score for r in results), default=0.0)
    return ClassSummary(
        chapter=", ".join(chapters),
        n_students=len(results),
        max_score=max_score,
        mean=statistics.fmean(scores) if scores else 0.0,
        median=statistics.median(scores) if scores else 0.0,
        min=min(scores, default=0.0),
        max=max(scores, default=0.0),
        histogram=_histogram(scores, max_score, bins),
        failures=failures,
        problems=sum(1 for r in results if r.problem),
        notes=sum(len(r.notes) for r in results),
        students_with_notes=sum(1 for r in results if r.notes),
        review=[(r.student, exercise, list(evidence)) for r in results for exercise, evidence in r.flagged.items()],
        grader_errors=[(r.student, r.problem or "") for r in results if r.grader_error],
        warnings=sorted({n for r in results for n in r.notes if n.startswith(UNWALLED)}),
    )


UNWALLED = "graded WITHOUT the operating system's walls"  # the note every result of such a run carries


def _review_lines(s: "ClassSummary") -> list[str]:
    lines = []
    if s.warnings:
        lines += ["", "## WARNING", ""] + [f"- {w}" for w in s.warnings]
    if s.grader_errors:
        lines += ["", "## Grader errors (0 points until looked at)", ""]
        lines += [f"- {student}: {what}" for student, what in s.grader_errors]
    if s.review:
        lines += ["", "## For review: exercises not counted as the student's own work", "",
                  "| student | exercise | evidence |", "|---|---|---|"]
        lines += [f"| {_md_cell(student)} | {_md_cell(exercise)} | {_md_cell('; '.join(evidence))} |"
                  for student, exercise, evidence in s.review]
    return lines


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def summary_markdown(summary: ClassSummary) -> str:
    """The summary as Markdown tables (readable in a terminal too).

    >>> summary_markdown(class_summary([])).splitlines()[0]
    '# Class summary: (no results)'
    """
    s = summary
    lines = [
        f"# Class summary: {s.chapter or '(no results)'}", "",
        "| students | mean | median | min | max | out of | problems | notes |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {s.n_students} | {s.mean:.2f} | {_num(s.median)} | {_num(s.min)} | {_num(s.max)} "
        f"| {_num(s.max_score)} | {s.problems} | {s.notes} ({s.students_with_notes} students) |",
        "", "## Score distribution", "",
        "| scores | students | |", "|---|---:|---|",
    ]
    peak = max((b.count for b in s.histogram), default=0) or 1
    for i, b in enumerate(s.histogram):
        bracket = "]" if i == len(s.histogram) - 1 else ")"
        bar = "#" * round(20 * b.count / peak)
        lines.append(f"| [{_num(b.lo)}, {_num(b.hi)}{bracket} | {b.count} | {bar} |")
    lines += ["", "## Test cells, most failed first", "",
              "| test cell | exercise | hidden | failed | most common message |", "|---|---|---|---:|---|"]
    for f in s.failures:
        lines.append(f"| {_md_cell(f.grade_id)} | {_md_cell(f.exercise)} | {'yes' if f.hidden else 'no'} "
                     f"| {f.failed} / {f.graded} | {_md_cell(f.common_message)} |")
    lines += _review_lines(s)
    return "\n".join(lines) + "\n"


def histogram_svg(histogram: list[Bin], width: int = 600, height: int = 240) -> str:
    """The histogram as an inline SVG bar chart (no plotting library needed).

    >>> histogram_svg([Bin(0, 1, 2), Bin(1, 2, 0)]).startswith("<svg")
    True
    """
    pad_left, pad_bottom, pad_top = 40, 40, 10
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - pad_top
    peak = max((b.count for b in histogram), default=0) or 1
    bar_w = plot_w / max(len(histogram), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="score histogram" '
             'font-family="sans-serif" font-size="11">',
             f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{pad_left + plot_w}" y2="{pad_top + plot_h}" '
             'stroke="#57606a"/>']
    for i, b in enumerate(histogram):
        h = plot_h * b.count / peak
        x = pad_left + i * bar_w
        y = pad_top + plot_h - h
        parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                     f'fill="#0969da"><title>[{_num(b.lo)}, {_num(b.hi)}): {b.count}</title></rect>')
        if b.count:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 2:.1f}" text-anchor="middle">{b.count}</text>')
        parts.append(f'<text x="{x:.1f}" y="{pad_top + plot_h + 14}" text-anchor="middle">{_num(b.lo)}</text>')
    if histogram:
        parts.append(f'<text x="{pad_left + plot_w:.1f}" y="{pad_top + plot_h + 14}" '
                     f'text-anchor="middle">{_num(histogram[-1].hi)}</text>')
    parts.append(f'<text x="{pad_left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">score</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def summary_html(summary: ClassSummary) -> str:
    """The summary as a self-contained HTML page with an inline SVG histogram."""
    s = summary
    rows = "\n".join(
        f'<tr class="{"failed" if f.failed else "passed"}"><td>{html.escape(f.grade_id)}</td>'
        f"<td>{html.escape(f.exercise)}</td><td>{'yes' if f.hidden else 'no'}</td>"
        f'<td class="num">{f.failed} / {f.graded}</td><td>{html.escape(f.common_message)}</td></tr>'
        for f in s.failures)
    title = html.escape(f"Class summary: {s.chapter or '(no results)'}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_CSS}</style></head>\n<body>\n<h1>{title}</h1>\n"
            "<table><thead><tr><th>Students</th><th>Mean</th><th>Median</th><th>Min</th><th>Max</th>"
            "<th>Out of</th><th>Problems</th><th>Notes</th></tr></thead><tbody>"
            f'<tr><td class="num">{s.n_students}</td><td class="num">{s.mean:.2f}</td>'
            f'<td class="num">{_num(s.median)}</td><td class="num">{_num(s.min)}</td>'
            f'<td class="num">{_num(s.max)}</td><td class="num">{_num(s.max_score)}</td>'
            f'<td class="num">{s.problems}</td><td class="num">{s.notes} ({s.students_with_notes} students)</td>'
            "</tr></tbody></table>\n<h2>Score distribution</h2>\n"
            f"{histogram_svg(s.histogram)}\n<h2>Test cells, most failed first</h2>\n"
            "<table><thead><tr><th>Test cell</th><th>Exercise</th><th>Hidden</th><th>Failed</th>"
            f"<th>Most common message</th></tr></thead><tbody>\n{rows}\n</tbody></table>\n"
            + (f"<pre>{html.escape(chr(10).join(_review_lines(s)))}</pre>\n" if _review_lines(s) else "")
            + "</body></html>\n")


def _reports_dir(class_dir: Path, chapter: str) -> Path:
    return Path(class_dir) / "reports" / _safe_name(chapter, "chapter")


def write_summary(class_dir: Path, chapter: str, results: list[SubmissionResult]) -> Path:
    """Write ``reports/<chapter>/summary.html`` and ``summary.md``; return the HTML file's path."""
    summary = class_summary(results)
    if not summary.chapter:
        summary.chapter = chapter
    folder = _reports_dir(class_dir, chapter)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.md").write_text(summary_markdown(summary), encoding="utf-8")
    path = folder / "summary.html"
    path.write_text(summary_html(summary), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------- Gradescope

def gradescope_results(result: SubmissionResult) -> dict:
    """The Gradescope autograder ``results.json`` content for one submission (one test per graded cell).

    >>> r = SubmissionResult("s1", "c", "d", [CellResult("test_f", "f", 1, 2, True, "error", "f(0) wrong")])
    >>> g = gradescope_results(r)
    >>> g["score"], g["tests"][0]["max_score"], g["tests"][0]["status"]
    (1.0, 2.0, 'failed')
    """
    output = [f"Score: {_num(result.score)} / {_num(result.max_score)}"]
    if result.problem:
        output.append(f"Problem: {result.problem}")
    output += [f"Note: {n}" for n in result.notes]
    tests = []
    for number, c in enumerate(result.cells, start=1):
        name = f"{c.exercise}: {c.grade_id}" + (" (hidden tests)" if c.hidden else "")
        tests.append({
            "name": name,
            "number": str(number),
            "score": float(c.points),
            "max_score": float(c.max_points),
            "status": "passed" if c.passed else "failed",
            "output": c.message if c.message or c.passed else f"The cell ended with status {c.status!r}.",
            "tags": [c.exercise],
            "visibility": "visible",
        })
    return {
        "score": float(result.score),
        "execution_time": round(float(result.seconds), 3),
        "output": "\n".join(output),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(class_dir: Path, chapter: str, results: list[SubmissionResult]) -> list[Path]:
    """Write ``reports/<chapter>/gradescope/<student>/results.json`` for each submission."""
    folder = _reports_dir(class_dir, chapter) / "gradescope"
    paths = []
    for result in results:
        path = folder / _safe_name(result.student, "student") / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(gradescope_results(result), indent=1) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


# ------------------------------------------------------------------------------------------------ CSV

def write_csv(class_dir: Path, chapter: str, results: list[SubmissionResult]) -> Path:
    """Write ``reports/<chapter>/grades.csv``: student, chapter, score, max_score, problem, then the points
    of each test cell (one column per grade_id, in the order first seen; empty where not graded)."""
    grade_ids: dict[str, None] = {}
    for r in results:
        for c in r.cells:
            grade_ids.setdefault(c.grade_id, None)
    columns = ["student", "chapter", "score", "max_score", "problem", *grade_ids]
    path = _reports_dir(class_dir, chapter) / "grades.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for r in sorted(results, key=lambda r: r.student):
            row = {"student": r.student, "chapter": r.chapter, "score": _num(r.score),
                   "max_score": _num(r.max_score), "problem": r.problem or ""}
            row.update({c.grade_id: _num(c.points) for c in r.cells})
            writer.writerow(row)
    return path


def write_all(class_dir: Path, chapter: str, results: list[SubmissionResult]) -> list[Path]:
    """Every report of a chapter: feedback pages, class summary, CSV and Gradescope files; returns their paths."""
    return [*write_feedback(class_dir, chapter, results), write_summary(class_dir, chapter, results),
            write_csv(class_dir, chapter, results), *write_gradescope(class_dir, chapter, results)]
