"""Build a bubblewrap sandbox: what it shows, what it hides, and whether one can be made here.

A sandbox sees a read-only system (``/usr`` and the few ``/etc`` files programs need), the Python
that runs the kit and the kit itself, read-only; a fresh tmpfs of a fixed size for ``/tmp`` and
the home folder; its own ``/proc`` (its own processes only) and a minimal ``/dev``. It has its own
user, PID, mount, network, IPC, UTS and cgroup namespaces, no capabilities, cannot make further
user namespaces, and dies with the process that started it. Nothing else of the machine is
there: not the grader's files, the submissions, the output folder or anyone's home.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from course.sandbox.cgroup import PidsCgroup
from course.sandbox.limits import ResourceLimits

HOME = "/home/student"
RUN = "/run/course"
GATE = f"{RUN}/gate.sock"
UID = 1000
SHM_SIZE = 64 << 20
SMALL_TMPFS = 1 << 20
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "ssl",
    "ca-certificates",
    "hosts",
    "nsswitch.conf",
    "localtime",
    "mime.types",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "fonts",
)
#: The sandbox's /etc/passwd and /etc/group: root and ``student`` (UID), nobody else.
ETC = Path(__file__).with_name("etc")

FIX = (
    "grading runs each submission in a bubblewrap sandbox, and none can be made here: {why}. "
    "Install bubblewrap (Debian/Ubuntu: `sudo apt install bubblewrap`, Fedora: `sudo dnf install "
    "bubblewrap`) on Linux with user namespaces allowed (Ubuntu 24.04: `sudo sysctl "
    "kernel.apparmor_restrict_unprivileged_userns=0`; in a container: run it with "
    "`--security-opt seccomp=unconfined` or grade on the host), or pass --no-sandbox to grade "
    "without isolation (only for notebooks you trust)."
)


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made on this machine; the message names the fix."""


@functools.cache
def kit_paths() -> list[str]:
    """What the sandbox needs read-only to run Python and the kit: the interpreter's prefix,
    the virtual environment, and the kit's package wherever it is installed from."""
    import course

    paths = {sys.base_prefix, sys.prefix, str(Path(course.__file__).resolve().parent)}
    paths.add(str(Path(sys.executable).resolve().parent.parent))
    ordered = sorted(p for p in paths if p and Path(p).exists())
    # A path inside another bound path needs no bind of its own.
    return [p for p in ordered if not any(p != q and p.startswith(q + os.sep) for q in ordered)]


def _system_args() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


@dataclass
class Launch:
    """A sandbox's command line, and the pids cgroup it runs in (root graders only): the caller
    runs ``argv`` and calls ``done()`` once the sandbox has ended."""

    argv: list[str]
    cgroup: PidsCgroup | None = None

    def done(self) -> None:
        """Kill whatever is left in the cgroup and remove it."""
        if self.cgroup is not None:
            self.cgroup.remove()


@dataclass
class Sandbox:
    """One sandbox's shape; ``launch(command)`` is how to run it, ``argv`` its bare command."""

    limits: ResourceLimits
    env: dict[str, str]
    forward_ports: list[int] = field(default_factory=list)
    gate: Path | None = None  # the backend's gate socket, bound in at GATE
    ro_binds: list[tuple[str, str]] = field(default_factory=list)
    rw_binds: list[tuple[str, str]] = field(default_factory=list)  # grader-made folders only
    # Folders of their own (a small tmpfs each, which the sandbox cannot rename or replace).
    dirs: list[str] = field(default_factory=list)
    cwd: str = HOME

    def launch(self, command: list[str], module: str | None = None) -> Launch:
        """``argv(command, module)``, started in a pids cgroup of ``limits.processes`` tasks
        where the grader can make one: the kernel exempts a root grader from RLIMIT_NPROC."""
        argv = self.argv(command, module)
        cgroup = PidsCgroup.create(self.limits.processes)
        return Launch(cgroup.wrap(argv) if cgroup else argv, cgroup)

    def argv(self, command: list[str], module: str | None = None) -> list[str]:
        """The full command: bubblewrap, then the inside launcher, then ``command`` (or, with
        ``module``, that Python module run by the launcher itself, ``command`` its arguments)."""
        return [*self.bwrap_args(), *self._launcher(module), "--", *command]

    def bwrap_args(self) -> list[str]:
        """bubblewrap's part of the command line, up to and with its ``--``."""
        args = [
            bwrap_path(),
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            "--uid",
            str(UID),
            "--gid",
            str(UID),
            *_system_args(),
            "--ro-bind",
            str(ETC / "passwd"),
            "/etc/passwd",
            "--ro-bind",
            str(ETC / "group"),
            "/etc/group",
        ]
        # The tmpfs first: a kit installed under /tmp must show through it, not under it.
        args += ["--size", str(self.limits.disk), "--tmpfs", "/tmp", "--dir", "/tmp/home"]
        args += ["--symlink", "/tmp/home", HOME, "--dir", RUN]
        for path in kit_paths():
            args += ["--ro-bind", path, path]
        args += ["--proc", "/proc", "--dev", "/dev"]
        # POSIX shared memory (multiprocessing's locks) on a capped tmpfs; the rest of /dev and
        # the root (bubblewrap's own tmpfs) read-only, so nothing is written outside the caps.
        args += ["--size", str(min(self.limits.disk, SHM_SIZE)), "--tmpfs", "/dev/shm"]
        args += ["--remount-ro", "/dev"]
        for folder in self.dirs:
            args += ["--size", str(SMALL_TMPFS), "--tmpfs", folder]
        if self.gate is not None:
            args += ["--ro-bind", str(self.gate), GATE]
        for source, dest in self.ro_binds:
            args += ["--ro-bind", source, dest]
        for source, dest in self.rw_binds:
            args += ["--bind", source, dest]
        args += ["--remount-ro", "/", "--clearenv"]
        env = {"HOME": HOME, "USER": "student", "LANG": "C.UTF-8", **self.env}
        env.setdefault("PATH", f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin")
        env.setdefault("TMPDIR", "/tmp")
        for name, value in sorted(env.items()):
            args += ["--setenv", name, value]
        return [*args, "--chdir", self.cwd, "--"]

    def _launcher(self, module: str | None) -> list[str]:
        inside = [sys.executable, "-I", "-m", "course.sandbox.inside"]
        inside += ["--limits", self.limits.to_json()]
        for port in self.forward_ports:
            inside += ["--forward", f"{port}={GATE}"]
        return [*inside, "--module", module] if module else inside


def bwrap_path() -> str:
    """bubblewrap's path; SandboxUnavailable if it is not installed."""
    found = shutil.which("bwrap")
    if not found:
        raise SandboxUnavailable(FIX.format(why="bubblewrap (`bwrap`) is not installed"))
    return found


@functools.cache
def check_available() -> None:
    """Raise SandboxUnavailable (naming the fix) unless a sandbox can be made on this machine."""
    if sys.platform != "linux":
        raise SandboxUnavailable(FIX.format(why=f"this is {sys.platform}, not Linux"))
    # The very walls a grading sandbox gets (read-only remounts and all), around /bin/true.
    probe = [*Sandbox(ResourceLimits(disk=1 << 20), {}).bwrap_args(), "/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(FIX.format(why=f"bubblewrap did not run ({exc})")) from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise SandboxUnavailable(FIX.format(why=f"bubblewrap failed: {why}"))
