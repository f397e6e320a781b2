"""The student's path, in JupyterLab in a real headless Chromium (Debian's), as the README says.

`course start --no-browser` runs on a copy of ``labs/`` with a state of its own; the browser opens
the URL with the token it prints. Lab 01 is run as handed out (its ``check()`` table shows no
passed check), then filled in by typing into JupyterLab's editor and run with Run > Run All
Cells (every check passed). Lab 06's subscription is confirmed by clicking the link on the
mailbox page, as on a real account. Screenshots go to ``$COURSE_TEST_ARTIFACTS`` (default
``tests/artifacts/``). Skipped without Chromium or playwright, unless ``COURSE_REQUIRE_BROWSER``
is set (CI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from course.backend.process import Backend
from course.build.notebooks import BEGIN, END, STUB

from tests.build.test_slides import browser_context  # noqa: F401 - the shared browser fixture
from tests.conftest import ROOT, make_client
from tests.test_cli import course_env, end_course, start_course

pytestmark = pytest.mark.slow

ARTIFACTS = Path(os.environ.get("COURSE_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
SCREEN = {"width": 1280, "height": 900}
LAB01, LAB06 = "01-sqs-basics.ipynb", "06-sns-basics.ipynb"
# Generous for a busy machine: a kernel's first start, lab 01's 11-second wait.
KERNEL_START_MS = 90_000
RUN_ALL_MS = 180_000
MAILBOX_LINE = re.compile(r"The mailbox in a browser: (\S+)")
BACKEND_LINE = re.compile(r"local AWS backend at (\S+)")


@dataclass
class Course:
    """A running `course start`: JupyterLab's URL, the backend's and the labs folder."""

    lab_url: str
    backend_url: str
    labs: Path

    def notebook_url(self, name: str) -> str:
        """The address that opens notebook ``name`` alone in JupyterLab (with the token): in a
        fresh workspace of its own, not next to the notebooks another test opened."""
        parts = urlparse(self.lab_url)
        workspace = Path(name).stem
        base = f"{parts.scheme}://{parts.netloc}/lab/workspaces/{workspace}"
        return f"{base}/tree/{name}?reset&{parts.query}"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    """`course start --no-browser --labs COPY`, as a student starts the course."""
    tmp = tmp_path_factory.mktemp("student")
    labs = tmp / "labs"
    shutil.copytree(ROOT / "labs", labs)
    env = course_env(tmp)
    run = start_course(env, "--labs", str(labs), timeout=120)
    try:
        backend = BACKEND_LINE.search(run.output())
        assert backend is not None, run.output()
        yield Course(run.url, backend.group(1), labs)
    finally:
        end_course(run.process, env)


@pytest.fixture
def page(
    browser_context: Any,  # noqa: F811 - the fixture imported above
    request: pytest.FixtureRequest,
) -> Iterator[Any]:
    """A fresh browser tab the size of a laptop screen; its last view is kept as an artifact
    (``<test>-last.png``: where a failing test stopped)."""
    tab = browser_context.new_page()
    tab.set_viewport_size(SCREEN)
    try:
        yield tab
    finally:
        shoot(tab, f"{request.node.name}-last.png")
        tab.close()


def answers(name: str) -> dict[int, str]:
    """What a student types into each code cell with a stub of notebook ``name``: the solution
    block's code, without its markers (cell index -> the cell's whole source)."""
    student = json.loads((ROOT / "labs" / name).read_text())["cells"]
    solution = json.loads((ROOT / "solutions" / name).read_text())["cells"]
    assert len(student) == len(solution), name
    typed = {}
    for index, (cell, solved) in enumerate(zip(student, solution, strict=True)):
        if STUB in "".join(cell["source"]):
            lines = "".join(solved["source"]).splitlines(keepends=True)
            typed[index] = "".join(x for x in lines if not (BEGIN.match(x) or END.match(x)))
    assert typed, f"{name} has no cell to fill in"
    return typed


def shoot(page: Any, name: str, top: Any = None) -> Path:
    """Save a screenshot of ``page`` as an artifact, scrolled to show ``top`` (a locator) at the
    top if given; its path."""
    if top is not None:
        top.evaluate("element => element.scrollIntoView()")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    return path


def open_notebook(page: Any, course: Course, name: str) -> Any:
    """Open notebook ``name`` in JupyterLab and wait for its kernel; the notebook's cells."""
    from playwright.sync_api import expect

    page.goto(course.notebook_url(name))
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
    expect(tab).to_have_text(re.compile(re.escape(name)), timeout=KERNEL_START_MS)
    assert page.locator(".jp-NotebookPanel").count() == 1, "another notebook is open"
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    expect(cells.first).to_be_visible(timeout=KERNEL_START_MS)
    status = page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle"))
    status.wait_for(timeout=KERNEL_START_MS)
    no_news = page.get_by_role("button", name="No", exact=True)  # JupyterLab's news prompt
    if no_news.is_visible():
        no_news.click()
    return cells


