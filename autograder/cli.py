"""The ``autograder`` command: the instructor pipeline on top of nbgrader, one subcommand per step.

    autograder release                    # source_notebooks/ -> release/ (nbgrader generate_assignment)
    autograder bundle ../handout          # what students get: release notebooks, student wheel, README
    autograder grade 03 submissions.zip   # collect, grade in sandboxed kernels, grade table and reports
    autograder grade 03 subs --cluster tcp://scheduler:8786   # the same, on a Dask cluster's workers
    autograder gradescope 03 -o autograder.zip   # the chapter's autograder bundle for Gradescope
    autograder report 03                  # re-make feedback, summary, CSV, Gradescope JSON from saved results
    autograder export                     # grades.csv
    autograder demo                       # all of the above on the bundled sample class

Run ``autograder COMMAND --help`` for each step's options.
"""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from tqdm.auto import tqdm

from . import pipeline
from .records import result_reports as reports
from .errors import GradingError
from .sandbox.supervisor import UNWALLED_NOTE, Limits

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n\n")[0],
                  pretty_exceptions_enable=False)
console = Console(width=max(Console().width, 160))  # wide enough for the grade table when piped

CourseRoot = typer.Option(None, "--course-root", help="The course repository (default: found from the working directory).")
ClassDir = typer.Option(None, "--class-dir",
                        help="Folder for this class's submissions, grades and feedback (default: the course root).")
ChapterArg = typer.Argument(..., help="Chapter id or number, e.g. 03 or 03-linear-models-and-softmax.")


def _course(course_root: Optional[Path], class_dir: Optional[Path]) -> pipeline.Course:
    try:
        return pipeline.Course.open(course_root, class_dir)
    except GradingError as err:
        _fail(err)


def _fail(err: Exception) -> None:
    console.print(f"[bold red]error:[/] {err}")
    raise typer.Exit(code=2)


def _check_engine(engine: str) -> None:
    if engine not in ("sandbox", "nbgrader"):
        _fail(GradingError(f"unknown engine {engine!r}: use sandbox or nbgrader"))


def _chapters(course: pipeline.Course, chapter: Optional[list[str]]) -> list[str]:
    try:
        return course.chapter_ids(chapter)
    except GradingError as err:
        _fail(err)


@app.command("build-notebooks")
def build_notebooks(chapter: Optional[list[str]] = typer.Argument(None, help="Chapters (default: all built)."),
                    course_root: Optional[Path] = CourseRoot) -> None:
    """Build each source .ipynb from its jupytext twin (source_notebooks/<id>/<id>.py)."""
    course = _course(course_root, None)
    for chapter_id in _chapters(course, chapter):
        changed = course.build_notebook(chapter_id)
        console.print(f"{chapter_id}: {'rebuilt' if changed else 'up to date'}")


@app.command("check-chapter")
def check_chapter(chapter: str = ChapterArg, course_root: Optional[Path] = CourseRoot) -> None:
    """Score the reference answer, every mutant and every alternative of a chapter in-process.

    Exits 1 if a mutant keeps full marks or the reference or an alternative loses any."""
    course = _course(course_root, None)
    try:
        rows = course.check_chapter(course.chapter_ids([chapter])[0])
    except GradingError as err:
        _fail(err)
    table = Table("exercise", "answer", "kind", "points", "verdict", title=f"mutant check: {chapter}")
    bad = 0
    for row in rows:
        ok = row.ok
        bad += not ok
        table.add_row(row.exercise, row.label, row.kind, f"{row.score.earned:g}/{row.score.max_points:g}",
                      "[green]ok[/]" if ok else "[red]WRONG[/]")
    console.print(table)
    for row in rows:
        if not row.ok:
            console.print(f"[red]{row.exercise} / {row.label}[/]: {row.score.failures or 'kept full marks'}")
    raise typer.Exit(code=1 if bad else 0)


BundleDir = typer.Option(None, "--bundle", help="Also write the student bundle (release notebooks, student wheel, "
                                                 "README) into this new folder and a zip beside it.")


