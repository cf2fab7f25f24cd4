"""The grading kernel: runs one merged notebook in a sandboxed process and reports over a pipe.

This module, :mod:`.guard`, :mod:`.codec`, ``autograder/checks/__init__.py`` and the student ``course``
package are all of the course a kernel can see (:mod:`.walls` mounts nothing else). A warm zygote
(``python -m autograder.sandbox.runner --zygote FD``) pre-imports torch, matplotlib and IPython inside the
walls, never runs student code, and forks one kernel per job it is sent on its control socket::

    zygote ── job parent: new user, mount, pid, network, ipc and uts namespaces; a private tmpfs at /work
              └── init (pid 1 of the new pid namespace: when it ends, everything in it is killed)
                  └── kernel: no capabilities, resource limits, the audit hook, then the cells

The kernel reads its job (the cells, the limits, the hidden cases without their answers) from a memory
file, runs the cells one by one in an IPython shell (so magics work as in Jupyter) and writes frames
to the channel the grader holds the other end of::

    {"t": "start", "i": 3}
    {"t": "record", "i": 3, "check": "softmax", "records": [...], "autograd": [...]}   # see .codec
    {"t": "end", "i": 3, "status": "ok" | "error" | "timeout", "error": "...", "stdout": "...", "stderr": "..."}

and ``{"t": "done"}`` at the end. A frame is an 8-byte big-endian length and that many bytes of JSON.
Nothing here decides a point, and nothing here is trusted: the grader checks every frame
(:mod:`.supervisor`) and compares the records with the answers in its own process.
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
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
    try:
        lines = traceback.format_exception(type(err), err, err.__traceback__)
    except BaseException:  # noqa: BLE001  (an exception whose own methods fail)
        return f"{type(err).__name__} (its traceback could not be formatted)"
    text = "".join(line for line in lines if "autograder/sandbox/runner.py" not in line and "IPython/core" not in line)
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
    from autograder.sandbox import codec, guard  # noqa: F401


class _AutogradWitness:
    """Runtime evidence for by-hand exercises: records autograd being used while the probe runs.

    A torch function mode sees ``Tensor.backward``, ``torch.autograd.grad``/``backward`` and the
    ``torch.autograd.functional`` helpers; a saved-tensors hook sees any autograd graph being recorded
    (however grad mode was switched back on, ``torch.func`` transforms included). What it finds is sent with
    the records; the grader treats it as evidence only (it can take points away, never give them).
    """

    def __init__(self):
        self.found: set[str] = set()
        self._stack = []

    def __enter__(self):
        import torch
        from torch.overrides import TorchFunctionMode

        witness = self

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                name = getattr(func, "__qualname__", None) or getattr(func, "__name__", "")
                module = getattr(func, "__module__", "") or ""
                if name in ("Tensor.backward", "backward", "grad") and ("autograd" in module or "_tensor" in module
                                                                         or name == "Tensor.backward"):
                    witness.found.add(f"{module}.{name}".strip("."))
                elif "autograd.functional" in module or module.startswith("torch._functorch"):
                    witness.found.add(f"{module}.{name}")
                return func(*args, **(kwargs or {}))

        def pack(tensor):
            witness.found.add("an autograd graph was recorded (tensors saved for backward)")
            return tensor

        hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor)
        mode = Mode()
        for context in (hooks, mode):
            context.__enter__()
            self._stack.append(context)
        return self

    def __exit__(self, *exc):
        while self._stack:
            try:
                self._stack.pop().__exit__(None, None, None)
            except Exception:  # noqa: BLE001  (student code may have unbalanced the mode stack)
                pass
        return False


def main(job: dict, blob: bytes, channel_fd: int) -> None:
    """Run the job's cells in this process (already inside the walls) and report over ``channel_fd``."""
    import contextlib

    limits = job["limits"]
    channel = Channel(channel_fd)
    preload()
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    import autograder.checks as checks
    from autograder.checks import CheckResult, probe_all, unpack_cases
    from autograder.sandbox import guard

    hidden_cases: dict = {}
    current = {"cell": -1}

    def record(name, fn):
        probe, by_hand, cases = hidden_cases.get(name, (None, False, []))
        witness = _AutogradWitness() if by_hand else contextlib.nullcontext()
        with witness:
            records = probe_all(fn, cases, probe, by_hand)
        frame = {"t": "record", "i": current["cell"], "check": name, "records": records}
        if by_hand:
            frame["autograd"] = sorted(witness.found)[:20]
        channel.send(frame)
        return CheckResult(name, True, len(cases), [])  # the grader decides; the cell only has to finish

    checks._recorder = record

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    shell = InteractiveShell.instance(config=config)
    shell.showtraceback = lambda *a, **k: None  # errors are reported in the "end" frame instead

    guard.apply_limits(memory_mb=limits["memory_mb"], file_mb=limits["file_mb"],
                       cpu_seconds=limits["notebook_seconds"] + 30, processes=limits.get("processes", 64))
    policy = guard.Policy(writable=tuple(job["writable"]), hidden=tuple(job["hidden"]))
    # Nothing the walls block stays reachable by name (the hidden test cells still import autograder.checks).
    keep = {"autograder", "autograder.checks", "autograder.sandbox", "autograder.sandbox.codec"}
    for name in list(sys.modules):
        if name not in keep and any(name == b or name.startswith(b + ".") for b in policy.blocked_modules):
            del sys.modules[name]
    guard.install(policy)
    # The cases are unpickled inside the walls: a case that carried reference code (solutions_lib) would fail
    # to load here, loudly, instead of handing that code to the student (tests/test_engine.py checks none does).
    hidden_cases.update(unpack_cases(blob))
    del blob

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
        except BaseException as broken:  # noqa: BLE001  (IPython itself failed on what earlier cells left:
            status, error = "error", _describe(broken)  # this cell fails, the later ones still run)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = real_stdout, real_stderr
        channel.send({"t": "end", "i": index, "status": status, "error": error, "stdout": out.value(),
                      "stderr": err.value(), "seconds": round(time.monotonic() - started, 3)})
    channel.send({"t": "done"})


