"""Lab 03 · Long polling: short polls return at once, long polls wait, and what that costs.

A receive's wait is its own WaitTimeSeconds or, when absent, the queue's
ReceiveMessageWaitTimeSeconds at that moment (``course.checks.readers.sqs_history``); how long it
really took is read from the server's record (backend clock), so the checks see what SQS did, not
what the notebook printed.

"Handled" in ``max-wait-rejected``: a graded notebook runs on after a failing cell, so the flow
alone cannot tell a ``try/except`` that caught the error from a cell that crashed on it. The cell
record (``course.checks.cells``: the grader marks the flow around each cell, a student's kernel
after each cell) says which cell made the refused receive and whether that cell raised on it.
Without a record (``course check`` from a shell) that part is "not checkable".
"""

from __future__ import annotations

from typing import Any

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.cells import require_handled
from course.checks.context import Aws
from course.checks.readers.sqs import queue_attributes, sends
from course.checks.readers.sqs_history import QueueHistory, effective_wait
from course.flow import ApiCall

LAB = "03"
TITLE = "Long polling"
#: Graded at twenty times the wall clock's speed: its AWS waits take a twentieth of their time
#: (as fast as the check tests and the stress run show every score unchanged).
TIME_SCALE = 20
SHORT_QUEUE = "short-poll-queue"
LONG_QUEUE = "long-poll-queue"
EXPECTED_WAIT = {SHORT_QUEUE: "0", LONG_QUEUE: "10"}
ANSWERS = ["short_poll_requests_per_day", "long_poll_requests_per_day"]
EXPECTED_ANSWERS = {"short_poll_requests_per_day": 86_400, "long_poll_requests_per_day": 4_320}
#: A short poll "returns at once": it never waits, so it answers within the time the server
#: takes to handle it. Half the long poll's 10 s tells the two apart beyond doubt, and leaves
#: a loaded machine a quarter of a real second at TIME_SCALE (the flow's durations are AWS
#: seconds).
INSTANT_SECONDS = 5.0
#: An empty long poll of about 10 s must have lasted at least this long.
LONG_WAIT_SECONDS = 9.0


def _polls(aws: Aws) -> list[tuple[ApiCall, int]]:
    """Successful receives on the lab's two queues, each with the wait it was allowed."""
    found = []
    for base in (SHORT_QUEUE, LONG_QUEUE):
        name = aws.name(base)
        history = QueueHistory(aws.flow, name)
        for call in aws.flow.calls_to("sqs", "ReceiveMessage", queue=name, ok=True):
            found.append((call, effective_wait(history, call)))
    return sorted(found, key=lambda pair: pair[0].seq)


def _empty(call: ApiCall) -> bool:
    return not call.response.get("Messages")


@check(
    "queues-configured",
    points=2,
    kind="state",
    statement=f"{SHORT_QUEUE} has ReceiveMessageWaitTimeSeconds 0 and {LONG_QUEUE} has 10.",
    hint="create_queue(QueueName=name('long-poll-queue'), "
    "Attributes={'ReceiveMessageWaitTimeSeconds': '10'}), and the short one with '0'.",
)
def test_queues_configured(aws: Aws) -> None:
    wrong, missing = [], []
    for base, expected in EXPECTED_WAIT.items():
        try:
            attributes = queue_attributes(aws, aws.name(base))
        except NotAttempted:
            missing.append(aws.name(base))
            continue
        value = attributes.get("ReceiveMessageWaitTimeSeconds", "0")
        if value != expected:
            wrong.append(f"{aws.name(base)} waits {value} s, expected {expected}")
    if len(missing) == len(EXPECTED_WAIT):
        raise NotAttempted(f"neither {SHORT_QUEUE} nor {LONG_QUEUE} exists yet")
    problems = [f"there is no queue named {m}" for m in missing] + wrong
    if problems:
        raise CheckFailed("; ".join(problems))


@check(
    "short-poll-empty",
    points=1,
    kind="flow",
    statement="A short poll (wait 0) of an empty queue returned no message, at once.",
    hint="receive_message on short-poll-queue while it is empty, and time it.",
)
def test_short_poll_empty(aws: Aws) -> None:
    short = [call for call, wait in _polls(aws) if wait == 0]
    if not short:
        raise NotAttempted("no short poll (a receive with wait 0) on the lab's queues yet")
    empty = [c for c in short if _empty(c)]
    if not empty:
        raise CheckFailed(
            f"{len(short)} short poll(s), each returned a message: poll while the queue is empty"
        )
    fastest = min(c.duration for c in empty)
    if fastest >= INSTANT_SECONDS:
        raise CheckFailed(f"the empty short poll took {fastest:.1f} s; it should return at once")


