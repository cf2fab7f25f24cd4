"""Run one notebook in a walled kernel and collect what it reports, whatever it does.

    run = run_kernel(cells, cases_blob, limits, hidden)
    run.cells[7].status        # "ok", "error", "timeout", "not run"
    run.records[7]["softmax"]  # the plain-data outputs the hidden check recorded
    run.notes                  # e.g. ["the kernel died in cell 12 (signal SIGSEGV)"]

Kernels are forked by a warm zygote that runs inside the operating system's walls (:mod:`.walls`).
The channel from the kernel is hostile: every frame is checked against the protocol (a known type, the
cell the grader expects, in order, a bounded size, fields of the right types); the first frame that
breaks it stops the kernel. The clocks are the grader's: a cell's time starts when the grader sees it
start and cannot be restarted, the notebook's starts with its first cell; a cell past its limit (plus a
grace) or a notebook past its total is killed, and the cells after it are "not run".
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .runner import FRAME, WORK
from .uid_wall import UidWall, kernel_lib
from .walls import walls_status, zygote_command

__all__ = ["Limits", "CellRun", "KernelRun", "run_kernel", "WallsMissing", "warm_zygote"]

_STATUSES = ("ok", "error", "timeout")
MAX_FRAME_MB = 96  # one frame: a record of values up to codec.MAX_BYTES (64 MB), base64-encoded, with room
UNWALLED_NOTE = ("graded WITHOUT the operating system's walls (--no-walls: bubblewrap or user namespaces were "
                 "missing); only the audit hook stood between this kernel and the machine")


class WallsMissing(RuntimeError):
    """The operating system's walls cannot be built here (and grading without them was not asked for)."""


