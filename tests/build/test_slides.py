"""The slide decks: build rules, content, the Vietnamese edition and its fallbacks, and every slide
of both editions checked in headless Chromium, offline.

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
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner
from course.build import slide_translations, slides
from course.cli import main as course_cli

REPO = Path(__file__).resolve().parents[2]
SLIDES_DIR = REPO / "slides"
SCREENSHOTS = SLIDES_DIR / "screenshots"
DECKS = ("00-kit", "sqs", "sns", "ses")
LANGS = ("en", "vi")
EDITIONS = [(lang, deck) for lang in LANGS for deck in DECKS]
#: Slide headings that read the same in English and Vietnamese (names, and terms the course
#: notes keep in English).
SAME_IN_BOTH_LANGUAGES = {
    "Amazon SQS",
    "Amazon SNS",
    "Amazon SES",
    "Fan-out",
    "Dead-letter queue (DLQ)",
    "Polling: wait time 0 (short polling)",
    "Polling: wait time 10 (long polling)",
}
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


def headings(deck: slides.Deck) -> list[str]:
    """The first h1 or h2 of each slide of a parsed deck, as a browser shows its text."""
    found = []
    for slide in deck.slides:
        match = re.search(r"<h[12][^>]*>(.*?)</h[12]>", slide.html, re.S)
        found.append(unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else "")
    return found


def edition(built: Path, lang: str) -> Path:
    """The folder of the ``lang`` edition in a build."""
    return built if lang == "en" else built / lang


def page_text(path: Path) -> str:
    """The text of an HTML page, tags removed and entities read."""
    html = path.read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", "", html).replace("&quot;", '"').replace("&amp;", "&")


def copy_slides_source(tmp_path: Path) -> Path:
    """Copy ``slides/src`` and the vendored reveal.js into ``tmp_path``; return the new src."""
    shutil.copytree(SLIDES_DIR / "src", tmp_path / "src")
    shutil.copytree(SLIDES_DIR / "vendor", tmp_path / "vendor")
    return tmp_path / "src"


# --- the build -------------------------------------------------------------------------------


def test_build_writes_every_deck_in_course_order(built: Path) -> None:
    pages = slides.build_slides(built)
    assert [(page.parent, page.stem) for page in pages] == [
        (edition(built, lang), deck) for lang, deck in EDITIONS
    ]
    for lang in LANGS:  # each edition's folder works on its own
        assert (edition(built, lang) / "index.html").is_file()
        assert (edition(built, lang) / "vendor" / "reveal" / "reveal.js").is_file()
        assert (edition(built, lang) / "vendor" / "reveal" / "LICENSE").is_file()


@pytest.mark.parametrize("lang", LANGS)
def test_every_slide_has_speaker_notes(built: Path, lang: str) -> None:
    for deck in DECKS:
        html = (edition(built, lang) / f"{deck}.html").read_text(encoding="utf-8")
        sections = html.count("<section")
        notes = len(re.findall(r'<aside class="notes">\s*<p>', html))
        assert sections > 3 and notes == sections, deck


@pytest.mark.parametrize("lang", LANGS)
def test_diagrams_are_valid_svg_and_all_used(built: Path, lang: str) -> None:
    folder = edition(built, lang)
    decks = "".join((folder / f"{deck}.html").read_text(encoding="utf-8") for deck in DECKS)
    used = set(re.findall(r'src="diagrams/([\w-]+)\.svg"', decks))
    drawn = {path.stem for path in (folder / "diagrams").glob("*.svg")}
    assert used and used == drawn
    for path in (folder / "diagrams").glob("*.svg"):
        root = ET.parse(path).getroot()
        assert int(root.get("width", 0)) > 0 and int(root.get("height", 0)) > 0, path.name
        assert "http://www.w3.org/2000/svg" in root.tag


def test_build_is_deterministic(tmp_path: Path) -> None:
    first = slides.build_slides(tmp_path / "a")[0].parent
    second = slides.build_slides(tmp_path / "b")[0].parent
    for path in sorted(first.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path


@pytest.mark.parametrize(("lang", "folder"), [("en", "labs/"), ("vi", "labs/vi/")])
def test_every_lab_is_pointed_at(built: Path, lang: str, folder: str) -> None:
    """Each edition's badges name the notebooks of its language."""
    text = "".join(
        (edition(built, lang) / f"{deck}.html").read_text(encoding="utf-8") for deck in DECKS
    )
    for lab_id in slides.labs_by_slug():
        assert f"<code>{folder}{lab_id}.ipynb</code>" in text, lab_id


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
    assert fact in page_text(built / f"{deck}.html")


