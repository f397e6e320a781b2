"""Attacks on the grader: submissions that try to get out of their sandbox, and what stops them.

Each attack is a lab 01 notebook (its cells are in ``attack_notebooks.py``) graded by the real
engine in its sandbox, beside two right submissions in the same ``grade_all`` run of two jobs.
Each test checks three things:

1. the attack's effect did not happen, seen from the grader's side: the file is not there, the
   process is gone, the secret is in no output, the grader (this process) is alive;
2. the attacker still got a grade, with a specific problem named where it hit a cap;
3. the right submissions graded in the same run got exactly the grade they get alone.

Graded with ``sandboxed=False`` each attack succeeds, so each test fails without the defence it
checks. Everything the attacks aim at lies outside ``/tmp`` (the sandbox's ``/tmp`` is a tmpfs
of its own, which would hide anything there anyway): in a folder under ``.pytest_cache``.

The runs, one of each per module: the containment attacks under the default caps but short cell
time limits; the attacks on the caps under small caps (memory, disk and CPU run out in seconds);
a submission that leaves processes behind to plant work in the next submission's backend (one
job, so that both use the same backend); and a grader in a child process, whose memory is
measured while a kernel sends it one huge message.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import course
import pytest
from course.backend.process import Backend
from course.grading.execute import Limits
from course.grading.grade import Grade, grade_all, grade_submission
from course.grading.reports import feedback_markdown, write_student
from course.sandbox.limits import MIB, ResourceLimits

from tests.conftest import ROOT
from tests.grading.attack_notebooks import (
    ATTACKS,
    CAP_ATTACKS,
    LAMBDA_HANDLER,
    PLANT,
    PLANT_HANDLER,
    SEND,
    SETUP,
    Targets,
    notebook,
    printed,
    reported,
    right_notebook,
)

pytestmark = pytest.mark.slow

#: Small caps, so that the attacks on them end in seconds (a right submission still scores 10).
TIGHT = ResourceLimits(
    memory=256 * MIB, processes=64, file_size=8 * MIB, disk=16 * MIB, cpu_seconds=4, open_files=256
)
RIGHT = ("right-a", "right-b")


@dataclass
class Site:
    """The machine outside the sandboxes: secrets, another backend, a socket, a marker."""

    base: Path
    secret_file: Path
    secret_text: str
    secret_json: Path
    foreign: Backend  # a backend that belongs to no submission
    abstract_socket: str
    marker: str  # in the argv of every process an attack leaves behind
    kit_digest: str  # of the kit's course/__init__.py before any attack


@dataclass
class Run:
    """One ``grade_all`` run over attack notebooks, and what the machine looked like after it."""

    grades: dict[str, Grade]
    targets: Targets
    folder: Path  # holds submissions/ and out/
    leftovers: list[int]  # processes with the marker, right after grading ended
    tampered: list[str]  # submissions whose file changed during the run

    @property
    def out(self) -> Path:
        return self.folder / "out"


def marked_processes(marker: str) -> list[int]:
    """The pids of processes on this machine whose command line holds ``marker``."""
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if marker.encode() in path.read_bytes():
                found.append(int(path.parent.name))
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def outcomes(grade: Grade) -> dict[str, str]:
    return {r.id.split(".", 1)[1]: r.outcome for r in grade.results}


def checks(grade: Grade) -> dict[str, tuple[str, float]]:
    return {r.id: (r.outcome, r.points) for r in grade.results}


def limit_problems(grade: Grade) -> list[tuple[int, str]]:
    return [(p.cell, p.message) for p in grade.execution.problems if p.kind == "limit"]


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """Secrets in a folder outside /tmp, a foreign backend, an abstract socket; all removed
    afterwards, with any process an attack left behind (there should be none)."""
    cache = ROOT / ".pytest_cache"
    cache.mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="attacks-", dir=cache))
    (base / "secret").mkdir()
    secret_text = f"aws_secret_access_key = INSTRUCTOR-{secrets.token_hex(8)}"
    secret_file = base / "secret" / "credentials"
    secret_file.write_text(f"[default]\n{secret_text}\n")
    secret_json = base / "secret" / "instructor.json"
    secret_json.write_text(
        json.dumps({"error": {"errorType": "Leak", "errorMessage": secret_text}})
    )
    marker = f"{1000 + secrets.randbelow(8000)}.{secrets.randbelow(10**6):06d}"
    abstract = f"course-attacks-{marker}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    foreign = None
    try:
        listener.bind("\0" + abstract)
        listener.listen()
        foreign = Backend.start(gate=True)
        kit = digest(Path(course.__file__))
        yield Site(base, secret_file, secret_text, secret_json, foreign, abstract, marker, kit)
    finally:
        if foreign is not None:
            foreign.stop()
        listener.close()
        for pid in marked_processes(marker):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


def aimed_at(site: Site, folder: Path) -> Targets:
    """The targets of attacks graded with submissions/ and out/ in ``folder``."""
    return Targets(
        grader_pid=os.getpid(),
        out_dir=str(folder / "out"),
        secret_file=str(site.secret_file),
        secret_json=str(site.secret_json),
        other_notebook=str(folder / "submissions" / f"{RIGHT[-1]}.ipynb"),
        marker=site.marker,
        heartbeat=str(folder / "heartbeat"),
        foreign_port=int(site.foreign.url.rsplit(":", 1)[1]),
        foreign_gate=str(site.foreign.gate),
        abstract_socket=site.abstract_socket,
    )


def run_attacks(
    site: Site,
    name: str,
    attacks: dict[str, list[str]],
    limits: Limits,
    *,
    jobs: int = 2,
    handler: str = LAMBDA_HANDLER,
    rights: bool = True,
) -> Run:
    """Grade ``attacks`` (then the two right submissions) in one run, reports written to out/."""
    folder = site.base / name
    submissions = folder / "submissions"
    submissions.mkdir(parents=True)
    right = [right_notebook(submissions / f"{r}.ipynb") for r in RIGHT] if rights else []
    targets = aimed_at(site, folder)
    paths = [
        notebook(submissions / f"{student}.ipynb", cells, targets, handler)
        for student, cells in attacks.items()
    ] + right
    before = {p.name: digest(p) for p in paths}
    grades = grade_all(paths, "01", limits, lambda g: write_student(g, folder / "out"), jobs=jobs)
    leftovers = marked_processes(site.marker)
    tampered = [p.name for p in paths if not p.exists() or digest(p) != before[p.name]]
    return Run({g.student: g for g in grades}, targets, folder, leftovers, tampered)


def named(attacks: dict[str, list[str]]) -> dict[str, list[str]]:
    """The attacks by student name: ``attack-kill``..."""
    return {f"attack-{name}": cells for name, cells in attacks.items()}


@pytest.fixture(scope="module")
def alone(site: Site) -> Grade:
    """A right submission graded on its own: the grade it must get in every run."""
    grade = grade_submission(right_notebook(site.base / "alone.ipynb"), "01")
    assert grade.score == grade.max_score == 10, feedback_markdown(grade)
    return grade


@pytest.fixture(scope="module")
def main(site: Site) -> Run:
    """The containment attacks, and one submission named ``...ipynb`` (student ``..``)."""
    attacks = {**named(ATTACKS), "..": [SETUP, SEND]}
    return run_attacks(site, "main", attacks, Limits(cell_timeout=10))


@pytest.fixture(scope="module")
def tight(site: Site) -> Run:
    """The attacks on the caps, under ``TIGHT``."""
    # The CPU caps (4 s, then 5 s of grace) must be reached before the cell timeout, even on a
    # loaded machine where a busy loop gets half a core.
    return run_attacks(site, "tight", named(CAP_ATTACKS), Limits(cell_timeout=40, resources=TIGHT))


def graded_as_alone(run: Run, alone: Grade) -> None:
    for student in RIGHT:
        assert checks(run.grades[student]) == checks(alone), feedback_markdown(run.grades[student])


# ---------------------------------------------------------------------- containment


def test_killing_the_parent_and_the_grader_by_pid_kills_neither(main: Run, alone: Grade) -> None:
    grade = main.grades["attack-kill"]
    found = reported(grade.notebook)
    sent = found["kill"]
    assert sent["grader"] == "ProcessLookupError"  # this process's pid names nothing in there
    assert not [k for k in sent if k.startswith("backend")]  # no backend of ours in sight
    assert found["other_kernels"] == []  # nor the other job's kernel
    assert os.getpid() == main.targets.grader_pid  # the grader, alive
    assert grade.execution.status == "completed"  # the kernel lived on: its parent was not it
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(main, alone)


def test_no_admin_token_is_in_sight_to_reset_the_backend_with(main: Run, alone: Grade) -> None:
    grade = main.grades["attack-token"]
    found = reported(grade.notebook)
    assert found["tokens"] == 0 and found["stolen"] == []
    assert found["guessed"] == [403, 403, 403]  # no token, an empty one, a guess
    assert outcomes(grade)["queue-exists"] == "passed"  # its own queue was not wiped either
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(main, alone)


def test_the_output_folder_and_other_submissions_cannot_be_written(main: Run, alone: Grade) -> None:
    grade = main.grades["attack-out-folder"]
    found = reported(grade.notebook)["out"]
    assert found == {
        "list": "FileNotFoundError",
        "write": "FileNotFoundError",
        "tamper": "FileNotFoundError",
    }
    assert not (main.out / "fake.json").exists()
    assert main.tampered == []
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(main, alone)


def test_the_instructors_credentials_and_other_notebooks_cannot_be_read(
    site: Site, main: Run, alone: Grade
) -> None:
    grade = main.grades["attack-secrets"]
    found = reported(grade.notebook)
    assert set(found["secrets"].values()) == {"FileNotFoundError"}
    assert found["host_tmp"] == []  # no other kernel's keys, backend's gate or grader's files
    for graded in main.grades.values():
        assert site.secret_text not in printed(graded.notebook)
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(main, alone)


def test_processes_left_behind_are_gone_when_grading_ends(
    site: Site, main: Run, alone: Grade
) -> None:
    grade = main.grades["attack-leftovers"]
    assert reported(grade.notebook)["left"] == "sleep and a daemon"  # the attack did run
    assert main.leftovers == []
    assert marked_processes(site.marker) == []
    assert not Path(main.targets.heartbeat).exists()  # and no daemon ever wrote outside
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(main, alone)


def test_the_network_reaches_the_own_backend_and_nothing_else(main: Run, alone: Grade) -> None:
    grade = main.grades["attack-network"]
    network = reported(grade.notebook)["network"]
    assert network.pop("own") == "connected"
    assert network.pop("dns") == "gaierror"
    assert not network.pop("gate to foreign").startswith("HTTP")  # the gate refused the port
    assert network.pop("foreign gate").startswith("FileNotFoundError")
    assert network.pop("abstract").startswith("ConnectionRefusedError")
    for address, result in network.items():  # loopback ports and the outside world
        assert result != "connected", address
        seconds = float(re.findall(r"in ([\d.]+) s", result)[0])
        assert seconds < 1, f"{address}: {result} (not refused at once)"
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(main, alone)


def test_a_kernel_that_closes_its_channels_is_stopped_with_a_clear_result(
    main: Run, alone: Grade
) -> None:
    grade = main.grades["attack-channels"]
    assert grade.execution.status == "stopped" and grade.execution.stopped_at == 2
    kinds = {p.kind for p in grade.execution.problems}
    assert kinds & {"stuck-kernel", "dead-kernel"}, grade.execution.problems
    assert "Execution stopped at code cell 2" in feedback_markdown(grade)
    assert outcomes(grade)["queue-exists"] == "passed"  # what it did before still counts
    graded_as_alone(main, alone)


def test_a_submission_named_dot_dot_puts_no_report_outside_the_output_folder(
    main: Run, alone: Grade
) -> None:
    """A file ``...ipynb`` would be student ``..``, its report folder out/..: it is renamed."""
    grade = next(g for g in main.grades.values() if g.path.name == "...ipynb")
    assert grade.student == "submission"
    assert (main.out / "submission" / "feedback.md").exists()
    assert outcomes(grade)["sent-three-json"] == "passed"
    beside_out = sorted(p.name for p in main.folder.iterdir())
    assert beside_out == ["out", "submissions"]
    graded_as_alone(main, alone)


# ------------------------------------------------------------------------- the caps


def test_asking_for_six_gib_of_memory_is_refused_and_named(tight: Run, alone: Grade) -> None:
    grade = tight.grades["attack-memory"]
    found = reported(grade.notebook)
    assert found["six_gib"] == "MemoryError"
    assert found["memory_mib"] < 256
    message = "the kernel asked for more than its 256 MiB of memory"
    assert limit_problems(grade) == [(3, message)]
    assert message in feedback_markdown(grade)
    assert outcomes(grade)["sent-three-json"] == "passed"  # grading went on after it
    graded_as_alone(tight, alone)


def test_filling_the_temporary_disk_is_named_and_nothing_else_is_writable(
    site: Site, tight: Run, alone: Grade
) -> None:
    grade = tight.grades["attack-disk"]
    found = reported(grade.notebook)
    assert found["disk_mib"] <= 16
    message = "the sandbox's 16 MiB of temporary disk filled up"
    assert limit_problems(grade) == [(2, message)]
    assert message in feedback_markdown(grade)
    assert "writable" not in found["outside"].values(), found["outside"]
    assert digest(Path(course.__file__)) == site.kit_digest
    assert not Path(f"/usr/attack-{site.marker}").exists()
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(tight, alone)


def assert_within_disk_cap(run: Run, student: str, key: str, alone: Grade) -> None:
    """What ``student`` reported under ``key`` (MiB written where) stays within 16 MiB in all."""
    written = reported(run.grades[student].notebook)[key]
    assert sum(written.values()) <= 16, f"MiB written past the 16 MiB cap: {written}"
    graded_as_alone(run, alone)


def test_the_disk_cap_holds_wherever_the_kernel_writes(tight: Run, alone: Grade) -> None:
    """Not only /tmp and home: /, /etc, /work, /run, /dev/shm are the sandbox's too."""
    assert_within_disk_cap(tight, "attack-disk-elsewhere", "elsewhere_mib", alone)