@dataclass(frozen=True)
class Limits:
    """What one kernel may use. Times in seconds; sizes in MB or characters.

    ``walls=False`` grades without the operating system's walls (only the audit hook): for machines
    without bubblewrap or user namespaces, and said in every report.
    """

    cell_seconds: int = 120
    notebook_seconds: int = 600
    memory_mb: int = 4096
    file_mb: int = 64
    disk_mb: int = 256  # the kernel's whole work folder (a tmpfs)
    processes: int = 64  # processes and threads
    output_chars: int = 20_000
    channel_mb: int = 256
    grace_seconds: int = 5  # how long past its own alarm a cell may take before it is killed
    walls: bool = True


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
    autograd: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # by-hand probes' runtime evidence
    notes: list[str] = field(default_factory=list)
    finished: bool = False
    seconds: float = 0.0


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _kernel_env(work: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": f"{work}/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{work}/.mpl", "IPYTHONDIR": f"{work}/.ipython", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "USER": "student", "LOGNAME": "student"}


def run_kernel(cells: list[dict], cases_blob: bytes, limits: Limits, hidden: list[str],
               scratch: Path | None = None, course_root: Path | None = None,
               run_as: UidWall | None = None) -> KernelRun:
    """Run ``cells`` (``[{"i": index, "source": code, "checks": [names]}, ...]``) in a fresh walled kernel.

    ``hidden`` are the paths the audit hook refuses (the second layer; the walls mount none of them).
    ``run_as``: start the kernel's zygote as that unprivileged user (:mod:`.uid_wall`; the caller locks its
    files away from that user and kills its processes afterwards): inside bubblewrap's walls when
    ``limits.walls`` (then the sandbox's uid is that user's outside, not the grader's), else alone.
    """
    jobs_root = _jobs_root(scratch, run_as)
    zygote = _zygote(jobs_root, limits.walls, course_root, hidden, run_as)
    work = WORK if zygote.walled else "@WORK@"  # (outside the walls, the zygote names the folder)
    job = {"cells": cells, "limits": asdict(limits), "writable": [work],
           "env": _kernel_env(work), "hidden": sorted(set(hidden) | {str(jobs_root)})}
    return _supervise(zygote, job, cases_blob, cells, limits)


def warm_zygote(limits: Limits, hidden: list[str], scratch: Path | None = None,
                course_root: Path | None = None) -> None:
    """Start this process's zygote now rather than at its first kernel (a cluster worker does, once)."""
    _zygote(_jobs_root(scratch), limits.walls, course_root, hidden)


def _jobs_root(scratch: Path | None, run_as: UidWall | None = None) -> Path:
    if run_as is not None:  # root's, and the kernel user may only pass through it to its zygote's home
        jobs_root = Path(scratch or Path(tempfile.gettempdir()) / f"autograder-kernels-{run_as.uid}")
        jobs_root.mkdir(mode=0o711, parents=True, exist_ok=True)
        info = jobs_root.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise OSError(f"{jobs_root} is not this grader's own folder: remove it")
        os.chmod(jobs_root, 0o711)
        return jobs_root
    jobs_root = Path(scratch or Path(tempfile.gettempdir()) / f"autograder-jobs-{os.getuid()}")
    jobs_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return jobs_root


class _Zygote:
    """A warm kernel factory inside the walls (``python -m autograder.sandbox.runner --zygote``)."""

    def __init__(self, home: Path, walled: bool, course_root: Path | None, private: list[str],
                 run_as: UidWall | None = None):
        if run_as is not None and (home.is_symlink() or home.exists()):  # a fresh home (a stale one may be the
            home.unlink() if home.is_symlink() else shutil.rmtree(home)    # kernel user's work)
        home.mkdir(parents=True, exist_ok=True)
        self.home, self.walled, self.run_as, self.pending = home, walled, run_as, b""
        self.lib: Path | None = None
        options: dict = {}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.control = ours
        log = open(home / "zygote.log", "wb")
        if run_as is not None:  # the kernel's own modules where that user can read them; its home its own
            self.lib = kernel_lib(Path(tempfile.mkdtemp(prefix="autograder-kernel-lib-")))
            os.chmod(self.lib, 0o755)
            os.chown(home, run_as.uid, run_as.gid, follow_symlinks=False)  # (after the log was opened by root)
            options = run_as.popen_options()
        if walled:
            argv = zygote_command(theirs.fileno(), course_root, [home.parent, *map(Path, private)], self.lib)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        elif run_as is not None:
            argv, env = run_as.zygote_command(theirs.fileno(), self.lib)
            env = {**_kernel_env(str(home)), "PATH": "/usr/bin:/bin", "MPLCONFIGDIR": str(home / ".mpl"), **env}
        else:
            argv = [sys.executable, "-m", "autograder.sandbox.runner", "--zygote", str(theirs.fileno())]
            env = {**_kernel_env(str(home)), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "MPLCONFIGDIR": str(home / ".mpl")}
            for name in ("VIRTUAL_ENV", "PYTHONPATH"):
                if name in os.environ:
                    env[name] = os.environ[name]
        with log:
            self.proc = subprocess.Popen(argv, cwd=home, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         pass_fds=(theirs.fileno(),), start_new_session=True, **options)
        theirs.close()
        if self._read(180).get("ready") is not True:
            tail = _tail(home / "zygote.log")
            self.close()
            raise OSError(f"the kernel zygote did not start: {tail}")

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.control], [], [], max(0.0, left))
            if not ready:
                return {}
            data = self.control.recv(65536)
            if not data:
                return {}
            self.pending += data
        line, self.pending = self.pending.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            return {}
        return message if isinstance(message, dict) else {}

    def fork(self, job: bytes, channel_write_end: int) -> None:
        memory = os.memfd_create("job", os.MFD_CLOEXEC)
        try:
            view = memoryview(job)
            while view:
                view = view[os.write(memory, view):]
            socket.send_fds(self.control, [b'{"job": 1}\n'], [memory, channel_write_end])
        finally:
            os.close(memory)
        if self._read(60).get("pid") != 1:
            raise OSError("the kernel zygote did not fork")

    def kill(self) -> None:
        try:
            self.control.sendall(b'{"kill": 1}\n')
        except OSError:
            pass

    def end(self, timeout: float = 30) -> tuple[int | None, str]:
        """How the kernel ended: its exit code (negative: a signal) and the tail of its log.

        Raises OSError when the kernel could not be started at all (a failure of the grader's machine,
        not of the submission: the engine reports it as a grader error).
        """
        message = self._read(timeout)
        if message.get("exit") != 1:
            return None, ""
        if "failed" in message:
            raise OSError(str(message["failed"]))
        code = message.get("code")
        return (code if isinstance(code, int) else None), str(message.get("log", ""))[-600:]

    def close(self) -> None:
        try:
            self.control.close()
        except OSError:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)
        if self.lib is not None:
            shutil.rmtree(self.lib, ignore_errors=True)


