"""What students receive: the course configuration, the release notebooks' first cells, the student wheel.

    config = CourseConfig.load(root)                     # course.toml + course/pyproject.toml
    nb = with_student_cells(nb, config, chapter_id)      # Colab badge + install cell, written at release
    wheel = build_student_wheel(root, out_dir)           # dist of `course` alone (no answers)

The instructor distribution (``pyproject.toml`` at the root) holds ``solutions_lib`` and ``autograder``:
every answer. Students install only the student package built from ``course/pyproject.toml``, and the
install cell written here never names anything else.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .errors import GradingError
from .notebooks import nbgrader_meta

__all__ = ["CourseConfig", "install_cell_source", "badge_markdown", "with_student_cells", "is_install_cell",
           "build_student_wheel", "wheel_files", "BADGE_ID", "INSTALL_ID"]

CONFIG_FILE = "course.toml"
STUDENT_PROJECT = Path("course") / "pyproject.toml"
BADGE_ID = "colab-badge"
INSTALL_ID = "install-course"
COLAB = "https://colab.research.google.com"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
# Text that only ever stands in for a real address.
_PLACEHOLDERS = ("OWNER", "example.com", "example.org", "your-", "YOUR")
_INSTALL_MARKER = 'find_spec("course")'


@dataclass(frozen=True)
class CourseConfig:
    """``course.toml`` (title, term, where students install from, where the notebooks live) and the
    student package's name and version (``course/pyproject.toml``)."""

    title: str
    term: str
    requirement: str
    notebooks_url: str
    package: str
    version: str

    @classmethod
    def load(cls, root: Path) -> "CourseConfig":
        root = Path(root)
        path = root / CONFIG_FILE
        # A partial copy of the course (a test's, a benchmark's) may lack both files: then nothing is set
        # (the install cell says how to install the wheel) and the package is the one this code runs with.
        project_file = root / STUDENT_PROJECT
        if not project_file.is_file():
            import course

            project_file = Path(course.__file__).parent / "pyproject.toml"
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
            project = tomllib.loads(project_file.read_text(encoding="utf-8"))["project"]
        except (OSError, tomllib.TOMLDecodeError, KeyError) as err:
            raise GradingError(f"cannot read the course configuration: {err}") from None
        course, student = raw.get("course", {}), raw.get("student", {})
        config = cls(title=str(course.get("title", "")).strip(), term=str(course.get("term", "")).strip(),
                     requirement=str(student.get("requirement", "")).strip(),
                     notebooks_url=str(student.get("notebooks_url", "")).strip().rstrip("/"),
                     package=project["name"], version=project["version"])
        config.validate()
        return config

    def validate(self) -> None:
        """Refuse what must never reach a student notebook: placeholders, the answers, a torch pin."""
        for key, value in (("requirement", self.requirement), ("notebooks_url", self.notebooks_url)):
            if any(p in value for p in _PLACEHOLDERS) or re.search(r"<[\w -]+>", value):
                raise GradingError(f"course.toml: [student] {key} = {value!r} looks like a placeholder; "
                                   "set the real address or leave it empty")
            if any(c in value for c in "\"'\\\n"):
                raise GradingError(f"course.toml: [student] {key} must not contain quotes or backslashes")
        if self.requirement:
            name = re.split(r"[\s\[@=<>!~;]", self.requirement, maxsplit=1)[0].lower().replace("_", "-")
            if "://" not in name and name != self.package:
                raise GradingError(f"course.toml: [student] requirement installs {name!r}, not the student "
                                   f"package {self.package!r} (the instructor distribution holds the answers)")
            if re.search(r"(^|[\s,;])torch([\s=<>!~\[]|$)", self.requirement):
                raise GradingError("course.toml: the requirement must not name torch (Colab keeps its own)")
        if self.notebooks_url and not re.match(r"^https://github\.com/[^/]+/[^/]+/blob/[^/]+(/.*)?$",
                                               self.notebooks_url):
            raise GradingError("course.toml: [student] notebooks_url must be the GitHub address of the release "
                               f"folder, like https://github.com/OWNER/REPO/blob/main/release; got "
                               f"{self.notebooks_url!r}")

    @property
    def wheel_name(self) -> str:
        """The file name of the student wheel, e.g. ``dlcourse_student-0.1.0-py3-none-any.whl``."""
        return f"{self.package.replace('-', '_')}-{self.version}-py3-none-any.whl"

    def colab_url(self, chapter_id: str) -> str | None:
        """The notebook's address in Colab, or None where the notebooks' location is not configured."""
        if not self.notebooks_url:
            return None
        path = self.notebooks_url.removeprefix("https://github.com/")
        return f"{COLAB}/github/{path}/{chapter_id}/{chapter_id}.ipynb"


