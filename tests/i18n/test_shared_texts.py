"""The texts every lab shows a student (readers' reasons, execution and refusal messages, the
sandbox's caps, the timeline, Gradescope's results) are in the Vietnamese catalogue, in
``course.po`` alone, and read in Vietnamese where a student meets them."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner
from course.checks.api import CheckFailed, NotAttempted, outcome_of
from course.checks.catalog import resolve_lab
from course.cli import main
from course.grading.execute import CellProblem, Execution, run_summary
from course.grading.grade import Grade, Refused, read_submission
from course.grading.gradescope.autograder import (
    choose_notebook,
    failure_results,
    grade_here,
    no_sandbox_note,
)
from course.grading.gradescope.config import CONFIG_NAME, AutograderConfig
from course.grading.reports import feedback_markdown, gradescope_results
from course.i18n import _, catalogue, catalogue_parts
from course.notebook.timeline import Hold, axis_label, timeline_figure
from course.sandbox.limits import ResourceLimits, breach_message

from tests.i18n.shared_texts import _found_in, _msgid, shared_texts

LANG = "vi"
SHARED = shared_texts()


def untranslated(texts: dict[str, list[str]], lang: str = LANG) -> list[str]:
    """The texts ``lang``'s catalogue has no entry for, each with the modules that show it."""
    known = catalogue(lang)
    return [f"{t!r} ({', '.join(m)})" for t, m in texts.items() if known.get(t) is None]


def test_every_shared_text_a_student_reads_has_a_vietnamese_entry() -> None:
    assert len(SHARED) > 50  # the scan reads the modules: it finds their texts
    assert untranslated(SHARED) == []


def test_each_shared_text_has_one_home_course_po() -> None:
    """A shared text in a lab's catalogue would be a second translation of it, which the
    lab's file silently overrides."""
    course, *labs = catalogue_parts(LANG)
    ids = {m.id for m in read_po(course.open("rb")) if m.id}
    assert [t for t in SHARED if t not in ids] == []
    for part in labs:
        assert [m.id for m in read_po(part.open("rb")) if m.id in SHARED] == [], part.name


SOURCE = """
def builder(kind):
    return {"a": f"table text {kind}", "b": "other table text"}[kind]

def f(client, result, execution, exc, error, number):
    raise NotAttempted(f"there is no thing named {name}")
    raise CheckFailed("plain reason" if number else "other reason")
    client.create_queue(QueueName="lab-standard-queue")
    result.problems.append(CellProblem(number, "timeout", f"stopped after {number} s", "src"))
    result.problems.append(CellProblem(number, "error", error, "src"))
    raise Refused("unreadable", f"summary {exc}", reason="a reason")
    result.status, result.summary = "empty", "nothing ran"
    execution.summary += "; and then some"
    message = str(exc) or "no message"
    print(N_("marked"), _("shown"))
    raise RuntimeError("not a reason a check gives")
"""


def test_the_scan_finds_each_kind_of_text_and_nothing_else() -> None:
    found = [_msgid(f) for f in _found_in(ast.parse(SOURCE), ("builder",))]
    assert sorted(found) == sorted(
        [
            "table text {kind}",
            "other table text",
            "there is no thing named {name}",
            "plain reason",
            "other reason",
            "stopped after {number} s",
            "summary {exc}",
            "a reason",
            "nothing ran",
            "{execution.summary}; and then some",
            "no message",
            "marked",
            "shown",
        ]
    )
    # an API's argument, a problem's kind and source, a status, an exception's own text: none
    assert not {"lab-standard-queue", "timeout", "error", "empty", "src", "{error}"} & set(found)


def test_a_text_without_an_entry_is_listed() -> None:
    """The list is not empty by construction: a new text, or the real ones in a language
    without a catalogue, are reported."""
    new = {"the kernel hummed a tune in code cell {number}": ["course.grading.execute"]}
    assert untranslated(new) == [
        "'the kernel hummed a tune in code cell {number}' (course.grading.execute)"
    ]
    assert len(untranslated(SHARED, "xx")) == len(SHARED)