_zygotes: dict[tuple[int, bool, UidWall | None], _Zygote] = {}


def _zygote(jobs_root: Path, walled: bool, course_root: Path | None, private: list[str],
            run_as: UidWall | None = None) -> _Zygote:
    """This process's zygote (started on first use, restarted if it died)."""
    if walled:
        reason = walls_status(run_as)
        if reason is not None:
            raise WallsMissing(reason)
    key = (os.getpid(), walled, run_as)
    zygote = _zygotes.get(key)
    if zygote is None or zygote.proc.poll() is not None:
        zygote = _zygotes[key] = _Zygote(jobs_root / f"zygote-{os.getpid()}-{int(walled)}", walled, course_root,
                                         private, run_as)
        atexit.register(zygote.close)
    return zygote


class _Protocol:
    """What the grader accepts from a kernel, frame by frame; the first frame that breaks it ends the run."""

    def __init__(self, run: KernelRun, cells: list[dict], limits: Limits):
        self.run, self.limits = run, limits
        self.order = [c["i"] for c in cells]
        self.checks = {c["i"]: set(c.get("checks", ())) for c in cells}
        self.next = 0  # position in self.order of the next cell to start
        self.cell: int | None = None  # the cell running now
        self.cell_started: float | None = None
        self.first_started: float | None = None
        self.broken = ""

    def _fail(self, why: str) -> None:
        self.broken = why

    def accept(self, message) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("t"), str):
            return self._fail("a frame that is not a message")
        kind, index = message["t"], message.get("i")
        if kind == "start":
            if self.cell is not None or self.next >= len(self.order) or index != self.order[self.next] \
                    or type(index) is not int:
                return self._fail(f"an unexpected start of cell {str(index)[:20]}")
            self.cell, self.cell_started = index, time.monotonic()
            self.first_started = self.first_started or self.cell_started
            self.next += 1
        elif kind == "record":
            name, records = message.get("check"), message.get("records")
            if index != self.cell or self.cell is None:
                return self._fail("a record for a cell that is not running")
            if not isinstance(name, str) or name not in self.checks[index] or not isinstance(records, list):
                return self._fail("a record of an unknown check")
            self.run.records.setdefault(index, {}).setdefault(name, records)  # the first one counts
            evidence = message.get("autograd")
            if isinstance(evidence, list) and evidence:
                found = self.run.autograd.setdefault(index, {}).setdefault(name, [])
                found.extend(str(e)[:200] for e in evidence[:20] if str(e) not in found)
        elif kind == "end":
            status = message.get("status")
            texts = [message.get(k, "") for k in ("error", "stdout", "stderr")]
            if index != self.cell or self.cell is None or status not in _STATUSES \
                    or not all(isinstance(t, str) for t in texts):
                return self._fail(f"an unexpected end of cell {str(index)[:20]}")
            limit = self.limits.output_chars + 200
            self.run.cells[index] = CellRun(status, texts[0][:4000], texts[1][:limit], texts[2][:limit])
            self.cell, self.cell_started = None, None
        elif kind == "done":
            if self.cell is not None or self.next != len(self.order):
                return self._fail("an early end of the notebook")
            self.run.finished = True
        else:
            return self._fail(f"an unknown frame type {kind[:20]!r}")