def test_a_file_past_the_size_limit_is_named(tight: Run, alone: Grade) -> None:
    grade = tight.grades["attack-file-size"]
    assert reported(grade.notebook)["file_size"] <= 8 * MIB
    message = "a file grew past the 8 MiB file-size limit"
    assert limit_problems(grade) == [(2, message)]
    assert message in feedback_markdown(grade)
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(tight, alone)


def test_a_fork_bomb_stops_at_the_process_cap_and_leaves_nothing(
    site: Site, tight: Run, alone: Grade
) -> None:
    grade = tight.grades["attack-fork-bomb"]
    assert reported(grade.notebook)["children"] < 64
    message = "the kernel reached its limit of 64 processes and threads"
    assert limit_problems(grade) == [(2, message)]
    assert message in feedback_markdown(grade)
    assert tight.leftovers == [] and marked_processes(site.marker) == []
    assert subprocess.run(["true"], check=False).returncode == 0  # the machine still forks
    graded_as_alone(tight, alone)


def test_a_busy_loop_is_stopped_at_the_cpu_cap(tight: Run, alone: Grade) -> None:
    grade = tight.grades["attack-cpu"]
    assert grade.execution.status == "stopped" and grade.execution.stopped_at == 2
    assert grade.execution.summary == (
        "the kernel used more than its 4 s of CPU time and was stopped in code cell 2"
    )
    assert limit_problems(grade) == [
        (2, "the kernel used more than its 4 s of CPU time and was stopped")
    ]
    assert "4 s of CPU time" in feedback_markdown(grade)
    assert outcomes(grade)["queue-exists"] == "passed"
    graded_as_alone(tight, alone)