# ----------------------------------------------------------------------- where a student reads them


def test_execution_messages_read_in_vietnamese() -> None:
    limits = ResourceLimits()
    assert (
        _(breach_message("memory", limits), LANG)
        == "kernel đòi nhiều hơn 2 GiB bộ nhớ được cấp cho nó"
    )
    assert _(breach_message("processes", limits), LANG) == (
        "kernel đã chạm giới hạn 256 tiến trình và thread"
    )
    cpu = f"{breach_message('cpu', limits)} and was stopped in code cell 3"
    assert (
        _(cpu, LANG)
        == "kernel đã dùng quá 600 giây CPU được cấp cho nó và đã bị dừng ở code cell 3"
    )
    backend = f"{run_summary(9, 2)}; the backend stopped answering during the run"
    assert _(backend, LANG) == (
        "đã chạy cả 9 code cell; 2 cell bị lỗi; backend đã ngừng trả lời trong lúc chạy"
    )
    assert _(run_summary(1, 1), LANG) == "đã chạy code cell duy nhất của nó; cell đó bị lỗi"


def test_refusals_read_in_vietnamese(tmp_path: Path) -> None:
    other = tmp_path / "other.ipynb"
    nbformat.write(nbformat.v4.new_notebook(metadata={"course": {"lab": "02"}}), other)
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    lab = resolve_lab("01")
    with pytest.raises(Refused) as wrong:
        read_submission(other, lab)
    assert _(wrong.value.reason, LANG) == (
        "notebook này là của lab 02, không phải của lab 01: nó không được chạy"
    )
    with pytest.raises(Refused) as unreadable:
        read_submission(broken, lab)
    assert _(unreadable.value.reason, LANG).startswith("không phải một notebook đọc được (")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("")
    with pytest.raises(Refused) as none:
        choose_notebook(tmp_path / "sub", None)
    assert none.value.reason.startswith("no notebook (.ipynb) in the submission")  # data: English
    assert _(none.value.reason, LANG) == (
        "bài nộp không có notebook (.ipynb) nào (tìm thấy: notes.txt): hãy nộp notebook của "
        "lab, và chỉ nộp mỗi nó"
    )
    with pytest.raises(Refused) as named:
        choose_notebook(tmp_path / "sub", "01-sqs-basics.ipynb")
    assert _(named.value.reason, LANG).endswith("chỉ nộp mỗi nó, đúng tên đó")


def a_stopped_grade() -> Grade:
    lab = resolve_lab("01")
    limits = ResourceLimits()
    results = [outcome_of(lab.checks[0], CheckFailed("there is no queue named lab-x"))]
    results += [
        outcome_of(c, NotAttempted("there is no queue named lab-x")) for c in lab.checks[1:]
    ]
    why = breach_message("cpu", limits)
    execution = Execution(
        status="stopped",
        summary=f"{why} and was stopped in code cell 2",
        code_cells=3,
        cells_run=2,
        stopped_at=2,
        problems=[
            CellProblem(1, "limit", breach_message("memory", limits)),
            CellProblem(2, "limit", f"{why} and was stopped", "while True: pass"),
        ],
    )
    return Grade(student="an", path=Path("an.ipynb"), lab=lab, results=results, execution=execution)


def test_the_feedback_page_gives_execution_messages_in_vietnamese() -> None:
    page = feedback_markdown(a_stopped_grade(), lang=LANG)
    summary = "kernel đã dùng quá 600 giây CPU được cấp cho nó và đã bị dừng ở code cell 2"
    assert f"Chạy notebook: {summary}." in page
    assert (
        "- Code cell 1: **vượt giới hạn** — kernel đòi nhiều hơn 2 GiB bộ nhớ được cấp cho nó"
        in page
    )
    assert "- **Lý do:** không có hàng đợi nào tên lab-x" in page
    english = feedback_markdown(a_stopped_grade(), lang="en")
    assert (
        "- Code cell 1: **limit** — the kernel asked for more than its 2 GiB of memory" in english
    )


