"""The slide decks: build rules, content, and every slide checked in headless Chromium, offline.

The browser tests need Debian's ``chromium`` (/usr/bin/chromium) and the ``playwright`` package
(no ``playwright install``: the system Chromium is used). Without them they skip, unless
``COURSE_REQUIRE_BROWSER`` is set (CI sets it), in which case they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from course.build import slides

REPO = Path(__file__).resolve().parents[2]
SLIDES_DIR = REPO / "slides"
SCREENSHOTS = SLIDES_DIR / "screenshots"
DECKS = ("00-kit", "sqs", "sns", "ses")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
VIEWPORT = {"width": 960, "height": 540}

# What the browser reports about the current slide.
SLIDE_STATE_JS = """() => {
  const slide = Reveal.getCurrentSlide();
  const images = Array.from(slide.querySelectorAll('img'));
  const notes = slide.querySelector('aside.notes');
  return {
    past: Reveal.getSlidePastCount(),
    heading: (slide.querySelector('h1, h2') || {}).textContent || '',
    broken: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
    overflow: slide.scrollHeight - Reveal.getConfig().height,
    notes: notes ? notes.textContent.trim().length : 0,
  };
}"""
# Every <img> on a page without reveal.js.
PAGE_IMAGES_JS = """() => Array.from(document.images)
  .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'))"""


