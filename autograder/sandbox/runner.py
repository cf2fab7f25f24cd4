"""The grading kernel: runs one merged notebook in a sandboxed process and reports over a pipe.

Started by :mod:`autograder.sandbox` as ``python -m autograder.runner JOB_DIR CHANNEL_FD``, or forked
from a warm zygote (``python -m autograder.runner --zygote``, see :func:`zygote`). It reads
``JOB_DIR/job.json`` (the cells to run, the limits, the walls) and ``JOB_DIR/cases.pkl`` (the hidden
cases, without their answers), lowers its own resource limits, installs :mod:`autograder.guard`, and
runs the cells one by one in an IPython shell (so magics work as in Jupyter). For each cell it writes
frames to the channel::

    {"t": "start", "i": 3}
    {"t": "record", "i": 3, "check": "softmax", "records": [...]}     # plain data, see autograder.codec
    {"t": "end", "i": 3, "status": "ok" | "error" | "timeout", "error": "...", "stdout": "...", "stderr": "..."}

and ``{"t": "done"}`` at the end. A frame is an 8-byte big-endian length and that many bytes of JSON.
Nothing here decides a point: the grader compares the records with the answers in its own process.
"""
from __future__ import annotations

import json
import os
import signal
import struct
import sys
import time
import traceback

FRAME = struct.Struct(">Q")  # a frame: this 8-byte big-endian length, then that many bytes of JSON


class CellTimeout(BaseException):
    """A cell ran past its time limit (a BaseException, so ``except Exception`` cannot swallow it)."""


class _Capped:
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    encoding = "utf-8"

    def __init__(self, limit: int):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def value(self) -> str:
        text = "".join(self.parts)
        return text + (f"\n[... {self.dropped} more characters of output dropped]" if self.dropped else "")


class Channel:
    def __init__(self, fd: int):
        self.fd = fd

    def send(self, message: dict) -> None:
        data = json.dumps(message).encode("utf-8")
        payload = FRAME.pack(len(data)) + data
        view = memoryview(payload)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


def _describe(err: BaseException) -> str:
    lines = traceback.format_exception(type(err), err, err.__traceback__)
    text = "".join(line for line in lines if "autograder/runner.py" not in line and "IPython/core" not in line)
    return text[-4000:]


def preload() -> None:
    """Import what every kernel needs (a zygote does it once; its forked kernels start warm)."""
    import cloudpickle  # noqa: F401
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401

    import autograder.checks  # noqa: F401
    import course.checks  # noqa: F401
    from autograder import codec, guard  # noqa: F401


def main(job_dir: str, channel_fd: int) -> None:
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    with open(os.path.join(job_dir, "cases.pkl"), "rb") as f:
        blob = f.read()
    limits = job["limits"]
    channel = Channel(channel_fd)
    channel.send({"t": "hello"})

    # everything the kernel needs from the course is imported before the walls go up
    preload()
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    import autograder.checks as checks
    from autograder import guard
    from autograder.checks import CheckResult, probe_all, unpack_cases

    hidden_cases: dict = {}
    current = {"cell": -1}

    def record(name, fn):
        probe, by_hand, cases = hidden_cases.get(name, (None, False, []))
        channel.send({"t": "record", "i": current["cell"], "check": name,
                      "records": probe_all(fn, cases, probe, by_hand)})
        return CheckResult(name, True, len(cases), [])  # the grader decides; the cell only has to finish

    checks._recorder = record

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    shell = InteractiveShell.instance(config=config)
    shell.showtraceback = lambda *a, **k: None  # errors are reported in the "end" frame instead

    guard.apply_limits(memory_mb=limits["memory_mb"], file_mb=limits["file_mb"],
                       cpu_seconds=limits["notebook_seconds"] + 30)
    policy = guard.Policy(writable=tuple(job["writable"]), hidden=tuple(job["hidden"]))
    # Nothing the walls block stays reachable by name (the hidden test cells still import autograder.checks).
    keep = {"autograder", "autograder.checks", "autograder.codec"}
    for name in list(sys.modules):
        if name not in keep and any(name == b or name.startswith(b + ".") for b in policy.blocked_modules):
            del sys.modules[name]
    guard.install(policy)
    # The cases are unpickled inside the walls: a case that carried reference code (solutions_lib) would fail
    # to load here, loudly, instead of handing that code to the student (tests/test_engine.py checks none does).
    hidden_cases.update(unpack_cases(blob))

    def on_alarm(signum, frame):
        raise CellTimeout(f"the cell ran longer than its limit of {limits['cell_seconds']} s")

    signal.signal(signal.SIGALRM, on_alarm)
    real_stdout, real_stderr = sys.stdout, sys.stderr
    for cell in job["cells"]:
        index = cell["i"]
        current["cell"] = index
        channel.send({"t": "start", "i": index})
        out, err = _Capped(limits["output_chars"]), _Capped(limits["output_chars"])
        sys.stdout, sys.stderr = out, err
        status, error = "ok", ""
        started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, limits["cell_seconds"])
        try:
            result = shell.run_cell(cell["source"], store_history=False, silent=False)
            signal.setitimer(signal.ITIMER_REAL, 0)
            failure = result.error_before_exec or result.error_in_exec
            if failure is not None:
                status = "timeout" if isinstance(failure, CellTimeout) else "error"
                error = _describe(failure)
        except CellTimeout as timeout:  # the alarm fired outside the student's code
            status, error = "timeout", str(timeout)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = real_stdout, real_stderr
        channel.send({"t": "end", "i": index, "status": status, "error": error, "stdout": out.value(),
                      "stderr": err.value(), "seconds": round(time.monotonic() - started, 3)})
    channel.send({"t": "done"})


def _forked_kernel(job_dir: str) -> None:
    """In a child of the zygote: become a kernel of our own (session, stdio, environment, folder)."""
    os.setsid()
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    log = os.open(os.path.join(job_dir, "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    channel = os.open(os.path.join(job_dir, "channel"), os.O_WRONLY)  # the grader holds the read end
    os.closerange(3, channel)
    os.closerange(channel + 1, 1 << 16)
    os.environ.clear()
    os.environ.update(job["env"])
    import tempfile

    tempfile.tempdir = None  # the zygote's temporary folder is not this kernel's
    os.chdir(job["writable"][0])
    main(job_dir, channel)


def zygote() -> None:
    """Pre-import the kernel's modules once, then fork a kernel per job named on stdin.

    Protocol (JSON lines): in ``{"job": DIR}``; out ``{"ready": true}`` once, then per job
    ``{"pid": PID}`` and, when that kernel has ended, ``{"exit": PID, "code": CODE}`` (negative: a signal).
    The zygote itself never runs student code, so every kernel starts from the same clean state.
    """
    preload()
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        job_dir = json.loads(line)["job"]
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _forked_kernel(job_dir)
                code = 0
            finally:
                os._exit(code)
        out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        out.write(json.dumps({"exit": pid, "code": code}) + "\n")
        out.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--zygote"]:
        zygote()
    else:
        main(sys.argv[1], int(sys.argv[2]))
