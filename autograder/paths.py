"""Where things are: the course root (the folder with ``nbgrader_config.py``) and a chapter's files."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["find_course_root", "source_notebook", "source_script", "release_notebook"]


class CourseRootNotFound(FileNotFoundError):
    pass


def find_course_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: $DLCOURSE_ROOT or the working directory)
    holding ``nbgrader_config.py``."""
    here = Path(start or os.environ.get("DLCOURSE_ROOT") or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise CourseRootNotFound(
        f"no course root (a folder with nbgrader_config.py) at or above {here}; "
        "run from inside the course repository or pass --course-root")


def source_script(root: Path, chapter_id: str) -> Path:
    """The jupytext twin an author edits: source_notebooks/<id>/<id>.py."""
    return root / "source_notebooks" / chapter_id / f"{chapter_id}.py"


def source_notebook(root: Path, chapter_id: str) -> Path:
    """The instructor notebook nbgrader reads: source_notebooks/<id>/<id>.ipynb."""
    return root / "source_notebooks" / chapter_id / f"{chapter_id}.ipynb"


def release_notebook(root: Path, chapter_id: str) -> Path:
    """The student notebook: release/<id>/<id>.ipynb."""
    return root / "release" / chapter_id / f"{chapter_id}.ipynb"
