"""``course.checks.cells`` on its own: ranges from marks, and what "raised on a call" means."""

from __future__ import annotations

from course.checks.cells import CellRecord, CellRun, by_cell
from course.flow import ApiCall


def _call(seq: int, code: str = "", action: str = "ReceiveMessage") -> ApiCall:
    error = {"code": code, "message": "no"} if code else None
    return ApiCall(seq, "sqs", action, "us-east-1", 0.0, 0.0, 400 if code else 200, {}, {}, error)


def test_ranges_run_from_one_mark_to_the_next() -> None:
    record = CellRecord.from_marks(3, [(1, 5, False, None), (2, 5, False, None), (3, 9, True, "E")])
    assert [(r.first_seq, r.last_seq) for r in record.runs] == [(4, 5), (6, 5), (6, 9)]
    assert record.cell_of(_call(4)).index == 1  # type: ignore[union-attr]
    assert record.cell_of(_call(7)).index == 3  # type: ignore[union-attr]
    assert record.cell_of(_call(3)) is None and record.cell_of(_call(10)) is None


def test_an_unreadable_mark_ends_the_record_and_a_reset_restarts_it() -> None:
    broken = CellRecord.from_marks(
        0, [(1, 2, False, None), (2, None, True, "E"), (3, 9, False, None)]
    )
    assert [r.index for r in broken.runs] == [1]
    assert CellRecord.from_marks(None, [(1, 2, False, None)]).runs == ()
    reset = CellRecord.from_marks(10, [(1, 12, False, None), (2, 1, True, "E")])
    assert [(r.index, r.first_seq, r.last_seq) for r in reset.runs] == [(2, 0, 1)]


def test_a_cell_raised_on_a_call_only_when_its_error_is_that_calls() -> None:
    refused = _call(5, "InvalidParameterValue")
    assert CellRun(1, 0, 9, True, "ClientError: (InvalidParameterValue) ...").raised_on(refused)
    assert CellRun(1, 0, 9, True, None).raised_on(refused)  # error unknown: assume it was
    assert not CellRun(1, 0, 9, True, "KeyError: 'x'").raised_on(refused)
    assert not CellRun(1, 0, 9, False).raised_on(refused)


def test_calls_sorted_by_what_their_cell_did() -> None:
    record = CellRecord((CellRun(1, 0, 4, True, "ClientError: (X)"), CellRun(2, 5, 9, False)))
    found = by_cell(record, [_call(2, "X"), _call(6, "X"), _call(12, "X")])
    assert [c.seq for c in found.handled] == [6]
    assert [(c.seq, r.index) for c, r in found.crashed] == [(2, 1)]
    assert [c.seq for c in found.unknown] == [12]
    assert [c.seq for c in by_cell(None, [_call(2, "X")]).unknown] == [2]
    running = record.with_running_cell(3)
    assert running.cell_of(_call(10**9)).index == 3  # type: ignore[union-attr]
