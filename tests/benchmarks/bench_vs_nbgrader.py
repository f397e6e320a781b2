"""Grading throughput of the kit against ``nbgrader autograde``, side by side in one run.

    python tests/benchmarks/bench_vs_nbgrader.py [--submissions N] [--rounds R] [--skip-nbgrader]
        [--nbgrader-venv DIR] [--course-bin PATH] [--json] [--keep]

Run it with the kit's venv (it imports ``course`` to start a backend and build the notebooks); with
the defaults it takes a few minutes on two cores, plus about a minute and a half the first time to
make nbgrader's venv. Not a test: nothing here asserts a speed; it prints figures to quote.

**Submissions.** N (default 20) copies of ``solutions/01-sqs-basics.ipynb`` made "sleep-free":
the line ``time.sleep(11)  # ...`` becomes a ``change_message_visibility(..., VisibilityTimeout=0)``
call, so the message is redelivered at once and the notebook still scores 10/10. Each copy starts
with a comment naming its student (student01, student02, ...), so the files differ.

**nbgrader, honestly set up.** nbgrader only grades notebooks whose cells carry its metadata and
that its gradebook knows (``autograde`` skips any other notebook), so the script builds a real
nbgrader course in a temporary folder:

1. ``source/lab01/01-sqs-basics.ipynb`` is the sleep-free solution with nbgrader metadata added:
   every code cell holding ``### BEGIN SOLUTION`` becomes an autograded answer cell, and the last
   ``check("01")`` cell becomes a locked autograder test cell worth 10 points whose source is
   ``report = check("01")`` + ``assert report.score == report.max_score, report`` (so nbgrader's
   score says whether the kit's checks passed in its kernel). Nothing else changes.
2. ``nbgrader generate_assignment lab01`` writes ``release/`` (solutions replaced by stubs, cell
   checksums) and adds the assignment and notebook to the gradebook.
3. Each submission is that *release* notebook with the stubs filled back with the solution's code
   (without the ``### BEGIN/END SOLUTION`` lines): exactly what a student would hand in. It goes to
   ``submitted/<student>/lab01/01-sqs-basics.ipynb``.
4. ``nbgrader autograde lab01 --create --force`` is timed (wall clock, whole command; per
   submission = total / N). ``nbgrader export`` afterwards (not timed) reads the scores.

The kit grades *the same N files* (one folder, ``<student>.ipynb``); the extra test cell costs it
one more ``check()`` call, a few tens of milliseconds. (With ``--skip-nbgrader`` the kit gets the
same cells without nbgrader's metadata.)

**nbgrader is not a dependency of the kit.** It lives in its own virtualenv (default
``~/.cache/aws-course-bench/nbgrader-venv``), created on first use with ``pip install nbgrader
boto3 -e <this repo>`` (the kernels import ``course`` for ``connect()``/``check()``) and reused
while it still imports all three from this checkout. Its kernels are that venv's ``python3``.

**What each grader is given.** nbgrader has no notion of a per-submission backend: one kit backend
is started before its timing starts (so its start-up is not counted) and all N notebooks run
against it, through the environment of ``connection.local_environment`` (the same scrubbed
environment the kit gives its kernels; nbgrader's kernels inherit it from the ``nbgrader``
process). The backend is *reset* (``POST /_course/reset``, a few milliseconds) before each notebook
runs, from nbclient's ``on_notebook_start`` hook set in ``nbgrader_config.py``: without it every
submission after the first fails, because the lab purges its queue and the backend, like SQS,
allows one ``PurgeQueue`` per queue every 60 seconds. That is the easier job: the kit's times
include starting its own backends (one per submission in the first engine; one per job, reset
between submissions, in the ``-j`` engine), running each notebook in a kernel (sandboxed unless
``--no-sandbox``), then the lab's pytest checks, and writing its reports. nbgrader's cell timeout
is set to the kit's default, 120 s (nbgrader's own is 30 s; no cell here comes near either).

**Kit configurations**, each run only if ``course grade --help`` lists the flag: (a) ``-j 1
--no-sandbox``, (b) ``-j 1`` (sandboxed), (c) the default ``-j`` (one job per core); with neither
flag (the first engine) a single run with no flags. For each: seconds in all, seconds per
submission, throughput ratio against nbgrader (nbgrader s/submission / kit s/submission: above 1
means the kit is faster) and the scores, which must be the same for every submission; plus the
sandbox's own cost per submission, ((b) - (a)) / N.

**Noise.** Before timing, both venvs import their grader once (untimed), so neither pays for a
cold disk cache. ``--rounds R`` repeats every command R times, interleaved, and reports the median
(and the range). The load average before and after is printed: on a busy machine (tests running
beside the benchmark) figures move by a third or more.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from course.backend.process import Backend
from course.client import ADMIN_HEADER
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
TEST_CELL = f'report = check("{LAB}")\nassert report.score == report.max_score, report'
DEFAULT_VENV = Path.home() / ".cache" / "aws-course-bench" / "nbgrader-venv"
NBGRADER_CELL_TIMEOUT = 120  # the kit's default --cell-timeout; nbgrader's own default is 30
NOTES = [
    "nbgrader shares one kit backend, started before its timing and reset before each notebook "
    "(lab 01 purges, and a purge is allowed once per 60 s): the easier job. The kit's times "
    "include starting its own backends.",
    "nbgrader's score is its one test cell: 10 if check('01') gave full marks in its kernel.",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Run:
    """One grading command over all the submissions, timed once a round."""

    label: str
    command: list[str]  # as run in the first round
    submissions: int
    flags: list[str] = field(default_factory=list)  # the kit's flags
    totals_s: list[float] = field(default_factory=list)  # one a round
    scores: dict[str, int] = field(default_factory=dict)  # "10/10" -> submissions, all rounds
    problems: list[str] = field(default_factory=list)
    ratio_vs_nbgrader: float | None = None

    @property
    def total_s(self) -> float:
        return statistics.median(self.totals_s) if self.totals_s else float("nan")

    @property
    def per_submission_s(self) -> float:
        return self.total_s / self.submissions

    @property
    def consistent(self) -> bool:
        graded = self.submissions * len(self.totals_s)
        return len(self.scores) == 1 and sum(self.scores.values()) == graded

    def add_scores(self, scores: list[str]) -> None:
        for score, n in Counter(scores).items():
            self.scores[score] = self.scores.get(score, 0) + n

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "command": self.command,
            "flags": self.flags,
            "submissions": self.submissions,
            "totals_s": [round(t, 2) for t in self.totals_s],
            "total_s": round(self.total_s, 2),
            "per_submission_s": round(self.per_submission_s, 3),
            "ratio_vs_nbgrader": None
            if self.ratio_vs_nbgrader is None
            else round(self.ratio_vs_nbgrader, 3),
            "scores": self.scores,
            "consistent": self.consistent,
            "problems": self.problems,
        }


# -- the submissions


def copy(nb: NotebookNode) -> NotebookNode:
    return nbformat.from_dict(json.loads(json.dumps(nb)))


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
    nb = copy(solution)
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


def student_code(source: str, student: str | None = None, n: int = 0) -> str:
    """A solution cell as a student leaves it: without nbgrader's delimiters, maybe signed."""
    code = "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))
    return code if student is None else f"# student: {student} (benchmark submission {n})\n{code}"


