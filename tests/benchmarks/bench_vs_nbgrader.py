"""Grading throughput of the kit against ``nbgrader autograde``, side by side in one run.

    python tests/benchmarks/bench_vs_nbgrader.py [--submissions N] [--skip-nbgrader]
        [--nbgrader-venv DIR] [--course-bin PATH] [--json] [--keep]

Run it with the kit's venv (it imports ``course`` to start a backend and build the notebooks).
Not a test: nothing here asserts a speed; it prints figures to quote.

**Submissions.** N (default 20) copies of ``solutions/01-sqs-basics.ipynb`` made "sleep-free":
the line ``time.sleep(11)  # ...`` becomes a ``change_message_visibility(..., VisibilityTimeout=0)``
call, so the message is redelivered at once and the notebook still scores 10/10. Each copy starts
with a comment naming its student (student01, student02, ...), so the files differ.

**nbgrader, honestly set up.** nbgrader only grades notebooks whose cells carry its metadata and
that its gradebook knows, so the script builds a real nbgrader course in a temporary folder:

1. ``source/lab01/01-sqs-basics.ipynb`` is the sleep-free solution with nbgrader metadata added:
   every code cell holding ``### BEGIN SOLUTION`` becomes an autograded answer cell, and the last
   ``check("01")`` cell becomes a locked autograder test cell worth 10 points whose source is
   ``report = check("01")`` + ``assert report.score == report.max_score`` + ``report`` (so
   nbgrader's score says whether the kit's checks passed in its kernel). Nothing else changes.
2. ``nbgrader generate_assignment lab01`` writes ``release/`` (solutions replaced by stubs, cell
   checksums) and adds the assignment and notebook to the gradebook.
3. Each submission is that *release* notebook with the stubs filled back with the solution's code
   (without the ``### BEGIN/END SOLUTION`` lines): exactly what a student would hand in. It goes to
   ``submitted/<student>/lab01/01-sqs-basics.ipynb``.
4. ``nbgrader autograde lab01 --create --force`` is timed (wall clock, whole command; per
   submission = total / N). ``nbgrader export`` afterwards (not timed) reads the scores.

The kit grades *the same N files* (one folder, ``<student>.ipynb``); the extra test cell costs it
one more ``check()`` call, a few tens of milliseconds.

**nbgrader is not a dependency of the kit.** It lives in its own virtualenv (default
``~/.cache/aws-course-bench/nbgrader-venv``), created on first use with ``pip install nbgrader
boto3 -e <this repo>`` (the kernels import ``course`` for ``connect()``/``check()``) and reused
while it still imports all three from this checkout. Its kernels are that venv's ``python3``.

**What each grader is given.** nbgrader has no notion of a per-submission backend: one kit backend
is started before its timing starts (so its start-up is not counted) and all N notebooks run
against it, never reset, through the environment of ``connection.local_environment`` (the same
scrubbed environment the kit gives its kernels). That is the easier job. The kit starts a fresh
backend per submission, runs the notebook in a kernel, then the lab's pytest checks, and writes
its reports.

**Kit configurations**, each run only if ``course grade --help`` lists the flag: (a) ``-j 1
--no-sandbox``, (b) ``-j 1`` (sandboxed), (c) the default ``-j`` (one job per core); with neither
flag (older engines) a single run with no flags. For each: total seconds, seconds per submission,
throughput ratio against nbgrader (nbgrader s/submission / kit s/submission: above 1 means the kit
is faster) and whether every submission got the same score; plus the sandbox's own cost per
submission, ((b) - (a)) / N.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from course.backend.process import Backend
from course.connection import scrubbed_environment
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[2]
LAB = "01"
ASSIGNMENT = "lab01"
SOLUTION = ROOT / "solutions" / "01-sqs-basics.ipynb"
NOTEBOOK_NAME = SOLUTION.name
SLEEP_LINE = re.compile(r"^(?P<indent>[ \t]*)time\.sleep\(11\).*$", re.MULTILINE)
NO_SLEEP = (
    "sqs.change_message_visibility("
    'QueueUrl=queue_url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)'
)
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
TEST_CELL = f'report = check("{LAB}")\nassert report.score == report.max_score, report\nreport'
DEFAULT_VENV = Path.home() / ".cache" / "aws-course-bench" / "nbgrader-venv"
NBGRADER_CELL_TIMEOUT = 120  # the kit's default --cell-timeout; nbgrader's own default is 30
NOTES = [
    "nbgrader shares one backend, started before its timing and never reset between "
    "submissions: it is given the easier job (the kit starts a fresh backend per submission).",
    "nbgrader's score is its one test cell: 10 if check('01') gave full marks in its kernel.",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Run:
    """One timed grading command over all the submissions."""

    label: str
    command: list[str]
    total_s: float
    submissions: int
    flags: list[str] = field(default_factory=list)  # the kit's flags for this run
    scores: dict[str, int] = field(default_factory=dict)  # "10/10" -> how many submissions
    problems: list[str] = field(default_factory=list)
    ratio_vs_nbgrader: float | None = None

    @property
    def per_submission_s(self) -> float:
        return self.total_s / self.submissions

    @property
    def consistent(self) -> bool:
        return len(self.scores) == 1 and sum(self.scores.values()) == self.submissions

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(per_submission_s=self.per_submission_s, consistent=self.consistent)
        return data


# -- the submissions


def sleep_free_solution() -> NotebookNode:
    """The lab 01 solution with its one sleep replaced by an immediate visibility change."""
    nb = nbformat.read(SOLUTION, as_version=4)
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source, n = SLEEP_LINE.subn(lambda m: m["indent"] + NO_SLEEP, cell.source)
            replaced += n
    if replaced != 1:
        raise SystemExit(f"expected one time.sleep(11) line in {SOLUTION}, found {replaced}")
    return nb


def nbgrader_source(solution: NotebookNode) -> NotebookNode:
    """The solution with nbgrader metadata: answer cells, and the last check cell as a test."""
    nb = nbformat.from_dict(json.loads(json.dumps(solution)))
    checks = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.source.strip() == f'check("{LAB}")'
    ]
    if not checks:
        raise SystemExit(f'no check("{LAB}") cell in {SOLUTION}')
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if BEGIN in cell.source:
            cell.metadata["nbgrader"] = {
                "grade": False,
                "grade_id": f"answer-{i:02d}",
                "locked": False,
                "schema_version": 3,
                "solution": True,
                "task": False,
            }
        elif i == checks[-1]:
            cell.source = TEST_CELL
            cell.metadata["nbgrader"] = {
                "grade": True,
                "grade_id": f"check-{LAB}",
                "locked": True,
                "points": 10,
                "schema_version": 3,
                "solution": False,
                "task": False,
            }
    return nb


def student_code(source: str) -> str:
    """A solution cell as a student would leave it: without nbgrader's delimiters."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


