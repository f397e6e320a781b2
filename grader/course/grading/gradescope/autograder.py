"""Grade the one submission in Gradescope's container and write its ``results.json``.

Which notebook: the one named by the bundle's ``notebook`` setting, found anywhere in
``submission/``; without that setting, the one ``.ipynb`` there (Jupyter's checkpoints
aside). No notebook, two notebooks, or none of the expected name: every check is marked not
attempted with a sentence that says what was found and what to submit; a notebook of another
lab is refused as ``course grade`` refuses it. Nothing a submission holds makes this crash: a
fault of the grader's own still writes a results.json that says so.

The sandbox: Gradescope runs each submission in a container of its own, where unprivileged user
namespaces are often not allowed, so bubblewrap may fail there. The autograder probes it: when
it works, the notebook runs sandboxed as in ``course grade``; when it does not, the notebook
runs without it (as ``course grade --no-sandbox``) and the results' output says so, with the
probe's reason. That is safe for the class (the container holds this one submission and is
thrown away), but not against the submission itself: without the sandbox its code runs with the
autograder's privileges, and could rewrite the kit or the results in its own container
(``grader/docs/gradescope.md``).
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

from course.checks.catalog import resolve_lab
from course.grading.grade import Grade, Refused, grade_submission
from course.grading.gradescope.config import CONFIG_NAME, AutograderConfig
from course.grading.limits import Limits
from course.grading.reports import gradescope_results
from course.i18n import N_, _
from course.sandbox.bwrap import SandboxUnavailable, check_available

STUDENT = "submission"  # the name in the feedback: Gradescope shows whose it is


#: What the results say to the student, in the bundle's language (``AutograderConfig.lang``);
#: a refusal's reason stays English in the data and is translated where the feedback shows it.
TEXTS = {
    "no-sandbox": N_(
        "Graded without the kit's sandbox: bubblewrap cannot make one in this container "
        "({reason}). Gradescope's container isolates this submission from others."
    ),
    "failed": N_(
        "The autograder failed on this submission (its fault, not yours): tell your "
        "instructor. {error}"
    ),
    "refused": N_("{problem} (found: {found}): {fix}"),
    "nothing": N_("nothing"),
    "copies": N_("the submission holds {count} copies of {expected}"),
    "not-named": N_("no {expected} in the submission"),
    "notebooks": N_("the submission holds {count} notebooks"),
    "no-notebook": N_("no notebook (.ipynb) in the submission"),
    "fix": N_("submit the lab's notebook, and only it"),
    "fix-named": N_("submit the lab's notebook, and only it under that name"),
}


def no_sandbox_note(reason: str, lang: str | None = None) -> str:
    """What the results say when the notebook ran without the kit's sandbox (in ``lang``)."""
    return _(TEXTS["no-sandbox"], lang).format(reason=reason)


def _listing(paths: list[Path], root: Path) -> str:
    names = [str(p.relative_to(root)) for p in paths]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return shown or TEXTS["nothing"]


def choose_notebook(submission: Path, expected: str | None) -> Path:
    """The notebook to grade in the ``submission`` folder; ``Refused`` with a sentence for the
    student when there is none, more than one, or none named ``expected``."""
    files = sorted(p for p in submission.rglob("*") if p.is_file()) if submission.is_dir() else []
    notebooks = [p for p in files if p.suffix == ".ipynb" and ".ipynb_checkpoints" not in p.parts]
    if expected:
        named = [p for p in notebooks if p.name == expected]
        if len(named) == 1:
            return named[0]
        if named:
            copies = TEXTS["copies"].format(count=len(named), expected=expected)
            _refuse(copies, named, submission)
        not_named = TEXTS["not-named"].format(expected=expected)
        _refuse(not_named, files, submission, TEXTS["fix-named"])
    if len(notebooks) == 1:
        return notebooks[0]
    if notebooks:
        _refuse(TEXTS["notebooks"].format(count=len(notebooks)), notebooks, submission)
    _refuse(TEXTS["no-notebook"], files, submission)


def _refuse(problem: str, found: list[Path], root: Path, fix: str = TEXTS["fix"]) -> NoReturn:
    """Refuse the submission: the problem, what it holds, and what to submit instead (in
    English: the feedback translates it when shown)."""
    reason = TEXTS["refused"].format(problem=problem, found=_listing(found, root), fix=fix)
    raise Refused("unreadable", reason, reason)


def sandbox_problem() -> str | None:
    """None when a sandbox can be made here; else why not."""
    try:
        check_available()
    except SandboxUnavailable as exc:
        return str(exc).splitlines()[0]
    return None


def grade_here(root: Path, config: AutograderConfig) -> dict[str, Any]:
    """Grade ``root/submission`` as the bundle's lab; Gradescope's results for it."""
    lab = resolve_lab(config.lab)
    started = time.monotonic()
    problem = sandbox_problem()
    submission = root / "submission"
    try:
        notebook = choose_notebook(submission, config.notebook)
    except Refused as refusal:
        grade = Grade.refused(
            refusal,
            student=STUDENT,
            path=submission,
            lab=lab,
            duration=time.monotonic() - started,
            isolated=True,  # nothing of it ran
        )
    else:
        grade = grade_submission(
            notebook, lab, Limits(), student=STUDENT, sandboxed=problem is None
        )
    results = gradescope_results(
        grade, visibility=config.visibility, hints=config.hints, lang=config.lang
    )
    if not grade.isolated and problem is not None:
        results["output"] = f"{no_sandbox_note(problem, config.lang)}\n\n{results['output']}"
    return results


def failure_results(error: str, lang: str | None = None) -> dict[str, Any]:
    """The results when the autograder itself failed: no score, and a sentence for the student
    in ``lang`` (the traceback goes to the instructor's stdout)."""
    return {
        "score": 0,
        "output": _(TEXTS["failed"], lang).format(error=error),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def run(root: Path) -> dict[str, Any]:
    """Grade the submission under ``root`` (Gradescope's ``/autograder``) and write
    ``root/results/results.json``; returns what it wrote. Never raises for the submission's
    doing or the grader's: a failure is written as results that say so."""
    config = None
    try:
        config = AutograderConfig.read(root / "source" / CONFIG_NAME)
        results = grade_here(root, config)
    except Exception as exc:
        traceback.print_exc()
        error = traceback.format_exception_only(type(exc), exc)[-1].strip()
        results = failure_results(error, config.lang if config else None)
    out = root / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results
