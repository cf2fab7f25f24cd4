"""Time grading a whole class: plain ``nbgrader autograde`` against ``autograder grade`` (the sandboxed engine).

    python benchmarks/grading.py                         # 40 students of chapter 01, 2 workers
    python benchmarks/grading.py --students 80 --workers 4 --keep bench-classes
    python benchmarks/grading.py --markdown              # also print a table row for the README
    python benchmarks/grading.py --throughput            # 1 and 2 local workers, 2 Dask workers; a term's hours

What it does, in one run:

1. Builds a class of N submissions (``inbox/<student>/<chapter>.ipynb``) from the student release: a few
   perfect (every solution from the source notebook), a few blank (the release as is), and the rest with a
   random subset of the exercises answered, each by a random mutant or a random correct alternative from
   ``autograder/mutants`` (``random.Random(seed)``), so the scores vary.
2. Grades the same submissions twice, each in its own fresh class folder, timing each end to end as an
   instructor runs it (the chapter is released into each class's gradebook first, untimed):

   a. **nbgrader**: the submissions are copied to ``A/submitted/<student>/<chapter>/<chapter>.ipynb``, then
      ``nbgrader autograde CHAPTER --force`` runs as a subprocess with ``A`` as its working directory.
      The class is configured the way :func:`autograder.config.class_config` configures it: ``A`` gets a
      small ``nbgrader_config.py`` that loads the course's own ``nbgrader_config.py``
      (``load_subconfig``) and then sets the same four ``CourseDirectory`` settings ``class_config`` sets
      (root = the class folder, source and release folders = the course's, gradebook in the class
      folder). So the real nbgrader CLI runs with exactly the course's preprocessors, timeouts, ignore
      pattern and output limits, one kernel after another, as nbgrader does.
   b. **ours**: ``autograder grade CHAPTER INBOX --class-dir B --workers W`` as a subprocess (intake,
      sandboxed kernels in W parallel workers, judging, gradebook, result files and every report).

3. Reads both gradebooks and checks that every student has the same score in both; if not, prints a
   diff table (per test cell) and exits 1. Otherwise prints the timings, and with ``--markdown`` a
   one-line Markdown table row:
   ``| chapter | students | cores | workers | nbgrader s | ours s | nbgrader s/sub | ours s/sub | ratio |``.

Note: the time of each grader includes its Python start-up and imports, as an instructor would see it.
The release step touches the course's ``release/<chapter>`` folder exactly as ``autograder release`` does.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

from autograder import mutants  # noqa: E402
from autograder.notebooks import nbgrader_meta, read_notebook, solution_cells, strip_solution_markers  # noqa: E402
from autograder.paths import release_notebook, source_notebook  # noqa: E402
from autograder.samples import fill_answers  # noqa: E402

BIN = Path(sys.executable).parent
COURSE_ID = "dlcourse"


# -- the class ---------------------------------------------------------------------------------------------
def build_class(chapter_id: str, n: int, seed: int, inbox: Path) -> dict[str, str]:
    """Write ``inbox/<student>/<chapter>.ipynb`` for n students; return ``{student: description}``."""
    rng = random.Random(seed)
    source = read_notebook(source_notebook(ROOT, chapter_id))
    release = read_notebook(release_notebook(ROOT, chapter_id))
    reference = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source) for c in solution_cells(source)}
    module = mutants.for_chapter(chapter_id)
    if module is None:
        raise SystemExit(f"{chapter_id} has no mutants module in autograder/mutants/")
    exercises = [e for e in reference if e in module.MUTANTS or e in module.ALTERNATIVES]
    n_perfect = n_blank = max(2, n // 20)
    described = {}
    for i in range(n):
        student = f"student-{i + 1:03d}"
        if i < n_perfect:
            answers, what = dict(reference), "perfect"
        elif i < n_perfect + n_blank:
            answers, what = {}, "blank"
        else:
            answers, parts = {}, []
            for exercise in exercises:
                if rng.random() < 0.3:
                    continue  # left unanswered (the release's stub raises NotImplementedError)
                kind = rng.choice([k for k, table in (("mutant", module.MUTANTS), ("alternative", module.ALTERNATIVES))
                                   if table.get(exercise)])
                table = module.MUTANTS if kind == "mutant" else module.ALTERNATIVES
                label = rng.choice(sorted(table[exercise]))
                answers[exercise] = table[exercise][label]
                parts.append(f"{exercise}: {kind} {label!r}")
            what = "; ".join(parts) or "nothing answered"
        path = inbox / student / f"{chapter_id}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(fill_answers(release, answers) if answers else release, str(path))
        described[student] = what
    return described


# -- grading -----------------------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env.pop("DLCOURSE_ROOT", None)
    return env


def _run(cmd: list[str], cwd: Path, log: Path) -> float:
    """Run ``cmd``; return its wall time in seconds (stop with its log if it fails)."""
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(cmd, cwd=cwd, env=_env(), stdout=out, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(log.read_text()[-4000:])
        raise SystemExit(f"{' '.join(map(str, cmd))} failed with exit status {proc.returncode} (log: {log})")
    return elapsed


def release(chapter_id: str, class_dir: Path, logs: Path) -> None:
    _run([str(BIN / "autograder"), "release", chapter_id, "--course-root", str(ROOT), "--class-dir", str(class_dir)],
         ROOT, logs / f"release-{class_dir.name}.log")


def write_nbgrader_config(class_dir: Path) -> None:
    """The class's nbgrader_config.py: the course's file, then what autograder.config.class_config sets."""
    (class_dir / "nbgrader_config.py").write_text(
        "# Written by benchmarks/grading.py: mirrors autograder.config.class_config for this class folder.\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(ROOT / 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(class_dir)!r}\n"
        f"c.CourseDirectory.source_directory = {str(ROOT / 'source_notebooks')!r}\n"
        f"c.CourseDirectory.release_directory = {str(ROOT / 'release')!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(class_dir / 'gradebook.db')!r}\n")


def grade_nbgrader(chapter_id: str, inbox: Path, class_dir: Path, logs: Path) -> float:
    write_nbgrader_config(class_dir)
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir()):
        target = class_dir / "submitted" / folder.name / chapter_id / f"{chapter_id}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / f"{chapter_id}.ipynb", target)
    return _run([str(BIN / "nbgrader"), "autograde", chapter_id, "--force"], class_dir, logs / "nbgrader.log")


def grade_ours(chapter_id: str, inbox: Path, class_dir: Path, workers: int, logs: Path,
               cluster: str | None = None) -> float:
    extra = ["--cluster", cluster] if cluster else []
    name = f"ours-{'dask' if cluster else 'local'}-{workers}.log"
    return _run([str(BIN / "autograder"), "grade", chapter_id, str(inbox), "--course-root", str(ROOT),
                 "--class-dir", str(class_dir), "--workers", str(workers), *extra], ROOT, logs / name)


TERM_NOTEBOOKS = 40_000  # 2,000 students x 20 chapters


def throughput(chapter_id: str, inbox: Path, base: Path, logs: Path, n: int) -> int:
    """Submissions per second with 1 and 2 local workers and with 2 Dask workers (a scheduler and two worker
    processes on this machine), the same scores from all three, and what a term takes on more machines."""
    from distributed import LocalCluster

    runs: dict[str, tuple[float, Path]] = {}
    for label, workers in (("local, 1 worker", 1), ("local, 2 workers", 2)):
        class_dir = base / f"class-{workers}"
        release(chapter_id, class_dir, logs)
        runs[label] = (grade_ours(chapter_id, inbox, class_dir, workers, logs), class_dir)
        print(f"{label}: {runs[label][0]:.1f} s", flush=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster:
        class_dir = base / "class-dask"
        release(chapter_id, class_dir, logs)
        runs["Dask, 2 workers"] = (grade_ours(chapter_id, inbox, class_dir, 2, logs, cluster.scheduler_address),
                                   class_dir)
        print(f"Dask, 2 workers: {runs['Dask, 2 workers'][0]:.1f} s", flush=True)
    scores = {label: read_scores(class_dir, chapter_id) for label, (_, class_dir) in runs.items()}
    first = next(iter(scores.values()))
    if any(s != first for s in scores.values()):
        print("SCORES DIFFER between the runs")
        return 1
    cores = os.cpu_count()
    print(f"\nthe same scores for all {n} students in the three runs; {cores} cores\n")
    print("| engine | seconds | submissions / s | s / submission |\n|---|---:|---:|---:|")
    for label, (seconds, _) in runs.items():
        print(f"| {label} | {seconds:.1f} | {n / seconds:.2f} | {seconds / n:.2f} |")
    rate = n / runs["Dask, 2 workers"][0]  # one machine of this size, as a Dask cluster uses it
    print(f"\nA term of {TERM_NOTEBOOKS:,} notebooks at the measured {rate:.2f} submissions/s per {cores}-core "
          f"machine (Dask run), assuming throughput grows linearly with machines:\n")
    print(f"| machines ({cores} cores each) | hours for {TERM_NOTEBOOKS:,} notebooks |\n|---:|---:|")
    for machines in (1, 10, 100):
        print(f"| {machines} | {TERM_NOTEBOOKS / (rate * machines) / 3600:.1f} |")
    return 0


def kernel_stalls(class_dir: Path, chapter_id: str, threshold: float = 30.0) -> dict[str, float]:
    """``{student: seconds}`` nbgrader spent waiting on an idle kernel (gaps longer than ``threshold``).

    nbclient records in each executed cell when the kernel went busy and when its reply came. Between
    one cell's reply and the next cell's busy only milliseconds of messaging should pass; so too between
    nbgrader's first write of the autograded notebook and the first cell, and between the last cell and
    the final write. In this environment (ipykernel 7.x) the kernel sometimes sits idle instead until
    nbclient's ``Execute.timeout`` (300 s in the course config) runs out and it interrupts the kernel, after
    which everything carries on: the score is unaffected, the time is lost.
    """
    from datetime import datetime

    def when(stamp: str) -> float:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    stalls = {}
    for path in sorted((class_dir / "autograded").glob(f"*/{chapter_id}/{chapter_id}.ipynb")):
        marks = [path.parent.stat().st_mtime]  # the folder is made when the sanitized copy is first written
        for cell in read_notebook(path).cells:
            meta = cell.get("metadata", {}).get("execution", {})
            if "iopub.status.busy" in meta:
                marks.append(when(meta["iopub.status.busy"]))
                marks.append(when(meta.get("shell.execute_reply") or meta.get("iopub.status.idle")
                                  or meta["iopub.status.busy"]))
        marks.append(path.stat().st_mtime)  # the executed notebook is written right after the last cell
        gaps = [marks[i + 1] - marks[i] for i in range(0, len(marks) - 1, 2)]  # between cells, not within
        lost = sum(g for g in gaps if g > threshold)
        if lost:
            stalls[path.parents[1].name] = lost
    return stalls


# -- comparing ---------------------------------------------------------------------------------------------
def read_scores(class_dir: Path, chapter_id: str) -> dict[str, tuple[float, dict[str, float]]]:
    """``{student: (score, {grade cell: score})}`` from the class's gradebook."""
    out = {}
    with Gradebook(f"sqlite:///{class_dir / 'gradebook.db'}", COURSE_ID) as gb:
        for submission in gb.assignment_submissions(chapter_id):
            cells = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    cells[grade.name] = float(grade.score)
            out[submission.student_id] = (float(submission.score), cells)
    return out


