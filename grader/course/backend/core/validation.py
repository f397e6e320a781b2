"""Malformed API requests, refused at the server's entry with the 4xx error AWS gives for them.

The kit's hooks and moto expect the parameters boto3 sends; a request built by hand (or by a
fuzzer) may carry a list where a map is expected, text where a number is, JSON nested a
thousand deep, or a region no partition has, and a hook reading it would crash. The server
asks ``problem`` about every identified call before any hook sees it, and answers a malformed
one with the AWS error for it, in the call's wire protocol:

- a region no AWS partition has: ``SignatureDoesNotMatch`` (query protocol) or
  ``InvalidSignatureException`` (JSON and REST), HTTP 403, "Credential should be scoped to a
  valid region";
- a body that is not a JSON object, or nests deeper than ``protocol.MAX_DEPTH``:
  ``SerializationException`` (AWS JSON), ``InvalidRequestContentException`` (Lambda),
  ``BadRequestException`` (SES v2);
- an action the service does not have: ``UnknownOperationException`` (AWS JSON) or
  ``InvalidAction`` (query protocol), HTTP 400;
- a member of the wrong type, or a required member missing, checked against botocore's input
  shape of the operation (``botocore.validate.ParamValidator``): the service's own code for it
  (``ERROR_CODES``).

Lengths, ranges and unknown members are left to moto and the hooks, which answer them with each
service's own messages (and a newer client may send members this botocore does not know).
"""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.validate import ParamValidator

from course.backend.core.errors import ServiceError
from course.backend.core.protocol import Call

#: ``(wrong type, missing member)`` error codes per service; AWS JSON services answer a value
#: their deserializer cannot read with ``SerializationException`` whatever the service.
ERROR_CODES: dict[str, tuple[str, str]] = {
    "sqs": ("InvalidParameterValue", "MissingParameter"),
    "sns": ("InvalidParameter", "InvalidParameter"),
    "ses": ("ValidationError", "ValidationError"),
    "iam": ("ValidationError", "ValidationError"),
    "sts": ("ValidationError", "ValidationError"),
    "cloudwatch": ("InvalidParameterValue", "MissingParameter"),
    "logs": ("InvalidParameterException", "InvalidParameterException"),
    "sesv2": ("BadRequestException", "BadRequestException"),
    "lambda": ("ValidationException", "ValidationException"),
}
#: What a service answers a body it cannot parse with (default ``SerializationException``).
UNREADABLE_BODY = {"lambda": "InvalidRequestContentException", "sesv2": "BadRequestException"}

_KEPT = ("missing required field", "invalid type", "invalid type for document")


class RequestError(ServiceError):
    """An AWS error the server's entry answers a malformed request with (its code given)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def problem(call: Call) -> RequestError | None:
    """The AWS error a malformed ``call`` gets before any hook sees it, or None when the call
    is well formed as far as botocore's model of it tells."""
    if call.region and not known_region(call.region):
        code = "SignatureDoesNotMatch" if call.protocol == "query" else "InvalidSignatureException"
        message = f"Credential should be scoped to a valid region, not '{call.region}'. "
        return RequestError(code, message, 403)
    if call.malformed:
        return RequestError(
            UNREADABLE_BODY.get(call.service, "SerializationException"), call.malformed
        )
    if call.operation is None:
        return _unknown_operation(call)
    if call.operation.input_shape is None:
        return None
    if call.protocol not in ("json", "query", "rest-json"):
        return None  # the REST-XML reader keeps the raw body, not boto3's parameters
    metadata = call.operation.metadata
    if call.protocol == "query" and "query" not in metadata.get(
        "protocols", [metadata["protocol"]]
    ):
        return None  # an older client's query call to a service now on JSON (SQS): other names
    shape = call.operation.input_shape
    params = dict(call.params)
    payload = shape.serialization.get("payload")
    if payload and shape.members[payload].type_name != "structure":
        params.pop(payload, None)  # a blob payload (Lambda's Invoke) is the body as it came
    report = ParamValidator().validate(params, shape)
    errors = [error for error in report._errors if error[0] in _KEPT]
    if not errors:
        return None
    reason, name, details = errors[0]
    message = report._format_error((reason, name, details))
    wrong_type, missing = ERROR_CODES.get(call.service, ("ValidationError", "ValidationError"))
    if reason == "missing required field":
        return RequestError(missing, message)
    if call.protocol == "json":
        return RequestError("SerializationException", message)
    return RequestError(wrong_type, message)


def _unknown_operation(call: Call) -> RequestError | None:
    """The error for an action the service's model does not have (AWS JSON and query protocols;
    a REST path no operation binds is left to the routers and moto)."""
    if call.protocol == "json":
        return RequestError("UnknownOperationException", f"Unknown operation {call.action!r}")
    if call.protocol == "query":
        message = f"The action {call.action} is not valid for this web service."
        return RequestError("InvalidAction", message)
    return None


@cache
def _regions() -> frozenset[str]:
    """Every region of every partition botocore knows."""
    session = botocore.session.get_session()
    endpoints = session.get_data("endpoints")
    return frozenset(
        region for partition in endpoints["partitions"] for region in partition["regions"]
    ) | {"aws-global"}


def known_region(region: str) -> bool:
    """True when ``region`` is a region of some AWS partition (as botocore lists them)."""
    return region in _regions()