def type_into(page: Any, cell: Any, source: str) -> None:
    """Replace the text of ``cell``'s editor with ``source``, as typed at the keyboard."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(source)
    page.keyboard.press("Escape")  # back to command mode


def run_cell(page: Any, cell: Any) -> None:
    """Run one cell with Shift+Enter, as a student does, and wait for its execution count."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    wait_executed(cell)


def menu(page: Any, top: str, item: str) -> None:
    """Click ``top`` > ``item`` in JupyterLab's menu bar."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").get_by_text(top, exact=True).click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def wait_executed(cell: Any, timeout: int = RUN_ALL_MS) -> None:
    """Wait until ``cell`` shows an execution count (``[7]:``), not ``[*]:`` or none."""
    from playwright.sync_api import expect

    cell.scroll_into_view_if_needed()
    prompt = cell.locator(".jp-InputPrompt")
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout)


def outcomes(cell: Any) -> dict[str, str]:
    """The ``check()`` table rendered in ``cell``'s output: check id -> outcome as shown."""
    from playwright.sync_api import expect

    rows = cell.locator(".jp-OutputArea-output table tr")
    expect(rows.nth(1)).to_be_visible()
    shown = {}
    for index in range(1, rows.count()):  # row 0 is the header
        columns = rows.nth(index).locator("td")
        shown[columns.nth(1).inner_text().strip()] = columns.nth(0).inner_text().strip()
    return shown


def saved_sources(course: Course, name: str) -> list[str]:
    """Each cell's source in the notebook file JupyterLab saved."""
    cells = json.loads((course.labs / name).read_text())["cells"]
    return ["".join(cell["source"]) for cell in cells]


def cell_index(name: str, text: str) -> int:
    """The index of the last code cell of notebook ``name`` whose source holds ``text``."""
    cells = json.loads((ROOT / "labs" / name).read_text())["cells"]
    return max(
        i for i, c in enumerate(cells) if c["cell_type"] == "code" and text in "".join(c["source"])
    )


def last_code_cell(page: Any) -> Any:
    """The notebook's last code cell: once it has run, Run All has run everything."""
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-CodeCell").last


