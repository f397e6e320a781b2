"""SES configuration-set event destinations, v1 and v2 calls, on one store (``ses.destinations``).

moto keeps a single event destination per configuration set (the last one created) and has no
v2 calls for them (HTTP 404). AWS: a configuration set has several destinations, each with
``Enabled`` and ``MatchingEventTypes``
(https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_EventDestination.html), managed by
v1 ``Create/Update/DeleteConfigurationSetEventDestination`` and ``DescribeConfigurationSet``
and by their v2 counterparts with ``GetConfigurationSetEventDestinations``. Destinations are
stored in v2's shape (``course.backend.ses.destinations``); v1 calls convert.
"""

from __future__ import annotations

from typing import Any

from course.backend.core.registry import ApiRequest, Reply, after, before, success
from course.backend.ses.destinations import DESTINATIONS, config_set_exists
from course.backend.ses.exceptions import (
    AlreadyExistsException,
    BadRequestException,
    ConfigurationSetDoesNotExist,
    EventDestinationAlreadyExists,
    EventDestinationDoesNotExist,
    InvalidParameterValue,
    NotFoundException,
)

V1_TO_V2 = {
    "send": "SEND",
    "reject": "REJECT",
    "bounce": "BOUNCE",
    "complaint": "COMPLAINT",
    "delivery": "DELIVERY",
    "open": "OPEN",
    "click": "CLICK",
    "renderingFailure": "RENDERING_FAILURE",
    "deliveryDelay": "DELIVERY_DELAY",
    "subscription": "SUBSCRIPTION",
}
V2_TO_V1 = {v: k for k, v in V1_TO_V2.items()}


#: Where a destination sends its events, as v1 spells it: (v2's name, {v1 field: v2 field}).
#: Fields not listed are spelled the same in both (all of CloudWatch's dimensions).
TARGETS = {
    "SNSDestination": ("SnsDestination", {"TopicARN": "TopicArn"}),
    "CloudWatchDestination": ("CloudWatchDestination", {}),
    "KinesisFirehoseDestination": (
        "KinesisFirehoseDestination",
        {"IAMRoleARN": "IamRoleArn", "DeliveryStreamARN": "DeliveryStreamArn"},
    ),
}


