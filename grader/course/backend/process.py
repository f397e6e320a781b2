"""Start, find, health-check, reset and stop backend processes from the kit's side.

A ``Backend`` is a handle on one server process (``python -m course.backend``) on a loopback port.
The grader starts a fresh one for every submission; a student's notebook shares one long-lived
backend whose address is kept in a state file (see ``shared_backend``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from course.client import BackendApiError, BackendClient

START_TIMEOUT = 60.0
TERM_GRACE = 2.0  # seconds a backend that does not answer HTTP gets to end after SIGTERM
T = TypeVar("T")


class BackendError(RuntimeError):
    """The backend could not be started or reached."""


@dataclass
class Backend:
    """A running backend process, reached over HTTP at ``url``."""

    url: str
    pid: int
    admin_token: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    workdir: Path | None = None  # a temporary folder this handle owns; removed by stop()
    gate: Path | None = None  # the Unix socket sandboxes reach this backend through
    smtp_port: int | None = None

    @property
    def ports(self) -> list[int]:
        """The loopback ports this backend serves on: its API and, with a gate, SMTP."""
        port = int(self.url.rsplit(":", 1)[1])
        return [port] if self.smtp_port is None else [port, self.smtp_port]

    # -- lifecycle
    @classmethod
    def start(
        cls,
        *,
        log_path: Path | None = None,
        detached: bool = False,
        gate: bool = False,
        sandbox_lambda: str | None = None,
        memory_limit: int | None = None,
        time_scale: float | None = None,
        time_anchor: float | None = None,
    ) -> Backend:
        """Start a new backend on a free loopback port and wait until it answers.

        ``detached`` starts it in its own session so it outlives the caller (the student's
        shared backend); otherwise it is the caller's child, stops with ``stop()`` and exits by
        itself within half a second if the caller dies. ``gate`` also serves a Unix socket for
        sandboxes (``Backend.gate``); ``sandbox_lambda`` (``ResourceLimits`` as JSON) runs
        Lambda handlers in sandboxes of their own under those limits; ``memory_limit`` caps the
        server's own memory (bytes). ``time_scale`` runs the backend's clock that many times
        faster than the wall clock from the wall-clock time ``time_anchor`` on (default: the
        server's start), so AWS waits (visibility timeouts, long polls, delays, Lambda timeouts)
        take ``1/time_scale`` of their real time; by default the clock is real time.
        """
        token = secrets.token_hex(16)
        workdir = Path(tempfile.mkdtemp(prefix="course-backend-"))
        ready = workdir / "ready.json"
        # With a log of the caller's and no gate, the temporary folder only carries the ready
        # file; a gate's socket lives in it for the backend's life.
        owned = workdir if log_path is None or gate else None
        log_path = log_path or workdir / "backend.log"
        # The server never needs the caller's AWS identity; a stray AWS_PROFILE would break it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            COURSE_ADMIN_TOKEN=token,
            PYTHONUNBUFFERED="1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        if sandbox_lambda:
            env["COURSE_SANDBOX_LAMBDA"] = sandbox_lambda
        command = [sys.executable, "-m", "course.backend", "--ready-file", str(ready)]
        if gate:
            command += ["--gate", str(workdir / "gate.sock")]
        if not detached:
            command += ["--parent-pid", str(os.getpid())]
        if memory_limit:
            command += ["--memory-limit", str(memory_limit)]
        if time_scale is not None:
            command += ["--time-scale", repr(float(time_scale))]
        if time_anchor is not None:
            command += ["--time-anchor", repr(float(time_anchor))]
        log = open(log_path, "ab")  # noqa: SIM115 - handed to the child process
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=log_path.parent,
            start_new_session=detached,
        )
        log.close()
        try:
            info = _wait_until_ready(process, ready, log_path)
        except BackendError:
            if log_path.parent != workdir:  # else the folder keeps the log the message names
                shutil.rmtree(workdir, ignore_errors=True)
            raise
        if owned is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            ready.unlink()
        port = int(info["port"])
        backend = cls(
            f"http://127.0.0.1:{port}",
            process.pid,
            token,
            process,
            log_path,
            owned,
            gate=workdir / "gate.sock" if gate else None,
            smtp_port=info.get("smtp_port"),
        )
        if not backend.healthy():
            backend.stop()
            raise BackendError(f"the backend on port {port} does not answer its health check")
        return backend

    @property
    def api(self) -> BackendClient:
        """The client of this backend's own ``/_course/`` API, with its admin token."""
        return BackendClient(self.url, self.admin_token)

    def healthy(self, timeout: float = 2.0) -> bool:
        """True when the server answers its health endpoint."""
        try:
            return bool(self.api.health(timeout=timeout).get("ok"))
        except (OSError, ValueError):
            return False

    def reset(self) -> None:
        """Wipe every resource, the extensions' state and the flow record."""
        self._admin(self.api.reset)

    def advance_clock(self, seconds: float) -> float:
        """Move the backend's clock forward (visibility timeouts, delays, retention expire)."""
        return self._admin(self.api.advance_clock, seconds)

    def flow(self, since: int = 0) -> dict[str, Any]:
        """The recorded calls after sequence number ``since``."""
        return self.api.flow(since)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server and remove its temporary folder.

        It is asked over HTTP; if it does not answer, with SIGTERM (it then exits within half a
        second, removing its own temporary folders); one still alive after ``timeout`` seconds
        is killed (after at most ``TERM_GRACE`` seconds when it did not answer).
        """
        grace = timeout
        try:
            self.api.shutdown(timeout=1)
        except OSError:
            self._signal(signal.SIGTERM)
            grace = min(timeout, TERM_GRACE)
        if not self._wait(grace):
            self._signal(signal.SIGKILL)
            self._wait(timeout)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _signal(self, signum: int) -> None:
        try:
            if self.process is not None:
                self.process.send_signal(signum)  # a no-op once it has been reaped
            else:
                os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def _wait(self, timeout: float) -> bool:
        """True once the process has ended (reaped, if it is our child) within ``timeout``."""
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout
        while _alive(self.pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _admin(request: Callable[..., T], *args: Any) -> T:
        """An admin request; a refusal becomes a ``BackendError``."""
        try:
            return request(*args)
        except BackendApiError as exc:
            raise BackendError(str(exc)) from exc

    # -- state file for the shared backend
    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "pid": self.pid, "admin_token": self.admin_token}


def state_file() -> Path:
    """Where the address of the student's shared backend is kept."""
    base = os.environ.get("COURSE_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state", "aws-course"
    )
    return Path(base) / "backend.json"


def running_backend() -> Backend | None:
    """The shared backend named in the state file, if it is alive and answering."""
    backend = _recorded_backend()
    return backend if backend is not None and backend.healthy() else None


def _recorded_backend() -> Backend | None:
    """The backend the state file names, whether or not it still runs."""
    try:
        data = json.loads(state_file().read_text())
        return Backend(data["url"], int(data["pid"]), data["admin_token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def shared_backend() -> tuple[Backend, bool]:
    """The student's shared backend, started (detached) if none is running.

    Returns the backend and whether this call started it.
    """
    backend = running_backend()
    if backend is not None:
        return backend, False
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    backend = Backend.start(log_path=path.with_name("backend.log"), detached=True)
    path.write_text(json.dumps(backend.to_json()))
    return backend, True


def stop_shared_backend() -> bool:
    """Stop the shared backend if one runs, even one that no longer answers; True if one was.

    It ends with its temporary folders, and the state file naming it is removed.
    """
    backend = _recorded_backend()
    state_file().unlink(missing_ok=True)
    if backend is None or not (backend.healthy() or _is_backend_process(backend.pid)):
        return False
    backend.stop()
    return True


def _is_backend_process(pid: int) -> bool:
    """True when ``pid`` is a live backend server (Linux: by its command line)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"course.backend" in command and _alive(pid)


def _wait_until_ready(
    process: subprocess.Popen[bytes], ready: Path, log_path: Path
) -> dict[str, Any]:
    """What the new server wrote to ``ready`` (its ports); BackendError if it died or hung."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready.exists():
        if process.poll() is not None:
            raise BackendError(
                f"the backend exited with code {process.returncode} while starting; "
                f"its log ({log_path}):\n{_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            process.kill()
            raise BackendError(f"the backend did not start within {START_TIMEOUT:.0f} s")
        time.sleep(0.05)
    return dict(json.loads(ready.read_text()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
