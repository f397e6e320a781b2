"""The mailbox page as a student sees it, in a real headless Chromium (Debian's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from course.backend.process import Backend

from tests.build.test_slides import browser_context  # noqa: F401 - the shared browser fixture
from tests.conftest import make_client

NARROW = {"width": 600, "height": 900}


def test_a_confirmation_link_stays_on_the_page(
    backend: Backend,
    browser_context: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    sns = make_client(backend, "sns")
    topic = sns.create_topic(Name="a-topic-with-a-rather-long-name-for-the-link")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="student@example.com")
    page = browser_context.new_page()
    try:
        page.set_viewport_size(NARROW)
        page.goto(f"{backend.url}/_course/mailbox")
        links = page.locator("a[href*='/_course/sns/confirm']")
        assert links.count() >= 1, page.content()
        box = links.first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= NARROW["width"], box
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= NARROW["width"], f"the page scrolls sideways: {page_width}px"
        page.screenshot(path=str(tmp_path / "mailbox.png"), full_page=True)
    finally:
        page.close()
