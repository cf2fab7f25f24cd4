"""The nbgrader configuration of one class: the course's nbgrader_config.py, pointed at the class folder."""
from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

__all__ = ["class_config", "nbgrader_api"]


def class_config(course_root: Path, class_dir: Path) -> Config:
    """nbgrader settings for grading in ``class_dir`` from the notebooks of ``course_root``.

    The course's ``nbgrader_config.py`` is loaded as is; then the course directory's root becomes the class
    folder (``submitted/``, ``autograded/``, ``feedback/`` and ``gradebook.db`` live there) while the source
    and release folders stay those of the course repository.
    """
    loader = PyFileConfigLoader("nbgrader_config.py", path=str(course_root))
    config = loader.load_config()
    config.CourseDirectory.root = str(class_dir)
    config.CourseDirectory.source_directory = str(course_root / "source_notebooks")
    config.CourseDirectory.release_directory = str(course_root / "release")
    config.CourseDirectory.db_url = f"sqlite:///{class_dir / 'gradebook.db'}"
    return config


def _put_environment_on_path() -> None:
    """nbgrader runs ``alembic`` (and kernels) from PATH: make sure this environment's scripts are found
    even when it was not activated (``.venv/bin/autograder ...``)."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(course_root: Path, class_dir: Path) -> NbGraderAPI:
    """An ``NbGraderAPI`` for the class, quiet unless something goes wrong."""
    _put_environment_on_path()
    # nbgrader 0.9 with SQLAlchemy 2 warns on every new submission; the warning is harmless noise.
    warnings.filterwarnings("ignore", message=r".*not in session.*")
    config = class_config(course_root, class_dir)
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.WARNING)
    return api