def submission(release: NotebookNode, source: NotebookNode, student: str, n: int) -> NotebookNode:
    """The release notebook, its stubs filled with the solution's code, signed by ``student``."""
    if len(release.cells) != len(source.cells):
        raise SystemExit("the release notebook does not have the source's cells")
    nb = copy(release)
    signed = False
    for cell, original in zip(nb.cells, source.cells, strict=True):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = student_code(original.source, None if signed else student, n)
            signed = True
    if not signed:
        raise SystemExit("the release notebook has no answer cell")
    return nb


def write_kit_only_submissions(solution: NotebookNode, students: list[str], kit_dir: Path) -> None:
    """Without nbgrader there is no release notebook: the same cells, without its metadata."""
    source = nbgrader_source(solution)
    for n, student in enumerate(students, 1):
        nb = copy(source)
        signed = False
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
            if cell.cell_type == "code" and BEGIN in cell.source:
                cell.source = student_code(cell.source, None if signed else student, n)
                signed = True
        nbformat.write(nb, kit_dir / f"{student}.ipynb")


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


def nbgrader_config(course: Path, backend: Backend) -> str:
    """nbgrader's config: this course, the kit's cell timeout, a backend reset per notebook."""
    return f"""\
import urllib.request

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "aws-course-bench"
c.CourseDirectory.root = {str(course)!r}
c.Execute.timeout = {NBGRADER_CELL_TIMEOUT}


def reset_backend(**kwargs):
    \"\"\"Empty the shared backend before a notebook runs (lab 01 purges: 1 per 60 s).\"\"\"
    request = urllib.request.Request(
        {backend.url + "/_course/reset"!r},
        data=b"",
        method="POST",
        headers={{{ADMIN_HEADER!r}: {backend.admin_token!r}}},
    )
    urllib.request.urlopen(request, timeout=30).read()


c.Execute.on_notebook_start = reset_backend
"""