def test_gradescope_results_speak_the_bundles_language() -> None:
    grade = a_stopped_grade()
    results = gradescope_results(grade, hints="after_due_date", lang=LANG)
    first = results["tests"][0]
    assert first["name"] == "lab01.queue-exists"  # ids stay English
    assert first["output"].startswith("Có một hàng đợi standard tên lab-standard-queue.")
    assert "chưa đạt: không có hàng đợi nào tên lab-x" in first["output"]
    hint = next(t for t in results["tests"] if t["number"] == "1.1")
    assert hint["name"] == "Gợi ý: lab01.queue-exists"
    assert "**Điểm: 0 / 10**" in results["output"]
    assert results["extra_data"]["summary"] == grade.execution.summary  # data: English
    shown = gradescope_results(grade, lang=LANG)["tests"][1]["output"]
    assert "\nGợi ý: " in shown
    assert "\nHint: " in gradescope_results(grade, lang="en")["tests"][1]["output"]
    assert no_sandbox_note("no userns", LANG).startswith("Chấm không có sandbox của bộ công cụ")
    assert failure_results("KeyError: 'x'", LANG)["output"].endswith("giảng viên. KeyError: 'x'")


def test_course_gradescope_lang_goes_into_the_bundle(tmp_path: Path) -> None:
    import zipfile

    out = tmp_path / "a.zip"
    result = CliRunner().invoke(
        main, ["gradescope", "01", "--out", str(out), "--from-pypi", "--lang", "vi_VN.UTF-8"]
    )
    assert result.exit_code == 0, result.output
    config = json.loads(zipfile.ZipFile(out).read(CONFIG_NAME))
    assert config["lang"] == "vi"
    # what run_autograder writes when setup.sh failed: valid JSON, in the bundle's language
    script = zipfile.ZipFile(out).read("run_autograder").decode()
    fallback = json.loads(script.split("<<'JSON'\n", 1)[1].split("\nJSON\n", 1)[0])
    assert fallback["output"].startswith("Autograder chưa được cài đặt (setup.sh của nó bị lỗi)")
    bad = CliRunner().invoke(main, ["gradescope", "01", "--out", str(out), "--lang", "xx"])
    assert bad.exit_code == 2 and "--lang" in bad.output
    with pytest.raises(ValueError, match="lang must be one of en, vi"):
        AutograderConfig(lab="01", version="0", lang="xx")
    # a bundle made before --lang existed still reads (in English)
    assert AutograderConfig(**{"lab": "01", "version": "0"}).lang == "en"


def test_the_timeline_speaks_course_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_LANG", "vi")
    assert axis_label(1) == "giây (đồng hồ của backend)"
    assert axis_label(10).endswith("nhanh gấp 10 lần đồng hồ thật)")
    holds = [
        Hold("consumer-1", "m1", "video-1.mp4", 0, 12, 10, True, 1, [4.0]),
        Hold("consumer-2", "m1", "video-1.mp4", 10, 14, 20, True, 2),
        Hold("receive 3", "m2", "video-2.mp4", 11, 13, 21, True, 1, unnamed=True),
    ]
    figure = timeline_figure(holds, "Phần A", 1.0)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == [
        "video-1.mp4",
        "video-2.mp4",
        "thanh liền: bị ẩn khỏi các consumer khác",
        "hết timeout: consumer khác lại thấy message dù nó vẫn đang được xử lý",
        "heartbeat (gia hạn bằng ChangeMessageVisibility)",
        "đã xoá",
    ]
    assert "video-1.mp4 (lần nhận 2)" in [t.get_text() for t in figure.axes[0].texts]
    rows = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert rows == ["consumer-1", "consumer-2", "lần nhận 3"]  # a client's own name stays
    monkeypatch.setenv("COURSE_LANG", "en")
    assert axis_label(1) == "seconds (backend clock)"


