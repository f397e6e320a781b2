"""SES v2 requests routed the same whichever botocore release sent them (``ses/routes.py``).

The requests are the ones botocore 1.35.0 (August 2024, the oldest release of the last two
years) and today's botocore serialize, recorded from their ``sesv2`` models in
``sesv2_shapes.json`` by ``record_sesv2_shapes.py``, and replayed here as raw HTTP requests
signed with botocore's SigV4 against a real backend.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from course.backend.core.protocol import rest_operation
from course.backend.process import Backend
from course.backend.ses.routes import LEGACY_BINDINGS, legacy_operation

from tests.backend.ses.helpers import make_client, verified_address

SHAPES = json.loads(Path(__file__).with_name("sesv2_shapes.json").read_text())
OLD, NEW = SHAPES["releases"]
#: Members of an answer that differ from one call to the next whatever the client (and every
#: ``...Timestamp``).
VOLATILE = {"MessageId", "Tokens"}


def signed(
    backend: Backend, method: str, path: str, query: str, body: Any
) -> tuple[int, dict, Any]:
    """Send one SES v2 request as botocore would (SigV4, service ``ses``); (status, headers by
    lower-case name, JSON body or None)."""
    url = backend.url + path + (f"?{query}" if query else "")
    data = json.dumps(body).encode() if body is not None else b""
    request = AWSRequest(method=method, url=url, data=data)
    if data:
        request.headers["Content-Type"] = "application/json"
    SigV4Auth(Credentials("testing", "testing"), "ses", "us-east-1").add_auth(request)
    raw = urllib.request.Request(url, data=data or None, method=method)
    for name, value in request.headers.items():
        raw.add_header(name, value)
    try:
        with urllib.request.urlopen(raw) as response:
            status, headers, text = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, text = error.code, error.headers, error.read()
    document = json.loads(text) if text.strip().startswith(b"{") else None
    return status, {k.lower(): v for k, v in headers.items()}, document


def replay(backend: Backend, release: str, operation: str) -> tuple[int, dict, Any]:
    shape = SHAPES["requests"][release][operation]
    return signed(backend, shape["method"], shape["path"], shape["query"], shape["body"])


def _identity(backend: Backend) -> None:
    make_client(backend, "sesv2").create_email_identity(EmailIdentity="example.com")


def _identities(backend: Backend) -> None:
    _identity(backend)
    make_client(backend, "sesv2").create_email_identity(EmailIdentity="sender@example.net")


def _configuration_set(backend: Backend) -> None:
    make_client(backend, "sns").create_topic(Name="ses-events")
    make_client(backend, "sesv2").create_configuration_set(ConfigurationSetName="course-events")


def _destination(backend: Backend) -> None:
    _configuration_set(backend)
    call = SHAPES["calls"]["CreateConfigurationSetEventDestination"]
    make_client(backend, "sesv2").create_configuration_set_event_destination(**call)


def _configuration_sets(backend: Backend) -> None:
    _configuration_set(backend)
    make_client(backend, "sesv2").create_configuration_set(ConfigurationSetName="other")


def _template(backend: Backend) -> None:
    make_client(backend, "sesv2").create_email_template(**SHAPES["calls"]["CreateEmailTemplate"])


def _verified(backend: Backend) -> None:
    verified_address(backend, "sender@example.net")
    verified_address(backend, "learner@example.net")


def _nothing(backend: Backend) -> None:
    pass


#: What each lab operation needs before it, made with today's boto3.
SETUP: dict[str, Callable[[Backend], None]] = {
    "CreateEmailIdentity": _nothing,
    "GetEmailIdentity": _identity,
    "ListEmailIdentities": _identities,
    "PutEmailIdentityMailFromAttributes": _identity,
    "PutEmailIdentityDkimSigningAttributes": _identity,
    "DeleteEmailIdentity": _identity,
    "CreateConfigurationSet": _nothing,
    "ListConfigurationSets": _configuration_sets,
    "CreateConfigurationSetEventDestination": _configuration_set,
    "GetConfigurationSetEventDestinations": _destination,
    "DeleteConfigurationSet": _destination,
    "CreateEmailTemplate": _nothing,
    "GetEmailTemplate": _template,
    "ListEmailTemplates": _template,
    "SendEmail": _verified,
    "GetAccount": _nothing,
    "PutAccountDetails": _nothing,
}


def _stable(document: Any) -> Any:
    if isinstance(document, dict):
        return {
            k: _stable(v)
            for k, v in document.items()
            if k not in VOLATILE and not k.endswith("Timestamp")
        }
    if isinstance(document, list):
        return [_stable(v) for v in document]
    return document


def _answer(backend: Backend, release: str, operation: str) -> tuple[int, str | None, Any]:
    backend.reset()
    SETUP[operation](backend)
    status, headers, document = replay(backend, release, operation)
    return status, headers.get("x-amzn-errortype"), _stable(document)


def test_every_lab_operation_is_recorded_for_both_releases() -> None:
    assert set(SETUP) == set(SHAPES["calls"])
    for release in (OLD, NEW):
        assert set(SHAPES["requests"][release]) == set(SETUP)
    moved = {op for op in SETUP if SHAPES["requests"][OLD][op] != SHAPES["requests"][NEW][op]}
    assert {"ListEmailIdentities", "ListConfigurationSets"} <= moved


@pytest.mark.parametrize("operation", sorted(SETUP))
def test_a_lab_operation_gets_the_same_answer_from_both_releases(
    backend: Backend, operation: str
) -> None:
    """Whatever botocore a student has, each SES v2 call of the labs routes to its operation
    and gets the answer today's botocore gets. The recorded shapes differ where botocore moved
    a binding: ``GET /v2/email/identities?PageSize=10`` (1.35.0) against ``POST
    /v2/email/list-identities`` with ``{"PageSize": 10}`` (1.44)."""
    old, new = _answer(backend, OLD, operation), _answer(backend, NEW, operation)
    assert old == new
    status, error, document = new
    assert error != "UnknownOperationException"
    assert document is not None, f"{operation}: HTTP {status} without a JSON body"
    if operation == "PutEmailIdentityDkimSigningAttributes":  # neither moto nor the kit has it
        assert (status, error) == (501, "NotImplemented")
        assert operation in document["message"]
    else:
        assert status == 200, (operation, status, document)


def test_the_flow_records_an_old_clients_call_as_its_operation(backend: Backend) -> None:
    """The checks read the flow record: an old client's list call is recorded as today's
    operation, with its parameters in boto3's shape."""
    _identities(backend)
    replay(backend, OLD, "ListEmailIdentities")
    calls = [c for c in backend.flow()["calls"] if c["service"] == "sesv2"]
    assert calls[-1]["action"] == "ListEmailIdentities"
    assert calls[-1]["request"] == {"PageSize": 10}
    assert {i["IdentityName"] for i in calls[-1]["response"]["EmailIdentities"]} == {
        "example.com",
        "sender@example.net",
    }


