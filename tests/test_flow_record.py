"""The server-side flow record holds each request and response, in boto3's shape, per protocol."""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
from typing import Any

import pytest
from course.backend.process import Backend
from course.flow import (
    DOCUMENT_CAP,
    ENTRY_CAP,
    TEXT_CAP,
    ApiCall,
    Clipped,
    Flow,
    call_entry,
    encode_entry,
    flow_page,
    page_bytes,
    sha256_hex,
    utf8_size,
)

from tests.conftest import make_client


def _calls(backend: Backend) -> Flow:
    return Flow.from_json(backend.flow())


def test_json_protocol_request_and_response_of_sqs(backend: Backend) -> None:
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="recorded")["QueueUrl"]
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"name": "An"}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "person"}},
    )
    received = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])
    flow = _calls(backend)
    send = flow.calls_to("sqs", "SendMessage")[0]
    assert send.request["MessageBody"] == '{"name": "An"}'
    assert send.request["MessageAttributes"]["kind"]["StringValue"] == "person"
    assert send.response["MessageId"] == sent["MessageId"]
    receive = flow.calls_to("sqs", "ReceiveMessage", queue="recorded")[0]
    assert receive.response["Messages"][0]["MessageId"] == received["Messages"][0]["MessageId"]
    assert receive.response["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "1"
    assert [c.seq for c in flow] == sorted(c.seq for c in flow)


def test_query_protocol_request_and_response_of_sns(backend: Backend) -> None:
    sns = make_client(backend, "sns")
    topic = sns.create_topic(Name="recorded-topic")["TopicArn"]
    published = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="Hello from the course",
        MessageAttributes={"env": {"DataType": "String", "StringValue": "dev"}},
    )
    publish = _calls(backend).calls_to("sns", "Publish")[0]
    assert publish.request == {
        "TopicArn": topic,
        "Message": "hello",
        "Subject": "Hello from the course",
        "MessageAttributes": {"env": {"DataType": "String", "StringValue": "dev"}},
    }
    assert publish.response == {"MessageId": published["MessageId"]}


def test_errors_are_recorded_with_their_aws_code(backend: Backend) -> None:
    sqs = make_client(backend, "sqs")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="does-not-exist")
    failed = _calls(backend).calls_to("sqs", "GetQueueUrl", ok=False)[0]
    assert failed.status == 400
    assert "NonExistentQueue" in failed.error_code


def test_rest_json_protocol_of_sesv2(backend: Backend) -> None:
    sesv2 = make_client(backend, "sesv2")
    sesv2.create_email_identity(EmailIdentity="learner@example.net")
    call = _calls(backend).calls_to("sesv2", "CreateEmailIdentity")[0]
    assert call.request["EmailIdentity"] == "learner@example.net"
    assert call.response["IdentityType"] == "EMAIL_ADDRESS"