@pytest.mark.parametrize(
    ("deck", "fact"),
    [
        ("sqs", "1 MiB (1.048.576 byte)"),
        ("sqs", "nhận message không bao giờ xoá nó"),
        ("sqs", "SQS không lọc message"),
        ("sqs", "ApproximateReceiveCount không bị reset"),
        ("sqs", "3.000 message/giây khi gửi theo batch 10"),
        ("sns", "$2.00 mỗi 100.000"),
        ("sns", "tới 1 MiB với MaximumMessageSize"),
        ("ses", "200 message mỗi 24 giờ, 1 message mỗi giây"),
        ("ses", "Người gửi luôn phải được xác minh"),
        ("00-kit", "course grade"),
    ],
)
def test_vietnamese_decks_teach_the_same_corrections(built: Path, deck: str, fact: str) -> None:
    """Where the notes are out of date, the Vietnamese says the correction the English says."""
    assert fact in page_text(built / "vi" / f"{deck}.html")


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
    written = capsys.readouterr().out.split()
    assert str(tmp_path / "sqs.html") in written and str(tmp_path / "vi" / "sqs.html") in written
    with pytest.raises(SystemExit) as exit_info:
        slides.main(["--help"])
    assert exit_info.value.code == 0


# --- the Vietnamese edition ------------------------------------------------------------------


