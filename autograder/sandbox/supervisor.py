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

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .runner import FRAME

__all__ = ["Limits", "CellRun", "KernelRun", "run_kernel"]


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
            "cells": cells, "limits": asdict(limits), "writable": [str(work)], "env": _clean_env(work),
            "hidden": sorted(set(hidden) | {str(jobs_root)}),  # other kernels' jobs, and this one's answers
        }))
        (job / "cases.pkl").write_bytes(cases_blob)
        return _supervise(job, work, cells, limits)
    finally:
        shutil.rmtree(job, ignore_errors=True)


class _Zygote:
    """A warm kernel factory (``python -m autograder.runner --zygote``), one per grading process."""

    def __init__(self, home: Path):
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.runner", "--zygote"], cwd=home,
                                     env=_clean_env(home), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True, bufsize=0)
        if self._read(120).get("ready") is not True:
            self.close()
            raise OSError("the kernel zygote did not start")

    def _read(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        try:
            return json.loads(line) if line else {}
        except ValueError:
            return {}

    def fork(self, job: Path) -> int:
        self.proc.stdin.write(json.dumps({"job": str(job)}).encode() + b"\n")
        self.proc.stdin.flush()
        pid = self._read(30).get("pid")
        if not isinstance(pid, int):
            raise OSError("the kernel zygote did not fork")
        return pid

    def exit_code(self, pid: int) -> int | None:
        message = self._read(30)
        return message.get("code") if message.get("exit") == pid else None

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)


_zygotes: dict[int, _Zygote] = {}


def _zygote(jobs_root: Path) -> _Zygote | None:
    """This process's zygote (started on first use, restarted if it died); None where fork is unavailable."""
    if not hasattr(os, "fork") or os.environ.get("AUTOGRADER_NO_ZYGOTE"):
        return None
    zygote = _zygotes.get(os.getpid())
    if zygote is None or zygote.proc.poll() is not None:
        try:
            zygote = _zygotes[os.getpid()] = _Zygote(jobs_root / f"zygote-{os.getpid()}")
        except OSError:
            return None
        atexit.register(zygote.close)
    return zygote


class _Kernel:
    """One running kernel: the read end of its channel, its process group, and how it ended."""

    def __init__(self, job: Path, work: Path):
        zygote = _zygote(job.parent)
        self.zygote, self.proc = zygote, None
        if zygote is not None:
            fifo = job / "channel"
            os.mkfifo(fifo, 0o600)
            self.read_end = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                self.pid = zygote.fork(job)
            except OSError:
                zygote.close()
                raise
            self.connected = False
            return
        read_end, write_end = os.pipe()
        with open(job / "kernel.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "autograder.runner", str(job), str(write_end)],
                cwd=work, env=_clean_env(work), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                pass_fds=(write_end,), start_new_session=True)
        os.close(write_end)
        self.read_end, self.pid, self.connected = read_end, self.proc.pid, True

    def read(self) -> bytes | None:
        """Bytes from the channel; b"" at its end; None when there is nothing to read yet."""
        try:
            chunk = os.read(self.read_end, 1 << 20)
        except BlockingIOError:
            return None
        if chunk:
            self.connected = True
            return chunk
        if not self.connected:  # a FIFO reads as ended until the kernel has opened it
            try:
                os.kill(self.pid, 0)
                time.sleep(0.01)
                return None
            except ProcessLookupError:
                return b""
        return b""

    def stop(self) -> int | None:
        """Kill the kernel's whole process group; return its exit code (negative: the signal)."""
        os.close(self.read_end)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            return self.proc.returncode
        return self.zygote.exit_code(self.pid)


def _supervise(job: Path, work: Path, cells: list[dict], limits: Limits) -> KernelRun:
    run = KernelRun(cells={c["i"]: CellRun() for c in cells})
    started = time.monotonic()
    kernel = _Kernel(job, work)
    read_end = kernel.read_end
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
            chunk = kernel.read()
            if chunk is None:
                continue
            if not chunk:
                break  # the kernel closed the channel: it finished or died
            received += len(chunk)
            if received > limits.channel_mb * 2**20:
                run.notes.append(f"the kernel sent more than {limits.channel_mb} MB of results; it was stopped")
                killed_for = "flood"
                break
            buffer += chunk
            while len(buffer) >= FRAME.size:
                (size,) = FRAME.unpack_from(buffer)
                if size > limits.channel_mb * 2**20:
                    buffer = b""
                    run.notes.append("the kernel's report was garbled; what followed was ignored")
                    killed_for = "flood"
                    break
                if len(buffer) < FRAME.size + size:
                    break
                frame, buffer = buffer[FRAME.size:FRAME.size + size], buffer[FRAME.size + size:]
                try:
                    message = json.loads(frame)
                except (ValueError, UnicodeDecodeError):
                    continue
                first_cell = cell_started is None and not any(c.status != "not run" for c in run.cells.values())
                cell, cell_started = _apply(run, message, cell, cell_started, limits)
                if first_cell and cell_started is not None:  # the notebook's clock starts with its first cell
                    notebook_deadline = min(notebook_deadline, cell_started + limits.notebook_seconds)
            if killed_for == "flood" or run.finished:
                break  # (a finished kernel is stopped at once: nothing it does after "done" counts)
    finally:
        exit_code = kernel.stop()
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
        code = exit_code
        how = f"with {_signal_name(code)}" if code is not None and code < 0 else f"with exit status {code}"
        where = f"in cell {cell}" if cell is not None else "before running any cell"
        run.notes.append(f"the kernel died {where} ({how}); the cells after it did not run")
        if cell in run.cells and run.cells[cell].status == "not run":
            run.cells[cell] = CellRun("error", f"the kernel died while running this cell ({how})")
        if cell is None:
            run.notes.append("kernel log: " + _tail(job / "kernel.log"))
    return run


def _apply(run: KernelRun, message: dict, cell, cell_started, limits):
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


def _tail(path: Path, n: int = 600) -> str:
    try:
        return path.read_text(errors="replace")[-n:].strip()
    except OSError:
        return ""
