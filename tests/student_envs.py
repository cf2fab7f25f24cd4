"""Environments a student has, for the tests: a fresh one with the student wheel, and one pinned to Colab.

Each is a virtual environment under ``.test-envs/`` (ignored by git), built once and rebuilt when what it
should hold changes (pip's cache makes a rebuild quick). Neither sees the repository: no editable install,
no ``PYTHONPATH``, and notebooks run in a temporary folder, so ``import course`` finds the installed wheel.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from autograder.notebooks import nbgrader_meta, read_notebook, solution_cells, strip_solution_markers
from autograder.paths import release_notebook, source_notebook

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / ".test-envs"
TORCH = "torch==2.13.0"  # the CPU build the Makefile installs; it stands in for whatever torch a student has
PASS_MARK = "✓ test passed"


def _pip(python: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    proc = subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return proc


def venv(name: str, requirements: list[str]) -> Path:
    """The python of ``.test-envs/<name>`` holding exactly ``requirements`` (built or rebuilt as needed)."""
    folder = ENVS / name
    python = folder / "bin" / "python"
    stamp = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()
    if python.exists() and (folder / ".stamp").is_file() and (folder / ".stamp").read_text() == stamp:
        return python
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    _pip(python, "install", "-q", *requirements)
    (folder / "baseline.json").write_text(_pip(python, "list", "--format", "json").stdout)
    (folder / ".stamp").write_text(stamp)
    return python


def student_requirements() -> list[str]:
    """What a student's own environment needs besides the wheel: a torch, JupyterLab (as the students' README
    says), the wheel's dependencies."""
    project = tomllib.loads((ROOT / "course" / "pyproject.toml").read_text())["project"]
    return [TORCH, "jupyterlab", "ipykernel", *project["dependencies"]]


def colab_requirements() -> list[str]:
    """The pinned versions of Colab's runtime (tests/colab_versions.txt)."""
    lines = (ROOT / "tests" / "colab_versions.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def remove_student_package(python: Path, name: str) -> None:
    _pip(python, "uninstall", "-y", "-q", name, check=False)


def installed(python: Path) -> dict[str, str]:
    """``{name: version}`` of the environment (names normalized)."""
    rows = json.loads(_pip(python, "list", "--format", "json").stdout)
    return {r["name"].lower().replace("_", "-"): r["version"] for r in rows}


def dry_run_report(python: Path, wheel: Path) -> dict:
    """pip's report of what installing ``wheel`` into the environment would install (nothing is installed)."""
    proc = _pip(python, "install", "--dry-run", "--quiet", "--report", "-", str(wheel))
    return json.loads(proc.stdout)


def kernel_manager(python: Path, name: str) -> KernelManager:
    """A kernel manager whose kernel runs in the environment of ``python``: no PYTHONPATH, and no MPLBACKEND,
    so the kernel draws with the inline backend as Colab and JupyterLab do."""
    spec_dir = python.parent.parent / "kernelspec"
    kernel = spec_dir / name
    kernel.mkdir(parents=True, exist_ok=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": "python",
        "env": {"PYTHONPATH": "", "MPLBACKEND": "", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    }))
    return KernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir)]))


def filled_release(chapter_id: str) -> nbformat.NotebookNode:
    """The student notebook with the reference answers typed into its answer cells (as a student would)."""
    answers = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source)
               for c in solution_cells(read_notebook(source_notebook(ROOT, chapter_id)))}
    nb = read_notebook(release_notebook(ROOT, chapter_id))
    for cell in solution_cells(nb):
        cell.source = answers[nbgrader_meta(cell)["grade_id"]]
    return nb


def run(nb: nbformat.NotebookNode, python: Path, kernel_name: str, workdir: Path, timeout: int = 600):
    """Execute ``nb`` in a kernel of that environment, in ``workdir``; errors stay in the outputs."""
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(nb, km=kernel_manager(python, kernel_name), timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}}, record_timing=False)
    client.execute()
    return nb


def errors(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(cell, "Error: message")`` for every error output."""
    found = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append((nbgrader_meta(cell).get("grade_id") or f"cell {index}", f"{out.ename}: {out.evalue}"))
    return found


def text_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def visible_tests(nb: nbformat.NotebookNode) -> list:
    """The test cells that keep code in the release (the visible tests)."""
    tests = []
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id", "")
        code = [l for l in cell.source.splitlines() if l.strip() and not l.strip().startswith("#")]
        if cell.cell_type == "code" and grade_id.startswith("test_") and code:
            tests.append(cell)
    return tests