def _renamed(target: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    return {fields.get(k, k): v for k, v in target.items()}


def _from_v1(destination: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "Name": destination.get("Name", ""),
        "Enabled": bool(destination.get("Enabled", False)),
        "MatchingEventTypes": [
            V1_TO_V2.get(t, t) for t in destination.get("MatchingEventTypes", [])
        ],
    }
    for v1_name, (v2_name, fields) in TARGETS.items():
        if target := destination.get(v1_name):
            converted[v2_name] = _renamed(target, fields)
    return converted


def _to_v1(destination: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "Name": destination["Name"],
        "Enabled": destination.get("Enabled", False),
        "MatchingEventTypes": [V2_TO_V1.get(t, t) for t in destination["MatchingEventTypes"]],
    }
    for v1_name, (v2_name, fields) in TARGETS.items():
        if target := destination.get(v2_name):
            converted[v1_name] = _renamed(target, {v2: v1 for v1, v2 in fields.items()})
    return converted


def _v2_destination(name: str, body: dict[str, Any]) -> dict[str, Any]:
    destination = {k: v for k, v in body.items() if v is not None}
    destination["Name"] = name
    destination["Enabled"] = bool(body.get("Enabled", False))
    destination["MatchingEventTypes"] = list(body.get("MatchingEventTypes", []))
    return destination


def _bad_types(types: list[str]) -> list[str]:
    return [t for t in types if t not in V2_TO_V1]


# -- SES v1


def _v1_missing_set(name: str) -> ConfigurationSetDoesNotExist:
    return ConfigurationSetDoesNotExist(f"Configuration set <{name}> does not exist.")


@before("ses", "CreateConfigurationSetEventDestination")
@before("ses", "UpdateConfigurationSetEventDestination")
def put_event_destination_v1(request: ApiRequest) -> Reply:
    """Create or update one event destination of a configuration set (v1)."""
    config_set = request.params.get("ConfigurationSetName", "")
    if not config_set_exists(request.account_id, request.call.region, config_set):
        raise _v1_missing_set(config_set)
    destination = _from_v1(request.params.get("EventDestination", {}))
    if _bad_types(destination["MatchingEventTypes"]) or not destination["MatchingEventTypes"]:
        raise InvalidParameterValue("Invalid MatchingEventTypes.")
    store = DESTINATIONS.of(request.account_id, request.call.region, config_set)
    exists = destination["Name"] in store
    if request.call.action.startswith("Create") and exists:
        raise EventDestinationAlreadyExists(
            f"Event destination {destination['Name']} already exists in configuration set "
            f"{config_set}."
        )
    if request.call.action.startswith("Update") and not exists:
        raise EventDestinationDoesNotExist(
            f"Event destination {destination['Name']} does not exist."
        )
    store[destination["Name"]] = destination
    return success(request.call, {})


@before("ses", "DeleteConfigurationSetEventDestination")
def delete_event_destination_v1(request: ApiRequest) -> Reply:
    """Delete one event destination of a configuration set (v1)."""
    config_set = request.params.get("ConfigurationSetName", "")
    if not config_set_exists(request.account_id, request.call.region, config_set):
        raise _v1_missing_set(config_set)
    name = request.params.get("EventDestinationName", "")
    store = DESTINATIONS.of(request.account_id, request.call.region, config_set)
    if store.pop(name, None) is None:
        raise EventDestinationDoesNotExist(f"Event destination {name} does not exist.")
    return success(request.call, {})


@after("ses", "DescribeConfigurationSet")
def describe_configuration_set(
    request: ApiRequest, reply: Reply, parsed: dict[str, Any]
) -> Reply | None:
    """Every event destination of the set (moto keeps only the last one created)."""
    if reply.status >= 400:
        return None
    attributes = request.params.get("ConfigurationSetAttributeNames", [])
    output = dict(parsed)
    output.pop("EventDestinations", None)
    if "eventDestinations" in attributes:
        store = DESTINATIONS.of(
            request.account_id, request.call.region, request.params["ConfigurationSetName"]
        )
        output["EventDestinations"] = [_to_v1(d) for d in store.values()]
    return success(request.call, output)


@after("ses", "DeleteConfigurationSet")
@after("sesv2", "DeleteConfigurationSet")
def delete_configuration_set(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> None:
    """A deleted configuration set takes its event destinations with it."""
    if reply.status < 400:
        DESTINATIONS.drop_set(
            request.account_id, request.call.region, request.params.get("ConfigurationSetName", "")
        )
    return None


# -- SES v2


def _v2_missing_set(name: str) -> NotFoundException:
    return NotFoundException(f"Configuration set {name} does not exist.")


@before("sesv2", "CreateConfigurationSet")
def create_configuration_set_v2(request: ApiRequest) -> Reply | None:
    """A second set of the same name is ``AlreadyExistsException`` in v2, as AWS answers
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateConfigurationSet.html);
    moto answers v1's ``ConfigurationSetAlreadyExistsException``, which v2 has no class for."""
    name = request.params.get("ConfigurationSetName", "")
    if config_set_exists(request.account_id, request.call.region, name):
        raise AlreadyExistsException(f"Configuration set <{name}> already exists.")
    return None


@before("sesv2", "CreateConfigurationSetEventDestination")
@before("sesv2", "UpdateConfigurationSetEventDestination")
def put_event_destination_v2(request: ApiRequest) -> Reply:
    """Create or update one event destination of a configuration set (v2)."""
    config_set = request.params.get("ConfigurationSetName", "")
    if not config_set_exists(request.account_id, request.call.region, config_set):
        raise _v2_missing_set(config_set)
    name = request.params.get("EventDestinationName", "")
    destination = _v2_destination(name, request.params.get("EventDestination") or {})
    types = destination["MatchingEventTypes"]
    if not types or _bad_types(types):
        raise BadRequestException(f"Invalid MatchingEventTypes {types}.")
    store = DESTINATIONS.of(request.account_id, request.call.region, config_set)
    if request.call.action.startswith("Create") and name in store:
        raise AlreadyExistsException(
            f"Event destination {name} already exists in configuration set {config_set}."
        )
    if request.call.action.startswith("Update") and name not in store:
        raise NotFoundException(f"Event destination {name} does not exist.")
    store[name] = destination
    return success(request.call, {})


@before("sesv2", "GetConfigurationSetEventDestinations")
def get_event_destinations_v2(request: ApiRequest) -> Reply:
    """Every event destination of a configuration set (v2)."""
    config_set = request.params.get("ConfigurationSetName", "")
    if not config_set_exists(request.account_id, request.call.region, config_set):
        raise _v2_missing_set(config_set)
    store = DESTINATIONS.of(request.account_id, request.call.region, config_set)
    return success(request.call, {"EventDestinations": list(store.values())})


@before("sesv2", "DeleteConfigurationSetEventDestination")
def delete_event_destination_v2(request: ApiRequest) -> Reply:
    """Delete one event destination of a configuration set (v2)."""
    config_set = request.params.get("ConfigurationSetName", "")
    if not config_set_exists(request.account_id, request.call.region, config_set):
        raise _v2_missing_set(config_set)
    name = request.params.get("EventDestinationName", "")
    if DESTINATIONS.of(request.account_id, request.call.region, config_set).pop(name, None) is None:
        raise NotFoundException(f"Event destination {name} does not exist.")
    return success(request.call, {})
