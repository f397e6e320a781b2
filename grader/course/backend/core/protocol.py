"""What botocore's service models say about one HTTP request to the backend.

The backend records every API call in the shape boto3 itself uses (``{"QueueUrl": ...}`` in,
``{"Messages": [...]}`` out), whatever wire protocol carried it: AWS JSON (SQS, Logs), the query
protocol (SNS, SES v1, IAM, STS, CloudWatch) or REST (SES v2, Lambda, Route 53). Responses are
parsed with botocore's own parsers. botocore has no request *de*serializers, so the reverse of
its query and REST serializers is written here by hand (``_from_query``, ``_from_rest``).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

import botocore.session
from botocore import parsers
from botocore.awsrequest import HeadersDict
from botocore.model import OperationModel, ServiceModel, Shape

#: Services whose calls are identified and parsed; others are recorded with raw bodies only.
KNOWN_SERVICES = (
    "sqs",
    "sns",
    "ses",
    "sesv2",
    "lambda",
    "logs",
    "sts",
    "iam",
    "route53",
    "cloudwatch",
)

#: Deepest nesting of arrays and objects a JSON request body may have; a deeper one is malformed.
MAX_DEPTH = 64

_CREDENTIAL = re.compile(r"Credential=[^/]*/[^/]*/(?P<region>[^/]*)/(?P<service>[^/]*)/")


@dataclass
class Call:
    """One identified API call: service, operation and its parameters in boto3's shape."""

    service: str
    action: str
    region: str
    protocol: str
    params: dict[str, Any] = field(default_factory=dict)
    operation: OperationModel | None = None
    #: Why the request's body could not be read as the operation's input ("" when it could).
    malformed: str = ""


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of a service (cached)."""
    return _session().get_service_model(name)


@cache
def _services_by_signing_name() -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for name in KNOWN_SERVICES:
        model = service_model(name)
        signing = model.metadata.get("signingName") or model.metadata["endpointPrefix"]
        index.setdefault(signing, []).append(name)
    return index


@cache
def _rest_routes(service: str) -> list[tuple[str, re.Pattern[str], int, str]]:
    """(method, path regex, literal length, operation) for each operation of a REST service."""
    model = service_model(service)
    routes = []
    for op_name in model.operation_names:
        http = model.operation_model(op_name).http
        uri = http.get("requestUri", "/").split("?")[0]
        pattern = re.sub(r"\{([^}+]+)\+\}", r"(?P<\1>.+)", uri)
        pattern = re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", pattern)
        literal = len(re.sub(r"\{[^}]+\}", "", uri))
        routes.append((http.get("method", "POST"), re.compile(f"^{pattern}/?$"), literal, op_name))
    return routes


def identify(method: str, path: str, headers: dict[str, str], body: bytes) -> Call | None:
    """Identify the service and operation of a request, and parse its parameters.

    Returns None for requests that are not AWS API calls (for example the kit's own pages).
    """
    match = _CREDENTIAL.search(headers.get("authorization", ""))
    if not match:
        return None
    signing, region = match["service"], match["region"]
    candidates = _services_by_signing_name().get(signing)
    if not candidates:
        return Call(service=signing, action="", region=region, protocol="unknown")

    target = headers.get("x-amz-target")
    if target and "." in target:
        action = target.rsplit(".", 1)[1]
        for name in candidates:
            model = service_model(name)
            if action in model.operation_names:
                params, malformed = _json_object(body)
                op = model.operation_model(action)
                return Call(name, action, region, "json", params, op, malformed)
        return Call(candidates[0], action, region, "json")

    content_type = headers.get("content-type", "")
    if "x-www-form-urlencoded" in content_type or (method == "GET" and "Action=" in path):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if "?" in path:
            form.update(parse_qsl(path.split("?", 1)[1], keep_blank_values=True))
        action = form.get("Action", "")
        for name in candidates:
            model = service_model(name)
            if action in model.operation_names:
                op = model.operation_model(action)
                params = _from_query(form, op.input_shape) if op.input_shape else {}
                return Call(name, action, region, "query", params, op)
        return Call(candidates[0], action, region, "query", dict(form))

    bare_path, _, query = path.partition("?")
    best: tuple[int, str, str, dict[str, str]] | None = None
    for name in candidates:
        if (found := _rest_match(name, method, bare_path)) and (best is None or found[0] > best[0]):
            best = (found[0], name, found[1], found[2])
    if best is None:  # no operation of that shape: recorded under the REST service, if any
        rest = [n for n in candidates if service_model(n).protocol.startswith("rest")]
        return Call((rest or candidates)[0], f"{method} {bare_path}", region, "rest")
    _, name, op_name, uri_params = best
    op = service_model(name).operation_model(op_name)
    params, malformed = _from_rest(op, uri_params, query, headers, body)
    return Call(name, op_name, region, service_model(name).protocol, params, op, malformed)


def rest_operation(service: str, method: str, path: str) -> str | None:
    """The operation of REST ``service`` that botocore's model binds to ``method`` on ``path``
    (without its query string), or None when it binds none there."""
    found = _rest_match(service, method, path)
    return found[1] if found else None


def _rest_match(service: str, method: str, path: str) -> tuple[int, str, dict[str, str]] | None:
    """(literal length, operation, URI parameters) of the most literal route of ``service``
    matching ``method`` on ``path``, or None."""
    best: tuple[int, str, dict[str, str]] | None = None
    for route_method, regex, literal, op_name in _rest_routes(service):
        found = regex.match(path) if route_method == method else None
        if found and (best is None or literal > best[0]):
            best = (literal, op_name, found.groupdict())
    return best


def _json_object(body: bytes) -> tuple[dict[str, Any], str]:
    """A JSON request body as a dict, and why it is malformed ("" when it is not): a body that
    is not a JSON object, or nests deeper than ``MAX_DEPTH``, is recorded as empty."""
    document, malformed = _json_document(body)
    if malformed:
        return {}, malformed
    if document is None:
        return {}, ""
    if not isinstance(document, dict):
        return {}, "The request body must be a JSON object"
    return document, ""


def _json_document(body: bytes) -> tuple[Any, str]:
    """A JSON body parsed (None when empty), and why it cannot be ("" when it can)."""
    if not body.strip():
        return None, ""
    try:
        document = json.loads(body)
    except RecursionError:
        return None, f"The request body nests deeper than {MAX_DEPTH} levels"
    except ValueError:
        return None, "The request body is not valid JSON"
    if json_depth(document) > MAX_DEPTH:
        return None, f"The request body nests deeper than {MAX_DEPTH} levels"
    return document, ""


def json_depth(document: object) -> int:
    """How deep arrays and objects nest in a parsed JSON ``document`` (a scalar is 0)."""
    deepest, pending = 0, [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: list[Any] = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def parse_response(call: Call, status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Parse a response the way boto3 would; errors come back as ``{"Error": {...}}``."""
    if call.operation is None:
        return {"Raw": body[:4096].decode("utf-8", "replace")}
    protocol = (
        call.protocol if call.protocol in ("json", "query") else call.operation.metadata["protocol"]
    )
    parser = parsers.create_parser(protocol)
    try:
        parsed = parser.parse(
            # Case-insensitive, as botocore's own: a header-bound member (Lambda's FunctionError)
            # is found whatever case the reply's headers are in.
            {"status_code": status, "headers": HeadersDict(headers), "body": body},
            call.operation.output_shape,
        )
    except Exception as exc:  # a malformed body must not stop the recording
        return {"Raw": body[:4096].decode("utf-8", "replace"), "ParseError": str(exc)}
    parsed.pop("ResponseMetadata", None)
    return _jsonable(parsed)


def _jsonable(value: Any) -> Any:
    """Turn botocore's parsed values (datetimes, bytes, streams) into JSON values."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "read"):
        return value.read().decode("utf-8", "replace")
    return value


def _scalar(text: str, shape: Shape) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind == "blob":
        try:
            return base64.b64decode(text).decode("utf-8", "replace")
        except ValueError:
            return text
    return text


def _name(shape: Shape, default: str) -> str:
    return shape.serialization.get("name", default)


def _from_query(form: dict[str, str], shape: Shape, prefix: str = "") -> Any:
    """Rebuild boto3-shaped parameters from query-protocol form fields (reverse of botocore)."""
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for member_name, member in shape.members.items():
            key = _name(member, member_name)
            full = f"{prefix}.{key}" if prefix else key
            if _present(form, full):
                out[member_name] = _from_query(form, member, full)
        return out
    if kind == "list":
        if shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{_name(shape.member, 'member')}"
        items = []
        i = 1
        while _present(form, f"{base}.{i}"):
            items.append(_from_query(form, shape.member, f"{base}.{i}"))
            i += 1
        return items
    if kind == "map":
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_suffix, value_suffix = _name(shape.key, "key"), _name(shape.value, "value")
        result: dict[str, Any] = {}
        i = 1
        while _present(form, f"{base}.{i}"):
            key = form.get(f"{base}.{i}.{key_suffix}", "")
            result[key] = _from_query(form, shape.value, f"{base}.{i}.{value_suffix}")
            i += 1
        return result
    return _scalar(form.get(prefix, ""), shape)


def _present(form: dict[str, str], prefix: str) -> bool:
    return prefix in form or any(k.startswith(prefix + ".") for k in form)


def _from_rest(
    op: OperationModel,
    path_params: dict[str, str],
    query: str,
    headers: dict[str, str],
    body: bytes,
) -> tuple[dict[str, Any], str]:
    """Rebuild boto3-shaped parameters of a REST request: URI, query string, headers and body;
    with them, why its JSON body is malformed ("" when it is not)."""
    from urllib.parse import unquote

    shape = op.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params, ""
    query_params = dict(parse_qsl(query, keep_blank_values=True))
    payload_member = shape.serialization.get("payload")
    for member_name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", member_name)
        if location == "uri" and wire in path_params:
            params[member_name] = unquote(path_params[wire])
        elif location == "querystring" and wire in query_params:
            params[member_name] = _scalar(query_params[wire], member)
        elif location == "header" and wire.lower() in headers:
            params[member_name] = _scalar(headers[wire.lower()], member)
    if not body.strip():
        return params, ""
    if op.metadata["protocol"] == "rest-json":
        document, malformed = _json_document(body)
        raw = payload_member and shape.members[payload_member].type_name != "structure"
        if malformed:
            # a blob payload (Lambda's Invoke) need not be JSON; a structure must be
            return params, "" if raw else malformed
        if payload_member:
            params[payload_member] = document
        elif isinstance(document, dict):
            params.update(document)
        else:
            return params, "The request body must be a JSON object"
    else:
        import xmltodict

        try:
            params["Body"] = xmltodict.parse(body)
        except Exception:
            params["Body"] = body[:4096].decode("utf-8", "replace")
    return params, ""