def submission(release: NotebookNode, source: NotebookNode, student: str, n: int) -> NotebookNode:
    """The release notebook, its stubs filled with the solution's code, signed by ``student``."""
    if len(release.cells) != len(source.cells):
        raise SystemExit("the release notebook does not have the source's cells")
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    signed = False
    for cell, original in zip(nb.cells, source.cells, strict=True):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            code = student_code(original.source)
            if not signed:
                code = f"# student: {student} (benchmark submission {n})\n{code}"
                signed = True
            cell.source = code
    if not signed:
        raise SystemExit("the release notebook has no answer cell")
    return nb


# -- nbgrader's side


def ensure_nbgrader_venv(venv: Path) -> str:
    """Make ``venv`` (or check the one there) and return its nbgrader version."""
    python = venv / "bin" / "python"
    probe = (
        "import boto3, course, nbgrader, pathlib; "
        "print(nbgrader.__version__); print(pathlib.Path(course.__file__).resolve())"
    )

    def installed() -> str | None:
        if not python.exists():
            return None
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True)
        if done.returncode != 0:
            return None
        version, course_file = done.stdout.split()
        return version if Path(course_file).is_relative_to(ROOT) else None

    version = installed()
    if version:
        log(f"reusing nbgrader {version} in {venv}")
        return version
    log(f"creating {venv} and installing nbgrader, boto3 and the kit into it (pip) ...")
    started = time.perf_counter()
    if not python.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "nbgrader", "boto3", "-e", str(ROOT)],
        check=True,
    )
    version = installed()
    if not version:
        raise SystemExit(f"{venv} still cannot import nbgrader, boto3 and this checkout's course")
    log(f"  installed nbgrader {version} in {time.perf_counter() - started:.0f} s")
    return version


def nbgrader_env(venv: Path, backend_url: str, work: Path) -> dict[str, str]:
    """The kit's scrubbed kernel environment, with the nbgrader venv first on PATH."""
    env = scrubbed_environment(dict(os.environ), backend_url)
    env.pop("VIRTUAL_ENV", None)
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        COURSE_LAB=LAB,
        COURSE_STATE_DIR=str(work / "course-state"),
        AWS_EC2_METADATA_DISABLED="true",
        JUPYTER_CONFIG_DIR=str(work / "jupyter-config"),  # no user-level nbgrader config
    )
    return env


def nbgrader(venv: Path, args: list[str], course: Path, env: dict[str, str], log_file: Path) -> int:
    with log_file.open("ab") as out:
        return subprocess.run(
            [venv / "bin" / "nbgrader", *args],
            cwd=course,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        ).returncode


def failed(what: str, log_file: Path) -> SystemExit:
    tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-30:])
    return SystemExit(f"{what} failed; the end of {log_file}:\n{tail}")


