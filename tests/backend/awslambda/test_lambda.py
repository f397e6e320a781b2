"""Lambda functions really run without Docker (``lambda_runtime.py``, ``ext/lambda_invoke.py``).

moto 5.2 runs a handler only in Docker; without it Invoke answers a canned string and nothing is
logged. The kit runs the Python handler in its own process with the function's timeout,
environment and a context object, and writes its output to CloudWatch Logs as Lambda does.
"""

from __future__ import annotations

import base64
import io
import json
import re
import textwrap
import time
import urllib.request
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError
from course.backend.process import Backend

from tests.conftest import make_client

INVOKE = "https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html"
LOGGING = "https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html"
CONTEXT = "https://docs.aws.amazon.com/lambda/latest/dg/python-context.html"
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")

HANDLER = """
import json
import os
import time
import urllib.request

def lambda_handler(event, context):
    print("event", json.dumps(event))
    if event.get("fail"):
        raise ValueError("boom")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("env"):
        return {k: os.environ.get(k) for k in event["env"]}
    return {
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "arn": context.invoked_function_arn,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "version": context.function_version,
    }
"""


def zipped(source: str, name: str = "lambda_function.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


@pytest.fixture
def lam(backend: Backend) -> Any:
    return make_client(backend, "lambda")


@pytest.fixture
def logs(backend: Backend) -> Any:
    return make_client(backend, "logs")


@pytest.fixture
def role(backend: Backend) -> str:
    return make_role(backend)


def make_role(backend: Backend) -> str:
    """The ARN of a new role named ``runner`` that Lambda may assume."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = make_client(backend, "iam")
    return iam.create_role(RoleName="runner", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]


def create(lam: Any, role: str, name: str = "runner", source: str = HANDLER, **kw: Any) -> Any:
    return lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": zipped(source)},
        **kw,
    )


def invoke(lam: Any, payload: Any, **kw: Any) -> tuple[dict[str, Any], Any]:
    answer = lam.invoke(FunctionName="runner", Payload=json.dumps(payload), **kw)
    body = answer["Payload"].read()
    return answer, json.loads(body) if body else None


def streams(logs: Any, name: str = "runner") -> list[list[str]]:
    """Each log stream's messages, oldest stream first."""
    group = f"/aws/lambda/{name}"
    found = logs.describe_log_streams(logGroupName=group, orderBy="LogStreamName")["logStreams"]
    return [
        [
            e["message"]
            for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])[
                "events"
            ]
        ]
        for s in found
    ]


def test_invoke_runs_the_handler_with_a_context(lam: Any, logs: Any, role: str) -> None:
    """Invoke (INVOKE): "When you invoke a function synchronously, Lambda runs the function and
    waits for a response." The context (CONTEXT) has function_name, aws_request_id,
    memory_limit_in_mb, invoked_function_arn, log_group_name, log_stream_name and
    get_remaining_time_in_millis, "the number of milliseconds left before the execution times
    out"."""
    fn = create(lam, role, MemorySize=256, Timeout=5)
    answer, result = invoke(lam, {"name": "An"})
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert result["function_name"] == "runner"
    assert result["memory"] == 256
    assert 0 < result["remaining"] <= 5000
    assert result["arn"] == fn["FunctionArn"]
    assert result["group"] == "/aws/lambda/runner"
    assert STREAM.match(result["stream"])
    assert result["version"] == "$LATEST"
    assert answer["ResponseMetadata"]["RequestId"] == result["request_id"]


def test_each_run_is_logged_with_start_end_and_report_lines(lam: Any, logs: Any, role: str) -> None:
    """LOGGING: "The Python runtime logs the START, END, and REPORT lines for each invocation",
    in the log group /aws/lambda/<function name>, with what the function prints in between:
    "START RequestId: ... Version: $LATEST", "END RequestId: ...", "REPORT RequestId: ...
    Duration: ... ms Billed Duration: ... ms Memory Size: 128 MB Max Memory Used: ... MB"."""
    create(lam, role)
    _, first = invoke(lam, {"n": 1})
    _, second = invoke(lam, {"n": 2})
    runs = streams(logs)
    assert len(runs) == 2  # one stream per run
    by_request = {run[0].split()[2]: run for run in runs}
    run = by_request[first["request_id"]]
    assert run[0] == f"START RequestId: {first['request_id']} Version: $LATEST"
    assert run[1] == 'event {"n": 1}'
    assert run[-2] == f"END RequestId: {first['request_id']}"
    assert re.match(
        rf"REPORT RequestId: {first['request_id']}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\t",
        run[-1],
    )
    assert 'event {"n": 2}' in by_request[second["request_id"]]
    group = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    assert [g["logGroupName"] for g in group] == ["/aws/lambda/runner"]


def test_the_function_environment_variables_are_set(lam: Any, role: str) -> None:
    """https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html: the function's
    variables, and Lambda's reserved ones (AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, ...)."""
    create(lam, role, Environment={"Variables": {"GREETING": "xin chao"}})
    _, result = invoke(
        lam,
        {
            "env": [
                "GREETING",
                "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_REGION",
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "COURSE_ADMIN_TOKEN",
            ]
        },
    )
    assert result == {
        "GREETING": "xin chao",
        "AWS_LAMBDA_FUNCTION_NAME": "runner",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/runner",
        "COURSE_ADMIN_TOKEN": None,  # the backend's secret never reaches function code
    }


