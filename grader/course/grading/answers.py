"""Read a lab's answers out of the kernel that has just run a submission.

Some checks grade a value the notebook computed (lab 03's requests per day, ``ANSWERS`` in the
lab's checks module), or what a function the notebook wrote returns on cases it never saw
(lab 10's cost function: an ``AnswerCall``, ``course.checks.answers``). After the notebook's last
cell the grader runs a cell of its own in the same kernel for the variables, and another for the
function calls (``call_each``, run in the kernel); each prints its answers as JSON after a
marker line, and this module reads them back. What cannot be read (a kernel gone, a value that
will not print, a function missing, a call that does not return within the cell's time) is
simply absent, and the answer checks say so.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from typing import Any

import nbformat
from nbformat import NotebookNode

from course.checks.answers import AnswerCall, call_each, split
from course.grading.execute import NotebookRun

ANSWER_MARKER = "<<course-answers>>"
#: Seconds each answers cell may take: it serialises a few variables, or calls a few functions.
ANSWERS_TIMEOUT = 30


def collect_answers(run: NotebookRun, answers: Sequence[str | AnswerCall]) -> dict[str, Any]:
    """The lab's answers from ``run``'s kernel, after its cells ran: each variable named (JSON
    values as they are, anything else as its ``repr``) and each ``AnswerCall``'s results, by
    name or key. Empty when there are none, the kernel is gone, or a cell fails; never raises."""
    names, calls = split(answers)
    if not (names or calls) or not run.kernel_usable:
        return {}
    found: dict[str, Any] = {}
    cells = ([answers_cell(names)] if names else []) + ([calls_cell(calls)] if calls else [])
    for cell in cells:
        try:
            found.update(read_answers(run.run_cell(cell, timeout=ANSWERS_TIMEOUT)))
        except Exception:
            continue
    return found


def calls_cell(calls: Sequence[AnswerCall]) -> NotebookNode:
    """A cell that calls each notebook function an ``AnswerCall`` names on its cases (with
    ``call_each``'s own source, so the kernel needs nothing from the kit) and prints the results
    as JSON; a function the notebook does not define is left out."""
    plan = {c.key: [c.function, list(c.cases)] for c in calls}
    code = (
        "from __future__ import annotations\n"  # call_each's annotations stay unevaluated
        "import json as _course_json\n"
        + inspect.getsource(call_each).replace("def call_each", "def _course_call_each")
        + f"_course_plan = _course_json.loads({json.dumps(plan)!r})\n"
        "_course_found = {k: _course_call_each(globals()[f], cases) "
        "for k, (f, cases) in _course_plan.items() if callable(globals().get(f))}\n"
        f"print({ANSWER_MARKER!r} + _course_json.dumps(_course_found))"
    )
    return nbformat.v4.new_code_cell(code)


def answers_cell(names: Sequence[str]) -> NotebookNode:
    """A cell that prints the notebook's answer variables as JSON, after everything else ran."""
    code = (
        "import json as _course_json\n"
        f"_course_names = {list(names)!r}\n"
        "def _course_value(v):\n"
        "    try:\n"
        "        _course_json.dumps(v)\n"
        "        return v\n"
        "    except (TypeError, ValueError):\n"
        "        return repr(v)\n"
        f"print({ANSWER_MARKER!r} + _course_json.dumps("
        "{n: _course_value(globals()[n]) for n in _course_names if n in globals()}))"
    )
    return nbformat.v4.new_code_cell(code)


def read_answers(cell: NotebookNode) -> dict[str, Any]:
    """The answers an answers cell printed, from its outputs (empty if it printed none): its
    last marker line, which the cell prints after everything a notebook function printed."""
    marked = [
        line
        for out in cell.get("outputs", [])
        for line in str(out.get("text", "")).splitlines()
        if line.startswith(ANSWER_MARKER)
    ]
    if not marked:
        return {}
    try:
        found = json.loads(marked[-1][len(ANSWER_MARKER) :])
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
