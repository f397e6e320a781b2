"""``check()`` and the feedback pages speak the student's language; ids, the JSON and the class
table stay English."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from course.backend.process import Backend
from course.connection import local_environment
from course.grading.reports import (
    feedback_html,
    feedback_markdown,
    write_class_table,
    write_student,
)
from course.notebook.check import check

from tests.grading.test_reports import a_grade


@pytest.fixture
def connected(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """This process connected to the test's backend, as connect() leaves a kernel."""
    for key, value in local_environment(backend.url).items():
        monkeypatch.setenv(key, value)
    return backend


def test_check_speaks_vietnamese_with_course_lang(
    connected: Backend, sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs.create_queue(QueueName="lab-standard-queue", Attributes={"VisibilityTimeout": "30"})
    monkeypatch.setenv("COURSE_LANG", "vi")
    report = check("01")
    text = repr(report)
    assert "Lab 01: 1 / 10 điểm" in text
    assert "lab01.queue-attributes (3) chưa đạt" in text
    assert "VisibilityTimeout: 30 (cần 10)" in text  # a reason built from an f-string
    assert "ReceiveMessageWaitTimeSeconds: 0 (cần 5)" in text
    assert "lab01.sent-three-json (2) chưa làm" in text
    assert "     lý do: chưa có message nào được gửi vào hàng đợi" in text
    assert "gợi ý: Truyền cả năm thuộc tính trong Attributes=" in text
    html = report._repr_html_()
    assert "nội dung kiểm tra" in html and "Có một hàng đợi standard tên" in html
    # what a program reads stays English
    assert [r.outcome for r in report.results][:2] == ["passed", "failed"]
    assert report.results[1].message.startswith("VisibilityTimeout is 30, expected 10")


def test_check_speaks_english_by_default(
    connected: Backend, sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COURSE_LANG", raising=False)
    text = repr(check("01"))
    assert "Lab 01: 0 / 10 points" in text and "not attempted" in text
    assert "điểm" not in text


def test_the_feedback_page_speaks_vietnamese() -> None:
    page = feedback_markdown(a_grade(), lang="vi")
    assert "**Điểm: 1 / 10**" in page
    assert "Chạy notebook: kernel bị chết ở code cell 4; các cell sau không được chạy." in page
    assert "## Cần sửa gì" in page and "### `lab01.queue-attributes` — chưa đạt" in page
    assert "Hàng đợi có VisibilityTimeout 10" in page  # the statement
    assert "- **Gợi ý:** Truyền cả năm thuộc tính" in page
    assert "| `lab01.queue-exists` | 1 / 1 | đạt |" in page  # ids stay as they are
    html = feedback_html(a_grade(), "vi")
    assert '<html lang="vi">' in html and "Nhận xét Lab 01 — an-nguyen" in html


def test_the_feedback_page_stays_english_without_a_language() -> None:
    page = feedback_markdown(a_grade(), lang="en")
    assert "**Score: 1 / 10**" in page and "## What to fix" in page


def test_json_and_class_table_keep_english_ids_and_texts(tmp_path: Path) -> None:
    grade = a_grade()
    write_student(grade, tmp_path, "vi")
    data = json.loads((tmp_path / "an-nguyen.json").read_text())
    statements = [r["statement"] for r in data["checks"]]
    assert statements[0] == "A standard queue named lab-standard-queue exists."
    assert [r["outcome"] for r in data["checks"]][:2] == ["passed", "failed"]
    assert "## Cần sửa gì" in (tmp_path / "an-nguyen" / "feedback.md").read_text()
    with write_class_table([grade], tmp_path).open() as handle:
        header = next(csv.reader(handle))
    assert "lab01.queue-exists" in header
