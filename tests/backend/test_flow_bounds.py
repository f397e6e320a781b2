"""The flow record under load: values kept within a size bound that the checks can still read
and compare, pages read without holding up API calls, and crashed calls recorded too.

The record's format is pinned in ``tests/test_flow_record.py``; here the backend serves it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from course.backend.core import server
from course.backend.core.server import FlowRecorder
from course.backend.process import Backend
from course.checks.readers.sqs import receives, sends
from course.client import BackendClient
from course.flow import TEXT_CAP, Clipped, Flow, utf8_size

from tests.backend.crashing_hook import CRASH_PREFIX
from tests.conftest import make_client
from tests.test_flow_record import entry_of

ROOT = Path(__file__).resolve().parents[2]


def _raw_page(backend: Backend, query: str) -> bytes:
    with urllib.request.urlopen(f"{backend.url}/_course/flow?{query}", timeout=10) as answer:
        return answer.read()


def test_a_large_message_is_recorded_by_its_start_size_and_digests(backend: Backend) -> None:
    """A 255 KB body is kept as its first ``TEXT_CAP`` characters with its size and digests, and
    still compares equal to the body sent, in SendMessage and ReceiveMessage alike. Its MD5 is
    the one SQS answers with: "MD5OfMessageBody: An MD5 digest of the non-URL-encoded message
    body string" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
    """
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="large")["QueueUrl"]
    body = "".join(f"frame {i:07d};" for i in range(17_000))  # 255 KB
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)
    [got] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert len(_raw_page(backend, "since=0")) < 6 * TEXT_CAP  # three calls, not 510 KB
    flow = Flow.from_json(backend.flow())
    [sent_body] = [s.body for s in sends(flow, "large")]
    [received] = receives(flow, "large")
    assert isinstance(sent_body, Clipped) and str(sent_body) == body[:TEXT_CAP]
    assert sent_body == body and received.body == sent_body == got["Body"]
    assert sent_body != body[:-1] + "!"
    assert sent_body.md5 == sent["MD5OfMessageBody"] == received.body.md5 == got["MD5OfBody"]
    assert utf8_size(sent_body) == len(body)


def test_large_json_keeps_the_fields_a_check_parses(backend: Backend) -> None:
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="documents")["QueueUrl"]
    small = json.dumps({"name": "An", "age": 30, "notes": "n" * 6_000})
    large = json.dumps({"source_message_id": "m-1", "video": "v" * 200_000})
    for body in (small, large):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    kept = [s.body for s in sends(Flow.from_json(backend.flow()), "documents")]
    assert type(kept[0]) is str and kept[0] == small  # under the bound for JSON: whole
    assert isinstance(kept[1], Clipped) and kept[1] == large
    assert json.loads(kept[1])["source_message_id"] == "m-1"
    assert len(json.loads(kept[1])["video"]) == TEXT_CAP


def test_a_refused_oversized_request_keeps_its_size_not_its_bytes(backend: Backend) -> None:
    sqs = make_client(backend, "sqs")
    url = sqs.create_queue(QueueName="limits")["QueueUrl"]
    body = "x" * (5 << 20)
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert len(_raw_page(backend, "since=0")) < 4 * TEXT_CAP
    [refused] = Flow.from_json(backend.flow()).calls_to("sqs", "SendMessage", ok=False)
    assert utf8_size(refused.request["MessageBody"]) == 5 << 20
    assert refused.request["MessageBody"] == body


def test_the_record_is_read_in_pages(backend: Backend) -> None:
    sqs = make_client(backend, "sqs")
    for n in range(25):
        sqs.list_queues(QueueNamePrefix=f"p{n}")
    first = json.loads(_raw_page(backend, "since=0&limit=10"))
    assert [c["seq"] for c in first["calls"]] == list(range(1, 11)) and first["more"] is True
    last = json.loads(_raw_page(backend, "since=20&limit=10"))
    assert [c["seq"] for c in last["calls"]] == list(range(21, 26)) and last["more"] is False
    paged = BackendClient(backend.url).flow(page=7)
    assert [c["seq"] for c in paged["calls"]] == list(range(1, 26)) and paged["next"] == 26
    assert paged["calls"] == BackendClient(backend.url).flow_page(0, 100)["calls"]
    assert [c["seq"] for c in BackendClient(backend.url).flow(since=22, page=2)["calls"]] == [
        23,
        24,
        25,
    ]
    for bad in ("since=abc", "limit=x", "limit=0"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            _raw_page(backend, bad)
        assert refused.value.code == 400


def _entry(seq: int) -> dict[str, Any]:
    return entry_of({}, {"QueueUrls": ["u" * 1000]}, seq)


def test_calls_are_recorded_while_a_page_is_being_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader writing out a long page holds no lock the API calls need: calls begin and are
    recorded meanwhile."""
    record = FlowRecorder()
    for _ in range(3):
        seq, epoch = record.start()
        record.add(seq, _entry(seq), epoch)
    writing, release = threading.Event(), threading.Event()
    real_page_bytes = server.page_bytes

    def slow_page_bytes(*args: Any, **kwargs: Any) -> bytes:
        writing.set()
        release.wait(10)
        return real_page_bytes(*args, **kwargs)

    monkeypatch.setattr(server, "page_bytes", slow_page_bytes)
    pages: list[bytes] = []
    reader = threading.Thread(target=lambda: pages.append(record.page(0)))
    reader.start()
    assert writing.wait(10)
    recorded = threading.Event()

    def call() -> None:
        seq, epoch = record.start()
        record.add(seq, _entry(seq), epoch)
        recorded.set()

    threading.Thread(target=call, daemon=True).start()
    try:
        assert recorded.wait(5), "an API call waited for the page being written"
    finally:
        release.set()
        reader.join(10)
    assert [c["seq"] for c in json.loads(pages[0])["calls"]] == [1, 2, 3]
    assert [c["seq"] for c in record.since(0)["calls"]] == [1, 2, 3, 4]


