"""``course``: the kit's command line. Thin: each command calls one function of the kit.

Exit codes: 0 success; 1 a check failed (``build --check`` drift, ``check`` not full marks);
2 bad usage (click's own); 3 nothing to grade; 4 the backend could not be started or reached;
5 no sandbox can be made here (``course grade --no-sandbox`` grades without one); 6 ``merge``
wrote what it had but shards are missing.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from course.grading.gradescope.config import VISIBILITIES
from course.grading.limits import Limits
from course.grading.shards import Shard
from course.sandbox.limits import parse_size, size_text

if TYPE_CHECKING:
    from course.checks.catalog import Lab

EXIT_FAILED = 1
EXIT_NOTHING_TO_GRADE = 3
EXIT_BACKEND = 4
EXIT_NO_SANDBOX = 5
EXIT_INCOMPLETE = 6

console = Console(stderr=True)
LIMITS = Limits()  # the grader's default limits, shown in `course grade --help`
CAPS = LIMITS.resources  # the sandbox's default caps


class Size(click.ParamType):
    """A size as people write it (``512M``, ``2G``, bytes), converted to bytes."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class ShardParam(click.ParamType):
    """``K/N``: shard K of N."""

    name = "K/N"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Shard:
        if isinstance(value, Shard):
            return value
        try:
            return Shard.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


F = TypeVar("F", bound=Callable[..., Any])


def _backend_option(how: str) -> Callable[[F], F]:
    """``--backend local|aws``: where a command reads (``how`` says how, e.g. ", read only")."""
    return click.option(
        "--backend",
        "where",
        type=click.Choice(["local", "aws"]),
        default=None,
        help="The shared local backend, or the account boto3's own configuration names "
        f"(profile, credentials, AWS_ENDPOINT_URL){how}. Default: COURSE_BACKEND, else local.",
    )


def _size_option(default: int, help_text: str) -> dict[str, Any]:
    return {"type": Size(), "default": size_text(default), "show_default": True, "help": help_text}


def _seconds_option(default: float, help_text: str) -> dict[str, Any]:
    return {"type": float, "default": f"{default:g}", "show_default": True, "help": help_text}


def project_root() -> Path:
    """The course folder: the current directory if it holds ``solutions/``, else the kit's own."""
    cwd = Path.cwd()
    for candidate in (cwd, *cwd.parents):
        if (candidate / "solutions").is_dir() and (candidate / "pyproject.toml").exists():
            return candidate
    return Path(__file__).resolve().parents[2]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aws-messaging-course")
def main() -> None:
    """An executable course kit and auto-grader for AWS messaging (SQS, SNS, SES)."""


# ----------------------------------------------------------------------------- start / backend


LAB_START_TIMEOUT = 120.0  # seconds JupyterLab gets to answer (a busy machine's first start)
LAB_STOP_TIMEOUT = 15.0  # seconds it gets to shut its kernels down on Ctrl+C


