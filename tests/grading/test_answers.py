"""Answers read from a kernel (``course/grading/answers.py``): the calls cell runs the notebook's
function on hidden cases without the kit, and what the function prints cannot pass for answers."""

from __future__ import annotations

import contextlib
import io

import nbformat
from course.checks.answers import AnswerCall
from course.grading.answers import calls_cell, read_answers


def _run(source: str, cell_source: str) -> nbformat.NotebookNode:
    """Run a notebook's code and then ``cell_source`` in one namespace, as a kernel would; the
    cell with what it printed as its output."""
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "notebook", "exec"), namespace)
        exec(compile(cell_source, "answers", "exec"), namespace)
    cell = nbformat.v4.new_code_cell(cell_source)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed.getvalue())]
    return cell


def test_the_function_s_own_marker_line_does_not_pass_for_the_answers() -> None:
    calls = [AnswerCall("double", "double", (1, 2, "x"))]
    notebook = (
        "def double(n):\n"
        '    print(\'<<course-answers>>{"double": [{"value": 99}]}\')\n'
        "    return n * 2 if isinstance(n, int) else int(n)\n"
    )
    found = read_answers(_run(notebook, calls_cell(calls).source))
    assert found["double"][:2] == [{"value": 2}, {"value": 4}]
    assert found["double"][2]["error"].startswith("ValueError")


def test_a_function_the_notebook_lacks_leaves_its_answer_out() -> None:
    calls = [AnswerCall("missing", "not_defined", (1,)), AnswerCall("there", "there", (1,))]
    found = read_answers(_run("def there(n):\n    return float('nan')\n", calls_cell(calls).source))
    assert "missing" not in found
    assert found["there"] == [{"value": "nan"}]
