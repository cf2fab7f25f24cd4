"""Run one notebook in a sandboxed kernel process and collect what it reports, whatever it does.

    run = run_kernel(cells, cases_blob, limits, walls)
    run.cells[7].status        # "ok", "error", "timeout", "not run"
    run.records[7]["softmax"]  # the plain-data outputs the hidden check recorded
    run.notes                  # e.g. ["the kernel died in cell 12 (signal SIGSEGV)"]

The kernel (:mod:`autograder.runner`) is a fresh Python process in its own session (so the whole process
group can be killed), with a private working folder, a clean environment and one thread per library.
This side enforces the time limits the kernel cannot be trusted with: a cell that outlives its own
alarm, or a notebook past its total limit, is killed with SIGKILL; the cells after it are "not run".
It reads at most ``limits.channel_mb`` from the kernel and ignores frames it cannot parse.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Limits", "CellRun", "KernelRun", "run_kernel"]

_FRAME = struct.Struct(">Q")


@dataclass(frozen=True)
class Limits:
    """What one kernel may use. Times in seconds; sizes in MB or characters."""

    cell_seconds: int = 120
    notebook_seconds: int = 600
    memory_mb: int = 4096
    file_mb: int = 64
    output_chars: int = 20_000
    channel_mb: int = 256
    grace_seconds: int = 5  # how long past its own alarm a cell may take before it is killed


@dataclass
class CellRun:
    status: str = "not run"  # "ok", "error", "timeout", "not run"
    error: str = ""
    stdout: str = ""
    stderr: str = ""


@dataclass
class KernelRun:
    cells: dict[int, CellRun] = field(default_factory=dict)
    records: dict[int, dict[str, object]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    finished: bool = False
    seconds: float = 0.0


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _clean_env(work: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "TMPDIR": str(work / "tmp"),
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(work / ".mpl"),
           "IPYTHONDIR": str(work / ".ipython"), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_kernel(cells: list[dict], cases_blob: bytes, limits: Limits, hidden: list[str],
               scratch: Path | None = None) -> KernelRun:
    """Run ``cells`` (``[{"i": index, "source": code}, ...]``) in a fresh sandboxed kernel.

    Every kernel's job folder lives under one ``scratch`` folder that all kernels are walled off from,
    except for their own ``work/`` folder.
    """
    jobs_root = Path(scratch or Path(tempfile.gettempdir()) / "autograder-jobs")
    jobs_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    job = Path(tempfile.mkdtemp(prefix="job-", dir=jobs_root))
    try:
        work = job / "work"
        for sub in (work, work / "tmp", work / ".mpl"):
            sub.mkdir(parents=True, exist_ok=True)
        (job / "job.json").write_text(json.dumps({
            "cells": cells, "limits": asdict(limits), "writable": [str(work)],
            "hidden": sorted(set(hidden) | {str(jobs_root)}),  # other kernels' jobs, and this one's answers
        }))
        (job / "cases.pkl").write_bytes(cases_blob)
        return _supervise(job, work, cells, limits)
    finally:
        shutil.rmtree(job, ignore_errors=True)


def _supervise(job: Path, work: Path, cells: list[dict], limits: Limits) -> KernelRun:
    run = KernelRun(cells={c["i"]: CellRun() for c in cells})
    read_end, write_end = os.pipe()
    started = time.monotonic()
    with open(job / "kernel.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.runner", str(job), str(write_end)],
            cwd=work, env=_clean_env(work), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            pass_fds=(write_end,), start_new_session=True)
    os.close(write_end)
    buffer, received = b"", 0
    cell, cell_started = None, None
    notebook_deadline = started + limits.notebook_seconds + 60  # the start-up is not the student's time
    killed_for = None
    try:
        while True:
            now = time.monotonic()
            deadline = notebook_deadline
            if cell is not None:
                deadline = min(deadline, cell_started + limits.cell_seconds + limits.grace_seconds)
            if now >= deadline:
                killed_for = "cell" if cell is not None and deadline < notebook_deadline else "notebook"
                break
            ready, _, _ = select.select([read_end], [], [], min(1.0, deadline - now))
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break  # the kernel closed the channel: it finished or died
            received += len(chunk)
            if received > limits.channel_mb * 2**20:
                run.notes.append(f"the kernel sent more than {limits.channel_mb} MB of results; it was stopped")
                killed_for = "flood"
                break
            buffer += chunk
            while len(buffer) >= _FRAME.size:
                (size,) = _FRAME.unpack_from(buffer)
                if size > limits.channel_mb * 2**20:
                    buffer = b""
                    run.notes.append("the kernel's report was garbled; what followed was ignored")
                    killed_for = "flood"
                    break
                if len(buffer) < _FRAME.size + size:
                    break
                frame, buffer = buffer[_FRAME.size:_FRAME.size + size], buffer[_FRAME.size + size:]
                try:
                    message = json.loads(frame)
                except (ValueError, UnicodeDecodeError):
                    continue
                cell, cell_started = _apply(run, message, cell, cell_started, notebook_deadline, limits)
                if message.get("t") == "start" and cell is not None:
                    notebook_deadline = min(notebook_deadline, time.monotonic() + limits.notebook_seconds) \
                        if not run.records and all(c.status == "not run" for c in run.cells.values()) \
                        else notebook_deadline
            if killed_for == "flood":
                break
    finally:
        os.close(read_end)
        _kill_group(proc)
    run.seconds = time.monotonic() - started
    if killed_for == "cell" and cell in run.cells:
        run.cells[cell] = CellRun("timeout", f"the cell ran longer than its limit of {limits.cell_seconds} s "
                                             "and did not stop when asked: the kernel was killed")
        run.notes.append(f"cell {cell} ran past its time limit and was killed; the cells after it did not run")
    elif killed_for == "notebook":
        run.notes.append(f"the notebook ran past its total limit of {limits.notebook_seconds} s and was stopped")
        if cell in run.cells and run.cells[cell].status == "not run":
            run.cells[cell] = CellRun("timeout", "the notebook's total time limit passed during this cell")
    elif not run.finished and killed_for is None:
        code = proc.returncode
        how = f"with {_signal_name(code)}" if code is not None and code < 0 else f"with exit status {code}"
        where = f"in cell {cell}" if cell is not None else "before running any cell"
        run.notes.append(f"the kernel died {where} ({how}); the cells after it did not run")
        if cell in run.cells and run.cells[cell].status == "not run":
            run.cells[cell] = CellRun("error", f"the kernel died while running this cell ({how})")
        if cell is None:
            run.notes.append("kernel log: " + _tail(job / "kernel.log"))
    return run


def _apply(run: KernelRun, message: dict, cell, cell_started, notebook_deadline, limits):
    kind, index = message.get("t"), message.get("i")
    if kind == "start" and index in run.cells:
        return index, time.monotonic()
    if kind == "end" and index in run.cells and index == cell:
        run.cells[index] = CellRun(str(message.get("status", "error"))[:20], str(message.get("error", ""))[:4000],
                                   str(message.get("stdout", ""))[:limits.output_chars + 200],
                                   str(message.get("stderr", ""))[:limits.output_chars + 200])
        return None, None
    if kind == "record" and index in run.cells and index == cell and isinstance(message.get("check"), str):
        # the first record of a check in a cell counts; later ones (forged or repeated) are ignored
        run.records.setdefault(index, {}).setdefault(message["check"], message.get("records"))
    if kind == "done":
        run.finished = True
    return cell, cell_started


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(path: Path, n: int = 600) -> str:
    try:
        return path.read_text(errors="replace")[-n:].strip()
    except OSError:
        return ""
