"""Read a lab's answer variables out of the kernel that has just run a submission.

Some checks grade a value the notebook computed (lab 03's requests per day, ``ANSWERS`` in the
lab's checks module). After the notebook's last cell the grader runs one cell of its own in the
same kernel: it prints those variables as JSON after a marker line, and this module reads them
back. What cannot be read (a kernel gone, a value that will not print) is simply absent, and the
answer checks say so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import nbformat
from nbformat import NotebookNode

from course.grading.execute import NotebookRun

ANSWER_MARKER = "<<course-answers>>"
#: Seconds the answers cell may take: it only serialises a few variables.
ANSWERS_TIMEOUT = 30


def collect_answers(run: NotebookRun, names: Sequence[str]) -> dict[str, Any]:
    """The values of the variables ``names`` in ``run``'s kernel, by name, after its cells ran:
    JSON values as they are, anything else as its ``repr``. Empty when there are no names, the
    kernel is gone, or the cell fails; never raises."""
    if not names or not run.kernel_usable:
        return {}
    try:
        cell = run.run_cell(answers_cell(names), timeout=ANSWERS_TIMEOUT)
    except Exception:
        return {}
    return read_answers(cell)


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
    """The answers an ``answers_cell`` printed, from its outputs (empty if it printed none)."""
    for out in cell.get("outputs", []):
        for line in str(out.get("text", "")).splitlines():
            if line.startswith(ANSWER_MARKER):
                try:
                    return json.loads(line[len(ANSWER_MARKER) :])
                except ValueError:
                    return {}
    return {}