def install_cell_source(config: CourseConfig) -> str:
    """The first code cell of every release notebook: installs the student package only where ``course`` is
    missing (Colab, a fresh environment), so the same notebook runs locally and in Colab. torch is never
    named: Colab's own build is kept."""
    head = (f"# Set-up: the course's helpers come in the student package `{config.package}` (no answers in it).\n"
            "# Where it is missing (e.g. on Colab) this cell installs it; elsewhere it does nothing.\n"
            "import importlib, importlib.util, subprocess, sys\n"
            f"if importlib.util.find_spec(\"course\") is None:\n")
    if config.requirement:
        return head + (
            f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{config.requirement}"], check=True)\n'
            "    importlib.invalidate_caches()")
    wheel = f"{config.package.replace('-', '_')}-*.whl"
    return head + (
        "    import glob\n"
        f'    wheels = sorted(glob.glob("{wheel}") + glob.glob("../{wheel}"))\n'
        "    if not wheels:\n"
        "        raise ModuleNotFoundError(\n"
        f'            "The course package is not installed. Install the wheel {config.wheel_name} from the "\n'
        '            "course bundle your instructor handed out, in the environment of this notebook: "\n'
        f'            "pip install {config.wheel_name} (in Colab: upload the wheel with the Files panel, "\n'
        '            "then run this cell again).")\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", wheels[-1]], check=True)\n'
        "    importlib.invalidate_caches()")


def badge_markdown(config: CourseConfig, chapter_id: str) -> str:
    """The "Open in Colab" badge: this notebook in Colab, or Colab's start page to upload it."""
    url = config.colab_url(chapter_id)
    badge = f"[![Open In Colab]({BADGE_IMAGE})]({url or COLAB + '/'})"
    if url:
        return badge
    return (f"{badge} Upload this notebook in Colab (File, Upload notebook), together with the student wheel "
            f"`{config.wheel_name}` from the course bundle.")


def is_install_cell(cell: NotebookNode) -> bool:
    """A cell that installs the course package (written at release; older source notebooks carry one too)."""
    return cell.cell_type == "code" and not nbgrader_meta(cell).get("grade_id") and _INSTALL_MARKER in cell.source


def with_student_cells(nb: NotebookNode, config: CourseConfig, chapter_id: str) -> NotebookNode:
    """``nb`` with the badge as its first cell and the install cell as its first code cell.

    Any earlier badge or install cell is replaced, so releasing again after a change of ``course.toml``
    rewrites both and nothing else.
    """
    cells = [c for c in nb.cells if c.get("id") != BADGE_ID and not is_install_cell(c)]
    badge = nbformat.v4.new_markdown_cell(badge_markdown(config, chapter_id))
    badge["id"] = BADGE_ID
    install = nbformat.v4.new_code_cell(install_cell_source(config))
    install["id"] = INSTALL_ID
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    cells.insert(first_code, install)
    nb.cells = [badge, *cells]
    return nb


def build_student_wheel(root: Path, out_dir: Path) -> Path:
    """Build the student wheel from ``course/`` (a clean copy, so no stale build output can slip in)."""
    root, out_dir = Path(root), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info", ".ipynb_checkpoints")
    with tempfile.TemporaryDirectory(prefix="student-wheel-") as tmp:
        src = Path(tmp) / "course"
        shutil.copytree(root / "course", src, ignore=ignore)
        built = Path(tmp) / "dist"
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                               "-w", str(built), str(src)], capture_output=True, text=True, cwd=tmp)
        wheels = list(built.glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise GradingError(f"building the student wheel failed:\n{(proc.stdout + proc.stderr)[-2000:]}")
        target = out_dir / wheels[0].name
        shutil.copy2(wheels[0], target)
    return target


def wheel_files(wheel: Path) -> list[str]:
    """The paths inside a wheel."""
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()
