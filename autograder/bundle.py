"""The student bundle: what an instructor hands to a class, checked for leaks before it is written.

    folder, archive = write_bundle(root, Path("handout"), chapter_ids, config)
    problems = find_leaks(folder, root)      # [] for a clean bundle

A bundle holds the release notebooks (``<id>/<id>.ipynb``), the student wheel (the ``course`` helpers
alone) and a README for students; the same folder is written as a zip beside it.
"""
from __future__ import annotations

import ast
import re
import shutil
import zipfile
from pathlib import Path

from course import syllabus

from .errors import GradingError
from .notebooks import HIDDEN_BEGIN, HIDDEN_END, read_notebook
from .paths import release_notebook, source_notebook
from .student import CourseConfig, build_student_wheel, wheel_files

__all__ = ["write_bundle", "find_leaks", "student_readme"]

_FORBIDDEN_TEXT = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "run_check",
                   "solutions_lib", "autograder")


def student_readme(config: CourseConfig, chapter_ids: list[str]) -> str:
    """The students' README: opening the notebooks, the install, submitting, reading a failing test."""
    title = config.title + (f" ({config.term})" if config.term else "")
    rows = "\n".join(f"| `{c}/{c}.ipynb` | {syllabus.chapter(c).title} |" for c in chapter_ids)
    colab = (f"Open a notebook's \"Open in Colab\" badge (or {config.notebooks_url} in Colab)."
             if config.notebooks_url else
             "Go to https://colab.research.google.com, choose File > Upload notebook and pick the chapter's "
             f"notebook; then upload `{config.wheel_name}` with the Files panel on the left.")
    install = (f"`pip install \"{config.requirement}\"`" if config.requirement
               else f"`pip install {config.wheel_name}`")
    return f"""# {title}: student notebooks

This folder holds one notebook per chapter and `{config.wheel_name}`, the course's helper package
(`import course`: the checks behind the test cells, offline data sets, environments, demo widgets).

| notebook | chapter |
|---|---|
{rows}

## Open a notebook

**JupyterLab on your computer** (Python 3.10 or newer):

```bash
python -m venv .venv && source .venv/bin/activate      # Windows: .venv\\Scripts\\activate
pip install {config.wheel_name} jupyterlab   # also installs numpy, torch, matplotlib, ipywidgets, ...
jupyter lab
```

(On Linux pip picks a torch build with CUDA, a large download; for the small CPU-only build run
`pip install torch --index-url https://download.pytorch.org/whl/cpu` first.)

Then open a chapter's notebook. Run its cells from the top: the first code cell checks that the course
package is installed ({install} installs it, and the cell does it for you when the wheel lies in this folder).

**Google Colab.** {colab} The first code cell installs the course package there; Colab's own torch is kept.

## Work through a chapter

Each exercise is a function whose body reads `raise NotImplementedError()`: replace that line with your
code. Keep the function's name and signature, do not edit or delete the test cells, and return new tensors
rather than changing your inputs in place. Where an exercise says "by hand", do not call autograd or a
library function that does the exercise for you.

The test cell under each exercise checks a small case. When it passes it prints one line starting with
`✓`. When it fails it says what is off: which value is wrong, how far off (largest absolute and relative
error), the first wrong entry with the expected and the obtained value, NaN or infinite entries, and a hint
about the usual mistake. Read the hint, fix the function, run its cell again, then the test cell.

A demo that needs a function you have not written yet says which one; come back to it later. When
"Run All" stops at a failing test, the cells below it have not run: finish that exercise first.

## Submit

Save the notebook and hand in the `.ipynb` file as your instructor asks, under its own name
(`03-linear-models-and-softmax.ipynb`, ...). Your notebook is graded by running it again from the top with
hidden tests that try other shapes, random seeds and edge cases: a passing visible test is a good sign, not
a guarantee. Anything your notebook prints or draws is fine; a cell that never finishes costs the cells
after it.
"""


def write_bundle(root: Path, out_dir: Path, chapter_ids: list[str], config: CourseConfig) -> tuple[Path, Path]:
    """Write the bundle folder ``out_dir`` and ``out_dir.zip`` from ``release/`` (run the release first)."""
    root, out_dir = Path(root), Path(out_dir).resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        raise GradingError(f"{out_dir} is not empty: the bundle needs a new or empty folder")
    if out_dir == root.resolve() or root.resolve() in out_dir.parents and out_dir.parts[len(root.resolve().parts)] in (
            "release", "source_notebooks", "course", "autograder", "solutions_lib", "tests"):
        raise GradingError(f"{out_dir} is inside a folder of the course; write the bundle elsewhere (e.g. dist/)")
    out_dir.mkdir(parents=True, exist_ok=True)
    for chapter_id in chapter_ids:
        notebook = release_notebook(root, chapter_id)
        if not notebook.is_file():
            raise GradingError(f"{chapter_id} has no release notebook: run `autograder release` first")
        (out_dir / chapter_id).mkdir()
        shutil.copy2(notebook, out_dir / chapter_id / notebook.name)
    build_student_wheel(root, out_dir)
    (out_dir / "README.md").write_text(student_readme(config, chapter_ids), encoding="utf-8")
    problems = find_leaks(out_dir, root)
    if problems:
        shutil.rmtree(out_dir)
        raise GradingError("the bundle would leak answers; nothing was written:\n  " + "\n  ".join(problems))
    archive = out_dir.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(out_dir.rglob("*")):
            if path.is_file():
                zf.write(path, Path(out_dir.name) / path.relative_to(out_dir))
    return out_dir, archive