class NbgraderCourse:
    """A real nbgrader course over the submissions, graded against one shared kit backend."""

    def __init__(self, venv: Path, backend: Backend, work: Path, students: list[str]) -> None:
        self.venv, self.students = venv, students
        self.root = work / "nbgrader-course"
        self.log_file = work / "nbgrader.log"
        self.env = scrubbed_environment(dict(os.environ), backend.url)
        self.env.pop("VIRTUAL_ENV", None)
        self.env.update(
            PATH=f"{venv / 'bin'}{os.pathsep}{self.env.get('PATH', '')}",
            COURSE_LAB=LAB,
            COURSE_STATE_DIR=str(work / "course-state"),
            AWS_EC2_METADATA_DISABLED="true",
            JUPYTER_CONFIG_DIR=str(work / "jupyter-config"),  # no user-level nbgrader config
        )
        (self.root / "source" / ASSIGNMENT).mkdir(parents=True)
        (self.root / "nbgrader_config.py").write_text(nbgrader_config(self.root, backend))

    def nbgrader(self, *args: str) -> int:
        with self.log_file.open("ab") as out:
            return subprocess.run(
                [self.venv / "bin" / "nbgrader", *args],
                cwd=self.root,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            ).returncode

    def write_submissions(self, solution: NotebookNode, kit_dir: Path) -> None:
        """Source, release (by nbgrader), then each student's submission, for both graders."""
        source = nbgrader_source(solution)
        nbformat.write(source, self.root / "source" / ASSIGNMENT / NOTEBOOK_NAME)
        if self.nbgrader("generate_assignment", ASSIGNMENT, "--force"):
            tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-30:])
            raise SystemExit(f"nbgrader generate_assignment failed ({self.log_file}):\n{tail}")
        release = nbformat.read(self.root / "release" / ASSIGNMENT / NOTEBOOK_NAME, as_version=4)
        for n, student in enumerate(self.students, 1):
            nb = submission(release, source, student, n)
            folder = self.root / "submitted" / student / ASSIGNMENT
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / NOTEBOOK_NAME)
            nbformat.write(nb, kit_dir / f"{student}.ipynb")

    def autograde(self, run: Run) -> None:
        """Time one ``nbgrader autograde`` of every submission; read back what it gave."""
        log(f"nbgrader {' '.join(run.command[1:])} on {len(self.students)} submissions ...")
        started = time.perf_counter()
        code = self.nbgrader(*run.command[1:])
        run.totals_s.append(time.perf_counter() - started)
        if code:
            run.problems.append(f"nbgrader autograde exited {code} (see {self.log_file})")
        grades = self.root / "grades.csv"
        grades.unlink(missing_ok=True)
        if self.nbgrader("export", "--to", str(grades)) or not grades.exists():
            run.problems.append("nbgrader export failed: no scores")
        else:
            with grades.open(newline="") as handle:
                rows = [r for r in csv.DictReader(handle) if r["assignment"] == ASSIGNMENT]
            run.add_scores([f"{float(r['score']):g}/{float(r['max_score']):g}" for r in rows])
            if len(rows) != len(self.students):
                run.problems.append(f"nbgrader exported {len(rows)} scores, not {run.submissions}")
        errors = 0
        for student in self.students:
            path = self.root / "autograded" / student / ASSIGNMENT / NOTEBOOK_NAME
            if not path.exists():
                run.problems.append(f"nbgrader wrote no autograded notebook for {student}")
                continue
            nb = nbformat.read(path, as_version=4)
            errors += any(
                o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", [])
            )
        if errors:
            run.problems.append(f"{errors} autograded notebooks hold an error output")