@app.command()
def release(chapter: Optional[list[str]] = typer.Argument(None, help="Chapters (default: all built)."),
            course_root: Optional[Path] = CourseRoot, class_dir: Optional[Path] = ClassDir,
            bundle_dir: Optional[Path] = BundleDir) -> None:
    """Generate the student notebooks in release/ (nbgrader generate_assignment, then the install cell and
    the Colab badge from course.toml)."""
    course = _course(course_root, class_dir)
    chapter_ids = _chapters(course, chapter)
    for chapter_id in chapter_ids:
        try:
            course.release(chapter_id)
        except GradingError as err:
            _fail(err)
        console.print(f"released {chapter_id} -> {course.root / 'release' / chapter_id}")
    if bundle_dir is not None:
        _write_bundle(course, bundle_dir, chapter_ids)


@app.command("bundle")
def bundle_command(out_dir: Path = typer.Argument(..., help="A new folder for the bundle (a zip is written beside it)."),
                   chapter: Optional[list[str]] = typer.Option(None, "--chapter", help="Chapters (default: all built)."),
                   course_root: Optional[Path] = CourseRoot) -> None:
    """Write what students receive from release/: the notebooks, the student wheel (the `course` helpers, no
    answers) and a README, as a folder and a zip; refuses if anything would leak an answer."""
    course = _course(course_root, None)
    _write_bundle(course, out_dir, _chapters(course, chapter))


def _write_bundle(course: pipeline.Course, out_dir: Path, chapter_ids: list[str]) -> None:
    try:
        folder, archive = course.bundle(out_dir, chapter_ids)
    except GradingError as err:
        _fail(err)
    console.print(f"student bundle: {folder} ({len(chapter_ids)} notebooks, {course.config.wheel_name}, README.md)")
    console.print(f"zip: {archive}")


@app.command()
def grade(chapter: str = ChapterArg,
          submissions: Path = typer.Argument(..., help="A folder or .zip of submissions: <student>/<chapter>.ipynb "
                                                       "or <student>.ipynb."),
          course_root: Optional[Path] = CourseRoot, class_dir: Optional[Path] = ClassDir,
          engine: str = typer.Option("sandbox", "--engine",
                                     help="sandbox: the hardened grader (isolated kernels, judged outside them, "
                                          "parallel); nbgrader: plain `nbgrader autograde`."),
          workers: int = typer.Option(2, "--workers", "-j", min=1, help="Kernels run at once (sandbox engine)."),
          force: bool = typer.Option(False, "--force", help="Re-grade submissions already graded with the same "
                                                            "inputs (sandbox engine re-uses them otherwise)."),
          cell_timeout: int = typer.Option(Limits.cell_seconds, "--cell-timeout", min=1, help="Seconds per cell."),
          notebook_timeout: int = typer.Option(Limits.notebook_seconds, "--notebook-timeout", min=1,
                                               help="Seconds per notebook."),
          memory_mb: int = typer.Option(Limits.memory_mb, "--memory-mb", min=256,
                                        help="Address space per kernel (MB)."),
          no_walls: bool = typer.Option(False, "--no-walls",
                                        help="Grade even where the operating system's walls (bubblewrap, user "
                                             "namespaces) are missing: student code then runs with only an audit "
                                             "hook around it. Every report says so."),
          cluster: Optional[str] = typer.Option(None, "--cluster", metavar="ADDRESS",
                                                help="A Dask scheduler (tcp://host:8786): each submission runs on "
                                                     "one of its workers (sandbox engine; see autograder/cluster.py "
                                                     "for setting workers up). Default: local worker processes.")
          ) -> None:
    """Collect the submissions, grade them, print the grade table (and, sandboxed, write every report)."""
    _check_engine(engine)
    course = _course(course_root, class_dir)
    try:
        chapter_id = course.chapter_ids([chapter])[0]
        students = course.collect(chapter_id, submissions)
        if engine == "nbgrader":
            results = course.autograde(chapter_id, students, progress=True)
            _print_grades(course, [chapter_id])
            console.print(f"graded {len(results)} submissions, {sum(not r.ok for r in results)} with problems")
            return
        limits = Limits(cell_seconds=cell_timeout, notebook_seconds=notebook_timeout, memory_mb=memory_mb,
                        walls=not no_walls)
        if no_walls:
            console.print(f"[bold red]WARNING[/]: {UNWALLED_NOTE}")
        with ExitStack() as stack:
            executor = None
            if cluster:
                from .cluster import dask_grading

                try:
                    executor = stack.enter_context(dask_grading(cluster, course.root, course.class_dir, chapter_id,
                                                                students, limits))
                except OSError as err:  # no scheduler there, or it did not answer in time
                    raise GradingError(f"the Dask cluster at {cluster} cannot be reached: {err}") from None
                workers_now = len(executor.client.scheduler_info().get("workers", {}))
                console.print(f"grading on the Dask cluster at {cluster}: {workers_now} workers"
                              + (f", dashboard {executor.client.dashboard_link}"
                                 if executor.client.dashboard_link else ""))
            with tqdm(total=len(students), desc=f"grading {chapter_id}", unit="student") as bar:
                run = course.grade_sandboxed(chapter_id, students, limits, workers=workers, force=force,
                                             progress=lambda result: bar.update(), executor=executor)
    except GradingError as err:
        _fail(err)

    _print_results(course, chapter_id, run.results)
    console.print(reports.summary_markdown(reports.class_summary(run.results)))
    if no_walls:
        console.print(f"[bold red]WARNING[/]: {UNWALLED_NOTE}")
    console.print(f"graded {run.graded} submissions now, re-used {len(run.results) - run.graded} earlier results; "
                  f"gradebook backup: {run.backup or 'none (new gradebook)'}")
    console.print(f"reports under {course.class_dir / 'reports' / chapter_id}, feedback under "
                  f"{course.class_dir / 'feedback'}")


