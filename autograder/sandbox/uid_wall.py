"""A second wall for machines where bubblewrap cannot build its namespaces (Docker's default profile, say):
the kernel runs as an unprivileged user of its own, and file permissions keep it out of the grader's files.

It is the operating system that enforces it, not Python: the kernel zygote is started with that uid and
gid, no supplementary groups and ``no_new_privs`` (no setuid program gives it anything back). The caller
makes the grader's folders (its code, the hidden tests, the references, the submission and the results)
unreadable and unwritable to that uid (``chmod 700``, owned by root) and, before it writes any result,
kills every process of the uid (:func:`kill_all`), so nothing the student started outlives the grading.
The kernel imports its own modules from a world-readable copy made here (:func:`kernel_lib`), the same
files :mod:`.walls` mounts inside bubblewrap, never the grader's package.

    wall = UidWall.lookup("grader-kernel")      # a user name or a number
    wall.status()                               # None when usable, else why not
    ...grade with run_kernel(..., run_as=wall)...
    kill_all(wall.uid)

Alone, weaker than :mod:`.walls` in two ways, said in the README: the kernel shares the machine's network
and ``/tmp`` (it cannot reach the grader's files through them). Where that user may build namespaces too,
:func:`autograder.sandbox.supervisor.run_kernel` starts bubblewrap itself as that user (``run_as`` with
``Limits(walls=True)``): both walls at once, and the sandbox's uid is that user's outside, not the grader's.
"""
from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .walls import _KERNEL_MODULES, _package_dirs, _site_dirs

__all__ = ["UidWall", "kernel_lib", "processes_of", "kill_all"]

_PR_SET_NO_NEW_PRIVS = 38


def _no_new_privs() -> None:  # runs in the child between fork and exec
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


@dataclass(frozen=True)
class UidWall:
    """The unprivileged user kernels run as, and the interpreter they run (one that user can execute)."""

    uid: int
    gid: int
    python: str = ""

    @classmethod
    def lookup(cls, user: str, python: str = "") -> "UidWall":
        """``user`` is a name from the password file or a number (then its gid is the same number)."""
        if user.isdigit():
            return cls(int(user), int(user), python)
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise LookupError(f"no user named {user!r} on this machine") from None
        return cls(entry.pw_uid, entry.pw_gid, python)

    @property
    def interpreter(self) -> str:
        return self.python or os.path.realpath(sys.executable)

    def popen_options(self) -> dict:
        """What :class:`subprocess.Popen` needs to start a process as this user, unable to gain privileges."""
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "umask": 0o077,
                "preexec_fn": _no_new_privs}

    def status(self) -> str | None:
        """None when kernels can run behind this wall here; otherwise why not."""
        if os.geteuid() != 0:
            return "the grader is not root, so it cannot start kernels as another user"
        if self.uid == 0 or self.gid == 0:
            return "the kernel user must not be root"
        try:
            probe = subprocess.run([self.interpreter, "-S", "-c", "import os; print(os.getuid())"],
                                   capture_output=True, text=True, timeout=60, cwd="/",
                                   env={"PATH": "/usr/bin:/bin"}, **self.popen_options())
        except (OSError, subprocess.SubprocessError) as err:
            return f"the interpreter {self.interpreter} cannot be run as uid {self.uid}: {err}"
        if probe.returncode != 0 or probe.stdout.strip() != str(self.uid):
            return (f"the interpreter {self.interpreter} cannot be run as uid {self.uid}: "
                    + (probe.stderr.strip()[-300:] or f"exit status {probe.returncode}"))
        return None

    def zygote_command(self, control_fd: int, lib: Path) -> tuple[list[str], dict[str, str]]:
        """The zygote's command line and the start of its environment (``PYTHONPATH``: the kernel's own
        modules in ``lib``, then the packages; ``-S``: no ``.pth`` file, so no editable install, is read)."""
        path = os.pathsep.join([str(lib), *map(str, _site_dirs())])
        return ([self.interpreter, "-S", "-m", "autograder.sandbox.runner", "--zygote", str(control_fd)],
                {"PYTHONPATH": path})


def kernel_lib(target: Path) -> Path:
    """Copy the kernel's own modules (and the student ``course`` package) into ``target``, world-readable.

    The files are those :mod:`.walls` mounts for a walled kernel: the checks' frame without any chapter,
    the runner, the guard and the codec; nothing else of the grader.
    """
    package = Path(__file__).resolve().parents[1]  # autograder/
    target = Path(target)
    for module in _KERNEL_MODULES:
        destination = target / "autograder" / module
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / module, destination)
    for course in _package_dirs("course"):
        shutil.copytree(course, target / "course", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        break
    for folder, dirs, files in os.walk(target):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    return target


def processes_of(uid: int) -> list[int]:
    """The pids of every live process (zombies aside) whose real or effective uid is ``uid`` (``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if "\nState:\tZ" in status:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:"):
                real, effective = line.split()[1:3]
                if str(uid) in (real, effective):
                    found.append(int(entry.name))
                break
    return found


def kill_all(uid: int, timeout: float = 10.0) -> list[int]:
    """SIGKILL every process of ``uid``; return those still alive after ``timeout`` (none, normally).

    A child that takes the uid and calls ``kill(-1, SIGKILL)`` reaches every process of the uid at once,
    so a process forking as fast as it can cannot slip between a listing and the signals.
    """
    if uid == 0:
        raise ValueError("refusing to kill every process of root")
    deadline = time.monotonic() + timeout
    while True:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)  # (never the caller itself)
            except BaseException:  # noqa: BLE001
                pass
            os._exit(0)
        os.waitpid(pid, 0)
        left = processes_of(uid)
        for victim in left:  # (the listing catches processes of a different saved uid, too)
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not left or time.monotonic() > deadline:
            return processes_of(uid)
        time.sleep(0.05)