def test_a_malformed_json_request_is_recorded_and_does_not_break_the_backend(
    backend: Backend,
) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        backend.url + "/",
        data=b"{this is not json",
        method="POST",
        headers={
            "X-Amz-Target": "AmazonSQS.ListQueues",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/sqs/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    with contextlib.suppress(urllib.error.HTTPError):  # moto may refuse it; the record matters
        urllib.request.urlopen(request, timeout=10).close()
    calls = _calls(backend).calls_to("sqs", "ListQueues")
    assert len(calls) == 1 and calls[0].request == {}
    assert backend.healthy()


def test_the_entry_the_backend_writes_is_the_call_the_checks_read() -> None:
    """``course.flow`` writes the record's format and reads it: an entry built for a call, in a
    page of the record, comes back as that call."""
    request = {"QueueUrl": "http://localhost/123456789012/jobs", "WaitTimeSeconds": 30}
    response = {"Error": {"Code": "InvalidParameterValue", "Message": "too long"}}
    where = {"service": "sqs", "region": "eu-west-1"}
    refused = call_entry(
        seq=7,
        action="ReceiveMessage",
        protocol="json",
        started=10.0,
        ended=10.5,
        status=400,
        request=request,
        response=response,
        **where,
    )
    flow = Flow.from_json(json.loads(json.dumps(flow_page([refused], dropped=2, next_seq=8))))
    assert flow.dropped == 2
    [call] = flow.calls
    assert call == ApiCall(
        seq=7,
        action="ReceiveMessage",
        started=10.0,
        ended=10.5,
        status=400,
        request=request,
        response=response,
        error={"code": "InvalidParameterValue", "message": "too long"},
        **where,
    )
    assert call.queue_name == "jobs" and not call.ok and call.error_code == "InvalidParameterValue"
    ok = call_entry(
        seq=8,
        action="ListQueues",
        protocol="json",
        started=11.0,
        ended=11.0,
        status=200,
        request={},
        response={},
        **where,
    )
    assert "error" not in ok and ApiCall.from_json(ok).error is None


# ---------------------------------------------------------------- the record's size bound


def entry_of(
    request: dict[str, Any], response: dict[str, Any] | None = None, seq: int = 1
) -> dict[str, Any]:
    """The record's entry of a successful SQS call (``tests/backend/test_flow_bounds.py`` uses
    it too)."""
    times = {"started": 0.0, "ended": 0.0, "status": 200, "protocol": "json", "region": "r"}
    where = {"seq": seq, "service": "sqs", "action": "SendMessage", **times}
    return call_entry(request=request, response=response or {}, **where)


def _read_back(entry: dict[str, Any]) -> ApiCall:
    """The call a reader gets for ``entry`` after the record kept and served it."""
    page = page_bytes([encode_entry(entry)], dropped=0, next_seq=2, more=False)
    [call] = Flow.from_json(json.loads(page)).calls
    return call


def test_a_long_text_keeps_its_start_its_size_and_digests_and_compares_whole() -> None:
    body = "".join(f"line {i:06d} é\n" for i in range(20_000))  # about 300 KB, not ASCII
    call = _read_back(entry_of({"MessageBody": body, "QueueUrl": "u"}))
    kept = call.request["MessageBody"]
    assert isinstance(kept, Clipped) and kept.kept == "prefix"
    assert str(kept) == body[:TEXT_CAP]
    assert utf8_size(kept) == len(body.encode()) and utf8_size(body) == len(body.encode())
    assert kept.md5 == hashlib.md5(body.encode()).hexdigest()  # SQS's MD5OfMessageBody
    assert kept.sha256 == sha256_hex(body) == hashlib.sha256(body.encode()).hexdigest()
    assert kept == body and body == kept and [kept != body, body != kept] == [False, False]
    other = body[:-2] + "!\n"  # the same start, another end
    assert kept != other and other != kept
    again = _read_back(entry_of({"MessageBody": body}))
    assert again.request["MessageBody"] == kept and {kept, again.request["MessageBody"]} == {kept}
    assert pickle.loads(pickle.dumps(kept)) == body
    assert call.request["QueueUrl"] == "u" and type(call.request["QueueUrl"]) is str


def test_short_values_and_json_up_to_its_bound_are_kept_whole() -> None:
    short = "x" * TEXT_CAP
    document = json.dumps(
        {"Records": [{"messageId": str(i), "body": "y" * 900} for i in range(30)]}
    )
    assert TEXT_CAP < len(document) <= DOCUMENT_CAP
    call = _read_back(entry_of({"MessageBody": short, "Payload": document}))
    assert type(call.request["MessageBody"]) is str and call.request["MessageBody"] == short
    assert type(call.request["Payload"]) is str and call.request["Payload"] == document
    assert "clipped" not in entry_of({"MessageBody": short, "Payload": document})


def test_long_json_keeps_its_structure_with_its_strings_cut() -> None:
    records = [
        {"messageId": f"m{i}", "receiptHandle": f"h{i}", "body": "z" * 20_000} for i in range(5)
    ]
    document = json.dumps({"Records": records})
    assert len(document) > DOCUMENT_CAP
    kept = _read_back(entry_of({"Payload": document})).request["Payload"]
    assert isinstance(kept, Clipped) and kept.kept == "json" and kept == document
    parsed = json.loads(kept)
    assert [r["messageId"] for r in parsed["Records"]] == [f"m{i}" for i in range(5)]
    assert [len(r["body"]) for r in parsed["Records"]] == [TEXT_CAP] * 5
    too_many = json.dumps([f"{i:05d}" * 1000 for i in range(40)])  # structure alone too long
    assert _read_back(entry_of({"Payload": too_many})).request["Payload"].kept == "prefix"


def test_deep_nesting_and_entries_of_many_values_stay_bounded() -> None:
    deep: Any = "bottom"
    for _ in range(5_000):
        deep = [deep]
    entry = entry_of({"Deep": deep, "Text": "[" * 10_000})
    data = encode_entry(entry)
    assert len(data) < 2 * TEXT_CAP and b"nested too deep" in data
    many = entry_of({"Tags": {f"k{i}": "v" * 4000 for i in range(400)}})  # 1.6 MB, no long value
    outline = json.loads(encode_entry(many))
    assert outline["request"] == {} and outline["truncated"]["bytes"] > ENTRY_CAP
    assert len(encode_entry(many)) < 1000 and ApiCall.from_json(outline).action == "SendMessage"


def test_a_page_says_whether_more_calls_follow() -> None:
    entries = [encode_entry({**entry_of({}), "seq": n}) for n in (3, 4)]
    page = json.loads(page_bytes(entries, dropped=1, next_seq=9, more=True))
    assert [c["seq"] for c in page["calls"]] == [3, 4]
    assert (page["dropped"], page["next"], page["more"]) == (1, 9, True)
    assert json.loads(page_bytes([], dropped=0, next_seq=1, more=False))["calls"] == []