def test_vietnamese_pages_speak_vietnamese(built: Path) -> None:
    """Each page's language, title, footer and arrows' labels are the edition's."""
    for deck in DECKS:
        english = (built / f"{deck}.html").read_text(encoding="utf-8")
        vietnamese = (built / "vi" / f"{deck}.html").read_text(encoding="utf-8")
        assert '<html lang="en">' in english and '<html lang="vi">' in vietnamese
        assert "AWS messaging course kit" in english and '"next slide"' in english
        assert "bộ công cụ khoá học AWS messaging" in vietnamese and '"slide sau"' in vietnamese
        assert "AWS messaging course kit" not in vietnamese and "next slide" not in vietnamese
        assert "Practise it:" not in vietnamese and "Thực hành:" in vietnamese
    assert "<title>Bộ công cụ của khoá học</title>" in (built / "vi" / "00-kit.html").read_text()
    index = (built / "vi" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in index and "Khoá học AWS messaging: slide" in index
    assert 'href="../index.html"' in index  # and the English index links the Vietnamese one
    assert 'href="vi/index.html"' in (built / "index.html").read_text(encoding="utf-8")


def test_no_english_slide_text_where_a_translation_exists(built: Path) -> None:
    """A sample heading, and every English slide's first line of speaker notes, are absent from
    the Vietnamese deck (every slide of every deck is translated)."""
    sqs = page_text(built / "vi" / "sqs.html")
    assert "Vì sao cần hàng đợi?" in sqs and "Why a queue?" not in sqs
    for deck in DECKS:
        vietnamese = page_text(built / "vi" / f"{deck}.html")
        for slide in slides.parse_deck(SLIDES_DIR / "src" / "decks" / f"{deck}.md").slides:
            first_line = unescape(re.sub(r"<[^>]+>", "", slide.notes)).strip().splitlines()[0]
            assert first_line not in vietnamese, (deck, first_line)


def svg_texts(path: Path) -> list[str]:
    """The text of every <text> of an SVG file, one string each (its lines joined by spaces)."""
    space = "{http://www.w3.org/2000/svg}"
    root = ET.parse(path).getroot()
    return [" ".join(t.itertext()) for t in root.iter(f"{space}text")]


def test_diagrams_are_labelled_in_vietnamese(built: Path) -> None:
    flow = svg_texts(built / "vi" / "diagrams" / "sqs-flow.svg")
    assert "giữ tới khi bị xoá hoặc hết retention (mặc định 4 ngày)" in flow
    assert not any("kept until deleted" in text for text in flow)
    assert "<title>Producer, hàng đợi và consumer</title>" in (
        built / "vi" / "diagrams" / "sqs-flow.svg"
    ).read_text(encoding="utf-8")
    for path in sorted((built / "diagrams").glob("*.svg")):
        english, vietnamese = svg_texts(path), svg_texts(built / "vi" / "diagrams" / path.name)
        assert len(english) == len(vietnamese), path.name  # the same drawing...
        assert english != vietnamese, path.name  # ...labelled in the other language


def catalogue_msgids() -> list[str]:
    """Every text the slides' code translates: the diagrams' labels (``_``), the templates'
    words (``N_``), the badges' words, the labs' titles and the timelines' units."""
    from babel.messages.extract import extract_from_file

    found = [
        message
        for path in (SLIDES_DIR / "src" / "diagrams.py", Path(slides.__file__))
        for _, message, _, _ in extract_from_file("python", path, keywords={"_": None, "N_": None})
    ]
    found += ["Practise it:", "s", "min", *(lab.title for lab in slides.labs_by_slug().values())]
    return sorted(set(found))


def test_every_slide_text_in_code_has_a_vietnamese_translation() -> None:
    from course.i18n import is_translated

    texts = catalogue_msgids()
    assert len(texts) > 100
    assert [text for text in texts if not is_translated(text, "vi")] == []


def test_every_deck_is_translated() -> None:
    """Lists what the Vietnamese decks show in English (zero at release)."""
    coverage = slide_translations.status(SLIDES_DIR / "src", "vi")
    assert [c.deck for c in coverage] == sorted(DECKS)
    assert [c.summary() for c in coverage if c.untranslated] == []
    assert slides.untranslated(["vi"]) == []


def test_a_stale_slide_falls_back_to_english_and_is_listed(tmp_path: Path) -> None:
    src = copy_slides_source(tmp_path)
    deck = src / "decks" / "sqs.md"
    deck.write_text(deck.read_text().replace("## Why a queue?", "## Why use a queue?"))
    slides.build_slides(tmp_path / "out", src_dir=src, langs=["vi"])
    text = page_text(tmp_path / "out" / "vi" / "sqs.html")
    assert "Why use a queue?" in text and "Vì sao cần hàng đợi?" not in text
    assert "SQS là gì" in text and "What SQS is" not in text  # the other slides stay translated
    coverage = {c.deck: c for c in slide_translations.status(src, "vi")}
    assert (coverage["sqs"].missing, coverage["sqs"].stale) == ([2], [2])
    assert coverage["sqs"].title and coverage["sns"].untranslated == 0
    listed = slides.untranslated(["vi"], src)
    assert len(listed) == 1 and listed[0].startswith("vi: sqs: 18 slide(s) translated")
    assert "in English: slide(s) 2" in listed[0] and "stale" in listed[0]


def test_a_changed_english_title_shows_in_english(tmp_path: Path) -> None:
    src = copy_slides_source(tmp_path)
    deck = src / "decks" / "00-kit.md"
    deck.write_text(deck.read_text().replace("title: The course kit", "title: The kit"))
    slides.build_slides(tmp_path / "out", src_dir=src, langs=["vi"])
    assert "<title>The kit</title>" in (tmp_path / "out" / "vi" / "00-kit.html").read_text()
    assert not next(c for c in slide_translations.status(src, "vi") if c.deck == "00-kit").title


def test_a_missing_deck_falls_back_to_english_and_is_listed(tmp_path: Path) -> None:
    src = copy_slides_source(tmp_path)
    (src / "decks" / "vi" / "ses.md").unlink()
    slides.build_slides(tmp_path / "out", src_dir=src, langs=["vi"])
    page = tmp_path / "out" / "vi" / "ses.html"
    assert '<html lang="vi">' in page.read_text(encoding="utf-8")  # the page is still the edition's
    text = page_text(page)
    assert "Senders must always be verified" in text and "Thực hành:" in text
    assert "labs/vi/08-ses-sandbox.ipynb" in text
    listed = slides.untranslated(["vi"], src)
    assert listed == ["vi: ses: no decks/vi/ses.md: the whole deck is in English"]


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("diagrams/sqs-flow.svg", "diagrams/sns-fanout.svg", "its images are"),
        ("Lab: 04-dead-letter-queue", "Lab: 05-fifo-queues", "its labs are"),
    ],
)
def test_a_translation_must_show_what_its_english_shows(
    tmp_path: Path, old: str, new: str, error: str
) -> None:
    src = copy_slides_source(tmp_path)
    translated = src / "decks" / "vi" / "sqs.md"
    text = translated.read_text(encoding="utf-8")
    assert old in text
    translated.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(slides.SlideBuildError, match=error):
        slides.build_slides(tmp_path / "out", src_dir=src, langs=["vi"])