@main.command()
@click.option("--no-lab", is_flag=True, help="Start only the backend, not JupyterLab.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser tab for JupyterLab.")
@click.option(
    "--labs",
    "labs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The folder JupyterLab opens on (default: the course's labs/, or labs/LANG/).",
)
@click.option(
    "--lang",
    default=None,
    help="The course's language, e.g. vi: JupyterLab opens on labs/LANG/ and check() speaks it "
    "[default: COURSE_LANG, else en].",
)
def start(no_lab: bool, no_browser: bool, labs_dir: Path | None, lang: str | None) -> None:
    """Start the local AWS backend and JupyterLab on labs/; print JupyterLab's URL.

    A JupyterLab started by an earlier `course start` that still runs is reused: its URL is
    printed again. Ctrl+C stops JupyterLab; the backend keeps running until `course backend
    stop`.
    """
    from course.backend.process import BackendError, shared_backend
    from course.connection import local_environment

    try:
        backend, started = shared_backend()
    except BackendError as exc:
        console.print(f"[red]The local backend did not start:[/red] {exc}")
        sys.exit(EXIT_BACKEND)
    verb = "Started" if started else "Using the running"
    click.echo(f"{verb} local AWS backend at {backend.url}")
    if no_lab:
        return
    running = _running_lab()
    if running is not None:
        click.echo(f"JupyterLab already runs on {running['root_dir']}: {running['url']}")
        if not no_browser:
            import webbrowser

            webbrowser.open(running["url"])
        return
    from course.i18n import SOURCE_LANG, language, normalise

    lang = normalise(lang) if lang else language()
    default_labs = project_root() / "labs"
    if lang != SOURCE_LANG:
        default_labs = default_labs / lang
    labs = (labs_dir or default_labs).resolve()
    token, port = secrets.token_hex(24), _free_port()
    # The token goes through the environment, not the command line other users can read.
    env = {**os.environ, **local_environment(backend.url), "JUPYTER_TOKEN": token}
    env["COURSE_LANG"] = lang  # the kernels' check() speaks it
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={labs}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
    ]
    if no_browser:
        command.append("--no-browser")
    if os.geteuid() == 0:
        # Docker images and many cloud notebooks run as root, where JupyterLab refuses to start
        # without this flag.
        command.append("--allow-root")
        click.echo("Running as root: starting JupyterLab with --allow-root")
    click.echo(f"Starting JupyterLab on {labs}")
    # No terminal on its stdin: Ctrl+C then stops it without asking "Shut down (y/[n])?".
    lab = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    state = _lab_state_file()
    for signum in (signal.SIGTERM, signal.SIGHUP):  # `kill`, a closed terminal: as Ctrl+C
        signal.signal(signum, _interrupt)
    try:
        if not _wait_for_lab(lab, port, token):
            console.print(f"[red]JupyterLab did not start[/red] (exit code {lab.poll()})")
            _stop_lab(lab)
            sys.exit(EXIT_FAILED)
        _write_private(state, {"url": url, "pid": lab.pid, "root_dir": str(labs)})
        click.echo(f"JupyterLab is ready: {url}")
        click.echo(
            "Ctrl+C stops JupyterLab; the backend keeps running (`course backend stop` ends it)."
        )
        code = lab.wait()
    except KeyboardInterrupt:
        _stop_lab(lab)
        click.echo(f"JupyterLab stopped. The backend still runs at {backend.url}.")
        code = 0
    finally:
        if _read_json(state).get("pid") == lab.pid:
            state.unlink(missing_ok=True)
    sys.exit(code)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _lab_state_file() -> Path:
    """Where `course start` notes the JupyterLab it runs: next to the backend's state file."""
    from course.backend.process import state_file

    return state_file().with_name("jupyterlab.json")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON readable by its owner only (it holds a token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out)


def _running_lab() -> dict[str, Any] | None:
    """The state of the JupyterLab an earlier `course start` runs, if it still answers."""
    from urllib.parse import parse_qs, urlparse

    data = _read_json(_lab_state_file())
    try:
        parts = urlparse(str(data["url"]))
        token = parse_qs(parts.query)["token"][0]
        port = int(parts.port or 0)
    except (KeyError, IndexError, ValueError):
        return None
    return data if _lab_answers(port, token) else None