@pytest.mark.slow
def test_a_real_run_reads_in_vietnamese(grade_cells: Callable[..., Grade]) -> None:
    """A notebook graded in a real kernel: a cell stopped at its time limit and one whose
    output went over the budget, as the Vietnamese feedback page names them."""
    loop = "import time\nwhile True:\n    time.sleep(0.05)"
    flood = "for _ in range(30):\n    print('x' * 100_000)"
    grade = grade_cells("01", [loop, flood], cell_timeout=2)
    assert [p.kind for p in grade.execution.problems] == ["timeout", "output-truncated"]
    page = feedback_markdown(grade, lang=LANG)
    assert "Chạy notebook: đã chạy cả 2 code cell; 1 cell bị lỗi." in page
    assert "- Code cell 1: **quá thời gian** — bị dừng khi hết giới hạn thời gian 2 giây" in page
    assert "- Code cell 2: **output bị cắt** — phần output vượt quá 2,000,000 byte đã bị bỏ đi" in (
        page
    )


def test_the_autograder_refuses_in_the_bundles_language(tmp_path: Path) -> None:
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "answers.txt").write_text("")
    config = AutograderConfig(lab="01", version="0", lang=LANG)
    results = grade_here(tmp_path, config)
    reason = (
        "bài nộp không có notebook (.ipynb) nào (tìm thấy: answers.txt): hãy nộp notebook của "
        "lab, và chỉ nộp mỗi nó"
    )
    assert f"Chạy notebook: {reason}." in results["output"]
    assert f"\n\nchưa làm: {reason}\nGợi ý: " in results["tests"][0]["output"]
    assert results["extra_data"]["summary"].startswith("no notebook (.ipynb)")  # data: English


def test_what_connect_prints_reads_in_vietnamese() -> None:
    from course.connection import Connection

    local = Connection("local", "us-east-1", "123456789012", "http://127.0.0.1:4566", "")
    assert _(local.describe(), LANG) == (
        "Đã kết nối tới backend cục bộ tại http://127.0.0.1:4566: account 123456789012, "
        "vùng us-east-1"
    )
    real = Connection("aws", "eu-west-1", "123456789012", None, "an-")
    assert _(real.describe(), LANG) == (
        "Đã kết nối tới một account AWS thật: account 123456789012, vùng eu-west-1"
    )


def test_what_connect_says_of_a_real_account_reads_in_vietnamese(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from course.connection import Connection, _explain_real_account

    monkeypatch.setenv("COURSE_LANG", "vi")
    monkeypatch.setenv("COURSE_LAB", "02")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    _explain_real_account(Connection("aws", "us-east-1", "123456789012", None, "an-", None, None))
    said = capsys.readouterr().out.splitlines()
    assert (
        said[0]
        == "Các lệnh gọi AWS đi tới endpoint bạn đã đặt: AWS_ENDPOINT_URL=http://127.0.0.1:4566"
    )
    assert said[1].startswith(
        "Chế độ account thật: mọi tên mà lab tạo ra đều bắt đầu bằng prefix an-"
    )
    assert "(name('lab-standard-queue') là 'an-lab-standard-queue')" in said[1]
    assert said[2].startswith("Lab 02 trên AWS: khoảng $")
    assert said[3:] == [
        "Hãy đặt COURSE_EMAIL bằng địa chỉ email của bạn: lab 06, 08 và 09 gửi thư tới địa chỉ đó.",
        "Chưa có COURSE_DOMAIN: lab 08 và 09 bỏ qua các phần cần một tên miền của bạn (các mục "
        "kiểm tra của chúng báo 'không kiểm tra được ở đây').",
    ]
