"""Lab 11 · SQS triggers Lambda: an ETL worker fed by an event source mapping, a poison record
isolated by a partial batch response and the queue's dead-letter queue."""

from __future__ import annotations

import json

from course.checks.api import CheckFailed, NotAttempted, check
from course.checks.context import Aws
from course.checks.readers.awslambda import (
    Batch,
    event_source_mappings,
    function_configuration,
    poller_batches,
)
from course.checks.readers.sqs import deletes, queue_attributes, receives, sends

LAB = "11"
TITLE = "SQS triggers Lambda"
#: Graded at five times the wall clock's speed: the function's 10 s timeout is 2 real seconds,
#: room for its process to start and import boto3 on a loaded machine.
TIME_SCALE = 5
QUEUE = "etl-queue"
DLQ = "etl-dlq"
OUTPUT = "etl-output"
FUNCTION = "etl-worker"
BATCH_SIZE = 5
#: Good records the lab sends with its poison one.
GOOD = 4
#: AWS's guidance: the queue's visibility timeout at least six times the function's timeout.
VISIBILITY_FACTOR = 6


@check(
    "mapping",
    points=2,
    kind="state",
    statement=f"An enabled event source mapping feeds {QUEUE} to {FUNCTION} with BatchSize "
    f"{BATCH_SIZE} and ReportBatchItemFailures; {QUEUE} redrives to {DLQ} and its visibility "
    f"timeout is at least {VISIBILITY_FACTOR} times the function's timeout.",
    hint="lam.create_event_source_mapping(EventSourceArn=queue_arn, "
    "FunctionName=name('etl-worker'), BatchSize=5, "
    "FunctionResponseTypes=['ReportBatchItemFailures']); the queue's "
    "VisibilityTimeout = 6 x the function's Timeout.",
)
def test_mapping(aws: Aws) -> None:
    attributes = queue_attributes(aws, aws.name(QUEUE))
    function = function_configuration(aws, aws.name(FUNCTION))
    mappings = [
        m
        for m in event_source_mappings(aws, aws.name(FUNCTION))
        if m.get("EventSourceArn") == attributes.get("QueueArn")
    ]
    if not mappings:
        raise NotAttempted(f"no event source mapping connects {aws.name(QUEUE)} to {FUNCTION}")
    wrong = []
    mapping = mappings[-1]
    if mapping.get("BatchSize") != BATCH_SIZE:
        wrong.append(f"BatchSize is {mapping.get('BatchSize')}, expected {BATCH_SIZE}")
    if "ReportBatchItemFailures" not in (mapping.get("FunctionResponseTypes") or []):
        wrong.append("FunctionResponseTypes does not include ReportBatchItemFailures")
    if mapping.get("State") not in ("Enabled", "Enabling", "Creating"):
        wrong.append(f"the mapping is {mapping.get('State')}, not Enabled")
    wrong.extend(_redrive_problems(aws, attributes))
    visibility, timeout = int(attributes.get("VisibilityTimeout", 30)), int(function["Timeout"])
    if visibility < VISIBILITY_FACTOR * timeout:
        wrong.append(
            f"{aws.name(QUEUE)}'s VisibilityTimeout is {visibility} s, less than "
            f"{VISIBILITY_FACTOR} x the function's Timeout ({timeout} s)"
        )
    if wrong:
        raise CheckFailed("; ".join(wrong))


def _redrive_problems(aws: Aws, attributes: dict[str, str]) -> list[str]:
    policy = json.loads(attributes.get("RedrivePolicy") or "{}")
    if not policy:
        return [f"{aws.name(QUEUE)} has no RedrivePolicy"]
    try:
        dlq_arn = queue_attributes(aws, aws.name(DLQ)).get("QueueArn")
    except NotAttempted:
        return [f"there is no queue named {aws.name(DLQ)}"]
    if policy.get("deadLetterTargetArn") != dlq_arn:
        return [f"the RedrivePolicy's deadLetterTargetArn is not the ARN of {aws.name(DLQ)}"]
    return []


def _batches(aws: Aws) -> list[Batch]:
    """The poller's batches of messages the student sent to etl-queue; "not attempted" if none."""
    sent = {s.message_id for s in sends(aws.flow, aws.name(QUEUE)) if not s.call.principal}
    batches = [b for b in poller_batches(aws.flow, aws.name(FUNCTION)) if set(b.message_ids) & sent]
    if not batches:
        raise NotAttempted(
            f"the mapping has not invoked {FUNCTION} with a message you sent to {aws.name(QUEUE)}"
        )
    return batches