def compare(a: dict, b: dict, described: dict[str, str]) -> list[str]:
    """Lines of a diff table, empty when every student scores the same in both gradebooks."""
    lines = []
    for student in sorted(set(a) | set(b) | set(described)):
        if student not in a or student not in b:
            lines.append(f"{student}: missing from {'nbgrader' if student not in a else 'ours'}'s gradebook")
            continue
        (score_a, cells_a), (score_b, cells_b) = a[student], b[student]
        if score_a == score_b:
            continue
        lines.append(f"{student}: nbgrader {score_a:g}, ours {score_b:g}  ({described.get(student, '')})")
        for cell in sorted(set(cells_a) | set(cells_b)):
            ca, cb = cells_a.get(cell), cells_b.get(cell)
            if ca != cb:
                lines.append(f"    {cell:32s} nbgrader {ca}  ours {cb}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapter", default="01-statistics-and-estimators")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="Keep the class folders here (default: a temporary folder).")
    parser.add_argument("--markdown", action="store_true", help="Also print a Markdown table row for the README.")
    parser.add_argument("--throughput", action="store_true",
                        help="Instead of nbgrader: 1 and 2 local workers and 2 Dask workers, and a term's hours.")
    args = parser.parse_args(argv)
    if args.students < 40:
        parser.error("--students must be at least 40")

    if args.keep:
        base = args.keep.resolve()
        if base.exists() and any(base.iterdir()):
            parser.error(f"{base} is not empty")
        base.mkdir(parents=True, exist_ok=True)
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="grading-bench-")
        base = Path(tmp.name)
    try:
        inbox, logs = base / "inbox", base / "logs"
        logs.mkdir(parents=True)
        class_a, class_b = base / "class-nbgrader", base / "class-ours"
        for class_dir in (class_a, class_b):  # untimed; also (re)builds the release the submissions start from
            release(args.chapter, class_dir, logs)
        described = build_class(args.chapter, args.students, args.seed, inbox)
        print(f"{args.students} submissions of {args.chapter} under {inbox}", flush=True)
        if args.throughput:
            return throughput(args.chapter, inbox, base, logs, args.students)

        t_nbgrader = grade_nbgrader(args.chapter, inbox, class_a, logs)
        print(f"nbgrader autograde: {t_nbgrader:.1f} s", flush=True)
        t_ours = grade_ours(args.chapter, inbox, class_b, args.workers, logs)
        print(f"autograder grade:   {t_ours:.1f} s", flush=True)

        scores_a, scores_b = read_scores(class_a, args.chapter), read_scores(class_b, args.chapter)
        diff = compare(scores_a, scores_b, described)
        n, cores = args.students, os.cpu_count()
        spread = sorted({s for s, _ in scores_a.values()})
        print(f"students {n}  distinct scores {len(spread)} ({spread[0]:g}..{spread[-1]:g})")
        print(f"nbgrader {t_nbgrader:.1f} s ({t_nbgrader / n:.2f} s/submission)  "
              f"ours {t_ours:.1f} s ({t_ours / n:.2f} s/submission)  ratio nbgrader/ours {t_nbgrader / t_ours:.2f}x  "
              f"cores {cores}  workers {args.workers}")
        stalls = kernel_stalls(class_a, args.chapter)
        if stalls:
            lost = sum(stalls.values())
            print(f"nbgrader's kernel stalled between cells in {len(stalls)} submissions ({lost:.0f} s in all: "
                  f"{', '.join(f'{k} {v:.0f} s' for k, v in sorted(stalls.items()))}); without those stalls "
                  f"nbgrader would take {t_nbgrader - lost:.1f} s, ratio {(t_nbgrader - lost) / t_ours:.2f}x")
        if args.markdown:
            print(f"| {args.chapter} | {n} | {cores} | {args.workers} | {t_nbgrader:.1f} | {t_ours:.1f} | "
                  f"{t_nbgrader / n:.2f} | {t_ours / n:.2f} | {t_nbgrader / t_ours:.2f}x |")
        if diff:
            print(f"\nSCORES DIFFER for {sum(not l.startswith(' ') for l in diff)} students:")
            print("\n".join(diff))
            return 1
        print("every student has the same score in both gradebooks")
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()
        else:
            print(f"class folders kept under {base}")


if __name__ == "__main__":
    sys.exit(main())