def test_a_busy_loop_that_ignores_sigxcpu_is_still_named_as_over_its_cpu_time(
    tight: Run, alone: Grade
) -> None:
    """Past the soft cap the kernel gets SIGXCPU, which it may ignore; 5 s later SIGKILL."""
    grade = tight.grades["attack-cpu-ignoring-sigxcpu"]
    assert grade.execution.status == "stopped" and grade.execution.stopped_at == 2
    assert "4 s of CPU time" in grade.execution.summary, grade.execution.summary
    assert "4 s of CPU time" in feedback_markdown(grade)
    graded_as_alone(tight, alone)


# --------------------------------------------------------------------- Lambda handlers


def test_a_lambda_handler_cannot_read_secrets_kill_the_grader_or_reach_out(
    tight: Run, alone: Grade
) -> None:
    grade = tight.grades["attack-lambda"]
    probe = reported(grade.notebook)["probe"]
    assert probe == {
        "credentials": "FileNotFoundError",
        "notebook": "FileNotFoundError",
        "tokens": 0,
        "kill grader": "ProcessLookupError",
        "out": "FileNotFoundError",
        "foreign": "ConnectionRefusedError",
    }
    assert not (tight.out / "fake-lambda.json").exists()
    assert tight.leftovers == []  # its `sleep` ended with it
    assert outcomes(grade)["sent-three-json"] == "passed"
    graded_as_alone(tight, alone)