# -- the kit's side


def kit_runs(course_bin: Path, submissions: int) -> list[Run]:
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
    return [Run(label, [], submissions, flags) for label, flags in configs]


def grade_with_kit(course_bin: Path, run: Run, kit_dir: Path, work: Path) -> None:
    """Time one ``course grade`` of every submission; read back its summary."""
    slug = re.sub(r"[^a-z0-9]+", "-", run.label.lower()).strip("-")
    out = work / f"out-{slug}-round{len(run.totals_s) + 1}"
    command = [str(course_bin), "grade", LAB, str(kit_dir), "--out", str(out), *run.flags]
    shown = ["course", *command[1:]]
    run.command = run.command or shown
    log(f"{' '.join(shown)} ...")
    log_file = out.with_suffix(".log")
    with log_file.open("wb") as handle:
        started = time.perf_counter()
        code = subprocess.run(
            command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        ).returncode
        run.totals_s.append(time.perf_counter() - started)
    if code:
        run.problems.append(f"course grade exited {code} (see {log_file})")
    try:
        summary = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        run.problems.append(f"no readable {out / 'summary.json'}")
        return
    rows = summary.get("submissions", [])
    run.add_scores([f"{r['score']:g}/{r['max_score']:g}" for r in rows])
    if len(rows) != run.submissions:
        run.problems.append(f"summary.json lists {len(rows)} submissions, not {run.submissions}")
    statuses = Counter(r.get("status") for r in rows)
    if set(statuses) - {"completed"}:
        run.problems.append(f"statuses: {dict(statuses)}")


# -- around the runs


def warm_up(nbgrader_venv: Path | None) -> None:
    """Import each grader once, untimed, so neither pays for a cold disk cache."""
    imports = "import boto3, ipykernel, nbclient, matplotlib.pyplot, course.checks"
    runs = [(Path(sys.executable), imports)]
    if nbgrader_venv is not None:
        runs.append((nbgrader_venv / "bin" / "python", imports + ", nbgrader.apps"))
    for python, code in runs:
        subprocess.run([python, "-c", code], check=False, capture_output=True)