def test_a_raised_exception_is_a_function_error(lam: Any, logs: Any, role: str) -> None:
    """Invoke (INVOKE): "If there is an error in the function, details about the error are in the
    response payload" and X-Amz-Function-Error is set; the Python runtime's error document is
    {"errorMessage", "errorType", "requestId", "stackTrace"}
    (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html)."""
    create(lam, role)
    answer, error = invoke(lam, {"fail": True})
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "boom")
    assert any("lambda_function.py" in line for line in error["stackTrace"])
    (run,) = streams(logs)
    assert any(m.startswith("[ERROR] ValueError: boom\nTraceback") for m in run)


def test_the_timeout_stops_the_handler(lam: Any, logs: Any, role: str) -> None:
    """https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html: "Lambda runs your
    code for a set amount of time before timing out"; the log says "Task timed out after 1.00
    seconds"."""
    create(lam, role, Timeout=1)
    started = time.monotonic()
    answer, error = invoke(lam, {"sleep": 10})
    assert time.monotonic() - started < 5
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    (run,) = streams(logs)
    assert any(m.endswith("Task timed out after 1.00 seconds") for m in run)
    assert run[-1].endswith("Status: timeout")


def test_log_type_tail_returns_the_end_of_the_log(lam: Any, role: str) -> None:
    """Invoke (INVOKE): LogType "Tail" returns "the last 4 KB of the execution log" in
    X-Amz-Log-Result (base64)."""
    create(lam, role)
    answer, result = invoke(lam, {"x": 1}, LogType="Tail")
    log = base64.b64decode(answer["LogResult"]).decode()
    assert log.startswith(f"START RequestId: {result['request_id']}")
    assert 'event {"x": 1}' in log


def test_an_event_invocation_is_queued_and_still_logged(
    backend: Backend, lam: Any, logs: Any, role: str
) -> None:
    """Invoke (INVOKE): with InvocationType Event, Lambda queues the event and answers 202 at once;
    the run is logged when it happens. /_course/lambda/idle waits for queued runs."""
    create(lam, role)
    answer = lam.invoke(FunctionName="runner", InvocationType="Event", Payload=b'{"async": 1}')
    assert answer["StatusCode"] == 202
    with urllib.request.urlopen(f"{backend.url}/_course/lambda/idle") as r:
        assert json.loads(r.read()) == {"idle": True}
    (run,) = streams(logs)
    assert 'event {"async": 1}' in run


def test_dry_run_checks_without_running(lam: Any, logs: Any, role: str) -> None:
    create(lam, role)
    assert lam.invoke(FunctionName="runner", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(ClientError):
        streams(logs)


def test_an_unknown_function_is_not_found(lam: Any) -> None:
    """Invoke (INVOKE): ResourceNotFoundException, HTTP 404, "The resource specified in the
    request does not exist"."""
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="nobody", Payload=b"{}")


def test_a_payload_that_is_not_json_is_refused(lam: Any, role: str) -> None:
    """Invoke (INVOKE): InvalidRequestContentException, "The request body could not be parsed as
    JSON"."""
    create(lam, role)
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="runner", Payload=b"not json")


@pytest.mark.parametrize(
    ("handler", "files", "error_type"),
    [
        ("missing.lambda_handler", {"lambda_function.py": HANDLER}, "Runtime.ImportModuleError"),
        ("lambda_function.nothing", {"lambda_function.py": HANDLER}, "Runtime.HandlerNotFound"),
        (
            "lambda_function.lambda_handler",
            {"lambda_function.py": "def (:"},
            "Runtime.UserCodeSyntaxError",
        ),
    ],
)
def test_a_broken_package_reports_the_runtime_error(
    lam: Any, role: str, handler: str, files: dict[str, str], error_type: str
) -> None:
    """https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html: the Python runtime's
    errors when the handler cannot be loaded, e.g. "Runtime.ImportModuleError: Unable to import
    module"."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    lam.create_function(
        FunctionName="runner",
        Runtime="python3.12",
        Role=role,
        Handler=handler,
        Code={"ZipFile": buffer.getvalue()},
    )
    answer, error = invoke(lam, {})
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == error_type


def test_a_handler_reaches_the_backend_with_boto3(backend: Backend, lam: Any, role: str) -> None:
    """Inside the function, boto3 calls go to the same backend (AWS_ENDPOINT_URL), as on AWS they
    go to the account's services."""
    source = """
    import boto3

    def lambda_handler(event, context):
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="made-by-lambda")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="from lambda")
        return url
    """
    create(lam, role, source=source, Timeout=30)
    _, url = invoke(lam, {})
    sqs = make_client(backend, "sqs")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "from lambda"


def test_reset_forgets_functions_and_their_runs(backend: Backend, lam: Any, role: str) -> None:
    create(lam, role)
    invoke(lam, {})
    backend.reset()
    logs = make_client(backend, "logs")
    assert logs.describe_log_groups()["logGroups"] == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="runner", Payload=b"{}")


def test_reset_drops_queued_runs_without_hanging(backend: Backend, lam: Any, role: str) -> None:
    """More Event invocations than the worker pool runs at once leave some queued; a reset
    cancels those and kills the running ones, and answers at once (it hung when a cancelled
    run's callback waited for the lock reset held)."""
    create(lam, role, source=HANDLER, Timeout=30)
    for _ in range(8):
        lam.invoke(FunctionName="runner", InvocationType="Event", Payload=b'{"sleep": 20}')
    started = time.monotonic()
    backend.reset()
    assert time.monotonic() - started < 10
    with urllib.request.urlopen(f"{backend.url}/_course/lambda/idle?timeout=10") as r:
        assert json.loads(r.read()) == {"idle": True}
