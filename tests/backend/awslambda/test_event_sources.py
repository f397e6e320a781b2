"""SQS event source mappings poll asynchronously, as Lambda does (``awslambda/event_sources.py``).

moto runs the function inside SendMessage, one message at a time, with made-up attributes, and
ignores ReportBatchItemFailures; the kit's poller long-polls the queue on the backend's clock,
invokes the function with the real event, deletes what succeeded and lets the rest come back.
Waits for visibility timeouts are skipped with ``advance_clock``.
"""

from __future__ import annotations

import json
import textwrap
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.awslambda.sqs_event import kept
from course.backend.process import Backend
from course.flow import PRINCIPAL_HEADER, Flow

from tests.backend.awslambda import test_lambda
from tests.backend.awslambda.test_lambda import zipped
from tests.conftest import make_client

lam, role = test_lambda.lam, test_lambda.role  # the Lambda tests' fixtures

WITH_SQS = "https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"
CONFIGURE = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
ERRORS = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html"
STATES = "https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html"

#: Reports the records whose body is "bad"; prints each event; sleeps as a record asks.
HANDLER = """
import json
import time

def handler(event, context):
    print(json.dumps(event))
    for r in event["Records"]:
        if r["body"].startswith("sleep"):
            time.sleep(float(r["body"].split()[1]))
    if any(r["body"] == "raise" for r in event["Records"]):
        raise ValueError("cannot transform")
    if any(r["body"] == "unknown" for r in event["Records"]):
        return {"batchItemFailures": [{"itemIdentifier": "no-such-id"}]}
    return {"batchItemFailures": [
        {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"
    ]}
"""


