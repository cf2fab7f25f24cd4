"""Grading on a Dask ``distributed`` cluster: one task per submission, the records written here alone.

    autograder grade 03 submissions.zip --cluster tcp://scheduler:8786

The client (this process) collects the submissions, reads each notebook's bytes and submits one task per
student. A worker writes the notebook to its own scratch folder, runs it in a walled kernel and judges it
(:func:`autograder.engine._worker`, exactly as a local worker process does) and sends the result back;
the client stores it, so it stays the only writer of the result files and the gradebook.

When the run starts, :class:`GradingPlugin` is registered with the cluster: every worker, including one
that joins or is restarted later, receives the chapter's two notebooks (so no shared file system is
needed), loads its checks, and starts its warm kernel zygote inside the walls once. A worker that dies
mid-run has its tasks re-run elsewhere by the scheduler; each task's result is stored once, when its
future completes, so nothing is lost or counted twice.

What every worker machine needs: the same version of this package (``pip install`` the instructor
distribution from the same commit), bubblewrap for the walls, and a scratch folder. Start them with
``dask scheduler`` and ``dask worker ADDRESS --nthreads 1`` (one kernel per thread; give a machine of N
cores N workers), ``dask-jobqueue`` on Slurm or ``dask-kubernetes``: the flag takes any scheduler address.
"""
from __future__ import annotations

import concurrent.futures as futures
import tempfile
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from distributed import Client, WorkerPlugin

from . import engine
from .paths import release_notebook, source_notebook
from .sandbox.supervisor import Limits, warm_zygote

__all__ = ["GradingPlugin", "DaskExecutor", "dask_grading", "grade_on_worker"]

PLUGIN_NAME = "autograder-grading"
# chapter fingerprint -> this worker's copy of the course (written by GradingPlugin.setup)
_COURSES: dict[str, Path] = {}


class GradingPlugin(WorkerPlugin):
    """A Dask worker plugin: the chapter's notebooks, its checks loaded, and a warm zygote, once per worker."""

    def __init__(self, chapter_id: str, source: bytes, release: bytes, limits: dict, hidden: list[str]):
        self.chapter_id, self.source, self.release = chapter_id, source, release
        self.limits, self.hidden = limits, hidden
        self.name = PLUGIN_NAME

    def setup(self, worker) -> None:
        root = Path(tempfile.mkdtemp(prefix="autograder-course-", dir=getattr(worker, "local_directory", None)))
        for path, data in ((source_notebook(root, self.chapter_id), self.source),
                           (release_notebook(root, self.chapter_id), self.release)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        chapter = engine._chapter(str(root), self.chapter_id)  # loads the checks, draws the hidden cases
        _COURSES[chapter.fingerprint] = root
        warm_zygote(Limits(**self.limits), self.hidden + [str(root)], course_root=root)

    def teardown(self, worker) -> None:
        pass


def grade_on_worker(fingerprint: str, chapter_id: str, notebook: bytes | None, filename: str | None,
                    student: str, problem: str | None, limits: dict, hidden: list[str],
                    digest: str) -> tuple[str, str | None]:
    """Runs on a worker: one submission graded as :func:`engine._worker` grades it; (result, notebook) JSON."""
    root = _COURSES.get(fingerprint)
    if root is None:
        raise RuntimeError(f"this worker has no copy of {chapter_id} with fingerprint {fingerprint[:12]} "
                           "(its autograder version differs from the client's, or the plugin failed)")
    with tempfile.TemporaryDirectory(prefix="autograder-submission-") as scratch:
        path = None
        if notebook is not None:
            path = Path(scratch) / (filename or f"{chapter_id}.ipynb")
            path.write_bytes(notebook)
        return engine._worker(str(root), chapter_id, str(path) if path else None, student, problem, limits,
                              hidden + [str(root), scratch], digest)


class DaskExecutor(futures.Executor):
    """What :func:`engine.grade_class` submits to: each ``_worker`` task sent to the cluster with its
    notebook's bytes instead of its path (a worker machine does not see the client's files)."""

    def __init__(self, client, fingerprint: str):
        self.client, self.fingerprint = client, fingerprint
        self._executor = client.get_executor(pure=False)

    def submit(self, fn, course_root, chapter_id, path, student, problem, limits, hidden, digest):
        assert fn is engine._worker, "the cluster runs the grader's own task only"
        data = Path(path).read_bytes() if path else None
        return self._executor.submit(grade_on_worker, self.fingerprint, chapter_id, data,
                                     Path(path).name if path else None, student, problem, limits, hidden, digest)

    def shutdown(self, wait: bool = True, **_) -> None:
        self._executor.shutdown(wait=wait)


@contextmanager
def dask_grading(address: str, course_root: Path, class_dir: Path, chapter_id: str, submissions,
                 limits: Limits) -> Iterator[DaskExecutor]:
    """Connect to the scheduler at ``address``, prepare every worker for ``chapter_id``, yield the executor.

    ``executor.client.dashboard_link`` is the cluster's dashboard, when it has one.
    """
    course_root = Path(course_root).resolve()
    chapter = engine._chapter(str(course_root), chapter_id)
    walls = engine.Walls.for_submissions(course_root, class_dir, submissions)
    plugin = GradingPlugin(chapter_id, source_notebook(course_root, chapter_id).read_bytes(),
                           release_notebook(course_root, chapter_id).read_bytes(), asdict(limits), walls.hidden)
    client = Client(address)
    try:
        client.register_plugin(plugin, name=PLUGIN_NAME)
        yield DaskExecutor(client, chapter.fingerprint)
    finally:
        client.close()