def test_lab01_as_handed_out_then_filled_in_and_run_all(page: Any, course: Course) -> None:
    from course.checks.catalog import resolve_lab

    lab = resolve_lab("01")
    every_check = {f"lab01.{c.id}" for c in lab.checks}
    cells = open_notebook(page, course, LAB01)
    final = cells.nth(cell_index(LAB01, "check("))

    # As handed out: connect, then check() at once; no check is passed.
    run_cell(page, cells.nth(2))
    run_cell(page, final)
    before = outcomes(final)
    assert set(before) == every_check
    assert "passed" not in before.values(), before
    assert set(before.values()) <= {"not attempted", "failed"}, before
    shoot(page, "lab01-as-handed-out.png", top=final)

    # Filled in through the editor, run with Run > Run All Cells.
    typed = answers(LAB01)
    for index, source in typed.items():
        type_into(page, cells.nth(index), source)
    menu(page, "Run", "Run All Cells")
    wait_executed(last_code_cell(page))
    after = outcomes(final)
    assert after == dict.fromkeys(every_check, "passed"), after
    assert final.get_by_text(f"Lab 01: {lab.max_points:g} / {lab.max_points:g} points").count()
    # As a beginner reads it: left-aligned, and each check id on one line (not broken at its
    # hyphens, as JupyterLab's own styles would).
    table = final.locator(".jp-OutputArea-output table")
    aligns = table.locator("td, th").evaluate_all(
        "cs => cs.map(c => getComputedStyle(c).textAlign)"
    )
    assert set(aligns) == {"left"}, aligns
    lines = table.locator("td code").evaluate_all("cs => cs.map(c => c.getClientRects().length)")
    assert lines == [1] * len(every_check), lines
    shoot(page, "lab01-check.png", top=final)

    # What was typed is what JupyterLab saves.
    handed_out = saved_sources(course, LAB01)
    menu(page, "File", "Save Notebook")
    deadline = time.monotonic() + 30
    while saved_sources(course, LAB01) == handed_out and time.monotonic() < deadline:
        # Not time.sleep: the context's route handler (loopback only) runs in this thread, so
        # the save's request goes out only while playwright is waiting.
        page.wait_for_timeout(200)
    expected = [typed.get(i, source) for i, source in enumerate(handed_out)]
    saved = saved_sources(course, LAB01)
    assert [s.rstrip("\n") for s in saved] == [s.rstrip("\n") for s in expected]


def test_lab06_confirmed_by_clicking_the_mailbox_link(page: Any, course: Course) -> None:
    cells = open_notebook(page, course, LAB06)
    typed = answers(LAB06)
    for index, source in typed.items():
        type_into(page, cells.nth(index), source)
    # Run up to the cell that reads the mailbox: the topic, the subscription, the first email.
    mailbox_cell = cell_index(LAB06, "box.web_page")
    cells.nth(mailbox_cell + 1).click()  # the Markdown cell after it, in command mode
    menu(page, "Run", "Run All Above Selected Cell")
    wait_executed(cells.nth(mailbox_cell))
    printed = MAILBOX_LINE.search(cells.nth(mailbox_cell).locator(".jp-OutputArea").inner_text())
    assert printed is not None, "lab 06 printed no mailbox address"
    assert printed.group(1) == f"{course.backend_url}/_course/mailbox"

    sns = make_client(Backend(course.backend_url, 0, ""), "sns")
    (subscription,) = sns.list_subscriptions()["Subscriptions"]
    assert subscription["SubscriptionArn"] == "PendingConfirmation"

    mailbox = page.context.new_page()
    try:
        mailbox.set_viewport_size(SCREEN)
        mailbox.goto(printed.group(1))
        link = mailbox.locator("a[href*='/_course/sns/confirm']").first
        link.scroll_into_view_if_needed()
        shoot(mailbox, "mailbox.png")
        with mailbox.expect_navigation():
            link.click()
        assert mailbox.get_by_text("Subscription confirmed!").count(), mailbox.content()
        shoot(mailbox, "confirmed.png")
    finally:
        mailbox.close()
    (subscription,) = sns.list_subscriptions()["Subscriptions"]
    assert subscription["SubscriptionArn"].startswith("arn:aws:sns:"), subscription

    # The rest of the lab, then its check() table: every check passed.
    page.bring_to_front()
    cells.nth(mailbox_cell + 1).click()
    menu(page, "Run", "Run Selected Cell and All Below")
    final = cells.nth(cell_index(LAB06, "check("))
    wait_executed(last_code_cell(page))
    assert set(outcomes(final).values()) == {"passed"}, outcomes(final)
    shoot(page, "lab06-check.png", top=final)
