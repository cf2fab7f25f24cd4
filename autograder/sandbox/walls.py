"""The operating system's walls around every grading kernel, built with bubblewrap (``bwrap``).

The kernel zygote (:mod:`.runner`) is started inside one ``bwrap`` sandbox with new user, pid, mount,
network, ipc and uts namespaces, as uid 65534 with no capabilities, in its own session, killed with the
grader. Its file system is an allow-list, read-only:

* the system's ``/usr`` (and the ``/lib``, ``/bin`` links into it), a few files of ``/etc``;
* the Python runtime and the folders holding the packages a student may use (``site-packages``), with
  any copy of ``autograder``, ``solutions_lib`` or the course repository found there masked, and
  editable-install hooks blanked (Python runs with ``-S``: no ``.pth`` file is read);
* the kernel's own code: ``autograder/__init__.py``, ``autograder/checks/__init__.py`` (the frame of the
  checks, not the chapters: hidden cases arrive pickled by value, without their answers) and
  ``autograder/sandbox/{runner,guard,codec}.py``; and the student ``course`` package.

Nothing of the repository, the class folder, the submissions, the gradebook or the result files is
mounted. Each kernel the zygote forks gets further namespaces of its own (a pid namespace in which it
sees and can signal only itself, a network, ipc and mount namespace) and a private tmpfs work folder
capped at ``disk_mb``; rlimits cap its memory, processes, file size and CPU time.

    status = walls_status()            # None when bwrap and user namespaces work, else the reason
    argv, fds = zygote_command(control_fd)
"""
from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["walls_status", "zygote_command", "kernel_python_path", "KERNEL_LIB", "SANDBOX_UID", "INSTALL_HINT"]

KERNEL_LIB = "/opt/grading-kernel"  # where the kernel's own code is mounted inside the walls
JOB = "/job"  # the zygote's folder inside the walls; each kernel mounts a tmpfs of its own over it
SANDBOX_UID = 65534
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
                "`sudo dnf install bubblewrap`) on a Linux kernel with unprivileged user namespaces")
_ETC = ("passwd", "group", "nsswitch.conf", "localtime", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts",
        "alternatives")
_KERNEL_MODULES = ("__init__.py", "checks/__init__.py", "sandbox/__init__.py", "sandbox/runner.py",
                   "sandbox/guard.py", "sandbox/codec.py")
_HIDDEN_PACKAGES = ("autograder", "solutions_lib", "tests", "nbgrader")


def _package_dirs(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(p).resolve() for p in spec.submodule_search_locations]
    return [Path(spec.origin).resolve()] if spec.origin else []


def _python() -> Path:
    return Path(os.path.realpath(sys.executable))


def _site_dirs() -> list[Path]:
    """The folders the grader's own imports come from (site-packages), minus the course repository."""
    found = []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.is_dir() and path.name in ("site-packages", "dist-packages") and path not in found:
            found.append(path)
    return found


def kernel_python_path() -> list[str]:
    """``sys.path`` inside the walls: the kernel's own code first, then the packages."""
    return [KERNEL_LIB, *map(str, _site_dirs())]


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _runtime_roots() -> list[Path]:
    """What must be mounted for the interpreter and its standard library to run."""
    roots = [Path(sys.base_prefix).resolve(), _python().parent]
    for key in ("stdlib", "platstdlib"):
        roots.append(Path(sysconfig.get_paths()[key]).resolve())
    out: list[Path] = []
    for root in roots:
        if not _under(root, [Path("/usr")]) and not _under(root, out):
            out = [r for r in out if not _under(r, [root])] + [root]
    return out


def _hide(paths: list[Path], mounted: list[Path]) -> list[str]:
    """bwrap arguments hiding ``paths`` wherever a mounted folder holds them."""
    args: list[str] = []
    for path in sorted({Path(p).resolve() for p in paths}):
        if _under(path, mounted) and path.exists():
            args += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    return args