def _sample_path(uri: str) -> str:
    return re.sub(r"\{[^}]+\}", "sample-name", uri.split("?")[0])


@pytest.mark.parametrize("release", [OLD, NEW])
def test_every_binding_of_both_releases_names_its_operation(release: str) -> None:
    """Every SES v2 operation of either release, on the path and method that release sends it
    on, is today's operation or an older binding of it: none is left unrouted."""
    for operation, (method, uri, _) in SHAPES["bindings"][release].items():
        path = _sample_path(uri)
        legacy = legacy_operation(method, path)
        found = rest_operation("sesv2", method, path) or (legacy and legacy[0])
        assert found == operation, (release, operation, method, path, found)


def _moved(old: list[Any], new: list[Any]) -> bool:
    """Another method or path, or a member the old release sent in the query string that the
    new one sends elsewhere (a member only the new release has changes nothing for old ones)."""
    return old[:2] != new[:2] or not set(old[2]) <= set(new[2])


def test_the_older_bindings_are_exactly_those_that_moved() -> None:
    """``LEGACY_BINDINGS`` is the older release's binding of every operation that moved."""
    old, new = SHAPES["bindings"][OLD], SHAPES["bindings"][NEW]
    moved = {op for op in old if _moved(old[op], new[op])}
    assert moved == set(LEGACY_BINDINGS)
    for operation in moved:
        binding = LEGACY_BINDINGS[operation]
        assert [binding.method, binding.uri, sorted(binding.query)] == old[operation]