def _lab_answers(port: int, token: str) -> bool:
    """True when a Jupyter server on ``port`` accepts ``token``."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _wait_for_lab(lab: subprocess.Popen[bytes], port: int, token: str) -> bool:
    """True once JupyterLab answers on ``port``; False if it exits or takes too long."""
    import time

    deadline = time.monotonic() + LAB_START_TIMEOUT
    while lab.poll() is None and time.monotonic() < deadline:
        if _lab_answers(port, token):
            return True
        time.sleep(0.25)
    return False


def _stop_lab(lab: subprocess.Popen[bytes]) -> None:
    """End JupyterLab (SIGTERM: it shuts its kernels down), killing it if it lingers."""
    if lab.poll() is None:
        lab.terminate()
    try:
        lab.wait(timeout=LAB_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        lab.kill()
        lab.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@main.group()
def backend() -> None:
    """Manage the shared local AWS backend that notebooks connect to."""


@backend.command("start")
def backend_start() -> None:
    """Start the shared backend (or report the running one)."""
    from course.backend.process import BackendError, shared_backend

    try:
        running, started = shared_backend()
    except BackendError as exc:
        console.print(f"[red]{exc}[/red]")
        sys.exit(EXIT_BACKEND)
    click.echo(f"{'started' if started else 'already running'}: {running.url} (pid {running.pid})")


@backend.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def backend_status(as_json: bool) -> None:
    """Say whether the shared backend runs, and where."""
    from course.backend.process import running_backend

    running = running_backend()
    if as_json:
        click.echo(json.dumps({"running": bool(running), "url": running.url if running else None}))
    else:
        click.echo(f"running at {running.url} (pid {running.pid})" if running else "not running")
    if running is None:
        sys.exit(EXIT_BACKEND)


@backend.command("reset")
def backend_reset() -> None:
    """Delete every resource in the shared backend and clear its record of calls."""
    from course.backend.process import running_backend

    running = running_backend()
    if running is None:
        console.print("no backend is running")
        sys.exit(EXIT_BACKEND)
    running.reset()
    click.echo(f"reset {running.url}")


@backend.command("stop")
def backend_stop() -> None:
    """Stop the shared backend."""
    from course.backend.process import stop_shared_backend

    click.echo("stopped" if stop_shared_backend() else "no backend was running")


# ----------------------------------------------------------------------------- build


@main.command()
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; fail if labs/ (and labs/LANG/) or the syllabus would change.",
)
@click.option(
    "--lang",
    "langs",
    multiple=True,
    help="Also build labs/LANG/ from the solutions and solutions/i18n/LANG/ (repeatable) "
    "[default: every language with translations].",
)
def build(check_only: bool, langs: tuple[str, ...]) -> None:
    """Write the student notebooks in labs/ from the solutions in solutions/, the translated
    ones in labs/LANG/, and the syllabus (grader/docs/syllabus.md) from the labs' notebooks and
    checks."""
    from course.build.notebooks import MarkerError, build_labs, notebooks_with_outputs
    from course.build.syllabus import SYLLABUS, build_syllabus
    from course.build.translations import TranslationError, build_translated, languages
    from course.checks.catalog import all_labs

    root = project_root()
    try:
        result = build_labs(root, check_only=check_only)
        for lang in langs or languages(root):
            more = build_translated(root, lang, check_only=check_only)
            result.written += more.written
            result.unchanged += more.unchanged
            result.stale += more.stale
    except (MarkerError, TranslationError) as exc:
        console.print(f"[red]Bad solution markers or translation:[/red] {exc}")
        sys.exit(EXIT_FAILED)
    notebooks = (
        sorted((root / "solutions").glob("*.ipynb"))
        + sorted((root / "labs").glob("*.ipynb"))
        + sorted((root / "labs").glob("*/*.ipynb"))
    )
    dirty = notebooks_with_outputs(notebooks)
    for path in dirty:
        console.print(f"[red]stored with outputs:[/red] {path.relative_to(root)}")
    for path in result.stale:
        console.print(f"[yellow]no solution for:[/yellow] {path.relative_to(root)}")
    syllabus_changed = build_syllabus(root, all_labs(), check_only=check_only)
    if check_only:
        for path in result.written + ([root / SYLLABUS] if syllabus_changed else []):
            console.print(f"[red]out of date:[/red] {path.relative_to(root)} (run `course build`)")
        if result.written or dirty or result.stale or syllabus_changed:
            sys.exit(EXIT_FAILED)
        click.echo(
            f"labs/ matches solutions/ ({len(result.unchanged)} notebooks, translations "
            f"included); {SYLLABUS} is current"
        )
        return
    for path in result.written:
        click.echo(f"wrote {path.relative_to(root)}")
    if syllabus_changed:
        click.echo(f"wrote {SYLLABUS}")
    click.echo(f"{len(result.written)} written, {len(result.unchanged)} unchanged")
    if dirty:
        sys.exit(EXIT_FAILED)


# ----------------------------------------------------------------------------- grade


@main.command()
@click.argument("lab")
@click.argument(
    "submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("grades"),
    show_default=True,
    help="Folder for the reports.",
)
@click.option("--cell-timeout", **_seconds_option(LIMITS.cell_timeout, "Seconds a cell may run."))
@click.option(
    "--timeout",
    "total_timeout",
    **_seconds_option(LIMITS.total_timeout, "Seconds a whole notebook may run."),
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions graded at once, each in its own sandbox and backend "
    "[default: the number of cores].",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run kernels without isolation (where no sandbox can be made); "
    "every report then says the run was not isolated.",
)
@click.option("--memory", **_size_option(CAPS.memory, "Memory a sandboxed kernel may use."))
@click.option(
    "--processes",
    type=click.IntRange(min=16),
    default=CAPS.processes,
    show_default=True,
    help="Processes and threads a sandbox may hold at once.",
)
@click.option("--disk", **_size_option(CAPS.disk, "Temporary disk (its /tmp and home)."))
@click.option("--file-size", **_size_option(CAPS.file_size, "Largest file a sandbox may write."))
@click.option(
    "--cpu-time",
    type=click.IntRange(min=1),
    default=CAPS.cpu_seconds,
    show_default=True,
    help="CPU seconds a kernel may use.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=1, min_open=False),
    default=None,
    help="Run each submission's time this many times faster than the wall clock (its kernel "
    "and backend alike: a 10 s visibility timeout takes 1 s at 10). Default: the lab's own.",
)
@click.option(
    "--real-time", is_flag=True, help="Run submissions on the wall clock (as --time-scale 1)."
)
@click.option(
    "--shard",
    type=ShardParam(),
    default=None,
    help="Grade only shard K of N of the submissions (those at sorted positions K-1, K-1+N, …), "
    "e.g. one job of a CI matrix; `course merge` joins the shards' output folders.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option(
    "--lang",
    default=None,
    help="The feedback pages' language, e.g. vi (the JSON and grades.csv keep English ids) "
    "[default: COURSE_LANG, else en].",
)
def grade(
    lab: str,
    submissions: tuple[Path, ...],
    out: Path,
    cell_timeout: float,
    total_timeout: float,
    jobs: int | None,
    no_sandbox: bool,
    memory: int,
    processes: int,
    disk: int,
    file_size: int,
    cpu_time: int,
    time_scale: float | None,
    real_time: bool,
    shard: Shard | None,
    as_json: bool,
    lang: str | None,
) -> None:
    """Grade submitted notebooks of LAB (e.g. 01) found in SUBMISSIONS (files or folders).

    Each submission runs in a sandbox of its own (bubblewrap: it sees a read-only system, the
    kit, an empty home and its own backend, nothing else) under the limits below, with a
    backend of its own; the lab's checks then read what it did. Writes grades.csv, a JSON file,
    Gradescope's results.json and a feedback page per student.
    """
    from course.grading.grade import find_submissions, grade_all, student_names
    from course.grading.reports import write_class_table, write_student, write_summary
    from course.grading.shards import manifest, write_manifest
    from course.sandbox.bwrap import SandboxUnavailable, check_available

    graded = _lab_argument(lab)
    everyone = find_submissions(list(submissions))
    if not everyone:
        console.print("[red]No .ipynb files found in[/red] " + ", ".join(map(str, submissions)))
        sys.exit(EXIT_NOTHING_TO_GRADE)
    names = student_names(everyone)  # over the whole class, whichever shard is graded
    paths = shard.select(everyone) if shard else everyone
    if shard:
        console.print(f"Shard {shard}: {len(paths)} of the {len(everyone)} submissions")
    if not no_sandbox:
        try:
            check_available()
        except SandboxUnavailable as exc:
            console.print(f"[red]No sandbox:[/red] {exc}")
            sys.exit(EXIT_NO_SANDBOX)
    else:
        console.print(
            "[yellow]--no-sandbox: submissions run with your privileges, unisolated; "
            "every report will say so.[/yellow]"
        )
    resources = replace(
        CAPS,
        memory=memory,
        processes=processes,
        file_size=file_size,
        disk=disk,
        cpu_seconds=cpu_time,
    )
    if real_time and time_scale not in (None, 1):
        raise click.UsageError("--real-time and --time-scale contradict each other")
    limits = replace(
        LIMITS,
        cell_timeout=cell_timeout,
        total_timeout=total_timeout,
        resources=resources,
        time_scale=1.0 if real_time else time_scale,
    )
    scale = limits.time_scale if limits.time_scale is not None else graded.time_scale
    if scale != 1:
        console.print(
            f"Time runs {scale:g} times faster than the wall clock in each submission (AWS "
            "waits included); reports give times in AWS seconds. --real-time turns it off."
        )
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths)))
    with Progress(
        TextColumn("[bold]{task.fields[label]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("", total=len(paths), label=f"grading lab {graded.id}")
        slots = {
            n: progress.add_task("waiting", total=None, label=f"  job {n}")
            for n in range(1, jobs + 1)
        }

        def started(job: int, student: str) -> None:
            progress.update(slots[job], description=f"{student}: running")

        def done(g):  # type: ignore[no-untyped-def]
            write_student(g, out, lang)
            progress.console.print(
                f"{g.student}: {g.score:g}/{g.max_score:g} — {g.execution.summary}"
            )
            progress.update(task, advance=1, description=f"last: {g.student}")

        grades = grade_all(
            paths,
            graded,
            limits,
            on_done=done,
            jobs=jobs,
            sandboxed=not no_sandbox,
            on_start=started,
            names=names,
        )
        for slot in slots.values():
            progress.remove_task(slot)
    write_class_table(grades, out)
    summary = write_summary(grades, out, graded)
    if shard:
        write_manifest(out, manifest(graded.id, shard, everyone, names))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        table = Table("student", "score", "status")
        for g in grades:
            table.add_row(g.student, f"{g.score:g}/{g.max_score:g}", g.execution.status)
        Console().print(table)
        if no_sandbox:
            click.echo("NOT ISOLATED: graded with --no-sandbox")
        click.echo(
            f"reports in {out}/ (grades.csv, <student>.json, <student>/results.json, feedback)"
        )


# ----------------------------------------------------------------------------- merge


@main.command()
@click.argument("shards", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the merged reports.",
)
def merge(shards: tuple[Path, ...], out: Path) -> None:
    """Merge the output folders of `course grade --shard K/N` (SHARDS, one a shard) into the
    reports one run would have written: grades.csv, summary.json and every student's files, in
    the class's order.

    Outputs of different labs, of different folders or the same shard twice are refused
    (exit 1, nothing written). Missing shards: the rest is merged, the absent shards and
    their submissions are named, and the exit code is 6.
    """
    from course.grading.merge import MergeError
    from course.grading.merge import merge as merge_shards

    try:
        merged = merge_shards(list(shards), out)
    except MergeError as exc:
        console.print(f"[red]Cannot merge:[/red] {exc}")
        sys.exit(EXIT_FAILED)
    click.echo(
        f"merged {len(merged.students)} submissions of lab {merged.lab} from "
        f"{merged.shards - len(merged.missing_shards)} of {merged.shards} shards into {out}/"
    )
    if merged.missing_shards:
        absent = ", ".join(f"{k}/{merged.shards}" for k in merged.missing_shards)
        console.print(
            f"[yellow]Warning: shard(s) {absent} missing: these {len(merged.missing)} "
            "submissions are not in the merged reports:[/yellow]"
        )
        for student, submission, k in merged.missing:
            console.print(f"  {student} ({submission}, shard {k}/{merged.shards})")
        console.print("Grade the missing shards again, then merge all the shards' folders.")
        sys.exit(EXIT_INCOMPLETE)


# ----------------------------------------------------------------------------- gradescope


@main.command()
@click.argument("lab")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("autograder.zip"),
    show_default=True,
    help="The zip to upload to Gradescope.",
)
@click.option(
    "--notebook",
    default=None,
    help="The notebook file name students submit (e.g. 01-sqs-basics.ipynb) [default: the one "
    ".ipynb a submission holds].",
)
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="When students see the checks and their score (Gradescope's visibility).",
)
@click.option(
    "--hints",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="When students see the hints of checks they did not pass: after_due_date hides them "
    "until the due date.",
)
@click.option(
    "--wheel",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The kit's wheel to bundle [default: one built from this kit's source].",
)
@click.option(
    "--from-pypi",
    is_flag=True,
    help="Bundle no wheel: setup.sh installs aws-messaging-course at this version from PyPI.",
)
@click.option(
    "--lang",
    default=None,
    help="The language of the feedback in results.json, e.g. vi (test names and extra data keep "
    "English ids) [default: COURSE_LANG, else en].",
)
def gradescope(
    lab: str,
    out: Path,
    notebook: str | None,
    visibility: str,
    hints: str,
    wheel: Path | None,
    from_pypi: bool,
    lang: str | None,
) -> None:
    """Build LAB's Gradescope autograder: a zip with setup.sh (installs this kit, bubblewrap and
    Python 3.11 on Gradescope's Ubuntu image) and run_autograder (grades the submitted notebook,
    writes results.json), with this kit's wheel inside. See grader/docs/gradescope.md."""
    from course.grading.gradescope.bundle import BundleError, build_bundle, kit_version
    from course.grading.gradescope.config import AutograderConfig
    from course.i18n import available, language, normalise

    if wheel and from_pypi:
        raise click.UsageError("--wheel and --from-pypi contradict each other")
    graded = _lab_argument(lab)
    lang = normalise(lang) if lang else language()
    if lang not in available():
        raise click.BadParameter(f"one of {', '.join(available())}", param_hint="--lang")
    config = AutograderConfig(
        lab=graded.id,
        version=kit_version(),
        notebook=notebook,
        visibility=visibility,
        hints=hints,
        lang=lang,
    )
    try:
        bundle = build_bundle(config, out, wheel=wheel, from_pypi=from_pypi, source=project_root())
    except BundleError as exc:
        console.print(f"[red]No bundle:[/red] {exc}")
        sys.exit(EXIT_FAILED)
    inside = f"with {bundle.config.wheel}" if bundle.config.wheel else "installing from PyPI"
    click.echo(
        f"wrote {out} ({bundle.size / 1024:.0f} KiB): lab {graded.id}'s autograder, kit "
        f"{config.version} {inside}; upload it as the assignment's autograder on Gradescope"
    )


