"""Strings passed to a notebook's declared message functions (``course.message_functions``:
``["log(text)", "visibility_timeline(title)"]``) are messages a translation may change; any
other string passed to a function stays as it is."""

from __future__ import annotations

import copy

import nbformat
import pytest
from course.build.translations import (
    Entry,
    MessageParameter,
    TranslationError,
    code_differences,
    coverage,
    message_parameters,
    readable_text,
    source_sha,
    translate,
)

DEFINES = """def log(name, text):
    print(f"{name}: {text}")
"""
ENGLISH = """log(name, "done, deleted it")
log(name, f"got {video}!" if got else "nothing to do")
log(name=name, text="keyword too")
sqs.create_queue(QueueName="video-jobs")
visibility_timeline(queue_name("video-jobs"), since=mark, title="Part A: a 12-second job")
log(name, sqs.get_queue_url(QueueName="video-jobs")["QueueUrl"])
"""
DECLARED = (
    MessageParameter("log", "text", 1),
    MessageParameter("visibility_timeline", "title", None),
)


def notebook(declared: list[str] | object) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(DEFINES), nbformat.v4.new_code_cell(ENGLISH)],
        metadata={"course": {"lab": "02", "message_functions": declared}},
    )


def test_the_declaration_reads_each_parameters_position_from_the_notebooks_own_def() -> None:
    assert message_parameters(notebook(["log(text)", "visibility_timeline( title )"])) == DECLARED
    assert message_parameters(nbformat.v4.new_notebook()) == ()
    for wrong in (["log"], ["log(text, name)"], "log(text)"):
        with pytest.raises(TranslationError, match="function\\(parameter\\)"):
            message_parameters(notebook(wrong))


def test_declared_arguments_are_text_to_translate() -> None:
    assert readable_text(ENGLISH) == []
    assert readable_text(ENGLISH, DECLARED) == [
        "done, deleted it",
        "got ",
        "nothing to do",
        "keyword too",
        "Part A: a 12-second job",
    ]


@pytest.mark.parametrize(
    ("english", "translated"),
    [
        ('"done, deleted it"', '"xong, đã xoá message"'),
        ('f"got {video}!" if got else "nothing to do"', 'f"đã nhận {video}!" if got else "rảnh"'),
        ('text="keyword too"', 'text="cả keyword"'),
        ('title="Part A: a 12-second job"', 'title="Phần A: một tác vụ 12 giây"'),
    ],
)
def test_a_declared_argument_may_change(english: str, translated: str) -> None:
    assert code_differences(ENGLISH, ENGLISH.replace(english, translated), DECLARED) == []
    # undeclared, the same change is a change of the code
    assert code_differences(ENGLISH, ENGLISH.replace(english, translated)) != []


@pytest.mark.parametrize(
    ("english", "translated"),
    [
        # an API's argument, in a call of its own or nested inside a declared argument
        ('sqs.create_queue(QueueName="video-jobs")', 'sqs.create_queue(QueueName="viec")'),
        ('get_queue_url(QueueName="video-jobs")', 'get_queue_url(QueueName="viec")'),
        # a declared function's other arguments
        ('queue_name("video-jobs"), since', 'queue_name("viec"), since'),
        ('log(name=name, text="keyword too")', 'log(name="ten", text="keyword too")'),
        # the condition of a conditional message
        ('if got else "nothing', 'if not got else "nothing'),
    ],
)
def test_anything_else_passed_to_a_function_may_not_change(english: str, translated: str) -> None:
    assert ENGLISH.count(english) == 1
    problems = code_differences(ENGLISH, ENGLISH.replace(english, translated), DECLARED)
    assert problems and "code differs" in problems[0]


def test_a_position_counts_only_where_the_notebook_defines_the_function() -> None:
    """``visibility_timeline`` is the kit's: its title counts by keyword only, so a string in
    its first position (a queue name) may not change."""
    english = 'visibility_timeline("video-jobs", title="Part A")\n'
    translated = 'visibility_timeline("viec", title="Part A")\n'
    assert code_differences(english, translated, DECLARED) != []
    starred = 'log(*args, "done")\n'
    assert readable_text(starred, DECLARED) == []  # after *args, positions are unknown


def test_the_build_applies_and_counts_declared_messages_from_the_notebooks_metadata() -> None:
    nb = notebook(["log(text)", "visibility_timeline(title)"])
    cell = nb.cells[1]
    name = "02-visibility-timeout.ipynb"
    translated = ENGLISH.replace("done, deleted it", "xong, đã xoá message")
    entries = {cell.id: Entry(source_sha(cell.source), translated)}
    assert coverage(nb, {}, name).missing == [cell.id]
    assert coverage(nb, entries, name).translated == [cell.id]
    assert translate(nb, entries, name).cells[1].source == translated
    bare = copy.deepcopy(nb)
    bare.metadata.course.message_functions = []
    assert coverage(bare, {}, name).missing == []  # nothing a student reads without them
    with pytest.raises(TranslationError, match="code differs"):
        translate(bare, entries, name)