def test_a_lambda_handler_cannot_make_the_backend_read_a_file_for_it(
    site: Site, tight: Run, alone: Grade
) -> None:
    """The handler replaces its result file with a symlink to a file outside its sandbox."""
    grade = tight.grades["attack-lambda"]
    assert "symlink" in reported(grade.notebook)
    assert site.secret_text not in printed(grade.notebook)
    graded_as_alone(tight, alone)


def test_a_lambda_handler_is_held_to_the_process_cap(tight: Run, alone: Grade) -> None:
    grade = tight.grades["attack-lambda"]
    forks = reported(grade.notebook)["fork"].get("forks")
    assert isinstance(forks, str) and int(forks.split()[0]) < 64, forks
    assert tight.leftovers == []
    graded_as_alone(tight, alone)


def test_a_lambda_handler_is_held_to_the_disk_cap(tight: Run, alone: Grade) -> None:
    assert_within_disk_cap(tight, "attack-lambda", "disk", alone)


def test_a_lambda_handler_is_held_to_the_memory_cap(tight: Run, alone: Grade) -> None:
    grade = tight.grades["attack-lambda"]
    assert reported(grade.notebook)["memory"]["memory_mib"] < 256
    graded_as_alone(tight, alone)


# ------------------------------------------------------------------ the next submission