def run_nbgrader(
    venv: Path, solution: NotebookNode, students: list[str], work: Path, kit_dir: Path
) -> Run:
    """Build the nbgrader course, write the submissions (for both graders), time autograde."""
    course = work / "nbgrader-course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        'c.CourseDirectory.course_id = "aws-course-bench"\n'
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.Execute.timeout = {NBGRADER_CELL_TIMEOUT}\n"
    )
    source = nbgrader_source(solution)
    nbformat.write(source, course / "source" / ASSIGNMENT / NOTEBOOK_NAME)
    log_file = work / "nbgrader.log"
    backend = Backend.start(log_path=work / "nbgrader-backend.log")
    try:
        env = nbgrader_env(venv, backend.url, work)
        if nbgrader(venv, ["generate_assignment", ASSIGNMENT, "--force"], course, env, log_file):
            raise failed("nbgrader generate_assignment", log_file)
        release = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK_NAME, as_version=4)
        for n, student in enumerate(students, 1):
            nb = submission(release, source, student, n)
            folder = course / "submitted" / student / ASSIGNMENT
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / NOTEBOOK_NAME)
            nbformat.write(nb, kit_dir / f"{student}.ipynb")
        command = ["autograde", ASSIGNMENT, "--create", "--force"]
        log(f"nbgrader {' '.join(command)} on {len(students)} submissions ...")
        started = time.perf_counter()
        code = nbgrader(venv, command, course, env, log_file)
        elapsed = time.perf_counter() - started
    finally:
        backend.stop()
    run = Run("nbgrader autograde", ["nbgrader", *command], elapsed, len(students))
    if code:
        run.problems.append(f"nbgrader autograde exited {code} (see {log_file})")
    grades = course / "grades.csv"
    if (
        nbgrader(venv, ["export", "--to", str(grades)], course, env, log_file)
        or not grades.exists()
    ):
        run.problems.append("nbgrader export failed: no scores")
    else:
        with grades.open(newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["assignment"] == ASSIGNMENT]
        run.scores = dict(Counter(f"{float(r['score']):g}/{float(r['max_score']):g}" for r in rows))
        if len(rows) != len(students):
            run.problems.append(f"nbgrader exported {len(rows)} scores, not {len(students)}")
    errors = 0
    for student in students:
        path = course / "autograded" / student / ASSIGNMENT / NOTEBOOK_NAME
        if not path.exists():
            run.problems.append(f"nbgrader wrote no autograded notebook for {student}")
            continue
        nb = nbformat.read(path, as_version=4)
        errors += any(
            o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", [])
        )
    if errors:
        run.problems.append(f"{errors} autograded notebooks hold an error output")
    return run


def write_kit_only_submissions(solution: NotebookNode, students: list[str], kit_dir: Path) -> None:
    """Without nbgrader there is no release notebook: the same cells, without its metadata."""
    source = nbgrader_source(solution)
    for n, student in enumerate(students, 1):
        nb = nbformat.from_dict(json.loads(json.dumps(source)))
        signed = False
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
            if cell.cell_type == "code" and BEGIN in cell.source:
                code = student_code(cell.source)
                if not signed:
                    code = f"# student: {student} (benchmark submission {n})\n{code}"
                    signed = True
                cell.source = code
        nbformat.write(nb, kit_dir / f"{student}.ipynb")


# -- the kit's side


def kit_configurations(course_bin: Path) -> list[tuple[str, list[str]]]:
    """The ``course grade`` flag sets to time, as far as this engine has the flags."""
    text = subprocess.run(
        [course_bin, "grade", "--help"], capture_output=True, text=True, check=True
    ).stdout
    has_jobs = re.search(r"(?<![\w-])-j\b", text) is not None
    has_no_sandbox = "--no-sandbox" in text
    configs: list[tuple[str, list[str]]] = []
    if has_no_sandbox:
        flags = ["-j", "1", "--no-sandbox"] if has_jobs else ["--no-sandbox"]
        configs.append((f"kit {' '.join(flags)}", flags))
    if has_jobs:
        configs.append(("kit -j 1", ["-j", "1"]))
        configs.append((f"kit default -j ({os.cpu_count()} cores)", []))
    else:
        configs.append(("kit (no flags)", []))
    return configs