def test_a_translated_slide_without_its_sha_fails_the_build(tmp_path: Path) -> None:
    src = copy_slides_source(tmp_path)
    translated = src / "decks" / "vi" / "sns.md"
    translated.write_text(re.sub(r"<!-- en: \w+ -->\n", "", translated.read_text(), count=2))
    with pytest.raises(slides.SlideBuildError, match="starts with <!-- en:"):
        slides.build_slides(tmp_path / "out", src_dir=src, langs=["vi"])


def test_add_missing_gives_a_translator_the_changed_slides(tmp_path: Path) -> None:
    src = copy_slides_source(tmp_path)
    deck = src / "decks" / "sqs.md"
    deck.write_text(deck.read_text().replace("## Why a queue?", "## Why use a queue?"))
    assert slide_translations.add_missing(src, "vi", "sqs") == 1
    coverage = next(c for c in slide_translations.status(src, "vi") if c.deck == "sqs")
    # The new English slide is in the file, in place, still counted missing; the old
    # translation is kept at the end, for reuse, and counted stale.
    assert (coverage.missing, coverage.stale, len(coverage.translated)) == ([2], [20], 18)
    translated = src / "decks" / "vi" / "sqs.md"
    translated.write_text(
        translated.read_text().replace("## Why use a queue?", "## Vì sao nên dùng hàng đợi?", 1)
    )
    stale = slide_translations.load(translated).slides[-1][0]
    text = translated.read_text()
    translated.write_text(text[: text.rindex(f"\n\n---\n\n<!-- en: {stale} -->")] + "\n")
    assert slide_translations.status(src, "vi")[2].untranslated == 0
    assert slide_translations.add_missing(src, "vi", "sqs") == 0
    slides.build_slides(tmp_path / "out", src_dir=src, langs=["vi"])
    assert "Vì sao nên dùng hàng đợi?" in page_text(tmp_path / "out" / "vi" / "sqs.html")


def test_a_language_without_decks_fails_the_build(tmp_path: Path) -> None:
    with pytest.raises(slides.SlideBuildError, match="no decks in fr"):
        slides.build_slides(tmp_path, langs=["fr"])


def test_course_slides_builds_one_language(tmp_path: Path) -> None:
    result = CliRunner().invoke(course_cli, ["slides", "--out", str(tmp_path), "--lang", "vi"])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'vi' / 'sqs.html'}" in result.output
    assert (tmp_path / "vi" / "index.html").is_file() and not (tmp_path / "sqs.html").exists()
    result = CliRunner().invoke(course_cli, ["slides", "--out", str(tmp_path), "--lang", "xx"])
    assert result.exit_code != 0 and "no decks in xx" in result.output


