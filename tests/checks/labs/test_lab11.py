"""Every check of lab 11 passes on right submissions and fails on wrong ones.

Submissions are plain boto3 against a real backend process, whose pollers run the real function;
visibility timeouts are skipped by advancing the backend's clock.
"""

from __future__ import annotations

import io
import json
import textwrap
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from course.backend.process import Backend
from course.checks.context import Aws
from course.flow import Flow

from tests.checks.labs.account import AccountAws, account_checks
from tests.conftest import check_results, make_client, make_resource
from tests.real_account.standin import PREFIX

ORDERS = [json.dumps({"order_id": f"A-{i}", "amount": "1.50", "currency": "usd"}) for i in range(4)]
POISON = "order A-9: amount forty-two"

#: The solution's handler: transform, report the poison record.
REPORTS = """
import json, os, boto3
sqs = boto3.client("sqs")

def transform(body, message_id):
    order = json.loads(body)
    return {"order_id": order["order_id"], "source_message_id": message_id}

def handler(event, context):
    failures = []
    for r in event["Records"]:
        try:
            clean = transform(r["body"], r["messageId"])
        except ValueError:
            failures.append({"itemIdentifier": r["messageId"]})
            continue
        sqs.send_message(QueueUrl=os.environ["OUT"], MessageBody=json.dumps(clean))
    return {"batchItemFailures": failures}
"""
#: The pattern before partial batch responses: delete the good ones yourself, then raise.
DELETES_THEN_RAISES = REPORTS.replace(
    '    return {"batchItemFailures": failures}',
    """    for r in event["Records"]:
        if {"itemIdentifier": r["messageId"]} not in failures:
            sqs.delete_message(QueueUrl=os.environ["SRC"], ReceiptHandle=r["receiptHandle"])
    if failures:
        raise ValueError(f"{len(failures)} record(s) failed")""",
)
#: Raises on the poison record: the whole batch comes back.
RAISES = REPORTS.replace(
    "            failures.append",
    "            raise\n            failures.append",
)
#: Swallows the error: the poison record is deleted with the others.
SWALLOWS = REPORTS.replace('    return {"batchItemFailures": failures}', "    return None")
#: Reports every record as failed.
REPORTS_ALL = REPORTS.replace(
    '    return {"batchItemFailures": failures}',
    '    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in '
    'event["Records"]]}',
)


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", textwrap.dedent(source))
    return buffer.getvalue()


