"""The sandbox itself, one command at a time: what it shows, what it hides, what it caps.

Each test runs a small Python program in a real bubblewrap sandbox built by
``course.sandbox.bwrap.Sandbox`` and reads what it printed. No notebook, no kernel: these are
the walls the grader's kernels and Lambda handlers stand behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from course.backend.process import Backend
from course.sandbox.bwrap import HOME, Sandbox, SandboxUnavailable, check_available, kit_paths
from course.sandbox.limits import MIB, ResourceLimits, breach_of, parse_size

from tests.conftest import make_client

ROOT = Path(__file__).resolve().parents[2]


def run_inside(
    tmp_path: Path,
    code: str,
    limits: ResourceLimits | None = None,
    backend: Backend | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    sandbox = Sandbox(
        limits or ResourceLimits(),
        {"SECRET_IN_GRADER": os.environ.get("SECRET_IN_GRADER", "")},
        forward_ports=backend.ports if backend else [],
        gate=backend.gate if backend else None,
    )
    argv = sandbox.argv([sys.executable, "-c", code])
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def output_of(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def gated_backend() -> Iterator[Backend]:
    backend = Backend.start(gate=True)
    yield backend
    backend.stop()


def test_this_machine_can_make_a_sandbox() -> None:
    check_available()  # CI installs bubblewrap: the rest of the suite depends on it


def test_no_bubblewrap_is_a_clear_message_that_names_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    check_available.cache_clear()
    try:
        with pytest.raises(SandboxUnavailable) as caught:
            check_available()
    finally:
        check_available.cache_clear()
    message = str(caught.value)
    assert "bubblewrap" in message and "apt install bubblewrap" in message
    assert "--no-sandbox" in message


def test_the_sandbox_sees_the_kit_and_python_but_not_the_machine(tmp_path: Path) -> None:
    secrets = [ROOT / ".pytest-sandbox-secret", Path.home() / ".pytest-sandbox-secret"]
    for secret in secrets:
        secret.write_text("instructor's secret")
    try:
        code = f"""
import json, os, course
seen = {{}}
for path in [*{[str(s) for s in secrets]!r}, {str(ROOT / "solutions")!r}, "/etc/shadow",
             {str(tmp_path)!r}, os.path.expanduser("~/.aws/credentials")]:
    seen[path] = os.path.exists(path)
home = {str(Path.home())!r}
print(json.dumps({{"seen": seen, "kit": course.__file__, "home": os.listdir({HOME!r}),
                  "homes": os.listdir("/home"), "uid": os.getuid(), "env": sorted(os.environ),
                  "instructor": os.listdir(home) if os.path.isdir(home) else []}}))
"""
        result = output_of(run_inside(tmp_path, code))
    finally:
        for secret in secrets:
            secret.unlink()
    assert not any(result["seen"].values()), result["seen"]
    # The instructor's home shows only the folders that lead to the kit's own (a venv there).
    home = Path.home()
    leading = {
        Path(p).relative_to(home).parts[0] for p in kit_paths() if Path(p).is_relative_to(home)
    }
    assert set(result["instructor"]) == leading
    assert (
        set(result["homes"]) - {"student"} <= {home.name}
        if home.parent == Path("/home")
        else (result["homes"] == ["student"])
    )
    assert result["kit"].endswith("course/__init__.py")
    assert result["home"] == [] and result["uid"] == 1000
    assert "SECRET_IN_GRADER" in result["env"]  # only what the grader handed in
    assert not any(name.startswith("COURSE_ADMIN") for name in result["env"])


def test_the_system_and_the_kit_are_read_only(tmp_path: Path) -> None:
    import course

    code = f"""
import json
errors = {{}}
for path in ["/usr/evil", {course.__file__!r}, "/etc/passwd"]:
    try:
        open(path, "a").write("x")
        errors[path] = "written"
    except OSError as exc:
        errors[path] = exc.strerror
print(json.dumps(errors))
"""
    errors = output_of(run_inside(tmp_path, code))
    assert "written" not in errors.values(), errors


def test_the_sandbox_sees_only_its_own_processes(tmp_path: Path) -> None:
    code = """
import json, os
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(json.dumps({"pids": pids, "parent": os.getppid()}))
"""
    result = output_of(run_inside(tmp_path, code))
    # bubblewrap's init, the relay and this program: a handful of low PIDs, nothing of the host.
    assert max(result["pids"]) < 10 and result["parent"] == 1


def test_only_the_own_backend_is_reachable(tmp_path: Path, gated_backend: Backend) -> None:
    other = Backend.start()
    try:
        code = f"""
