"""Malformed requests get AWS's 4xx error, promptly, never HTTP 500 or a hang
(``course/backend/core/validation.py``, ``protocol.py`` and the request entry of ``server.py``).

In a storm of 500 malformed requests, 202 got HTTP 500 (about 40 of them tracebacks in the kit's
own hooks: a list where a map was expected, an unknown region, JSON nested deeper than Python
recurses, text where a number was expected) and ``Content-Length: -1`` hung the backend. Each
case is pinned below; a hypothesis fuzz test sends generated malformed parameters to operations
the kit's hooks handle.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from course.backend.process import Backend
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import make_client

COMMON_ERRORS = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html"
)
SIGV4_ERRORS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html"
SQS_JSON = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "sqs-making-api-requests-json.html"
)
AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)
#: One client call's ceiling: every malformed request is answered well within it.
PROMPT = 1.0


def raw(backend: Backend, head: str, body: bytes = b"", timeout: float = 3.0) -> tuple[int, bytes]:
    """Send one hand-made HTTP request; the status and body of the answer (the connection is
    closed by the server or after ``timeout``)."""
    address = urlsplit(backend.url)
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and _complete(answer):
                    break
        except TimeoutError:
            pass
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def sqs_json(backend: Backend, action: str, body: bytes, region: str = "us-east-1") -> Any:
    """An SQS call in the AWS JSON protocol with ``body`` as it is: status and parsed answer,
    which must come within ``PROMPT`` seconds."""
    address = urlsplit(backend.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"AmazonSQS.{action}",
        "X-Amz-Date": "20260101T000000Z",
        "Authorization": AUTH.format(region=region, service="sqs"),
    }
    started = time.monotonic()
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    assert time.monotonic() - started < PROMPT
    return response.status, json.loads(answer)


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "99999999999999999999"])
def test_a_broken_content_length_is_refused_at_once(backend: Backend, length: str) -> None:
    """A request whose Content-Length is not a whole number of bytes (or is absurdly large) is
    refused before its body is read, and the connection closed: ``-1`` made the backend read
    until the client hung up."""
    head = (
        f"POST / HTTP/1.1\nHost: {urlsplit(backend.url).netloc}\n"
        f"Content-Length: {length}\nConnection: keep-alive\n"
    )
    started = time.monotonic()
    status, _ = raw(backend, head, b"{}")
    assert time.monotonic() - started < PROMPT
    assert status == (413 if length.isdigit() else 400)
    assert backend.healthy()


def test_a_list_where_a_map_is_expected(backend: Backend) -> None:
    """AWS JSON protocol (SQS_JSON): a value the service cannot read as the member's type is a
    client error, ``SerializationException`` (HTTP 400). CreateQueue's ``Attributes`` is a map;
    a list crashed the kit's FIFO name hook."""
    body = json.dumps({"QueueName": "q", "Attributes": ["FifoQueue", "true"]}).encode()
    status, answer = sqs_json(backend, "CreateQueue", body)
    assert (status, answer["__type"].split("#")[1]) == (400, "SerializationException")


def test_text_where_a_number_is_expected(backend: Backend, sqs: Any) -> None:
    """SQS_JSON: ReceiveMessage's ``MaxNumberOfMessages`` is an integer; text is a
    ``SerializationException`` (HTTP 400), not a crash."""
    url = sqs.create_queue(QueueName="numbers")["QueueUrl"]
    body = json.dumps({"QueueUrl": url, "MaxNumberOfMessages": "ten"}).encode()
    status, answer = sqs_json(backend, "ReceiveMessage", body)
    assert (status, answer["__type"].split("#")[1]) == (400, "SerializationException")


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deeply_nested_json_is_refused(backend: Backend, depth: int) -> None:
    """SQS_JSON: a body the service cannot deserialize is a ``SerializationException`` (HTTP
    400); JSON nested past Python's recursion limit raised ``RecursionError`` (HTTP 500)."""
    nested = "[" * depth + "]" * depth
    body = f'{{"QueueName": "q", "Attributes": {nested}}}'.encode()
    status, answer = sqs_json(backend, "CreateQueue", body)
    assert (status, answer["__type"].split("#")[1]) == (400, "SerializationException")
    assert backend.healthy()


def test_json_nested_within_the_bound_is_read(backend: Backend, sqs: Any) -> None:
    """The depth bound refuses only what is deeper than it: a message body is a string, so a
    deeply nested JSON document *inside* it is an ordinary message."""
    url = sqs.create_queue(QueueName="nested")["QueueUrl"]
    document = "[" * 500 + "]" * 500
    sqs.send_message(QueueUrl=url, MessageBody=document)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == document