@check(
    "long-poll-waited",
    points=2,
    kind="flow",
    statement=f"An empty long poll waited about 10 seconds (at least {LONG_WAIT_SECONDS:g} s) "
    "before answering.",
    hint="receive_message on long-poll-queue (its attribute makes it wait 10 s) while it is "
    "empty, and time it.",
)
def test_long_poll_waited(aws: Aws) -> None:
    long = [call for call, wait in _polls(aws) if wait > 0]
    if not long:
        raise NotAttempted("no long poll (a receive with a wait above 0) on the lab's queues yet")
    empty = [c for c in long if _empty(c)]
    if not empty:
        raise CheckFailed("every long poll returned a message: poll the empty long-poll-queue")
    longest = max(c.duration for c in empty)
    if longest < LONG_WAIT_SECONDS:
        raise CheckFailed(
            f"the longest empty long poll lasted {longest:.1f} s; let one wait about 10 s"
        )


@check(
    "long-poll-early-return",
    points=2,
    kind="flow",
    statement="A long poll returned early with a message that was sent after the poll began.",
    hint="Start a long poll, and while it waits send a message from another thread; the poll "
    "returns as soon as the message arrives.",
)
def test_long_poll_early_return(aws: Aws) -> None:
    answered = [(c, w) for c, w in _polls(aws) if w > 0 and not _empty(c)]
    if not answered:
        raise NotAttempted("no long poll on the lab's queues has returned a message yet")
    sent_by_id = {
        s.message_id: s.call for base in EXPECTED_WAIT for s in sends(aws.flow, aws.name(base))
    }
    for call, wait in answered:
        for message in call.response.get("Messages", []):
            send = sent_by_id.get(message.get("MessageId", ""))
            if send is not None and send.seq > call.seq and call.duration < wait:
                return
    raise CheckFailed(
        "each long poll that returned a message found it already waiting: send the message "
        "while the poll is waiting (for example from a thread started just before it)"
    )


@check(
    "max-wait-rejected",
    points=1,
    kind="flow",
    statement="A receive with WaitTimeSeconds above 20 (the lab uses 21) was refused with "
    "InvalidParameterValue, and the notebook handled the error: the cell that made it did not "
    "fail on it.",
    hint="Wrap the receive in try/except botocore.exceptions.ClientError and print "
    "err.response['Error']['Code']; the longest wait SQS allows is 20 s.",
)
def test_max_wait_rejected(aws: Aws) -> None:
    too_long = [
        c
        for c in aws.flow.calls_to("sqs", "ReceiveMessage")
        if _number(c.request.get("WaitTimeSeconds")) > 20
    ]
    if not too_long:
        raise NotAttempted("no receive asked for a wait above 20 s yet")
    refused = [c for c in too_long if not c.ok and c.error_code == "InvalidParameterValue"]
    if not refused:
        codes = ", ".join(sorted({c.error_code or f"HTTP {c.status}" for c in too_long}))
        raise CheckFailed(
            f"the request over 20 s was not refused with InvalidParameterValue ({codes})"
        )
    require_handled(aws.cells, refused, "SQS refused the receive over 20 s")


def _number(value: Any) -> float:
    try:
        return float(str(value).replace(",", "").replace("_", "").strip())
    except (TypeError, ValueError):
        return float("nan")


@check(
    "cost-answer",
    points=2,
    kind="answer",
    statement="short_poll_requests_per_day and long_poll_requests_per_day hold the requests one "
    "idle consumer makes in a day: a short poll every second, or back-to-back 20-second long "
    "polls.",
    hint="A day has 24 * 60 * 60 seconds; one long poll covers 20 of them.",
)
def test_cost_answer(aws: Aws) -> None:
    wrong, missing = [], []
    for name, expected in EXPECTED_ANSWERS.items():
        try:
            value = aws.answer(name)
        except NotAttempted:
            missing.append(name)
            continue
        if isinstance(value, bool) or _number(value) != expected:
            wrong.append(f"{name} is {value!r}")
    if len(missing) == len(EXPECTED_ANSWERS):
        raise NotAttempted(f"the notebook has no variable {' or '.join(missing)} yet")
    wrong += [f"there is no variable {name}" for name in missing]
    if wrong:
        raise CheckFailed("; ".join(wrong) + ": count the requests in 86,400 seconds")