# -- leak checks ------------------------------------------------------------------------------------------
def _function_bodies(tree: ast.AST) -> dict[str, str]:
    """``{name: body}`` of every function and method, docstring left out, in a normalized form."""
    bodies = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if (node.body and isinstance(node.body[0], ast.Expr)
                                     and isinstance(getattr(node.body[0], "value", None), ast.Constant)
                                     and isinstance(node.body[0].value.value, str)) else node.body
            text = "\n".join(ast.unparse(stmt) for stmt in body)
            if text.strip() and "NotImplementedError" not in text and text.count("\n") >= 1:
                bodies[node.name] = text
    return bodies


def _reference_bodies(root: Path) -> dict[str, str]:
    """The bodies of the reference answers: every exercise function of ``solutions_lib`` and the methods of
    every exercise class (but the constructor and printing, which the release hands out)."""
    exercises = {e.name for c in syllabus.chapters(built_only=True) for e in c.exercises}
    found = {}
    for path in sorted((root / "solutions_lib").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in exercises:
                bodies = _function_bodies(node)
                if isinstance(node, ast.ClassDef):
                    bodies = {k: v for k, v in bodies.items() if k not in ("__init__", "__repr__", "__str__")}
                for name, body in bodies.items():
                    found[body] = f"solutions_lib/{path.name}:{name}"
    return found


def _hidden_test_lines(root: Path, chapter_ids: list[str]) -> set[str]:
    lines = set()
    for chapter_id in chapter_ids:
        path = source_notebook(root, chapter_id)
        if not path.is_file():
            continue
        for cell in read_notebook(path).cells:
            for block in re.findall(rf"(?s){re.escape(HIDDEN_BEGIN)}(.*?){re.escape(HIDDEN_END)}", cell.source):
                lines |= {line.strip() for line in block.splitlines() if len(line.strip()) >= 12
                          and not line.strip().startswith("#")}
    return lines


def _code_texts(folder: Path) -> list[tuple[str, str]]:
    """``(where, text)`` for every notebook cell and every file inside every wheel in ``folder``."""
    texts = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.suffix == ".ipynb":
            for index, cell in enumerate(read_notebook(path).cells):
                texts.append((f"{rel} cell {index}", cell.source))
        elif path.suffix == ".whl":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    texts.append((f"{rel}:{name}", archive.read(name).decode("utf-8", "replace")))
        elif path.is_file() and path.suffix in (".md", ".txt", ".py", ".json", ".yml", ".toml"):
            texts.append((str(rel), path.read_text(encoding="utf-8", errors="replace")))
    return texts


def find_leaks(folder: Path, root: Path) -> list[str]:
    """Everything in ``folder`` that a student must not get: solution or hidden-test markers and text, a
    function body of ``solutions_lib``, the ``autograder`` or ``solutions_lib`` package, a source notebook
    or its jupytext twin. Empty for a clean bundle."""
    folder, root = Path(folder), Path(root)
    chapter_ids = [c.id for c in syllabus.chapters(built_only=True)]
    problems = []
    sources = {source_notebook(root, c).read_bytes() for c in chapter_ids if source_notebook(root, c).is_file()}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and path.read_bytes() in sources:
            problems.append(f"{rel} is a source notebook (it holds the solutions)")
        if path.suffix == ".py" or any(part in ("autograder", "solutions_lib", "source_notebooks")
                                       for part in rel.parts):
            problems.append(f"{rel} does not belong in a student bundle")
        if path.suffix == ".whl":
            for name in wheel_files(path):
                top = name.split("/")[0]
                if top != "course" and not re.match(r"^[\w.\-]+\.dist-info$", top):
                    problems.append(f"{rel} holds {name}: the student wheel is the `course` package alone")
    references = _reference_bodies(root)
    hidden = _hidden_test_lines(root, chapter_ids)
    for where, text in _code_texts(folder):
        for word in _FORBIDDEN_TEXT:
            if word in text:
                problems.append(f"{where} contains {word!r}")
        for line in hidden:
            if line in text:
                problems.append(f"{where} contains a line of a hidden test: {line!r}")
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for name, body in _function_bodies(tree).items():
            if body in references:
                problems.append(f"{where} defines {name} with the body of {references[body]}")
    return problems