def test_the_record_is_ordered_and_bounded_in_calls_and_bytes() -> None:
    record = FlowRecorder(limit=4, max_bytes=10_000)
    numbers = [record.start() for _ in range(6)]
    for seq, epoch in reversed(numbers[:3]):  # later calls end first (a long poll)
        record.add(seq, _entry(seq), epoch)
    page = json.loads(record.page(0, limit=2))
    assert [c["seq"] for c in page["calls"]] == [1, 2] and page["more"] is True
    for seq, epoch in numbers[3:]:
        record.add(seq, _entry(seq), epoch)
    full = record.since(0)
    assert len(full["calls"]) < 6 and full["dropped"] == 6 - len(full["calls"])
    assert len(json.dumps(full["calls"])) <= 10_000


def test_a_request_that_crashes_is_answered_and_recorded(tmp_path: Path) -> None:
    """A bug in a hook gets AWS's InternalFailure (HTTP 500) and the record keeps the call, with
    the error that broke it; the server goes on answering. AWS: "InternalFailure: The request
    processing has failed because of an unknown error, exception or failure. HTTP Status Code:
    500" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html).
    """
    token = secrets.token_hex(8)
    ready = tmp_path / "ready.json"
    code = (
        "from course.backend.core.server import main; "
        f"main(['--ready-file', {str(ready)!r}], extensions=['tests.backend.crashing_hook'])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "COURSE_ADMIN_TOKEN": token},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{json.loads(ready.read_text())['port']}"
        sqs = _sqs(url)
        with pytest.raises(ClientError) as crashed:
            sqs.list_queues(QueueNamePrefix=CRASH_PREFIX)
        assert crashed.value.response["Error"]["Code"] == "InternalFailure"
        assert crashed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        sqs.list_queues(QueueNamePrefix="fine")
        calls = Flow.from_json(BackendClient(url).flow()).calls_to("sqs", "ListQueues")
        assert [(c.status, c.request.get("QueueNamePrefix")) for c in calls] == [
            (500, CRASH_PREFIX),
            (200, "fine"),
        ]
        assert calls[0].error_code == "InternalFailure"
        assert "RuntimeError: a hook broke on purpose" in (calls[0].error or {})["message"]
        BackendClient(url, token).shutdown()
        _, errors = process.communicate(timeout=20)
        assert b"a hook broke on purpose" in errors  # the traceback, for whoever runs it
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _sqs(url: str) -> Any:
    import boto3

    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )
