"""Grading on Gradescope: the autograder bundle (:func:`write_bundle`) and what runs inside it (:func:`run`).

    autograder gradescope 03 -o autograder.zip     # upload as the assignment's autograder ("Zip file upload")

The zip holds, at its root, what Gradescope expects: ``setup.sh`` (run once as root when Gradescope builds
the image: a Python >= 3.11 virtual environment in ``/opt/dlcourse-grader`` with the course's dependencies
and the student wheel, bubblewrap if apt can install it, and the unprivileged user ``grader-kernel``) and
``run_autograder`` (run per submission). Beside them: the grading code as source (``grader/``: never
installed where a kernel could import or read it), the chapter's source and release notebooks
(``course/``: the hidden tests live in the source notebook), the student wheel and ``gradescope.json``.

Per submission, :func:`run` takes Gradescope's layout under a root (``/autograder``; ``--root`` or
``$AUTOGRADER_ROOT`` moves it) through small steps:

1. :func:`lock_down`: ``source/``, ``submission/`` and ``results/`` owned by root, mode 700;
2. :func:`choose_wall`: bubblewrap's walls where user namespaces work, else the kernel's own uid
   (:mod:`autograder.sandbox.uid_wall`), else a refusal: never a kernel without a wall;
3. :func:`find_submission`: the one notebook of the chapter in ``submission/`` (none, several or a broken
   one is a clear 0);
4. :func:`grade`: :func:`autograder.engine.grade_submission`, exactly as ``autograder grade`` grades, then
   every process of the kernel's uid killed;
5. :func:`results_json` and :func:`write_results`: ``results/results.json`` in Gradescope's format, one test
   per graded cell with the diagnosis the feedback page shows (hidden test code never), written last.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import tomllib
import traceback
import zipfile
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

__all__ = ["BundleOptions", "bundle_files", "write_bundle", "lock_down", "choose_wall", "find_submission",
           "grade", "results_json", "write_results", "run", "VISIBILITIES", "KERNEL_USER", "VENV"]

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
KERNEL_USER = "grader-kernel"
VENV = "/opt/dlcourse-grader"
CONFIG = "gradescope.json"
STUDENT = "submission"
OUTPUT_CHARS = 4000  # of a visible test cell's captured output, per test
# what the grader needs at run time (the student's kernel gets its packages from the same environment)
_NOT_NEEDED = {"jupyterlab", "nbgrader", "nbclient", "typer", "distributed"}  # (tests/test_gradescope.py checks)


# -- the bundle ------------------------------------------------------------------------------------------

@dataclass
class BundleOptions:
    """What ``gradescope.json`` tells :func:`run` (each can be changed in the zip before uploading)."""

    chapter: str
    cell_seconds: int = 120
    notebook_seconds: int = 480  # Gradescope stops an autograder at its own timeout (10 min by default)
    memory_mb: int = 4096
    hidden_visibility: str = "visible"  # of the tests that are hidden test cells (their diagnoses only)
    wall: str = "auto"  # "auto", "bubblewrap" or "uid"
    kernel_user: str = KERNEL_USER
    kernel_python: str = ""  # default: the grader's own interpreter

    def __post_init__(self) -> None:
        if self.hidden_visibility not in VISIBILITIES:
            raise ValueError(f"hidden_visibility must be one of {', '.join(VISIBILITIES)}")
        if self.wall not in ("auto", "bubblewrap", "uid"):
            raise ValueError("wall must be auto, bubblewrap or uid")

    @classmethod
    def load(cls, source: Path) -> "BundleOptions":
        return cls(**json.loads((Path(source) / CONFIG).read_text(encoding="utf-8")))


SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu).
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
VENV="${AUTOGRADER_VENV:-@VENV@}"
KERNEL_USER=@KERNEL_USER@
export DEBIAN_FRONTEND=noninteractive
APT=0
if command -v apt-get >/dev/null && apt-get update -qq; then APT=1; fi
if [ "$APT" = 1 ]; then
  apt-get install -y -qq bubblewrap || echo "bubblewrap could not be installed: kernels will run as $KERNEL_USER"
fi
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PY="$(command -v "$candidate")"; break
  fi
done
if [ -z "$PY" ] && [ "$APT" = 1 ]; then
  apt-get install -y -qq python3.11 python3.11-venv && PY="$(command -v python3.11)"
fi
[ -n "$PY" ] || { echo "setup.sh: no Python >= 3.11 and apt cannot install one" >&2; exit 1; }
if ! "$PY" -m venv --clear "$VENV"; then
  [ "$APT" = 1 ] && apt-get install -y -qq "$(basename "$PY")-venv"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r "$SOURCE/requirements.txt" "$SOURCE"/wheels/*.whl
chmod -R a+rX "$VENV"
id -u "$KERNEL_USER" >/dev/null 2>&1 || \
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$KERNEL_USER"
chmod 700 "$SOURCE"
chmod +x "$SOURCE/run_autograder"
echo "setup.sh: grader environment in $VENV, kernel user $KERNEL_USER, bubblewrap: $(command -v bwrap || echo none)"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this once per submission, as root. AUTOGRADER_ROOT moves Gradescope's layout (for tests).
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${AUTOGRADER_PYTHON:-@VENV@/bin/python}"
mkdir -p "$ROOT/results"
PYTHONPATH="$ROOT/source/grader${PYTHONPATH:+:$PYTHONPATH}" PYTHONNOUSERSITE=1 "$PY" -m autograder.gradescope --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  printf '{"score": 0.0, "output": "The autograder failed before it could grade (exit status %s). Please tell your instructor.", "tests": []}\n' \
    "$status" > "$ROOT/results/results.json"
fi
exit 0
"""