# --- in the browser --------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "deck"), EDITIONS)
def test_deck_in_browser(built: Path, browser_context: Any, lang: str, deck: str) -> None:
    shot = edition(SCREENSHOTS, lang) / f"{deck}.png"
    report = check_page(browser_context, (edition(built, lang) / f"{deck}.html").as_uri(), shot)
    assert report.problems == []
    # Reveal.js shows every slide of the source, no more and no fewer.
    source = slides.parse_deck(SLIDES_DIR / "src" / "decks" / f"{deck}.md", lang=lang)
    assert report.slides == len(source.slides) > 3
    # Taken by this run (the committed file alone would satisfy a mere existence check).
    assert report.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.read_bytes() == report.screenshot
    # The browser showed the edition's own headings; in Vietnamese no English one is left but
    # names that read the same in both languages.
    shown = [heading.strip() for heading in report.headings]
    assert shown == headings(source)
    if lang != "en":
        english = headings(slides.parse_deck(SLIDES_DIR / "src" / "decks" / f"{deck}.md"))
        same = {v for v, e in zip(shown, english, strict=True) if v == e}
        assert same <= SAME_IN_BOTH_LANGUAGES, same


@pytest.mark.parametrize("lang", LANGS)
def test_index_in_browser(built: Path, browser_context: Any, lang: str) -> None:
    index = (edition(built, lang) / "index.html").as_uri()
    assert check_page(browser_context, index).problems == []


# Every label of a diagram as the browser lays it out: outside the canvas, or wider than the
# smallest box around its anchor point (a translation longer than the box it was drawn for).
LABEL_FIT_JS = """() => {
  const svg = document.documentElement;
  const view = svg.viewBox.baseVal;
  const boxes = Array.from(svg.querySelectorAll('rect')).slice(1).map(r => r.getBBox());
  const problems = [];
  for (const text of svg.querySelectorAll('text')) {
    const b = text.getBBox();
    const label = JSON.stringify(text.textContent);
    if (b.x < 0 || b.y < 0 || b.x + b.width > view.width || b.y + b.height > view.height) {
      problems.push(label + ' leaves the canvas');
    }
    const x = +text.getAttribute('x'), y = +text.getAttribute('y');
    const around = boxes.filter(
      r => x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height);
    if (around.length) {
      const box = around.reduce((a, c) => (a.width * a.height <= c.width * c.height ? a : c));
      if (b.x < box.x - 1 || b.x + b.width > box.x + box.width + 1) {
        problems.push(label + ' is wider than its box');
      }
    }
  }
  return problems;
}"""


@pytest.mark.parametrize("lang", LANGS)
def test_diagram_labels_fit_in_browser(built: Path, browser_context: Any, lang: str) -> None:
    page = browser_context.new_page()
    problems = []
    try:
        for path in sorted((edition(built, lang) / "diagrams").glob("*.svg")):
            page.goto(path.as_uri(), wait_until="load")
            problems += [f"{path.name}: {p}" for p in page.evaluate(LABEL_FIT_JS)]
    finally:
        page.close()
    assert problems == []


def test_label_fit_check_catches_a_long_label(built: Path, browser_context: Any) -> None:
    bad = built / "diagrams" / "bad-label.svg"
    bad.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" viewBox="0 0 400 200">'
        '<rect width="100%" height="100%" fill="#fff"/>'
        '<rect x="20" y="20" width="120" height="60"/>'
        '<text x="80" y="50" text-anchor="middle" font-size="20">a label far too long</text>'
        '<text x="380" y="150" font-size="20">off the edge</text></svg>',
        encoding="utf-8",
    )
    page = browser_context.new_page()
    try:
        page.goto(bad.as_uri(), wait_until="load")
        problems = page.evaluate(LABEL_FIT_JS)
    finally:
        page.close()
        bad.unlink()
    assert problems == [
        '"a label far too long" is wider than its box',
        '"off the edge" leaves the canvas',
    ]


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
