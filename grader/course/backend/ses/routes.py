"""SES v2 requests from every botocore release of the last two years, and AWS's answer to a
request that is no SES v2 operation.

botocore has moved three SES v2 operations to other HTTP bindings within the last two years
(``LEGACY_BINDINGS``, from botocore 1.35.0's ``sesv2`` model, August 2024, against 1.44's):
``ListEmailIdentities`` and ``ListConfigurationSets`` were ``GET`` with ``NextToken`` and
``PageSize`` in the query string and are now ``POST`` with a JSON body (``/list-identities``,
``/list-configuration-sets``); ``PutEmailIdentityDkimSigningAttributes`` was under ``/v1/``.
moto 5.2, like the kit, finds an operation from the installed botocore's model, so an older
client's ``GET /v2/email/identities`` got an empty 404. Here a router gives such a request
today's binding (its parameters serialized by botocore's own serializer), so moto, the kit's
hooks and the flow record see the operation whichever client sent it.

A request under ``/v2/email/`` or ``/v1/email/`` that neither binding knows is answered as
AWS's REST endpoints answer one: HTTP 404, ``x-amzn-ErrorType: UnknownOperationException`` and a
JSON message, here naming the method and path. An operation AWS has but neither moto nor the
kit answers (moto's bare 404) gets ``NotImplemented`` (HTTP 501, which boto3 does not retry)
naming the operation, never an empty 404.

The two error classes are this module's own (``UnknownOperationException``,
``OperationNotImplemented``); a non-numeric ``PageSize`` is the SES v2 ``BadRequestException``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from botocore.model import OperationModel
from botocore.serialize import create_serializer

from course.backend.core.protocol import rest_operation, service_model
from course.backend.core.registry import ApiRequest, Reply, Wire, after, route
from course.backend.ses.exceptions import (
    BadRequestException,
    OperationNotImplemented,
    UnknownOperationException,
)

SERVICE = "sesv2"


@dataclass(frozen=True)
class Binding:
    """An older HTTP binding of an operation: method, URI template, the input members it sent
    in the query string (``querystring`` location) rather than in the JSON body."""

    method: str
    uri: str
    query: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", self.uri)
        object.__setattr__(self, "regex", re.compile(f"^{pattern}/?$"))


#: The SES v2 operations whose binding differs between botocore 1.35.0 (the oldest release of
#: the last two years) and today's, as the older release's ``service-2.json`` has them; every
#: other operation of 1.35.0 has the binding it has today (``tests/backend/ses/test_routes.py``
#: checks both against the recorded models in ``sesv2_shapes.json``).
LEGACY_BINDINGS: dict[str, Binding] = {
    "ListEmailIdentities": Binding("GET", "/v2/email/identities", ("NextToken", "PageSize")),
    "ListConfigurationSets": Binding(
        "GET", "/v2/email/configuration-sets", ("NextToken", "PageSize")
    ),
    "PutEmailIdentityDkimSigningAttributes": Binding(
        "PUT", "/v1/email/identities/{EmailIdentity}/dkim/signing"
    ),
}


def legacy_operation(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The operation an older botocore binds to ``method`` on ``path`` (decoded, no query
    string) where today's binds none, with its URI parameters; None when it is none of them."""
    for name, binding in LEGACY_BINDINGS.items():
        found = binding.regex.match(path) if binding.method == method else None
        if found:
            return name, found.groupdict()
    return None


def current_shape(wire: Wire) -> Wire | None:
    """``wire`` in today's binding: None when today's model already binds it (or it is no API
    call); an older client's request rewritten; ``UnknownOperationException`` for any other."""
    if "authorization" not in wire.headers or rest_operation(SERVICE, wire.method, wire.path):
        return None
    legacy = legacy_operation(wire.method, wire.path)
    if legacy is None:
        raise UnknownOperationException(
            f"Unknown operation: {wire.method} {wire.path} is no Amazon SES API v2 operation."
        )
    name, uri_params = legacy
    operation = service_model(SERVICE).operation_model(name)
    params = _legacy_params(operation, LEGACY_BINDINGS[name], uri_params, wire)
    try:
        request = create_serializer("rest-json", include_validation=False).serialize_to_request(
            params, operation
        )
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise BadRequestException(f"{name}: its input cannot be read ({error}).") from None
    body = request["body"] if isinstance(request["body"], bytes) else request["body"].encode()
    headers = {**wire.headers, **{k.lower(): str(v) for k, v in request["headers"].items()}}
    if body:
        headers["content-type"] = "application/json"
    return Wire(
        request["method"],
        unquote(request["url_path"]),
        urlencode(request["query_string"], doseq=True),
        headers,
        body,
    )


def _legacy_params(
    operation: OperationModel, binding: Binding, uri_params: dict[str, str], wire: Wire
) -> dict[str, Any]:
    """boto3-shaped parameters of a request in an older binding: its URI, query and body."""
    params: dict[str, Any] = dict(uri_params)
    members = operation.input_shape.members if operation.input_shape else {}
    for name, text in parse_qsl(wire.query, keep_blank_values=True):
        if name not in binding.query:
            continue
        if members[name].type_name in ("integer", "long"):
            try:
                params[name] = int(text)
            except ValueError:
                raise BadRequestException(
                    f"{name} must be a number, not {text!r}, in {operation.name}."
                ) from None
        else:
            params[name] = text
    if wire.body.strip():
        try:
            document = json.loads(wire.body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            params.update(document)
    return params


route("/v2/email/")(current_shape)
route("/v1/email/")(current_shape)


def refuse_unanswered(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> None:
    """An operation moto has no handler for (its bare 404, no ``x-amzn-ErrorType``) is refused
    with ``NotImplemented`` naming it, so the caller learns what the backend lacks."""
    if reply.status == 404 and "x-amzn-errortype" not in reply.header_dict:
        raise OperationNotImplemented(
            f"The course's local backend does not implement Amazon SES API v2 "
            f"{request.call.action}; AWS does."
        )


for _operation in service_model(SERVICE).operation_names:
    after(SERVICE, _operation)(refuse_unanswered)
