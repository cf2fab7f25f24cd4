"""The second layer of a grading kernel's walls: an audit hook (PEP 578) installed before student code runs.

The walls themselves are the operating system's (:mod:`.walls`: namespaces, an allow-listed file system,
limits); PEP 578 says an audit hook is no sandbox, and C-level calls raise no event. The hook still turns
the plain attempts into clear errors for the student. It refuses:

* reading the course's answers and the class's records: ``solutions_lib``, ``autograder``, the source
  notebooks, the tests, ``.git``, the class folder (other students, the gradebook), by path or by import,
  and other processes' ``/proc`` entries (the grader's memory holds the expected answers);
* writing anywhere but the kernel's own working folder, and making links (which could point out of it);
* starting processes (``fork``, ``subprocess``, ``os.system``, ``exec*``, ``posix_spawn``), signalling
  other processes, opening sockets, loading native libraries with ``ctypes``, walking the garbage
  collector's object lists, raising resource limits, reading from stdin.

Resource limits (:func:`apply_limits`) cap memory, file size, CPU time and open files; the grader kills
the whole process group on time-outs. Together they keep one submission from touching anything but
itself; the points are decided outside the kernel anyway (:mod:`autograder.checks`).
"""
from __future__ import annotations

import os
import resource
import signal
import sys
from dataclasses import dataclass, field

__all__ = ["Policy", "install", "apply_limits"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


@dataclass(frozen=True)
class Policy:
    """What a kernel may touch: ``writable`` folders, ``hidden`` folders/files, ``blocked`` module prefixes."""

    writable: tuple[str, ...]
    hidden: tuple[str, ...]
    blocked_modules: tuple[str, ...] = ("solutions_lib", "autograder", "nbgrader", "tests")
    always_writable: tuple[str, ...] = field(default=("/dev/null",))


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def install(policy: Policy) -> None:
    """Add the audit hook for ``policy`` to this process (for good)."""
    realpath, fsdecode, getpid = os.path.realpath, os.fsdecode, os.getpid
    writable = tuple(realpath(p) for p in policy.writable)
    hidden = tuple(realpath(p) for p in policy.hidden)
    blocked = policy.blocked_modules
    always_writable = policy.always_writable

    def refuse(what: str) -> None:
        raise PermissionError(f"not allowed while grading: {what}")

    def resolve(path) -> str:
        return realpath(fsdecode(path))

    own = {str(getpid())}
    try:
        own.add(os.readlink("/proc/self"))  # this process's number in the pid namespace /proc was mounted for
    except OSError:
        pass

    def other_process(path: str) -> bool:
        parts = path.split(os.sep)
        return len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and parts[2] not in own

    def check_read(path) -> None:
        if isinstance(path, int) or path is None:
            return
        real = resolve(path)
        if _under(real, hidden) and not _under(real, writable):
            refuse(f"reading {fsdecode(path)}")
        if other_process(os.path.abspath(fsdecode(path))) or other_process(real):
            refuse(f"reading another process's {fsdecode(path)}")

    def check_write(path) -> None:
        if isinstance(path, int) or path is None:
            return
        real = resolve(path)
        if real not in always_writable and not _under(real, writable):
            refuse(f"writing {fsdecode(path)} (only the notebook's own folder is writable)")

    def on_open(args):
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS)
        check_write(path) if writing else check_read(path)

    def on_import(args):
        name = args[0] if args else ""
        if isinstance(name, str) and any(name == b or name.startswith(b + ".") for b in blocked):
            raise ImportError(f"not allowed while grading: importing {name}")

    def on_kill(args):
        if args and args[0] not in (0, getpid()):
            refuse("signalling another process")

    def paths(*indices):
        def check(args):
            for i in indices:
                if i < len(args):
                    check_write(args[i])
        return check

    def listing(args):
        if args:
            check_read(args[0])

    def deny(what):
        def check(args):
            refuse(what)
        return check

    handlers = {
        "open": on_open,
        "import": on_import,
        "os.listdir": listing, "os.scandir": listing, "glob.glob": listing,
        "os.remove": paths(0), "os.rmdir": paths(0), "os.mkdir": paths(0), "os.rename": paths(0, 1),
        "os.replace": paths(0, 1), "os.chmod": paths(0), "os.chown": paths(0), "os.truncate": paths(0),
        "os.utime": paths(0), "shutil.rmtree": paths(0), "shutil.copyfile": paths(1), "shutil.move": paths(1),
        "os.chdir": lambda args: check_write(args[0]) if args else None,
        "os.link": deny("making links"), "os.symlink": deny("making links"),
        "os.fork": deny("starting processes"), "os.forkpty": deny("starting processes"),
        "os.system": deny("starting processes"), "os.exec": deny("starting processes"),
        "os.posix_spawn": deny("starting processes"), "os.spawn": deny("starting processes"),
        "subprocess.Popen": deny("starting processes"), "pty.spawn": deny("starting processes"),
        "os.kill": on_kill, "os.killpg": deny("signalling other processes"),
        "socket.connect": deny("network access"), "socket.bind": deny("network access"),
        "socket.sendto": deny("network access"), "socket.getaddrinfo": deny("network access"),
        "ctypes.dlopen": deny("loading native libraries"), "ctypes.dlsym": deny("loading native libraries"),
        "ctypes.dlsym/handle": deny("loading native libraries"),
        "gc.get_objects": deny("walking the garbage collector"),
        "gc.get_referrers": deny("walking the garbage collector"),
        "gc.get_referents": deny("walking the garbage collector"),
        "resource.setrlimit": deny("changing resource limits"), "resource.prlimit": deny("changing resource limits"),
        "builtins.input": deny("reading input (there is no one to type it)"),
        "sys.remote_exec": deny("attaching to processes"),
    }

    def hook(event: str, args: tuple) -> None:
        handler = handlers.get(event)
        if handler is not None:
            handler(args)

    sys.addaudithook(hook)


def apply_limits(memory_mb: int, file_mb: int, cpu_seconds: int, open_files: int = 256,
                 processes: int | None = None) -> None:
    """Lower this process's resource limits, soft and hard (they cannot be raised again).

    ``processes`` caps the processes and threads of this user (inside the walls: of this kernel alone).
    """
    mb = 2**20
    limits = [(resource.RLIMIT_AS, memory_mb * mb), (resource.RLIMIT_FSIZE, file_mb * mb),
              (resource.RLIMIT_CPU, cpu_seconds), (resource.RLIMIT_NOFILE, open_files), (resource.RLIMIT_CORE, 0)]
    if processes is not None:
        limits.append((resource.RLIMIT_NPROC, processes))
    for limit, value in limits:
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))
    # a write past the file-size limit fails with an error instead of killing the kernel
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