def _deleted_handles(aws: Aws) -> set[str]:
    return {d.receipt_handle for d in deletes(aws.flow, aws.name(QUEUE)) if d.ok}


@check(
    "processed",
    points=3,
    kind="flow",
    statement=f"At least {GOOD} records you sent to {QUEUE} were processed through the mapping: "
    f"{FUNCTION} ran on them, they were deleted from {QUEUE}, and {OUTPUT} got each one's "
    "transformed record (JSON naming its source_message_id).",
    hint="The handler sends one JSON record per good input to etl-output, with "
    '"source_message_id": record["messageId"]; the poller deletes what the handler did not '
    "report as failed.",
)
def test_processed(aws: Aws) -> None:
    deleted = _deleted_handles(aws)
    done = {
        message_id
        for batch in _batches(aws)
        for message_id in batch.message_ids
        if batch.handle(message_id) in deleted
    }
    outputs = set()
    for sent in sends(aws.flow, aws.name(OUTPUT)):
        try:
            record = json.loads(sent.body)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("source_message_id"):
            outputs.add(str(record["source_message_id"]))
    complete = done & outputs
    if len(complete) < GOOD:
        raise CheckFailed(
            f"{len(complete)} record(s) were both deleted from {aws.name(QUEUE)} after a "
            f"successful run and transformed into {aws.name(OUTPUT)} ({len(done)} deleted, "
            f"{len(outputs)} output record(s) naming a source_message_id); expected {GOOD}"
        )


def _partial(aws: Aws) -> tuple[Batch, str] | None:
    """A batch of the bad record and good ones where only the bad one came back."""
    batches = _batches(aws)
    deleted = _deleted_handles(aws)
    for i, batch in enumerate(batches):
        later = {m for b in batches[i + 1 :] for m in b.message_ids}
        back = [m for m in batch.message_ids if m in later]
        good = [m for m in batch.message_ids if m not in later]
        if len(back) == 1 and good and all(batch.handle(m) in deleted for m in good):
            return batch, back[0]
    return None


@check(
    "partial-failure",
    points=3,
    kind="flow",
    statement="A batch holding the bad record and good ones: the good ones were deleted and never "
    "delivered again, only the bad one came back to the function.",
    hint='Return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]} for the '
    "record that failed (and turn on ReportBatchItemFailures): raising an error, or reporting "
    "every record, sends the whole batch back.",
)
def test_partial_failure(aws: Aws) -> None:
    batches = _batches(aws)
    if _partial(aws) is not None:
        return
    mixed = [b for b in batches if len(b.message_ids) > 1]
    if not mixed:
        raise CheckFailed(
            "every batch held a single record: send the records together (SendMessageBatch), "
            "or give the mapping a batching window"
        )
    raise CheckFailed(
        "no batch of several records had exactly one record come back while the others were "
        "deleted: the whole batch came back (an error, or every record reported), or the bad "
        "record was deleted with the good ones"
    )


@check(
    "bad-record-in-dlq",
    points=2,
    kind="flow",
    statement=f"The bad record, after its retries, is in {DLQ} with the same MessageId and "
    f"{QUEUE} no longer holds it.",
    hint=f"Wait: it comes back after the visibility timeout, and after maxReceiveCount receives "
    f"SQS moves it to {DLQ}; then receive it from {DLQ} (do not delete it from there).",
)
def test_bad_record_in_dlq(aws: Aws) -> None:
    partial = _partial(aws)
    if partial is None:
        raise NotAttempted("no batch isolated a bad record yet (see partial-failure)")
    _, bad = partial
    in_dlq = {r.message_id for r in receives(aws.flow, aws.name(DLQ))}
    stored = aws.backend.queue_messages(aws.name(DLQ), aws.region) or []
    in_dlq |= {m["MessageId"] for m in stored}
    if bad not in in_dlq:
        raise CheckFailed(f"the bad record {bad} is not in {aws.name(DLQ)}")
    still = aws.backend.queue_messages(aws.name(QUEUE), aws.region) or []
    if any(m["MessageId"] == bad for m in still):
        raise CheckFailed(f"{aws.name(QUEUE)} still holds the bad record {bad}")