def requirements(course_root: Path) -> str:
    """``requirements.txt``: the course's run-time dependencies, pinned to the versions graded with here."""
    project = tomllib.loads((Path(course_root) / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = ["# the versions this course was graded with; torch from its CPU-only index",
             "--extra-index-url https://download.pytorch.org/whl/cpu"]
    for spec in project["dependencies"]:
        name = spec.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip()
        if name.lower() in _NOT_NEEDED:
            continue
        try:
            lines.append(f"{name}=={metadata.version(name).split('+')[0]}")
        except metadata.PackageNotFoundError:
            lines.append(spec)
    return "\n".join(lines) + "\n"


def _tree(folder: Path, prefix: str) -> dict[str, Path]:
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and "__pycache__" not in parts and path.suffix not in (".pyc", ".pyo") \
                and not any(p.startswith(".") for p in parts):
            out[f"{prefix}/{'/'.join(parts)}"] = path
    return out


def bundle_files(course_root: Path, chapter_id: str, wheel: Path, options: BundleOptions) -> dict[str, bytes | Path]:
    """Every file of the bundle: its name in the zip and its content (bytes) or the file to copy."""
    from .paths import release_notebook, source_notebook

    root = Path(course_root)
    notebooks = {f"course/source_notebooks/{chapter_id}/{chapter_id}.ipynb": source_notebook(root, chapter_id),
                 f"course/release/{chapter_id}/{chapter_id}.ipynb": release_notebook(root, chapter_id)}
    for name, path in notebooks.items():
        if not path.is_file():
            from .errors import GradingError

            raise GradingError(f"{chapter_id} has no notebook at {path}: build and release it first")
    substitute = {"@VENV@": VENV, "@KERNEL_USER@": options.kernel_user}

    def script(text: str) -> bytes:
        for key, value in substitute.items():
            text = text.replace(key, value)
        return text.encode()

    files: dict[str, bytes | Path] = {
        "setup.sh": script(SETUP_SH),
        "run_autograder": script(RUN_AUTOGRADER),
        CONFIG: (json.dumps(asdict(options), indent=1) + "\n").encode(),
        "requirements.txt": requirements(root).encode(),
        f"wheels/{wheel.name}": wheel,
        **notebooks,
    }
    for package in ("autograder", "solutions_lib"):
        files.update(_tree(root / package, f"grader/{package}"))
    return files


_EXECUTABLE = {"setup.sh", "run_autograder"}


def write_bundle(course_root: Path, chapter_id: str, out: Path, options: BundleOptions | None = None) -> Path:
    """Write the Gradescope autograder zip for ``chapter_id`` to ``out``; return its path."""
    from .student import build_student_wheel

    options = options or BundleOptions(chapter_id)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        wheel = build_student_wheel(Path(course_root), Path(tmp))
        files = bundle_files(course_root, chapter_id, wheel, options)
        partial = out.with_name(f".{out.name}.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                content = files[name]
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = ((0o755 if name in _EXECUTABLE else 0o644) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content if isinstance(content, bytes) else content.read_bytes())
        os.replace(partial, out)
    return out


# -- per submission ----------------------------------------------------------------------------------------

class Refused(Exception):
    """No wall can be built here: grading would run student code unwalled."""


def lock_down(root: Path) -> None:
    """Make the bundle, the submission and the results root's alone (owner root, mode 700)."""
    for name in ("source", "submission", "results"):
        folder = Path(root) / name
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(folder, 0, 0)
        os.chmod(folder, 0o700)


@dataclass
class Wall:
    """The wall chosen for this run: ``name`` ("bubblewrap" or "uid") and, for "uid", its user."""

    name: str
    run_as: object = None  # autograder.sandbox.uid_wall.UidWall
    why_not: list[str] = field(default_factory=list)  # why each stronger wall was not used

    @property
    def description(self) -> str:
        if self.name == "bubblewrap":
            return ("bubblewrap (own namespaces: no network, only the Python packages mounted, read-only)"
                    + (f", started as a user of its own (uid {self.run_as.uid})" if self.run_as else ""))
        return f"a user of its own (uid {self.run_as.uid}) that cannot read or write the grader's files"


def _kernel_user(options: BundleOptions):
    """``(UidWall, None)`` when kernels can run as the kernel user here, else ``(None, why not)``."""
    from .sandbox.uid_wall import UidWall

    try:
        wall = UidWall.lookup(options.kernel_user, options.kernel_python)
    except LookupError as err:
        return None, str(err)
    reason = wall.status()
    return (wall, None) if reason is None else (None, reason)


def choose_wall(options: BundleOptions) -> Wall:
    """Bubblewrap's walls where they can be built, started as the kernel user where that works too (the
    sandbox's uid is then that user's outside, not root's); else the kernel user alone; else :class:`Refused`.
    """
    from .sandbox.walls import walls_status

    why_not = []
    user, user_problem = _kernel_user(options)
    if options.wall in ("auto", "bubblewrap"):
        reason = walls_status()
        if reason is None:
            own_python = not options.kernel_python or \
                os.path.realpath(options.kernel_python) == os.path.realpath(sys.executable)
            if user is not None and own_python and walls_status(user) is None:
                return Wall("bubblewrap", user)
            return Wall("bubblewrap")
        why_not.append(f"bubblewrap: {reason}")
    if options.wall in ("auto", "uid"):
        if user is not None:
            return Wall("uid", user, why_not)
        why_not.append(f"a kernel user ({options.kernel_user}): {user_problem}")
    raise Refused("; ".join(why_not))


def find_submission(folder: Path, chapter_id: str) -> tuple[Path | None, str | None]:
    """``(notebook, problem)``: the chapter's notebook in ``folder``, or None and why it cannot be graded."""
    folder = Path(folder)
    found = sorted(p for p in folder.rglob("*.ipynb")
                   if p.is_file() and not p.is_symlink() and ".ipynb_checkpoints" not in p.parts
                   and not any(part.startswith("__MACOSX") for part in p.parts))
    if not found:
        return None, (f"no notebook was submitted: upload {chapter_id}.ipynb (File > Download in Jupyter "
                      "or Colab gives it)")
    if len(found) == 1:
        return found[0], None
    named = [p for p in found if p.name == f"{chapter_id}.ipynb"]
    if len(named) == 1:
        return named[0], None
    names = ", ".join(str(p.relative_to(folder)) for p in found[:10])
    return None, f"several notebooks were submitted ({names}): submit only {chapter_id}.ipynb"


def grade(course: Path, options: BundleOptions, wall: Wall, notebook: Path | None, problem: str | None,
          private: list[Path]):
    """Grade one submission with the sandboxed engine; ``(SubmissionResult, engine.Chapter)``.

    Where the kernel runs as the kernel user, every process of that user is killed before and after
    (whatever happened); one that survives is a grader failure, never a grade."""
    from . import engine
    from .sandbox.supervisor import Limits
    from .sandbox.uid_wall import kill_all

    limits = Limits(cell_seconds=options.cell_seconds, notebook_seconds=options.notebook_seconds,
                    memory_mb=options.memory_mb, walls=wall.name == "bubblewrap")
    chapter = engine.Chapter.load(course, options.chapter)
    walls = engine.Walls.for_course(course, private[0], private[1:])
    walls.run_as = wall.run_as
    if wall.run_as is not None:
        kill_all(wall.run_as.uid)  # nothing of the kernel user runs before it either
    try:
        result, _ = engine.grade_submission(notebook, STUDENT, chapter, limits, walls, problem)
    finally:
        if wall.run_as is not None:
            survivors = kill_all(wall.run_as.uid)
            if survivors:
                raise RuntimeError(f"processes of uid {wall.run_as.uid} survived SIGKILL: {survivors}")
    return result, chapter


def _test_output(cell, result, secrets: list[str]) -> str:
    from .records.result_reports import cap_text, scrub

    text = cell.message or ("All checks passed." if cell.passed else f"The cell ended with status {cell.status!r}.")
    captured = result.outputs.get(cell.grade_id, "") if not cell.hidden else ""
    if captured.strip():
        text += "\n\nOutput of the test cell:\n" + cap_text(captured, OUTPUT_CHARS)
    return scrub(text, secrets)


def results_json(result, source_notebook, options: BundleOptions, wall: Wall | None, seconds: float) -> dict:
    """Gradescope's ``results.json`` for one graded submission: one test per graded cell.

    Visible test cells show their diagnosis and their captured output; hidden test cells show the
    diagnosis the feedback page shows (never their code or their cases' inputs) with
    ``options.hidden_visibility``. Every text is scrubbed of hidden test lines.
    """
    from .records.result_reports import hidden_lines, scrub

    secrets = hidden_lines(source_notebook)
    output = [f"Score: {result.score:g} / {result.max_score:g}"]
    if result.problem:
        output.append(f"Not graded: {result.problem}")
    output += [f"Note: {note}" for note in result.notes]
    if wall is not None:
        output.append(f"Your notebook ran in an isolated kernel behind {wall.description}.")
    tests = []
    for number, cell in enumerate(result.cells, start=1):
        tests.append({
            "name": f"{cell.exercise}: {cell.grade_id}" + (" (hidden tests)" if cell.hidden else ""),
            "number": str(number),
            "score": float(cell.points),
            "max_score": float(cell.max_points),
            "status": "passed" if cell.passed else "failed",
            "output": _test_output(cell, result, secrets),
            "tags": [cell.exercise] if cell.exercise else [],
            "visibility": options.hidden_visibility if cell.hidden else "visible",
        })
    return {
        "score": float(result.score),
        "execution_time": max(1, round(seconds)),
        "output": scrub("\n".join(output), secrets),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def refusal_json(message: str, seconds: float) -> dict:
    """A 0 that tells the instructor why nothing was graded (and the student to wait for them)."""
    return {"score": 0.0, "execution_time": max(1, round(seconds)), "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": [],
            "output": ("This submission was NOT graded; your instructor has been asked to fix the autograder.\n"
                       f"For the instructor: {message}")}


def write_results(results: Path, data: dict) -> Path:
    """Write ``results/results.json`` atomically (root's own folder; nothing else is left in it)."""
    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    for stray in results.iterdir():  # (nothing but the grader writes here; a stray file is removed)
        if stray.name != "results.json":
            shutil.rmtree(stray) if stray.is_dir() and not stray.is_symlink() else stray.unlink()
    target = results / "results.json"
    partial = results / f".results.json.{os.getpid()}"
    partial.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, target)
    return target


def _options(source: Path) -> BundleOptions:
    options = BundleOptions.load(source)
    for field_name, variable in (("wall", "AUTOGRADER_WALL"), ("kernel_user", "AUTOGRADER_KERNEL_USER"),
                                 ("kernel_python", "AUTOGRADER_KERNEL_PYTHON")):
        if os.environ.get(variable):
            setattr(options, field_name, os.environ[variable])
    options.__post_init__()
    return options


def run(root: Path = Path("/autograder")) -> dict:
    """Grade the submission under ``root`` (Gradescope's layout) and write ``results/results.json``."""
    started = time.monotonic()
    root = Path(root).resolve()
    source, results = root / "source", root / "results"
    (results / "results.json").unlink(missing_ok=True)
    try:
        lock_down(root)
        options = _options(source)
        wall = choose_wall(options)
        notebook, problem = find_submission(root / "submission", options.chapter)
        result, chapter = grade(source / "course", options, wall, notebook, problem,
                                [root / "submission", root, source])
        data = results_json(result, chapter.source, options, wall, time.monotonic() - started)
    except Refused as err:
        data = refusal_json("the student's code would have run without any wall, so it was not run. "
                            f"Neither wall can be built on this machine: {err}. Rebuild the autograder image "
                            "with setup.sh (it installs bubblewrap and creates the kernel user).",
                            time.monotonic() - started)
    except Exception as err:  # noqa: BLE001  (the grader failed: say so, never a crash)
        traceback.print_exc()
        data = refusal_json(f"the grader failed: {type(err).__name__}: {str(err)[:500]}",
                            time.monotonic() - started)
    write_results(results, data)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")),
                        help="Gradescope's folder (source/, submission/, results/); default /autograder")
    args = parser.parse_args(argv)
    data = run(args.root)
    print(f"score {data['score']:g}; results in {args.root / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
