"""The cost meter's table speaks the reader's language: its items and free tiers too."""

from __future__ import annotations

from course.checks.readers.cost import Bill, LineItem
from course.grading.reports import cost_markdown
from course.notebook.check import cost_lines
from course.rules import pricing

BILL = Bill(
    [
        LineItem(
            "SQS",
            "requests (standard queues)",
            12,
            pricing.PRICES["sqs_standard_request"],
            "sqs_standard_request",
            "first 1 million requests a month",
        )
    ]
)


def test_check_shows_the_items_in_vietnamese() -> None:
    text = "\n".join(cost_lines(BILL, "vi"))
    assert "request (hàng đợi standard)" in text and "1 triệu request đầu tiên" in text
    assert "requests (standard queues)" not in text


def test_the_feedback_page_shows_them_in_vietnamese_and_english() -> None:
    assert "1 triệu request đầu tiên mỗi tháng" in "\n".join(cost_markdown(BILL, "vi"))
    assert "first 1 million requests a month" in "\n".join(cost_markdown(BILL, "en"))