@pytest.mark.parametrize("release", [OLD, NEW])
def test_every_binding_of_both_releases_reaches_an_answer_naming_no_unknown_operation(
    backend: Backend, release: str
) -> None:
    """Against the real backend, each operation of either release on its own binding gets an
    answer with a JSON body: moto's, the kit's, an AWS error about its (empty) input, or
    ``NotImplemented`` naming it; never ``UnknownOperationException`` nor an empty 404."""
    for operation, (method, uri, _) in SHAPES["bindings"][release].items():
        status, headers, document = signed(backend, method, _sample_path(uri), "", None)
        assert headers.get("x-amzn-errortype") != "UnknownOperationException", operation
        assert not (status == 404 and document is None), (operation, method, uri)
        if status == 501:
            assert operation in document["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/email/no-such-operation"),
        ("DELETE", "/v2/email/outbound-emails"),
        ("GET", "/v1/email/identities/example.com"),
    ],
)
def test_an_unknown_operation_gets_aws_s_error_naming_it(
    backend: Backend, method: str, path: str
) -> None:
    """AWS's REST endpoints answer a method and path bound to no operation with HTTP 404 and
    ``x-amzn-ErrorType: UnknownOperationException`` (as https://github.com/soto-project/soto/
    issues/580 shows a client receiving it); the Common Errors list
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html) names the case
    "The action or operation requested is invalid". The backend's JSON message names it."""
    status, headers, document = signed(backend, method, path, "", None)
    assert status == 404
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert f"{method} {path}" in document["message"]


def test_a_non_numeric_page_size_from_an_old_client_is_a_bad_request(backend: Backend) -> None:
    """PageSize is an integer ("The value you specify has to be at least 0, and can be no more
    than 1000", https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_ListEmailIdentities.html);
    SES v2 refuses input it cannot read with BadRequestException (HTTP 400)."""
    status, headers, document = signed(backend, "GET", "/v2/email/identities", "PageSize=ten", None)
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException")
    assert "PageSize" in document["message"]


def test_an_old_client_pages_through_identities_with_next_token(backend: Backend) -> None:
    """botocore 1.35.0 sends ``NextToken`` and ``PageSize`` in the query string; the pages are
    today's ("If the number of results is larger than the number you specified in this
    parameter, then the response includes a NextToken element", API_ListEmailIdentities)."""
    sesv2 = make_client(backend, "sesv2")
    names = {f"user{i}@example.net" for i in range(3)}
    for name in names:
        sesv2.create_email_identity(EmailIdentity=name)
    pages, query = [], "PageSize=2"
    for _ in range(3):
        status, _, page = signed(backend, "GET", "/v2/email/identities", query, None)
        assert status == 200
        pages.append([i["IdentityName"] for i in page["EmailIdentities"]])
        if not page.get("NextToken"):
            break
        query = urlencode({"PageSize": 2, "NextToken": page["NextToken"]})
    assert [len(p) for p in pages] == [2, 1]
    assert {n for p in pages for n in p} == names


def test_an_old_client_s_unreadable_input_is_a_bad_request(backend: Backend) -> None:
    """``SigningAttributes`` is an object (API_PutEmailIdentityDkimSigningAttributes); input
    that cannot be given today's binding is refused as SES v2 refuses unreadable input, with
    BadRequestException (HTTP 400), not a crash."""
    path = "/v1/email/identities/example.com/dkim/signing"
    status, headers, document = signed(backend, "PUT", path, "", {"SigningAttributes": "x"})
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException")
    assert "PutEmailIdentityDkimSigningAttributes" in document["message"]