def zygote_command(control_fd: int, course_root: Path | None = None, private: list[Path] = (),
                   lib: Path | None = None) -> list[str]:
    """The ``bwrap`` command line that starts the kernel zygote inside the walls.

    ``course_root`` and ``private`` (the class folder, the scratch folder) are masked wherever a mounted
    folder would reveal them. ``lib``: a copy of the kernel's own modules to mount instead of the grader's
    (:func:`autograder.sandbox.uid_wall.kernel_lib`; for a ``bwrap`` started as a user that cannot read them).
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise OSError("bubblewrap (bwrap) is not installed")
    args = [bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--die-with-parent",
            "--new-session", "--hostname", "grading", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in _ETC:
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    system = [Path("/usr")]
    # what a system folder would reveal (a course cloned under /usr/src, say): the course, the class, scratch
    args += _hide([*([course_root] if course_root else []), *private], system)
    roots: list[Path] = []  # the runtime and the packages, bound even inside a system folder
    for root in [*_runtime_roots(), *_site_dirs()]:
        if not _under(root, roots):
            roots = [r for r in roots if not _under(r, [root])] + [root]
    for root in roots:
        args += ["--ro-bind", str(root), str(root)]
    mounted = system + roots
    # any installed copy of the grader's or the answers' packages, and editable-install hooks
    args += _hide([p for name in _HIDDEN_PACKAGES for p in _package_dirs(name)], mounted)
    for site in _site_dirs():
        for hook in sorted(site.glob("__editable__*")) + sorted(site.glob("*.pth")):
            args += ["--ro-bind", "/dev/null", str(hook)]
    package = Path(lib) / "autograder" if lib else Path(__file__).resolve().parents[1]  # autograder/
    for module in _KERNEL_MODULES:
        args += ["--ro-bind", str(package / module), f"{KERNEL_LIB}/autograder/{module}"]
    for course in [Path(lib) / "course"] if lib else _package_dirs("course")[:1]:
        args += ["--ro-bind", str(course), f"{KERNEL_LIB}/course"]
    if _under(Path(JOB), mounted) or any(_under(root, [Path(JOB)]) for root in mounted):
        raise OSError(f"{JOB} is the kernels' folder inside the walls; the Python packages cannot live there")
    # /tmp is empty and read-only (a kernel writes in its own /job, a tmpfs of its own: TMPDIR points there)
    args = args[:1] + ["--tmpfs", "/tmp"] + args[1:]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(16 * 2**20), "--tmpfs", JOB, "--remount-ro", "/tmp",
             "--remount-ro", "/", "--chdir", JOB, "--clearenv"]
    env = {"PATH": "/usr/bin:/bin", "HOME": JOB, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": f"{JOB}/.mpl", "PYTHONPATH": os.pathsep.join(kernel_python_path()),
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "USER": "student", "LOGNAME": "student"}
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + [str(_python()), "-S", "-m", "autograder.sandbox.runner", "--zygote", str(control_fd), "--walled"]


@functools.lru_cache(maxsize=8)
def walls_status(run_as=None) -> str | None:
    """None when the walls can be built here; otherwise why not (bwrap missing, user namespaces off, ...).

    ``run_as`` (a :class:`autograder.sandbox.uid_wall.UidWall`): whether that user can build them.
    """
    if not sys.platform.startswith("linux"):
        return f"the walls need Linux namespaces; this is {sys.platform}"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        probe = subprocess.run([bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/",
                                "--proc", "/proc", "--dev", "/dev", "--", "/bin/sh", "-c",
                                "command -v unshare >/dev/null || exit 0; unshare -U -p -f -m -n true"],
                               capture_output=True, text=True, timeout=30, cwd="/",
                               **(run_as.popen_options() if run_as is not None else {}))
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap could not be run: {err}"
    if probe.returncode != 0:
        return "user namespaces are not available to bubblewrap: " + (probe.stderr.strip()[-300:] or "unknown")
    return None