def test_a_missing_required_member(backend: Backend) -> None:
    """SQS common errors (COMMON_ERRORS): "MissingParameter: A required parameter for the
    specified action is not supplied." (HTTP 400)."""
    status, answer = sqs_json(backend, "SendMessage", json.dumps({"MessageBody": "x"}).encode())
    assert (status, answer["__type"].split("#")[1]) == (400, "MissingParameter")


def query(backend: Backend, service: str, form: bytes, signing: str | None = None) -> Any:
    """A query-protocol call with ``form`` as it is: status and body of the answer."""
    address = urlsplit(backend.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": AUTH.format(region="us-east-1", service=signing or service),
    }
    started = time.monotonic()
    try:
        connection.request("POST", "/", body=form, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
        assert time.monotonic() - started < PROMPT


def test_an_unknown_action_is_a_client_error(backend: Backend) -> None:
    """Common errors (COMMON_ERRORS): "InvalidAction: The action or operation requested is
    invalid" (HTTP 400) in the query protocol; AWS JSON services answer an unknown target with
    ``UnknownOperationException`` (HTTP 400). Both were HTTP 500 (moto's NotImplemented)."""
    status, answer = sqs_json(backend, "NoSuchAction", b"{}")
    assert (status, answer["__type"].split("#")[1]) == (400, "UnknownOperationException")
    status, xml = query(backend, "sns", b"Action=NoSuchAction&Version=2010-03-31")
    assert status == 400 and b"<Code>InvalidAction</Code>" in xml


def test_a_query_call_to_a_service_also_on_json_is_validated(backend: Backend) -> None:
    """CloudWatch's model lists the query protocol beside newer ones (older clients use it), so
    a query call is checked against its shape: text for PutMetricAlarm's ``Period`` is
    ``InvalidParameterValue`` (COMMON_ERRORS: "An invalid or out-of-range value was supplied for
    the input parameter", HTTP 400), where the kit's alarm hook crashed."""
    form = b"Action=PutMetricAlarm&Version=2010-08-01&AlarmName=a&Period=abc"
    status, xml = query(backend, "cloudwatch", form, signing="monitoring")
    assert status == 400 and b"<Code>InvalidParameterValue</Code>" in xml


@pytest.mark.parametrize(
    ("service", "code"), [("sqs", "InvalidSignatureException"), ("sns", "SignatureDoesNotMatch")]
)
def test_an_unknown_region_is_refused(backend: Backend, service: str, code: str) -> None:
    """SigV4 troubleshooting (SIGV4_ERRORS): a credential scope names the region the request is
    for; AWS refuses one no partition has ("Credential should be scoped to a valid region",
    HTTP 403: ``SignatureDoesNotMatch`` in the query protocol, ``InvalidSignatureException`` in
    JSON). An unknown region crashed the kit's hooks, which look up moto's regional state."""
    client = make_client(backend, service, region="xx-nowhere-9")
    with pytest.raises(ClientError) as raised:
        if service == "sqs":
            client.receive_message(QueueUrl=f"{backend.url}/123456789012/q")
        else:
            client.publish(TopicArn="arn:aws:sns:xx-nowhere-9:123456789012:t", Message="m")
    error = raised.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (403, code)
    assert "valid region" in error["Error"]["Message"]


def test_query_protocol_text_where_a_number_is_expected(backend: Backend) -> None:
    """Query protocol: IAM ListUsers' ``MaxItems`` is an integer; text is a ``ValidationError``
    (HTTP 400), the code IAM answers input that fails its constraints with (IAM common errors,
    https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html)."""
    iam = make_client(backend, "iam", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as raised:
        iam.list_users(MaxItems="many")
    error = raised.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
        400,
        "ValidationError",
    )


def test_a_bad_flow_cursor_is_a_client_error(backend: Backend) -> None:
    """``GET /_course/flow?since=abc`` is the caller's mistake (HTTP 400), not a traceback."""
    head = f"GET /_course/flow?since=abc HTTP/1.1\nHost: {urlsplit(backend.url).netloc}\n"
    status, _ = raw(backend, head + "Connection: close\n")
    assert status == 400


# ---------------------------------------------------------------- fuzzing the hooks


def _hooked() -> list[tuple[str, str]]:
    """The operations the kit's hooks handle, as ``course.backend.core.registry`` lists them."""
    from course.backend.core import registry
    from course.backend.extensions import EXTENSIONS

    registry.load_extensions(EXTENSIONS)
    return registry.hooked_operations()


HOOKED = _hooked()
NUMERIC = ("integer", "long", "float", "double", "boolean")  # where text is wrong

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@st.composite
def malformed_call(draw: st.DrawFn, backend: Backend) -> tuple[Any, str, dict[str, Any]]:
    """A client of a hooked operation and parameters that break its input shape: a required
    member left out, or text where a number or boolean belongs; the other members junk."""
    service, action = draw(st.sampled_from(HOOKED))
    client = _clients(backend)[service]
    operation = client.meta.service_model.operation_model(action)
    shape = operation.input_shape
    members = dict(shape.members) if shape is not None else {}
    body_required = [
        name
        for name in (shape.required_members if shape is not None else [])
        if "location" not in members[name].serialization
    ]
    protocol = operation.metadata["protocol"]
    numeric = [
        name
        for name, member in members.items()
        if member.type_name in NUMERIC
        # botocore writes any value of a boolean as "true" or "false" outside a JSON body
        and not (
            member.type_name == "boolean"
            and (protocol == "query" or "location" in member.serialization)
        )
    ]
    payload = shape.serialization.get("payload") if shape is not None else None
    body = [
        name
        for name, member in members.items()
        # a blob payload is the body as it is, and a document may hold any JSON value
        if "location" not in member.serialization
        and name != payload
        and member.type_name != "document"
        and not member.metadata.get("document")
    ]
    typed = body if protocol in ("json", "rest-json") else []
    kinds = [
        kind
        for kind, names in (("missing", body_required), ("text", numeric), ("shape", typed))
        if names
    ]
    assume(kinds)  # an operation whose every member is an optional string has nothing to break
    kind = draw(st.sampled_from(kinds))
    params: dict[str, Any] = {}
    for name, member in members.items():
        if "location" in member.serialization and member.serialization["location"] == "uri":
            params[name] = draw(st.from_regex(r"[a-z]{1,8}", fullmatch=True))
        elif draw(st.booleans()):
            params[name] = draw(junk)
    if kind == "missing":
        params.pop(draw(st.sampled_from(body_required)), None)
    elif kind == "text":
        params[draw(st.sampled_from(numeric))] = draw(st.from_regex(r"[a-z]{1,6}", fullmatch=True))
    else:  # a JSON value of the wrong kind: a list for a scalar, text for a container
        name = draw(st.sampled_from(typed))
        container = members[name].type_name in ("structure", "map", "list")
        params[name] = "text" if container else [draw(junk)]
    return client, kind, {"action": action, "params": params}


_CLIENTS: dict[str, dict[str, Any]] = {}


def _clients(backend: Backend) -> dict[str, Any]:
    """One client per service that sends what it is given (no validation, no retries)."""
    key = backend.url
    if key not in _CLIENTS:
        config = Config(
            parameter_validation=False,
            retries={"total_max_attempts": 1},
            read_timeout=5,
            connect_timeout=2,
        )
        services = {service for service, _ in HOOKED}
        _CLIENTS[key] = {s: make_client(backend, s, config=config) for s in services}
    return _CLIENTS[key]


def test_fuzzed_malformed_parameters_get_a_prompt_4xx(backend: Backend) -> None:
    """Generated malformed parameters for operations the kit's hooks handle: each is answered
    with a 4xx AWS error within a second (never HTTP 500 or a hang), and the backend is healthy
    after. Common errors (COMMON_ERRORS): a missing required parameter and an invalid value are
    the client's errors (HTTP 400)."""
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

    answered: list[int] = []

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        client, kind, call = data.draw(malformed_call(backend))
        method = getattr(client, _snake(client, call["action"]))
        started = time.monotonic()
        try:
            method(**call["params"])
        except ClientError as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        except (ConnectionClosedError, ReadTimeoutError):
            raise
        except Exception:  # the client itself could not serialize the junk: nothing was sent
            return
        else:
            status = 200
        elapsed = time.monotonic() - started
        assert elapsed < PROMPT, (call, elapsed)
        assert status < 500, (call, status)
        assert 400 <= status < 500, (kind, call, status)
        answered.append(status)

    one()
    assert len(answered) >= 50  # most examples reached the backend
    assert backend.healthy()


def _snake(client: Any, action: str) -> str:
    """The client's method name for ``action`` (botocore's own mapping)."""
    mapping = {v: k for k, v in client.meta.method_to_api_mapping.items()}
    return mapping[action]
