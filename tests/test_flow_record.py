"""The server-side flow record holds each request and response, in boto3's shape, per protocol."""

from __future__ import annotations

import contextlib
import json

import pytest
from course.backend.process import Backend
from course.flow import ApiCall, Flow, call_entry, flow_page

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