# ------------------------------------------------------------------- check / labs / slides


def _lab_argument(lab: str) -> Lab:
    """The graded lab a LAB argument names; a usage error naming the labs when it names none."""
    from course.checks.catalog import UnknownLab, resolve_lab

    try:
        return resolve_lab(lab)
    except UnknownLab as exc:
        raise click.BadParameter(str(exc), param_hint="LAB") from None


@main.command("check")
@click.argument("lab")
@_backend_option(", read only")
def check_cmd(lab: str, where: str | None) -> None:
    """Run LAB's checks, as check() does in a notebook.

    On the local backend they read its resources and its record of the calls. On a real account
    (--backend aws) they make read calls only (Get, List, Describe), look for the names with
    your prefix (COURSE_PREFIX, else made from your IAM user name), and a check of the calls
    made says "not checkable here" and is left out of the maximum. Exits 1 below full marks.
    """
    from course.connection import AWS, settings
    from course.notebook.check import check

    chosen = _lab_argument(lab)
    if (where or settings().backend) == AWS:
        _use_real_account()
    else:
        from course.backend.process import running_backend

        running = running_backend()
        if running is None:
            console.print("no local backend is running: `course backend start`")
            sys.exit(EXIT_BACKEND)
        os.environ.setdefault("COURSE_ENDPOINT", running.url)
    report = check(chosen)
    click.echo(repr(report))
    if report.score < report.max_score:
        sys.exit(EXIT_FAILED)