class Lab:
    """A queue with a DLQ (maxReceiveCount 2), a function and the flow, on one backend."""

    def __init__(self, backend: Backend, lam: Any, role: str, timeout: int = 3) -> None:
        self.backend, self.lam = backend, lam
        self.sqs = make_client(backend, "sqs")
        self.dlq = self.sqs.create_queue(QueueName="src-dlq")["QueueUrl"]
        policy = {"deadLetterTargetArn": self.arn(self.dlq), "maxReceiveCount": "2"}
        self.url = self.sqs.create_queue(
            QueueName="src",
            Attributes={"VisibilityTimeout": "20", "RedrivePolicy": json.dumps(policy)},
        )["QueueUrl"]
        lam.create_function(
            FunctionName="worker",
            Runtime="python3.12",
            Role=role,
            Handler="lambda_function.handler",
            Code={"ZipFile": zipped(HANDLER)},
            Timeout=timeout,
        )

    def arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    def mapping(self, **kw: Any) -> dict[str, Any]:
        kw.setdefault("BatchSize", 5)
        return dict(
            self.lam.create_event_source_mapping(
                EventSourceArn=self.arn(self.url), FunctionName="worker", **kw
            )
        )

    def send(self, *bodies: str, **kw: Any) -> list[str]:
        entries = [{"Id": str(i), "MessageBody": b, **kw} for i, b in enumerate(bodies)]
        answer = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
        by_id = {e["Id"]: e["MessageId"] for e in answer["Successful"]}
        return [by_id[str(i)] for i in range(len(bodies))]

    def flow(self) -> Flow:
        return Flow.from_json(self.backend.flow())

    def invokes(self) -> list[tuple[list[dict[str, Any]], dict[str, Any]]]:
        """Each invocation by the poller: its records and its answer."""
        return [
            (c.request["Payload"]["Records"], c.response)
            for c in self.flow().calls_to("lambda", "Invoke")
            if c.principal == "lambda"
        ]

    def dispatched(self) -> bool:
        """Whether the poller has gathered a batch: a receive that found messages, then one
        that found none (the batch is full of what the queue had)."""
        receives = [c for c in self.flow().calls_to("sqs", "ReceiveMessage") if c.principal]
        found = [c.seq for c in receives if c.response.get("Messages")]
        return bool(found) and any(c.seq > found[0] and not c.response for c in receives)

    def wait(self, ready: Callable[[], Any], timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := ready():
                return found
            time.sleep(0.1)
        raise AssertionError("timed out waiting")

    def stored(self, url: str) -> set[str]:
        queue = url.rsplit("/", 1)[1]
        return {m["MessageId"] for m in self.backend.api.queue_messages(queue, "us-east-1") or []}


@pytest.fixture
def lab(backend: Backend, lam: Any, role: str) -> Lab:
    return Lab(backend, lam, role)


def test_send_message_returns_before_the_function_runs(lab: Lab) -> None:
    """WITH_SQS: "Lambda polls the queue and invokes your Lambda function synchronously with an
    event": the poller invokes, not SendMessage (moto ran the function inside the send)."""
    lab.mapping()
    started = time.monotonic()
    lab.send("sleep 1.5")
    assert time.monotonic() - started < 1.0
    records = lab.wait(lambda: lab.invokes())[0][0]
    assert records[0]["body"] == "sleep 1.5"


def test_the_event_has_lambda_s_shape(lab: Lab) -> None:
    """WITH_SQS's example event: Records[] with messageId, receiptHandle, body, attributes
    (ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp),
    messageAttributes as {"stringValue", "stringListValues": [], "binaryListValues": [],
    "dataType"}, md5OfBody, eventSource "aws:sqs", eventSourceARN and awsRegion."""
    lab.mapping()
    [message_id] = lab.send(
        "hello",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "order"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    [(records, answer)] = lab.wait(lambda: lab.invokes())
    [r] = records
    assert r["messageId"] == message_id
    assert r["body"] == "hello"
    assert r["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert r["eventSource"] == "aws:sqs"
    assert r["eventSourceARN"] == lab.arn(lab.url)
    assert r["awsRegion"] == "us-east-1"
    assert r["receiptHandle"]
    assert r["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(r["attributes"])
    assert r["messageAttributes"]["kind"] == {
        "stringValue": "order",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert r["messageAttributes"]["raw"]["binaryValue"] == "AAE="
    assert "FunctionError" not in answer


def test_a_partial_batch_response_deletes_the_others_and_the_bad_one_ends_in_the_dlq(
    lab: Lab,
) -> None:
    """ERRORS: with ReportBatchItemFailures "your function [returns] partial success": only the
    failed messages become visible again; CONFIGURE: "if your function fails to process a
    message multiple times, Amazon SQS can send it to [the] dead-letter queue"."""
    lab.mapping(FunctionResponseTypes=["ReportBatchItemFailures"])
    ids = lab.send("good 1", "good 2", "bad", "good 3", "good 4")
    bad = ids[2]
    [(records, _)] = lab.wait(lambda: lab.invokes())
    assert sorted(r["messageId"] for r in records) == sorted(ids)  # one batch of five
    deletes = lab.wait(lambda: lab.flow().calls_to("sqs", "DeleteMessageBatch"))
    assert all(c.principal == "lambda" for c in deletes)
    assert len(deletes[0].request["Entries"]) == 4
    assert lab.stored(lab.url) == {bad}
    lab.backend.advance_clock(21)  # the visibility timeout: the bad one comes back
    again = lab.wait(lambda: lab.invokes()[1:])
    assert [r["messageId"] for r in again[0][0]] == [bad]
    assert again[0][0][0]["attributes"]["ApproximateReceiveCount"] == "2"
    lab.backend.advance_clock(21)  # received twice (maxReceiveCount): the next receive moves it
    lab.wait(lambda: lab.stored(lab.dlq) == {bad})
    assert lab.stored(lab.url) == set()
    assert len(lab.invokes()) == 2


def test_an_error_fails_the_whole_batch(lab: Lab) -> None:
    """ERRORS: "If your function throws an exception, the entire batch is considered a complete
    failure"; an itemIdentifier "with a message ID that doesn't exist" too: nothing is deleted."""
    lab.mapping(FunctionResponseTypes=["ReportBatchItemFailures"])
    lab.send("good", "raise")
    [(_, answer)] = lab.wait(lambda: lab.invokes())
    assert answer["FunctionError"] == "Unhandled"
    lab.send("good", "unknown")
    lab.wait(lambda: len(lab.invokes()) == 2)
    time.sleep(0.3)
    assert not lab.flow().calls_to("sqs", "DeleteMessageBatch")
    assert len(lab.stored(lab.url)) == 4


def test_without_report_batch_item_failures_the_answer_is_ignored(lab: Lab) -> None:
    """ERRORS: "Lambda doesn't process these responses unless ReportBatchItemFailures is turned
    on": a batch whose function returns failures but raises nothing is deleted whole."""
    lab.mapping()
    lab.send("good", "bad")
    deletes = lab.wait(lambda: lab.flow().calls_to("sqs", "DeleteMessageBatch"))
    assert len(deletes[0].request["Entries"]) == 2


@pytest.mark.parametrize(
    ("payload", "stay"),
    [
        (b'{"batchItemFailures": []}', set()),  # "An empty batchItemFailures list"
        (b'{"batchItemFailures": null}', set()),  # "A null batchItemFailures list"
        (b"{}", set()),  # "An empty EventResponse"
        (b"null", set()),  # "A null EventResponse"
        (b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', {"b"}),
        (b"not json", {"a", "b"}),  # "An invalid JSON response"
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', {"a", "b"}),  # empty string
        (b'{"batchItemFailures": [{"itemIdentifier": null}]}', {"a", "b"}),  # null
        (b'{"batchItemFailures": [{"messageId": "b"}]}', {"a", "b"}),  # a bad key name
        (b'{"batchItemFailures": [{"itemIdentifier": "zz"}]}', {"a", "b"}),  # no such message
    ],
)
def test_partial_batch_response_conditions(payload: bytes, stay: set[str]) -> None:
    """ERRORS, "Success and failure conditions", each listed case in turn."""
    assert kept(["a", "b"], payload, function_error=False, report_failures=True) == stay
    assert kept(["a", "b"], payload, function_error=True, report_failures=True) == {"a", "b"}


def test_a_batching_window_gathers_separate_sends(lab: Lab) -> None:
    """CONFIGURE, Batch window: "The maximum amount of time to gather records before invoking
    the function, in seconds": three single sends within the window make one batch."""
    lab.mapping(MaximumBatchingWindowInSeconds=3)
    for body in ("one", "two", "three"):
        lab.sqs.send_message(QueueUrl=lab.url, MessageBody=body)
    [(records, _)] = lab.wait(lambda: lab.invokes(), timeout=10)
    assert [r["body"] for r in records] == ["one", "two", "three"]


def test_the_function_timeout_must_not_exceed_the_visibility_timeout(
    backend: Backend, lam: Any, role: str
) -> None:
    """CONFIGURE: "Your function's timeout must be less than or equal to the queue's visibility
    timeout. Lambda validates this requirement when you create or update an event source
    mapping", InvalidParameterValueException "Queue visibility timeout: 20 seconds is less than
    Function timeout: 60 seconds"."""
    lab = Lab(backend, lam, role, timeout=60)
    with pytest.raises(ClientError) as refused:
        lab.mapping()
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == (
        "Queue visibility timeout: 20 seconds is less than Function timeout: 60 seconds"
    )
    lam.update_function_configuration(FunctionName="worker", Timeout=20)
    mapping = lab.mapping()  # equal is allowed
    lam.update_function_configuration(FunctionName="worker", Timeout=30)
    with pytest.raises(ClientError, match="InvalidParameterValueException"):
        lam.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=4)


def test_a_visibility_timeout_shorter_than_the_work_delivers_the_message_twice(
    backend: Backend, lam: Any, role: str
) -> None:
    """CONFIGURE: "set the source queue's visibility timeout to at least six times the [...]
    timeout on your function": a message whose visibility ends while its batch still runs is
    received again and processed a second time, concurrently."""
    lab = Lab(backend, lam, role, timeout=5)
    lab.sqs.set_queue_attributes(QueueUrl=lab.url, Attributes={"VisibilityTimeout": "5"})
    lab.mapping()
    [message_id] = lab.send("sleep 2.5")
    lab.wait(lambda: lab.dispatched())
    backend.advance_clock(6)  # the batch still runs; its message is visible again
    runs = lab.wait(lambda: len(lab.invokes()) == 2 and lab.invokes(), timeout=10)
    assert [r[0][0]["messageId"] for r in runs] == [message_id, message_id]
    assert runs[1][0][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_disable_enable_and_delete(lab: Lab) -> None:
    """STATES: "Creating, Enabling, Enabled, Disabling, Disabled, Updating, or Deleting";
    a disabled mapping does not poll, an enabled one resumes, a deleted one stops."""
    mapping = lab.mapping(Enabled=False)
    assert mapping["State"] == "Creating"
    uuid = mapping["UUID"]
    lab.wait(lambda: lab.lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled")
    lab.send("waits")
    time.sleep(1.0)
    assert not lab.invokes()
    answer = lab.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert answer["State"] == "Enabling"
    lab.wait(lambda: lab.invokes())
    listed = lab.lam.list_event_source_mappings(FunctionName="worker")["EventSourceMappings"]
    assert [m["State"] for m in listed] == ["Enabled"]
    assert lab.lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    lab.send("after")
    time.sleep(1.0)
    assert len(lab.invokes()) == 1
    assert len(lab.stored(lab.url)) == 1


def test_a_reset_stops_every_poller(lab: Lab, backend: Backend) -> None:
    """A backend reused for the next submission: no poller of the last one receives from, or
    is recorded in, the new one's queues and flow."""
    lab.mapping()
    backend.reset()
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="src")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="mine")
    time.sleep(1.5)
    assert [c.principal for c in Flow.from_json(backend.flow()).calls] == ["", ""]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "mine"


def test_the_poller_s_principal_cannot_be_claimed(backend: Backend) -> None:
    """The flow tells the poller's calls from the student's: a request that names the principal
    without the backend's admin token is recorded as the student's."""
    sqs = make_client(backend, "sqs")
    sqs.meta.events.register(
        "before-sign", lambda request, **_: request.headers.add_header(PRINCIPAL_HEADER, "lambda")
    )
    sqs.create_queue(QueueName="mine")
    [call] = Flow.from_json(backend.flow()).calls
    assert call.principal == ""
    with urllib.request.urlopen(f"{backend.url}/_course/health") as health:
        assert "course.backend.awslambda.event_sources" in json.load(health)["extensions"]


def test_handler_source_is_valid() -> None:
    """The test's own handler compiles (a typo would make every test above time out)."""
    compile(textwrap.dedent(HANDLER), "lambda_function.py", "exec")


def test_a_call_in_flight_at_a_reset_is_not_recorded_after_it() -> None:
    """The flow record (the server's) forgets a call begun before it was cleared: a poller's
    long poll that ends after a reset is not in the next submission's record."""
    from course.backend.core.server import FlowRecorder

    record = FlowRecorder()
    before, old = record.start()
    record.clear()
    after, new = record.start()
    assert before == after == 1  # numbering starts again: the number alone cannot tell them apart
    record.add(before, {"seq": before, "action": "ReceiveMessage"}, old)
    record.add(after, {"seq": after, "action": "CreateQueue"}, new)
    assert [c["action"] for c in record.since(0)["calls"]] == ["CreateQueue"]