@app.command("gradescope")
def gradescope_command(chapter: str = ChapterArg,
                       output: Path = typer.Option(Path("autograder.zip"), "--output", "-o", help="The zip to write."),
                       hidden_visibility: str = typer.Option(
                           "visible", "--hidden-visibility",
                           help="When students see the results of hidden test cells (their diagnoses only, never "
                                "the tests): visible, hidden, after_due_date or after_published."),
                       cell_timeout: int = typer.Option(Limits.cell_seconds, "--cell-timeout", min=1),
                       notebook_timeout: int = typer.Option(480, "--notebook-timeout", min=1,
                                                            help="Seconds per notebook (keep it under the "
                                                                 "assignment's Gradescope timeout)."),
                       memory_mb: int = typer.Option(Limits.memory_mb, "--memory-mb", min=256),
                       course_root: Optional[Path] = CourseRoot) -> None:
    """Write the Gradescope autograder zip of one chapter (setup.sh, run_autograder, the grader, the notebooks)."""
    from . import gradescope

    course = _course(course_root, None)
    try:
        chapter_id = course.chapter_ids([chapter])[0]
        options = gradescope.BundleOptions(chapter_id, cell_seconds=cell_timeout, notebook_seconds=notebook_timeout,
                                           memory_mb=memory_mb, hidden_visibility=hidden_visibility)
        path = gradescope.write_bundle(course.root, chapter_id, output, options)
    except (GradingError, ValueError) as err:
        _fail(err)
    console.print(f"Gradescope autograder for {chapter_id}: {path}")
    console.print("upload it under the assignment's Configure Autograder > Zip file upload (Ubuntu base image)")


@app.command()
def feedback(chapter: str = ChapterArg, course_root: Optional[Path] = CourseRoot,
             class_dir: Optional[Path] = ClassDir) -> None:
    """Write feedback HTML for every graded student (hidden tests and solutions stripped)."""
    course = _course(course_root, class_dir)
    try:
        paths = course.feedback(course.chapter_ids([chapter])[0])
    except GradingError as err:
        _fail(err)
    for path in paths:
        console.print(f"feedback: {path}")