def _use_real_account() -> None:
    """Point this process at the account boto3's configuration names, with the learner's
    prefix; exits with a message when that account does not answer."""
    from course.connection import ConnectionProblem, use_real_account

    try:
        prefix = use_real_account()
    except ConnectionProblem as exc:
        console.print(str(exc))
        sys.exit(EXIT_BACKEND)
    click.echo(
        f"On the account your AWS configuration names; the learner's prefix: {prefix or '(none)'}"
    )


@main.command()
def labs() -> None:
    """List the labs and their checks with points."""
    from course.checks.catalog import all_labs

    for lab in all_labs():
        if lab.graded:
            click.echo(f"{lab.id} {lab.title} ({lab.max_points:g} points)")
            for c in lab.checks:
                click.echo(f"    {c.qualified_id:<40} {c.points:>3g}  {c.kind}")


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default slides/build); another language goes to OUT/LANG.",
)
@click.option(
    "--lang",
    "langs",
    multiple=True,
    help="Build only this language's decks, e.g. vi (repeatable) [default: every language].",
)
def slides(out: Path | None, langs: tuple[str, ...]) -> None:
    """Build the offline HTML slide decks: English in slides/build/, each translation in
    slides/build/LANG/ (a slide not yet translated, or whose English changed, shows in English
    and is listed)."""
    from course.build.slides import SlideBuildError, build_slides, untranslated

    try:
        paths = build_slides(out, langs=langs or None)
    except (SlideBuildError, FileNotFoundError) as exc:
        console.print(f"[red]The slides did not build:[/red] {exc}")
        sys.exit(EXIT_FAILED)
    for path in paths:
        click.echo(f"wrote {path}")
    for line in untranslated(langs or None):
        click.echo(f"in English: {line}")