def kit_source(course_bin: Path) -> str:
    """Where ``course_bin``'s kit comes from: a commit of this checkout, or a folder."""
    try:
        python = course_bin.read_text(errors="replace").splitlines()[0].removeprefix("#!").strip()
        found = subprocess.run(
            [python, "-c", "import course, pathlib; print(pathlib.Path(course.__file__).parent)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        package = Path(found).resolve()
    except (OSError, IndexError, subprocess.CalledProcessError):
        package = course_bin.resolve()  # at least: is the command this checkout's?
    if not package.is_relative_to(ROOT):
        return str(package)

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "grader")
    except (OSError, subprocess.CalledProcessError):
        return str(package)
    return f"{head}+uncommitted" if dirty else head


def table(
    runs: list[Run],
    sandbox_cost: float | None,
    context: dict[str, Any],
) -> str:
    rounds = context["rounds"]
    lines = [
        f"{'grader':<30} {'total s':>8} {'s/sub':>6} {'ratio':>6}  "
        + ("range s      " if rounds > 1 else "")
        + "scores",
        "-" * 90,
    ]
    for run in runs:
        ratio = "" if run.ratio_vs_nbgrader is None else f"{run.ratio_vs_nbgrader:.2f}x"
        scores = ", ".join(f"{s} x{n}" for s, n in sorted(run.scores.items())) or "?"
        spread = f"{min(run.totals_s):5.1f}-{max(run.totals_s):<5.1f}  " if rounds > 1 else ""
        same = "" if run.consistent else "  (NOT all the same)"
        lines.append(
            f"{run.label:<30} {run.total_s:8.1f} {run.per_submission_s:6.2f} {ratio:>6}  "
            f"{spread}{scores}{same}"
        )
        lines.extend(f"    problem: {p}" for p in run.problems)
    lines.append("")
    lines.append(
        f"{context['submissions']} submissions, {rounds} round(s)"
        + (" (median shown)" if rounds > 1 else "")
        + f", {context['cores']} cores, kit {context['kit']}"
        + (f", nbgrader {context['nbgrader_version']}" if context["nbgrader_version"] else "")
    )
    before, after = context["load_average"]["before"], context["load_average"]["after"]
    lines.append(f"load average (1 min) before {before[0]:.2f}, after {after[0]:.2f}")
    if context["nbgrader_version"]:
        lines.append(
            "ratio = nbgrader s/submission / kit s/submission (above 1: the kit is faster)"
        )
    if sandbox_cost is not None:
        lines.append(f"sandbox's own cost: {sandbox_cost:+.2f} s per submission ((b) - (a)) / N")
        if sandbox_cost < 0:
            lines.append(
                "  negative: noise, or a sandboxed run that did more than isolate (an engine "
                "that starts\n  the next sandboxed kernel while the current one runs): then no "
                "cost of the sandbox alone"
            )
    lines.extend(textwrap.fill(note, 100) for note in context["notes"])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submissions", type=int, default=20, metavar="N")
    parser.add_argument("--rounds", type=int, default=1, metavar="R", help="median of R runs")
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
    if args.submissions < 1 or args.rounds < 1:
        parser.error("--submissions and --rounds must be at least 1")
    course_bin = args.course_bin
    if not course_bin.exists():
        found = shutil.which("course")
        if not found:
            parser.error(f"{course_bin} does not exist and no course command is on PATH")
        course_bin = Path(found)

    students = [f"student{n:02d}" for n in range(1, args.submissions + 1)]
    solution = sleep_free_solution()
    venv = None if args.skip_nbgrader else args.nbgrader_venv.expanduser()
    version = ensure_nbgrader_venv(venv) if venv else None
    work = Path(tempfile.mkdtemp(prefix="bench-vs-nbgrader-"))
    kit_dir = work / "submissions"
    kit_dir.mkdir()
    kit = kit_runs(course_bin, args.submissions)
    nbgrader_run: Run | None = None
    backend: Backend | None = None
    course: NbgraderCourse | None = None
    load_before: tuple[float, float, float] = os.getloadavg()
    try:
        if venv is None:
            write_kit_only_submissions(solution, students, kit_dir)
        else:
            backend = Backend.start(log_path=work / "nbgrader-backend.log")
            course = NbgraderCourse(venv, backend, work, students)
            course.write_submissions(solution, kit_dir)
            command = ["nbgrader", "autograde", ASSIGNMENT, "--create", "--force"]
            nbgrader_run = Run("nbgrader autograde", command, args.submissions)
        log("warming up (imports, untimed) ...")
        warm_up(venv)
        load_before = os.getloadavg()
        for n in range(1, args.rounds + 1):
            if args.rounds > 1:
                log(f"round {n} of {args.rounds}")
            if course is not None and nbgrader_run is not None:
                course.autograde(nbgrader_run)
            for run in kit:
                grade_with_kit(course_bin, run, kit_dir, work)
    finally:
        if backend is not None:
            backend.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    runs = ([nbgrader_run] if nbgrader_run else []) + kit
    if nbgrader_run is not None:
        for run in kit:
            run.ratio_vs_nbgrader = nbgrader_run.per_submission_s / run.per_submission_s
    by_flags = {tuple(r.flags): r for r in kit}
    unsandboxed = by_flags.get(("-j", "1", "--no-sandbox")) or by_flags.get(("--no-sandbox",))
    sandboxed = by_flags.get(("-j", "1")) or (by_flags.get(()) if unsandboxed else None)
    sandbox_cost = (
        (sandboxed.total_s - unsandboxed.total_s) / args.submissions
        if sandboxed and unsandboxed
        else None
    )
    context: dict[str, Any] = {
        "submissions": args.submissions,
        "rounds": args.rounds,
        "cores": os.cpu_count(),
        "kit": kit_source(course_bin),
        "nbgrader_version": version,
        "load_average": {"before": list(load_before), "after": list(load_after)},
        "notes": NOTES if nbgrader_run else [],
    }
    if args.json:
        result = {
            **context,
            "runs": [r.to_json() for r in runs],
            "sandbox_cost_per_submission_s": None
            if sandbox_cost is None
            else round(sandbox_cost, 3),
        }
        print(json.dumps(result, indent=2))
    else:
        print(table(runs, sandbox_cost, context))


if __name__ == "__main__":
    main()