def test_processes_left_behind_cannot_plant_work_in_the_next_submissions_backend(
    site: Site,
) -> None:
    """The job's backend is reused: a daemon left by one submission (from its kernel or its
    Lambda handler) would create the queue and send messages while the next one is graded."""
    run = run_attacks(
        site,
        "plant",
        {"a-planter": PLANT, "b-victim": ["print('hello')"]},
        Limits(cell_timeout=10),
        jobs=1,
        handler=PLANT_HANDLER,
        rights=False,
    )
    assert reported(run.grades["a-planter"].notebook)["planted"] == "planted"
    victim = run.grades["b-victim"]
    assert victim.score == 0 and set(outcomes(victim).values()) == {"not_attempted"}
    assert run.leftovers == []


# ---------------------------------------------------------------- the grader's memory

MEASURED_GRADER = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from course.grading.grade import grade_submission

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    before = peak()
    grade = grade_submission(Path(sys.argv[1]), "01")
    kinds = [p.kind for p in grade.execution.problems]
    print(json.dumps({"grown": peak() - before, "problems": kinds, "score": grade.score}))
    """
)


def test_one_huge_output_message_does_not_swell_the_graders_memory(site: Site) -> None:
    """The output budget (2 MB) must bound what the grader holds, not only what it keeps: a
    kernel may send a single message of hundreds of MB on its iopub channel."""
    folder = site.base / "huge"
    folder.mkdir()
    flood = "import sys\nsys.stdout.write('x' * (300 << 20))\nsys.stdout.flush()"
    path = notebook(folder / "attack-huge.ipynb", [SETUP, flood, SEND], aimed_at(site, folder))
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_GRADER, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "output-truncated" in found["problems"]
    assert found["grown"] < 150 * MIB, f"the grader grew by {found['grown'] / MIB:.0f} MiB"