# ----------------------------------------------------------------------------- cleanup


@main.command()
@click.option(
    "--dry-run", is_flag=True, help="List what would be deleted and what left; delete nothing."
)
@_backend_option("")
def cleanup(dry_run: bool, where: str | None) -> None:
    """Delete everything the course created in the account, and say what it left and why.

    The course's resources are those named as the labs name them (with the learner's prefix on a
    shared account) or tagged `course`, across SQS, SNS, Lambda, IAM, SES, Route 53 and
    CloudWatch; anything else is listed as left and never touched. Exits 1 if a listing or a
    delete failed.
    """
    from course.backend.process import running_backend
    from course.cleanup import clients_for, delete, find
    from course.connection import settings

    backend = where or settings().backend
    if backend == "aws":
        _use_real_account()
    current = settings()
    endpoint = None
    if backend == "local":
        endpoint = current.endpoint_url
        if endpoint is None:
            running = running_backend()
            if running is None:
                console.print("no local backend is running: `course backend start`")
                sys.exit(EXIT_BACKEND)
            endpoint = running.url
    plan = find(clients_for(current.region, endpoint), current.region, current.prefix)
    outcome = None if dry_run else delete(plan)
    done = plan.items if outcome is None else outcome.deleted
    left = plan.left if outcome is None else outcome.left
    table = Table("", "service", "kind", "name", "why", title=f"course cleanup ({backend})")
    verb = "would delete" if dry_run else "deleted"
    for item in done:
        table.add_row(verb, item.service, item.kind, item.name, "")
    for entry in left:
        table.add_row(
            "FAILED" if entry.failed else "left",
            entry.service,
            entry.kind,
            entry.name,
            entry.reason,
        )
    Console().print(table)
    failed = sum(entry.failed for entry in left)
    click.echo(f"{len(done)} {verb}, {len(left) - failed} left (not the course's), {failed} failed")
    if failed:
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