class Etl:
    """The lab's resources as a submission made them."""

    def __init__(
        self,
        backend: Backend,
        handler: str = REPORTS,
        visibility: int = 60,
        timeout: int = 10,
        resource_api: bool = False,
        prefix: str = "",
    ) -> None:
        self.backend = backend
        self.prefix = prefix  # the learner's, on a real account
        self.sqs = make_client(backend, "sqs")
        self.lam = make_client(backend, "lambda")
        if resource_api:
            sqs = make_resource(backend)
            dlq = sqs.create_queue(QueueName="etl-dlq")
            policy = {"deadLetterTargetArn": dlq.attributes["QueueArn"], "maxReceiveCount": "2"}
            queue = sqs.create_queue(
                QueueName="etl-queue",
                Attributes={
                    "VisibilityTimeout": str(visibility),
                    "RedrivePolicy": json.dumps(policy),
                },
            )
            self.url, self.arn = queue.url, queue.attributes["QueueArn"]
            out = sqs.create_queue(QueueName="etl-output").url
        else:
            dlq_url = self.sqs.create_queue(QueueName=f"{prefix}etl-dlq")["QueueUrl"]
            policy = {"deadLetterTargetArn": self._arn(dlq_url), "maxReceiveCount": "2"}
            self.url = self.sqs.create_queue(
                QueueName=f"{prefix}etl-queue",
                Attributes={
                    "VisibilityTimeout": str(visibility),
                    "RedrivePolicy": json.dumps(policy),
                },
            )["QueueUrl"]
            self.arn = self._arn(self.url)
            out = self.sqs.create_queue(QueueName=f"{prefix}etl-output")["QueueUrl"]
        role = make_client(backend, "iam").create_role(
            RoleName=f"{prefix}etl-worker-role", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        self.function_arn = self.lam.create_function(
            FunctionName=f"{prefix}etl-worker",
            Runtime="python3.12",
            Role=role,
            Handler="lambda_function.handler",
            Code={"ZipFile": zipped(handler)},
            Timeout=timeout,
            Environment={"Variables": {"OUT": out, "SRC": self.url}},
        )["FunctionArn"]

    def _arn(self, url: str) -> str:
        answer = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(answer["Attributes"]["QueueArn"])

    def mapping(self, **kw: Any) -> None:
        kw = {"BatchSize": 5, "FunctionResponseTypes": ["ReportBatchItemFailures"], **kw}
        kw = {k: v for k, v in kw.items() if v is not None}
        kw.setdefault("FunctionName", f"{self.prefix}etl-worker")
        self.lam.create_event_source_mapping(EventSourceArn=self.arn, **kw)

    def send(self, one_by_one: bool = False) -> None:
        bodies = [*ORDERS[:2], POISON, *ORDERS[2:]]
        if one_by_one:
            for body in bodies:
                self.sqs.send_message(QueueUrl=self.url, MessageBody=body)
            return
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
        self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)

    def invokes(self) -> int:
        flow = Flow.from_json(self.backend.flow())
        return len([c for c in flow.calls_to("lambda", "Invoke") if c.principal == "lambda"])

    def wait(self, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert time.monotonic() < deadline, "timed out waiting"
            time.sleep(0.1)

    def first_batch(self, one_by_one: bool = False) -> None:
        """Send the five records and wait until the poller has handled their first batch."""
        self.send(one_by_one)
        self.wait(lambda: self.invokes() >= 1)
        time.sleep(0.5)  # the batch's deletes

    def run(self, retries: int = 2, one_by_one: bool = False) -> None:
        """Send the five records and let the poison one be retried until SQS moves it."""
        self.first_batch(one_by_one)
        for round_ in range(retries):
            self.backend.advance_clock(61)
            if round_ == 0:  # a record came back and ran again (unless none was left)
                self.wait(lambda: self.invokes() >= 2 or not self.stored("etl-queue"))
                time.sleep(0.3)
            else:  # the next receive moved what had been received twice
                self.wait(lambda: not self.stored("etl-queue"))

    def stored(self, queue: str) -> list[dict[str, Any]]:
        return self.backend.api.queue_messages(queue, "us-east-1") or []


def outcomes(aws: Aws) -> dict[str, str]:
    return {k: v.outcome for k, v in check_results("11", aws).items()}


PASSED = {
    "mapping": "passed",
    "processed": "passed",
    "partial-failure": "passed",
    "bad-record-in-dlq": "passed",
}


def test_an_untouched_backend_attempts_nothing(aws: Aws) -> None:
    assert set(outcomes(aws).values()) == {"not_attempted"}


def test_the_solution_s_way_scores_ten(backend: Backend, aws: Aws) -> None:
    etl = Etl(backend)
    etl.mapping()
    etl.run()
    assert outcomes(aws) == PASSED
    assert len(etl.stored("etl-dlq")) == 1


def test_the_resource_api_an_arn_and_a_batching_window_pass(backend: Backend, aws: Aws) -> None:
    """Unusual but right: queues made with the resource API, the function named by its ARN,
    records sent one by one and gathered by a batching window."""
    etl = Etl(backend, resource_api=True)
    etl.mapping(FunctionName=etl.function_arn, MaximumBatchingWindowInSeconds=3)
    etl.run(one_by_one=True)
    assert outcomes(aws) == PASSED


def test_deleting_the_good_ones_then_raising_passes(backend: Backend, aws: Aws) -> None:
    """Unusual but right: the pattern before partial batch responses (the function deletes what
    it processed, then raises so that the rest comes back)."""
    etl = Etl(backend, handler=DELETES_THEN_RAISES)
    etl.mapping(FunctionResponseTypes=None)
    etl.run()
    result = outcomes(aws)
    assert result["processed"] == result["partial-failure"] == "passed"
    assert result["bad-record-in-dlq"] == "passed"
    assert result["mapping"] == "failed"  # no ReportBatchItemFailures on the mapping


@pytest.mark.parametrize(
    ("change", "wrong"),
    [
        ({"BatchSize": 10}, "BatchSize is 10"),
        ({"FunctionResponseTypes": None}, "ReportBatchItemFailures"),
        ({"Enabled": False}, "not Enabled"),
    ],
)
def test_a_wrong_mapping_fails(
    backend: Backend, aws: Aws, change: dict[str, Any], wrong: str
) -> None:
    etl = Etl(backend)
    etl.mapping(**change)
    result = check_results("11", aws)["mapping"]
    assert result.outcome == "failed"
    assert wrong in result.message


def test_a_visibility_timeout_below_six_times_fails(backend: Backend, aws: Aws) -> None:
    """Lambda accepts a visibility timeout equal to the function's timeout; the lab teaches six
    times."""
    Etl(backend, visibility=10).mapping()
    result = check_results("11", aws)["mapping"]
    assert result.outcome == "failed"
    assert "less than 6 x" in result.message


def test_no_mapping_is_not_attempted(backend: Backend, aws: Aws) -> None:
    Etl(backend)
    assert outcomes(aws)["mapping"] == "not_attempted"


def test_raising_sends_the_whole_batch_back(backend: Backend, aws: Aws) -> None:
    etl = Etl(backend, handler=RAISES)
    etl.mapping()
    etl.run()
    result = outcomes(aws)
    assert result["processed"] == "failed"
    assert result["partial-failure"] == "failed"
    assert result["bad-record-in-dlq"] == "not_attempted"


def test_swallowing_the_error_loses_the_bad_record(backend: Backend, aws: Aws) -> None:
    etl = Etl(backend, handler=SWALLOWS)
    etl.mapping()
    etl.first_batch()
    backend.advance_clock(61)
    time.sleep(1.5)
    result = outcomes(aws)
    assert result["processed"] == "passed"
    assert result["partial-failure"] == "failed"
    assert result["bad-record-in-dlq"] == "not_attempted"


def test_reporting_every_record_fails(backend: Backend, aws: Aws) -> None:
    etl = Etl(backend, handler=REPORTS_ALL)
    etl.mapping()
    etl.run()
    result = outcomes(aws)
    assert result["processed"] == "failed"
    assert result["partial-failure"] == "failed"


def test_without_report_batch_item_failures_the_bad_record_is_deleted(
    backend: Backend, aws: Aws
) -> None:
    etl = Etl(backend)
    etl.mapping(FunctionResponseTypes=None)
    etl.first_batch()
    result = outcomes(aws)
    assert result["partial-failure"] == "failed"
    assert result["bad-record-in-dlq"] == "not_attempted"


def test_receiving_and_deleting_by_hand_is_not_the_mapping(backend: Backend, aws: Aws) -> None:
    """A student's own consumer loop is not the poller: nothing counts."""
    etl = Etl(backend)
    etl.send()
    for message in etl.sqs.receive_message(QueueUrl=etl.url, MaxNumberOfMessages=10)["Messages"]:
        etl.sqs.delete_message(QueueUrl=etl.url, ReceiptHandle=message["ReceiptHandle"])
    result = outcomes(aws)
    assert result["processed"] == result["partial-failure"] == "not_attempted"


def test_the_bad_record_not_yet_in_the_dlq_fails(backend: Backend, aws: Aws) -> None:
    """Retried once only (the lab stopped before the second visibility timeout ran out): the bad
    record is still in etl-queue, not in etl-dlq."""
    etl = Etl(backend)
    etl.mapping()
    etl.run(retries=1)
    result = check_results("11", aws)["bad-record-in-dlq"]
    assert result.outcome == "failed"
    assert "is not in etl-dlq" in result.message


# -- a real account (issue 15): the learner's prefix, read-only checks
def account_outcomes(backend: Backend) -> dict[str, str]:
    """Every check of lab 11 on a real account with the learner's prefix; they only read."""
    results, writes = account_checks("11", AccountAws(backend, prefix=PREFIX))
    assert writes == []
    return {k: r.outcome for k, r in results.items()}


def test_a_real_account_checks_the_prefixed_mapping_by_reading(backend: Backend) -> None:
    Etl(backend, prefix=PREFIX).mapping()
    assert account_outcomes(backend) == {
        "mapping": "passed",
        "processed": "not_checkable",
        "partial-failure": "not_checkable",
        "bad-record-in-dlq": "not_checkable",
    }


def test_a_real_account_does_not_take_the_plain_names(backend: Backend) -> None:
    Etl(backend).mapping()
    assert account_outcomes(backend)["mapping"] == "not_attempted"


def test_a_real_account_still_fails_a_wrong_mapping(backend: Backend) -> None:
    Etl(backend, prefix=PREFIX).mapping(BatchSize=10)
    assert account_outcomes(backend)["mapping"] == "failed"