def run_kit(course_bin: Path, label: str, flags: list[str], kit_dir: Path, work: Path) -> Run:
    out = work / f"out-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}"
    command = [str(course_bin), "grade", LAB, str(kit_dir), "--out", str(out), *flags]
    count = len(list(kit_dir.glob("*.ipynb")))
    log(f"{' '.join(['course', *command[1:]])} ...")
    log_file = out.with_suffix(".log")
    with log_file.open("wb") as handle:
        started = time.perf_counter()
        code = subprocess.run(
            command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        ).returncode
        elapsed = time.perf_counter() - started
    run = Run(label, ["course", *command[1:]], elapsed, count, flags)
    if code:
        run.problems.append(f"course grade exited {code} (see {log_file})")
    try:
        summary = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        run.problems.append("no readable summary.json")
        return run
    rows = summary.get("submissions", [])
    run.scores = dict(Counter(f"{r['score']:g}/{r['max_score']:g}" for r in rows))
    if len(rows) != count:
        run.problems.append(f"summary.json lists {len(rows)} submissions, not {count}")
    statuses = Counter(r.get("status") for r in rows)
    if set(statuses) - {"completed"}:
        run.problems.append(f"statuses: {dict(statuses)}")
    return run


# -- report


def table(runs: list[Run], sandbox_cost: float | None, nbgrader_version: str | None) -> str:
    lines = [
        f"{'grader':<34} {'total s':>8} {'s/sub':>7} {'ratio':>7}  scores",
        "-" * 78,
    ]
    for run in runs:
        ratio = "" if run.ratio_vs_nbgrader is None else f"{run.ratio_vs_nbgrader:.2f}x"
        scores = ", ".join(f"{s} x{n}" for s, n in sorted(run.scores.items())) or "?"
        same = "" if run.consistent else "  (NOT all the same)"
        lines.append(
            f"{run.label:<34} {run.total_s:8.1f} {run.per_submission_s:7.2f} {ratio:>7}"
            f"  {scores}{same}"
        )
        lines.extend(f"    problem: {p}" for p in run.problems)
    lines.append("")
    lines.append("ratio = nbgrader s/submission / kit s/submission (above 1: the kit is faster)")
    if sandbox_cost is not None:
        lines.append(f"sandbox's own cost: {sandbox_cost:+.2f} s per submission ((b) - (a)) / N")
    if nbgrader_version:
        lines.append(f"nbgrader {nbgrader_version}; " + NOTES[0])
        lines.append(NOTES[1])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submissions", type=int, default=20, metavar="N")
    parser.add_argument("--skip-nbgrader", action="store_true", help="time the kit only")
    parser.add_argument(
        "--nbgrader-venv",
        type=Path,
        default=DEFAULT_VENV,
        help=f"virtualenv for nbgrader, made if missing (default {DEFAULT_VENV})",
    )
    parser.add_argument(
        "--course-bin",
        type=Path,
        default=ROOT / ".venv" / "bin" / "course",
        help="the kit's course command (default: the repo's .venv)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.submissions < 1:
        parser.error("--submissions must be at least 1")
    course_bin = args.course_bin
    if not course_bin.exists():
        found = shutil.which("course")
        if not found:
            parser.error(f"{course_bin} does not exist and no course command is on PATH")
        course_bin = Path(found)

    students = [f"student{n:02d}" for n in range(1, args.submissions + 1)]
    solution = sleep_free_solution()
    work = Path(tempfile.mkdtemp(prefix="bench-vs-nbgrader-"))
    kit_dir = work / "submissions"
    kit_dir.mkdir()
    runs: list[Run] = []
    nbgrader_run: Run | None = None
    version: str | None = None
    try:
        if args.skip_nbgrader:
            write_kit_only_submissions(solution, students, kit_dir)
        else:
            venv = args.nbgrader_venv.expanduser()
            version = ensure_nbgrader_venv(venv)
            nbgrader_run = run_nbgrader(venv, solution, students, work, kit_dir)
            runs.append(nbgrader_run)
        for label, flags in kit_configurations(course_bin):
            runs.append(run_kit(course_bin, label, flags, kit_dir, work))
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    kit_runs = [r for r in runs if r is not nbgrader_run]
    if nbgrader_run is not None:
        for run in kit_runs:
            run.ratio_vs_nbgrader = nbgrader_run.per_submission_s / run.per_submission_s
    by_flags = {tuple(r.flags): r for r in kit_runs}
    unsandboxed = by_flags.get(("-j", "1", "--no-sandbox")) or by_flags.get(("--no-sandbox",))
    sandboxed = by_flags.get(("-j", "1")) or (by_flags.get(()) if unsandboxed else None)
    sandbox_cost = (
        (sandboxed.total_s - unsandboxed.total_s) / args.submissions
        if sandboxed and unsandboxed
        else None
    )
    if args.json:
        result = {
            "submissions": args.submissions,
            "cores": os.cpu_count(),
            "nbgrader_version": version,
            "runs": [r.to_json() for r in runs],
            "sandbox_cost_per_submission_s": sandbox_cost,
            "notes": NOTES if nbgrader_run else [],
        }
        print(json.dumps(result, indent=2))
    else:
        print(table(runs, sandbox_cost, version))


if __name__ == "__main__":
    main()