@app.command()
def report(chapter: str = ChapterArg, course_root: Optional[Path] = CourseRoot,
           class_dir: Optional[Path] = ClassDir) -> None:
    """Re-make the reports of a chapter graded in the sandbox (feedback, summary, CSV, Gradescope), no re-grading."""
    course = _course(course_root, class_dir)
    try:
        chapter_id = course.chapter_ids([chapter])[0]
        paths = course.write_reports(chapter_id)
    except GradingError as err:
        _fail(err)
    console.print(reports.summary_markdown(reports.class_summary(course.saved_results(chapter_id))))
    console.print(f"wrote {len(paths)} files under {course.class_dir}")


@app.command()
def export(output: Path = typer.Option(Path("grades.csv"), "--output", "-o", help="CSV file to write."),
           course_root: Optional[Path] = CourseRoot, class_dir: Optional[Path] = ClassDir) -> None:
    """Export every grade in the gradebook to CSV (one row per student and chapter)."""
    course = _course(course_root, class_dir)
    path = course.export_csv(output)
    console.print(f"wrote {path}")


@app.command()
def demo(class_dir: Path = typer.Option(Path("classes/sample"), "--class-dir",
                                        help="Where the sample class is graded (wiped first)."),
         chapter: Optional[list[str]] = typer.Option(None, "--chapter", help="Chapters (default: all built)."),
         engine: str = typer.Option("nbgrader", "--engine", help="nbgrader (plain nbgrader autograde) or sandbox "
                                                                 "(the hardened grader)."),
         course_root: Optional[Path] = CourseRoot) -> None:
    """Release, make sample submissions (perfect, blank, partly wrong), grade, feedback, CSV."""
    _check_engine(engine)
    course = _course(course_root, class_dir)
    chapter_ids = _chapters(course, chapter)
    try:
        summary = pipeline.run_demo(course, chapter_ids, log=console.print, engine=engine)
    except GradingError as err:
        _fail(err)
    _print_grades(course, chapter_ids)
    console.print(f"feedback HTML under {course.class_dir / 'feedback'}")
    console.print(f"grades CSV: {summary.csv}")


def _print_results(course: pipeline.Course, chapter_id: str, results) -> None:
    """The grade table of a sandboxed run, from the results in memory, checked against the gradebook."""
    table = Table(title="grades (points / max)", caption=chapter_id)
    for header in ("student", chapter_id[:2], "note"):
        table.add_column(header, no_wrap=header != "note")
    for result in sorted(results, key=lambda r: r.student):
        note = ("grader error" if result.grader_error else result.problem or "") + (
            f" for review: {', '.join(result.flagged)}" if result.flagged else "")
        table.add_row(result.student, f"{result.score:g} / {result.max_score:g}", note.strip()[:80])
    console.print(table)
    book = {r.student: r for r in course.grade_rows() if r.chapter == chapter_id}
    for result in results:
        row = book.get(result.student)
        if row is None or abs(row.score - result.score) > 1e-9 or abs(row.max_score - result.max_score) > 1e-9:
            console.print(f"[bold red]the gradebook disagrees with the grader for {result.student}[/]: "
                          f"graded {result.score:g}, gradebook {'nothing' if row is None else f'{row.score:g}'}")


def _print_grades(course: pipeline.Course, chapter_ids: list[str]) -> None:
    rows = course.grade_rows()
    students = sorted({r.student for r in rows})
    table = Table(title="grades (points / max)", caption="  ".join(chapter_ids))
    for header in ("student", *(c[:2] for c in chapter_ids), "total"):
        table.add_column(header, no_wrap=True)
    by_key = {(r.student, r.chapter): r for r in rows}
    for student in students:
        cells, earned, possible = [], 0.0, 0.0
        for chapter_id in chapter_ids:
            row = by_key.get((student, chapter_id))
            cells.append("-" if row is None else f"{row.score:g} / {row.max_score:g}")
            if row is not None:
                earned, possible = earned + row.score, possible + row.max_score
        table.add_row(student, *cells, f"{earned:g} / {possible:g}")
    console.print(table)
    problems = [r for r in rows if r.problem and r.chapter in chapter_ids]
    for row in problems:
        console.print(f"[yellow]{row.student}[/] ({row.chapter}): {row.problem}")


def main() -> None:  # pragma: no cover
    app()