import json, socket, urllib.request
def reach(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False
own = urllib.request.urlopen("{gated_backend.url}/_course/health", timeout=10).read()
print(json.dumps({{"own": json.loads(own)["ok"],
                  "other": reach("127.0.0.1", {other.ports[0]}),
                  "outside": reach("10.255.255.1", 80),
                  "ssh": reach("127.0.0.1", 22)}}))
"""
        result = output_of(run_inside(tmp_path, code, backend=gated_backend))
    finally:
        other.stop()
    assert result == {"own": True, "other": False, "outside": False, "ssh": False}


def test_the_gate_relays_only_to_the_backends_own_ports(gated_backend: Backend) -> None:
    import socket

    other = Backend.start()
    try:
        with socket.socket(socket.AF_UNIX) as gate:
            gate.connect(str(gated_backend.gate))
            gate.sendall(f"{other.ports[0]}\nGET /_course/health HTTP/1.0\r\n\r\n".encode())
            try:
                answer = gate.recv(100)
            except ConnectionResetError:
                answer = b""
    finally:
        other.stop()
    assert answer == b""


def test_memory_over_the_cap_is_a_memory_error(tmp_path: Path) -> None:
    code = """
import json
try:
    block = bytearray(600 << 20)
    outcome = "allocated"
except MemoryError:
    outcome = "MemoryError"
print(json.dumps(outcome))
"""
    limits = ResourceLimits(memory=256 * MIB)
    assert output_of(run_inside(tmp_path, code, limits)) == "MemoryError"


def test_the_temporary_disk_is_capped(tmp_path: Path) -> None:
    code = """
import json
written = 0
try:
    with open("/tmp/fill", "wb") as f:
        for _ in range(100):
            f.write(b"x" * (1 << 20))
            f.flush()
            written += 1
    outcome = "no limit"
except OSError as exc:
    outcome = exc.strerror
print(json.dumps([outcome, written]))
"""
    limits = ResourceLimits(disk=16 * MIB, file_size=64 * MIB)
    outcome, written = output_of(run_inside(tmp_path, code, limits))
    assert outcome == "No space left on device" and written <= 16


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    code = """
import json
try:
    open("/tmp/big", "wb").write(b"x" * (8 << 20))
    outcome = "written"
except OSError as exc:
    outcome = exc.strerror
print(json.dumps(outcome))
"""
    assert output_of(run_inside(tmp_path, code, ResourceLimits(file_size=MIB))) == (
        "File too large"
    )


def test_cpu_time_over_the_cap_kills_with_sigxcpu(tmp_path: Path) -> None:
    done = run_inside(tmp_path, "while True: pass", ResourceLimits(cpu_seconds=1))
    assert done.returncode == 128 + 24  # SIGXCPU, as bubblewrap reports a signalled child


def test_processes_are_capped(tmp_path: Path) -> None:
    code = """
import json, os, time
children = 0
try:
    for _ in range(200):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
    outcome = "no limit"
except OSError as exc:
    outcome = type(exc).__name__
print(json.dumps([outcome, children]))
"""
    launch = Sandbox(ResourceLimits(processes=32), {}).launch([sys.executable, "-c", code])
    try:
        done = subprocess.run(launch.argv, capture_output=True, text=True, timeout=60, check=False)
        outcome, children = output_of(done)
        assert outcome == "BlockingIOError" and children < 32
        if os.geteuid() == 0:  # a root grader's cap is the cgroup, which counts the refusals
            assert launch.cgroup is not None and launch.cgroup.refusals() >= 1
    finally:
        launch.done()


def test_a_sandbox_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    marker = f"course-orphan-{os.getpid()}"
    sandbox = Sandbox(ResourceLimits(), {})
    inner = sandbox.argv(["/bin/sh", "-c", f"exec -a {marker} sleep 300"])
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, time; subprocess.Popen({inner!r}); time.sleep(300)",
        ]
    )
    try:
        _wait_for(lambda: _processes_named(marker), "the sandboxed sleep to start")
        parent.kill()
        parent.wait()
        _wait_for(lambda: not _processes_named(marker), "the sandbox to die with its parent")
    finally:
        parent.kill()


def test_a_graders_backend_exits_when_the_grader_is_killed(tmp_path: Path) -> None:
    code = (
        "from course.backend.process import Backend; import time, sys; "
        "b = Backend.start(gate=True); print(b.pid, flush=True); time.sleep(300)"
    )
    grader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        backend_pid = int(grader.stdout.readline())  # type: ignore[union-attr]
        assert _alive(backend_pid)
        grader.kill()
        grader.wait()
        _wait_for(lambda: not _alive(backend_pid), "the orphaned backend to exit")
    finally:
        grader.kill()


def test_sizes_read_as_people_write_them() -> None:
    assert parse_size("512M") == 512 * MIB and parse_size("2GiB") == 2 << 30
    assert parse_size("1048576") == MIB
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


@pytest.mark.parametrize(
    ("ename", "evalue", "kind"),
    [
        ("MemoryError", "", "memory"),
        ("OSError", "[Errno 27] File too large", "file_size"),
        ("OSError", "[Errno 28] No space left on device", "disk"),
        ("BlockingIOError", "[Errno 11] Resource temporarily unavailable", "processes"),
        ("RuntimeError", "can't start new thread", "processes"),
        ("ValueError", "bad value", None),
        ("ClientError", "An error occurred (QueueDoesNotExist)", None),
    ],
)
def test_each_cap_is_recognised_from_the_error_it_raises(
    ename: str, evalue: str, kind: str | None
) -> None:
    assert breach_of(ename, evalue) == kind


def _processes_named(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(condition, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_flooded_backend_refuses_within_its_cap_and_the_next_submission_gets_a_clean_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.config import Config
    from course.grading import grade

    monkeypatch.setattr(grade, "BACKEND_MEMORY", 400 * MIB)
    slot = grade.BackendSlot(True, ResourceLimits(memory=256 * MIB))
    try:
        flooded = slot.clean_backend()
        sqs = make_client(
            flooded, "sqs", config=Config(retries={"max_attempts": 1}, read_timeout=10)
        )
        url = sqs.create_queue(QueueName="flood")["QueueUrl"]
        body = "x" * (256 * 1024 - 16)
        refused = 0
        for _ in range(2500):  # 625 MiB of bodies, more than the cap
            try:
                sqs.send_message(QueueUrl=url, MessageBody=body)
            except Exception:  # an error answer is the point: it answers at all
                refused += 1
                break
        assert refused == 1, "the backend held 625 MiB within a 400 MiB cap"
        clean = slot.clean_backend()  # reset, or replaced if the flood left it wedged
        assert clean.healthy() and clean.flow()["calls"] == []
        assert make_client(clean, "sqs").list_queues().get("QueueUrls", []) == []
    finally:
        slot.close()