class _Frames:
    """Frames from a byte stream, in linear time however the bytes arrive."""

    def __init__(self, max_frame: int):
        self.buffer, self.start, self.max_frame = bytearray(), 0, max_frame

    def feed(self, chunk: bytes):
        self.buffer += chunk
        while len(self.buffer) - self.start >= FRAME.size:
            (size,) = FRAME.unpack_from(self.buffer, self.start)
            if size > self.max_frame:
                raise ValueError(f"a frame of {size} bytes")
            end = self.start + FRAME.size + size
            if len(self.buffer) < end:
                break
            frame = bytes(memoryview(self.buffer)[self.start + FRAME.size:end])
            self.start = end
            yield frame
        if self.start > (1 << 20) and self.start * 2 > len(self.buffer):
            del self.buffer[:self.start]
            self.start = 0


def _supervise(zygote: _Zygote, job: dict, blob: bytes, cells: list[dict], limits: Limits) -> KernelRun:
    run = KernelRun(cells={c["i"]: CellRun() for c in cells})
    started = time.monotonic()
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    try:
        zygote.fork(json.dumps(job).encode() + b"\n" + blob, write_end)
    except OSError:
        os.close(read_end)
        os.close(write_end)
        zygote.close()
        raise
    os.close(write_end)
    protocol = _Protocol(run, cells, limits)
    frames = _Frames(min(limits.channel_mb, MAX_FRAME_MB) * 2**20)
    received, killed_for, ended = 0, None, False
    startup_deadline = started + 60 + limits.grace_seconds
    try:
        while not run.finished and not protocol.broken:
            now = time.monotonic()
            notebook_deadline = startup_deadline if protocol.first_started is None else \
                protocol.first_started + limits.notebook_seconds
            cell_deadline = protocol.cell_started + limits.cell_seconds + limits.grace_seconds \
                if protocol.cell is not None else float("inf")
            deadline = min(notebook_deadline, cell_deadline)
            if now >= deadline:
                killed_for = "cell" if cell_deadline < notebook_deadline else "notebook"
                break
            ready, _, _ = select.select([read_end], [], [], min(1.0, deadline - now))
            if not ready:
                continue
            try:
                chunk = os.read(read_end, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                ended = True  # the kernel closed the channel: it ended (or is about to, or closed it on purpose)
                break
            received += len(chunk)
            if received > limits.channel_mb * 2**20:
                run.notes.append(f"the kernel sent more than {limits.channel_mb} MB of results; it was stopped")
                killed_for = "flood"
                break
            try:
                for frame in frames.feed(chunk):
                    try:
                        message = json.loads(frame)
                    except (ValueError, UnicodeDecodeError, RecursionError):
                        protocol._fail("a frame that is not JSON")
                        break
                    protocol.accept(message)
                    if protocol.broken or run.finished:
                        break
            except ValueError as err:
                protocol._fail(str(err))
    finally:
        os.close(read_end)
        exit_code, log = zygote.end(5) if ended else (None, "")
        if exit_code is None:
            zygote.kill()  # (pid 1 of the kernel's namespace: nothing of it survives)
            exit_code, log = zygote.end()
        if exit_code is None:  # the zygote itself is in trouble: start afresh next time
            zygote.close()
    run.seconds = time.monotonic() - started
    cell = protocol.cell
    if protocol.broken:
        run.notes.append(f"the kernel broke the grading protocol ({protocol.broken}); it was stopped and "
                         "the cells after it did not run")
        if cell in run.cells and run.cells[cell].status == "not run":
            run.cells[cell] = CellRun("error", "the kernel broke the grading protocol during this cell")
    elif killed_for == "cell" and cell in run.cells:
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
        if cell is None and protocol.next == 0:
            run.notes.append("kernel log: " + log.strip())
    if not zygote.walled and zygote.run_as is None:
        run.notes.append(UNWALLED_NOTE)
    return run


def _tail(path: Path, n: int = 600) -> str:
    try:
        return path.read_text(errors="replace")[-n:].strip()
    except OSError:
        return ""