# -- the zygote and the namespaces it forks kernels into ---------------------------------------------------

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
WORK = "/job"  # the kernel's folder inside the walls (a tmpfs of its own; nothing else is mounted under it)


def _prctl(option: int, arg: int = 0) -> None:
    _check(_c().prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)),
           f"prctl({option})")


def _mount(source: str, target: str, kind: str | None, flags: int, options: str | None = None) -> None:
    _check(_c().mount(source.encode(), target.encode(), kind.encode() if kind else None, ctypes.c_ulong(flags),
                      options.encode() if options else None), f"mount {target}")


def _enter_namespaces(disk_mb: int) -> None:
    """In a job parent: namespaces of its own (its children get a new pid namespace) and a private /work.

    The new user namespace maps only the sandbox's own uid, so inside it the job parent may mount (its
    tmpfs), and the kernel, which drops every capability, may not. Nothing mounted here is seen outside.
    """
    uid, gid = os.getuid(), os.getgid()
    # (a process that is not dumpable may not write its own id maps where the outer namespace does not map
    # root, as when bubblewrap was started by an unprivileged user; no student code runs yet)
    _prctl(_PR_SET_DUMPABLE, 1)
    _check(_c().unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC
                        | _CLONE_NEWUTS), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    _prctl(_PR_SET_DUMPABLE, 0)
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE)
    _mount("tmpfs", WORK, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={disk_mb}m,nr_inodes=16384,mode=0700")
    for folder in ("tmp", ".mpl", ".ipython"):
        os.makedirs(os.path.join(WORK, folder), exist_ok=True)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=16m,nr_inodes=64,mode=0700")


def _drop_privileges() -> None:
    """The kernel keeps no capability (in any namespace) and can gain none."""
    for cap in range(64):
        if _c().prctl(_PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break
    _c().prctl(_PR_CAP_AMBIENT, ctypes.c_ulong(_PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty
    _check(_c().syscall(126, header, data), "capset")  # SYS_capset on x86_64
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)


def _read_job(fd: int) -> tuple[dict, bytes]:
    parts, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        parts.append(chunk)
        offset += len(chunk)
    data = b"".join(parts)
    head, _, blob = data.partition(b"\n")
    return json.loads(head), blob


def _kernel(job_fd: int, channel_fd: int, work: str, walled: bool) -> None:
    """The kernel process: its own session and stdio, no privileges, the job's environment; then :func:`main`."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setsid()
    log = os.open(os.path.join(work, ".kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    job, blob = _read_job(job_fd)
    job = json.loads(json.dumps(job).replace("@WORK@", work))  # (the folder's name, known only here)
    channel = os.dup2(channel_fd, 3)
    os.closerange(4, 1 << 16)
    if walled:
        _drop_privileges()
    _prctl(_PR_SET_DUMPABLE, 1)
    for name in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(name, signal.SIG_DFL if name != signal.SIGINT else signal.default_int_handler)
    os.environ.clear()
    os.environ.update(job["env"])
    import tempfile

    tempfile.tempdir = None  # the zygote's temporary folder is not this kernel's
    os.chdir(work)
    main(job, blob, channel)


def _init(job_fd: int, channel_fd: int, work: str, walled: bool) -> None:
    """Pid 1 of the kernel's pid namespace: starts the kernel, reaps, exits with the kernel's status."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # (pid 1 ignores signals it has no handler for)
    kernel = os.fork()
    if kernel == 0:
        code = 1
        try:
            _kernel(job_fd, channel_fd, work, walled)
            code = 0
        except SystemExit as leaving:  # sys.exit outside a cell (the shell catches it inside one)
            code = leaving.code if isinstance(leaving.code, int) else 1
        except BaseException:  # noqa: BLE001  (into the kernel's log, which the grader shows)
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(job_fd)
    os.close(channel_fd)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(127)
        if pid == kernel:
            break
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(min(os.WEXITSTATUS(status), 127))


def _job_parent(job_fd: int, channel_fd: int, status_fd: int, walled: bool, home: str) -> None:
    """A child of the zygote: make the kernel's namespaces and folder, start its init, report how it ended."""
    def report(message: dict) -> None:
        os.write(status_fd, json.dumps(message).encode() + b"\n")

    work = WORK
    try:
        job, _ = _read_job(job_fd)
        if walled:
            _enter_namespaces(int(job["limits"].get("disk_mb", 256)))
        else:
            import tempfile

            work = tempfile.mkdtemp(prefix="job-", dir=home)
            job_dirs = [work, os.path.join(work, "tmp"), os.path.join(work, ".mpl")]
            for folder in job_dirs[1:]:
                os.makedirs(folder, exist_ok=True)
        init = os.fork()
        if init == 0:
            _init(job_fd, channel_fd, work, walled)
        os.close(job_fd)
        os.close(channel_fd)
        report({"pid": init})
        _, status = os.waitpid(init, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        code = -(code - 128) if code > 128 else code
        try:
            with open(os.path.join(work, ".kernel.log"), "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - 600))
                log = f.read().decode("utf-8", "replace")
        except OSError:
            log = ""
        report({"code": code, "log": log})
        if not walled:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    except BaseException as err:  # noqa: BLE001  (the zygote must hear of it: the grader failed, not the student)
        report({"code": 126, "failed": f"the kernel could not be started: {type(err).__name__}: {err}"})
    finally:
        os._exit(0)


def zygote(control_fd: int, walled: bool) -> None:
    """Pre-import the kernel's modules once, then fork a kernel per job sent on the control socket.

    Protocol (JSON lines on the socket): in ``{"job": N}`` with two file descriptors (the job's memory
    file, the channel's write end), or ``{"kill": N}``; out ``{"ready": true}`` once, then per job
    ``{"pid": N}`` and, when that kernel has ended, ``{"exit": N, "code": CODE, "log": TAIL}``.
    The zygote never runs student code, so every kernel starts from the same clean state, and it is not
    dumpable, so no kernel can read or write its memory.
    """
    _prctl(_PR_SET_DUMPABLE, 0)
    preload()
    home = os.getcwd()
    control = socket.socket(fileno=control_fd)

    def send(message: dict) -> None:
        control.sendall(json.dumps(message).encode() + b"\n")

    send({"ready": True, "walled": walled})
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 4096, 4)
        except OSError:
            return
        if not message:
            return  # the grader went away
        try:
            request = json.loads(message)
        except ValueError:
            request = {}
        if "job" not in request or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        job_fd, channel_fd = fds
        status_r, status_w = os.pipe()
        parent = os.fork()
        if parent == 0:
            control.close()
            os.close(status_r)
            _job_parent(job_fd, channel_fd, status_w, walled, home)
        os.close(status_w)
        os.close(job_fd)
        os.close(channel_fd)
        _follow(control, status_r, parent, request["job"], send)
        os.close(status_r)


def _follow(control: socket.socket, status_r: int, parent: int, job, send) -> None:
    """Relay one kernel's pid and end to the grader; kill it when the grader asks."""
    buffer, init, pending = b"", None, b""
    while True:
        ready, _, _ = select.select([control, status_r], [], [])
        if control in ready:
            data = control.recv(4096)
            if not data:  # the grader went away: take the kernel with us
                for pid in (init, parent):
                    if pid:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                os._exit(0)
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if b"kill" in line and init:
                    try:
                        os.kill(init, signal.SIGKILL)  # pid 1 of its namespace: everything in it dies
                    except ProcessLookupError:
                        pass
        if status_r in ready:
            data = os.read(status_r, 65536)
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                message = json.loads(line)
                if "pid" in message:
                    init = message["pid"]
                    send({"pid": job})
                else:
                    os.waitpid(parent, 0)
                    send({"exit": job, "code": message.get("code"), "log": str(message.get("log", ""))[-600:],
                          **({"failed": str(message["failed"])[:600]} if "failed" in message else {})})
                    return
            if not data:
                os.waitpid(parent, 0)
                send({"exit": job, "code": 126, "log": "the kernel's parent ended without a word"})
                return


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:
        zygote(int(sys.argv[2]), sys.argv[3:4] == ["--walled"])