def browser_required() -> bool:
    """True when CI demands the browser tests (``COURSE_REQUIRE_BROWSER`` set, not ``0``)."""
    return os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0")


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``, or fail with it when the browser is required."""
    if browser_required():
        pytest.fail(f"{reason}, and COURSE_REQUIRE_BROWSER is set")
    pytest.skip(reason)


def is_local(url: str) -> bool:
    """True for a URL that stays on this machine (file:, data:, loopback http/ws)."""
    parsed = urlparse(url)
    if parsed.scheme in LOCAL_SCHEMES:
        return True
    return parsed.scheme in {"http", "https", "ws", "wss"} and parsed.hostname in LOCAL_HOSTS


@dataclass
class PageReport:
    """What the checker found on one page: slides visited, every problem seen, the screenshot."""

    url: str
    slides: int = 0
    headings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    screenshot: bytes = b""


def watch(page: Any, report: PageReport) -> None:
    """Record console errors, page errors, failed requests and requests that leave the machine."""

    def on_console(message: Any) -> None:
        if message.type == "error":
            report.problems.append(f"console error: {message.text}")

    def on_request(request: Any) -> None:
        if not is_local(request.url):
            report.problems.append(f"remote request: {request.url}")

    def on_failed(request: Any) -> None:
        report.problems.append(f"failed request: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: report.problems.append(f"page error: {error}"))
    page.on("request", on_request)
    page.on("requestfailed", on_failed)


def block_remote(route: Any) -> None:
    """Let loopback requests through and abort anything else before it leaves the machine."""
    if is_local(route.request.url):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def step_through(page: Any, report: PageReport, screenshot: Path | None) -> None:
    """Visit every slide with ``Reveal.next()`` and record broken images, overflow, no notes."""
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=10_000)
    total = page.evaluate("Reveal.getTotalSlides()")
    page.evaluate("Reveal.slide(0, 0)")
    if screenshot:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        report.screenshot = page.screenshot(path=str(screenshot), animations="disabled")
    for index in range(total):
        page.wait_for_function(
            "() => Array.from(Reveal.getCurrentSlide().querySelectorAll('img'))"
            ".every(i => i.complete)",
            timeout=5_000,
        )
        state = page.evaluate(SLIDE_STATE_JS)
        where = f"slide {index + 1} ({state['heading'].strip()[:40]!r})"
        report.headings.append(state["heading"])
        if state["past"] != index:
            report.problems.append(f"{where}: Reveal.next() did not advance")
        for src in state["broken"]:
            report.problems.append(f"{where}: missing image {src}")
        if state["overflow"] > 0:
            report.problems.append(f"{where}: content overflows by {state['overflow']}px")
        if not state["notes"]:
            report.problems.append(f"{where}: no speaker notes")
        report.slides += 1
        page.evaluate("Reveal.next()")


def check_page(context: Any, url: str, screenshot: Path | None = None) -> PageReport:
    """Open ``url``, step through it if it is a reveal.js deck, and report every problem.

    Remote requests are recorded and aborted, so a failing page never reaches the network.
    """
    report = PageReport(url)
    page = context.new_page()
    watch(page, report)
    try:
        page.goto(url, wait_until="load")
        if page.evaluate("() => typeof window.Reveal !== 'undefined'"):
            step_through(page, report, screenshot)
        else:
            report.problems += [f"missing image {src}" for src in page.evaluate(PAGE_IMAGES_JS)]
    finally:
        page.close()
    return report


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the decks once into a temporary folder."""
    out = tmp_path_factory.mktemp("slides-build")
    slides.build_slides(out)
    return out


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    """A headless Debian Chromium context that aborts every request leaving the machine."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is absent (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)
        context.route(re.compile(r"^(https?|wss?)://"), block_remote)
        try:
            yield context
        finally:
            context.close()
            browser.close()


def copy_slides_source(tmp_path: Path) -> Path:
    """Copy ``slides/src`` and the vendored reveal.js into ``tmp_path``; return the new src."""
    shutil.copytree(SLIDES_DIR / "src", tmp_path / "src")
    shutil.copytree(SLIDES_DIR / "vendor", tmp_path / "vendor")
    return tmp_path / "src"


# --- the build -------------------------------------------------------------------------------


def test_build_writes_every_deck_in_course_order(built: Path) -> None:
    pages = slides.build_slides(built)
    assert [page.stem for page in pages] == list(DECKS)
    assert (built / "index.html").is_file()
    assert (built / "vendor" / "reveal" / "reveal.js").is_file()
    assert (built / "vendor" / "reveal" / "LICENSE").is_file()


def test_every_slide_has_speaker_notes(built: Path) -> None:
    for deck in DECKS:
        html = (built / f"{deck}.html").read_text(encoding="utf-8")
        sections = html.count("<section")
        notes = len(re.findall(r'<aside class="notes">\s*<p>', html))
        assert sections > 3 and notes == sections, deck


def test_diagrams_are_valid_svg_and_all_used(built: Path) -> None:
    decks = "".join((built / f"{deck}.html").read_text(encoding="utf-8") for deck in DECKS)
    used = set(re.findall(r'src="diagrams/([\w-]+)\.svg"', decks))
    drawn = {path.stem for path in (built / "diagrams").glob("*.svg")}
    assert used and used == drawn
    for path in (built / "diagrams").glob("*.svg"):
        root = ET.parse(path).getroot()
        assert int(root.get("width", 0)) > 0 and int(root.get("height", 0)) > 0, path.name
        assert "http://www.w3.org/2000/svg" in root.tag


def test_build_is_deterministic(tmp_path: Path) -> None:
    first = slides.build_slides(tmp_path / "a")[0].parent
    second = slides.build_slides(tmp_path / "b")[0].parent
    for path in sorted(first.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path


def test_every_lab_is_pointed_at(built: Path) -> None:
    text = "".join((built / f"{deck}.html").read_text(encoding="utf-8") for deck in DECKS)
    for lab_id in slides.labs_by_slug():
        assert f"labs/{lab_id}.ipynb" in text, lab_id


def test_lab_notebooks_are_the_labs_the_slides_name() -> None:
    """Every notebook in labs/ is a lab the decks know (and so point at), under the same name."""
    notebooks = {path.stem for path in (REPO / "labs").glob("*.ipynb")}
    known = set(slides.labs_by_slug())
    assert notebooks and notebooks <= known, sorted(notebooks - known)


@pytest.mark.parametrize(
    ("deck", "fact"),
    [
        ("sqs", "1 MiB (1,048,576 bytes)"),
        ("sqs", "receiving never deletes"),
        ("sqs", "SQS has no message filtering"),
        ("sqs", "ApproximateReceiveCount is not reset"),
        ("sqs", "3,000 messages/s in batches of 10"),
        ("sns", "$2.00 per 100,000"),
        ("sns", "up to 1 MiB with MaximumMessageSize"),
        ("ses", "200 messages per 24 hours, 1 message per second"),
        ("ses", "Senders must always be verified"),
        ("00-kit", "course grade"),
    ],
)
def test_decks_teach_the_corrected_facts(built: Path, deck: str, fact: str) -> None:
    html = (built / f"{deck}.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html).replace("&quot;", '"').replace("&amp;", "&")
    assert fact in text


def test_missing_notes_fail_the_build(tmp_path: Path) -> None:
    src = copy_slides_source(tmp_path)
    (src / "decks" / "bad.md").write_text("---\ntitle: Bad\n---\n# A slide without notes\n")
    with pytest.raises(slides.SlideBuildError, match="no speaker notes"):
        slides.build_slides(tmp_path / "out", src_dir=src)


def test_unknown_lab_fails_the_build(tmp_path: Path) -> None:
    src = copy_slides_source(tmp_path)
    (src / "decks" / "bad.md").write_text("---\ntitle: Bad\n---\n# X\n\nLab: 99-nope\n\nNote: n\n")
    with pytest.raises(slides.SlideBuildError, match="unknown lab id"):
        slides.build_slides(tmp_path / "out", src_dir=src)


@pytest.mark.parametrize(
    ("image", "error"),
    [("diagrams/no-such.svg", "missing files"), ("https://example.com/x.png", "remote")],
)
def test_bad_image_fails_the_build(tmp_path: Path, image: str, error: str) -> None:
    src = copy_slides_source(tmp_path)
    (src / "decks" / "bad.md").write_text(
        f"---\ntitle: Bad\n---\n# X\n\n![x]({image})\n\nNote: n\n"
    )
    with pytest.raises(slides.SlideBuildError, match=error):
        slides.build_slides(tmp_path / "out", src_dir=src)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert slides.main(["--out", str(tmp_path)]) == 0
    assert "sqs.html" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        slides.main(["--help"])
    assert exit_info.value.code == 0


# --- in the browser --------------------------------------------------------------------------


@pytest.mark.parametrize("deck", DECKS)
def test_deck_in_browser(built: Path, browser_context: Any, deck: str) -> None:
    report = check_page(
        browser_context, (built / f"{deck}.html").as_uri(), SCREENSHOTS / f"{deck}.png"
    )
    assert report.problems == []
    # Reveal.js shows every slide of the source, no more and no fewer.
    source = slides.parse_deck(SLIDES_DIR / "src" / "decks" / f"{deck}.md")
    assert report.slides == len(source.slides) > 3
    # Taken by this run (the committed file alone would satisfy a mere existence check).
    assert report.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert (SCREENSHOTS / f"{deck}.png").read_bytes() == report.screenshot


def test_index_in_browser(built: Path, browser_context: Any) -> None:
    assert check_page(browser_context, (built / "index.html").as_uri()).problems == []


BAD_DECK = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<link rel="stylesheet" href="vendor/reveal/reveal.css"></head><body>
<div class="reveal"><div class="slides">
<section><h1>ok</h1><aside class="notes">fine</aside></section>
<section><h2>broken</h2><img src="diagrams/missing.svg" alt=""><aside class="notes">n</aside>
</section>
<section><h2>remote</h2><img src="https://example.com/logo.png" alt=""></section>
<section><h2>too tall</h2><div style="height: 2000px"></div><aside class="notes">n</aside></section>
</div></div>
<script src="vendor/reveal/reveal.js"></script><script>Reveal.initialize();</script>
</body></html>"""


def test_checker_catches_broken_and_remote_references(built: Path, browser_context: Any) -> None:
    bad = built / "bad-deck.html"
    bad.write_text(BAD_DECK, encoding="utf-8")
    try:
        report = check_page(browser_context, bad.as_uri())
    finally:
        bad.unlink()
    problems = "\n".join(report.problems)
    assert report.slides == 4
    assert "missing image diagrams/missing.svg" in problems
    assert "failed request: file://" in problems
    assert "remote request: https://example.com/logo.png" in problems
    assert "missing image https://example.com/logo.png" in problems
    assert "console error" in problems
    assert "slide 3 ('remote'): no speaker notes" in problems
    assert "slide 4 ('too tall'): content overflows" in problems
