"""``course grade --lang vi``: Vietnamese feedback from a real grading run; the JSON, the summary
and the class table as in English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from course.cli import main

from tests.conftest import notebook_file


@pytest.mark.slow
def test_grade_writes_vietnamese_feedback_and_english_data(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    notebook_file(
        submissions / "an.ipynb",
        ['import boto3\nboto3.client("sqs").create_queue(QueueName="lab-standard-queue")', "1/0"],
        lab="01",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["grade", "01", str(submissions), "--out", str(out), "--lang", "vi"]
    )
    assert result.exit_code == 0, result.output
    feedback = (out / "an" / "feedback.md").read_text()
    assert "**Điểm: 1 / 10**" in feedback
    assert "Chạy notebook: đã chạy cả 2 code cell; 1 cell bị lỗi." in feedback
    assert "### `lab01.queue-attributes` — chưa đạt" in feedback
    assert "## Các cell chạy có lỗi" in feedback and "ZeroDivisionError" in feedback
    assert '<html lang="vi">' in (out / "an" / "feedback.html").read_text()
    data = json.loads((out / "an.json").read_text())
    assert data["checks"][0]["statement"] == "A standard queue named lab-standard-queue exists."
    assert data["execution"]["summary"] == "ran all 2 code cells; 1 of them failed"
    assert "lab01.queue-exists" in (out / "grades.csv").read_text()
