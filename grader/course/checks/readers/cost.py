"""The cost meter: what the calls of a flow would cost on AWS, item by item, at the prices of
``course.rules.pricing`` (one table, with each price's page and the date it was read).

``bill(flow)`` is pure: it reads only the recorded calls. The rules it applies:

- SQS: every successful action is a request; a send (or a batch of sends) and a receive are
  billed one request per started 64 KB chunk of their payload (bodies and message attributes),
  so a batch of ten small messages is one request and an empty receive is one too; queues whose
  name ends in ``.fifo`` are priced as FIFO;
- SNS: each publish (or batch) one request per started 64 KB chunk; each message a topic
  accepted is delivered to every subscription of that topic active at the time (subscribed with
  an ARN back, or confirmed with ``ConfirmSubscription``, and not unsubscribed) whose filter
  policy accepts it, priced by protocol (email and HTTP/S charged, SQS and Lambda free);
  a subscription confirmed through its email link is not in the flow and is not counted;
- SES: each message sent through the API, one per recipient (SMTP sends are not API calls);
- Lambda: each ``Invoke`` is a request (the SQS poller's too) and each SNS delivery to a
  function; a synchronous invoke adds its duration (rounded up to the millisecond) times the
  function's memory (``MemorySize`` at creation or last update, 128 MB by default) in GB-seconds;
- Route 53: each hosted zone created and not deleted within 12 hours is a month's charge; the
  flow records no DNS queries, so they are left out;
- CloudWatch: each alarm put is a month's charge, each custom metric (namespace, name and
  dimensions) put a month's, each API call a request.

Costs are list prices without the free tier; the free tier (``pricing.FREE_TIER``) is shown
separately, on the items it covers and as the total after it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from course.checks.context import Aws, fetch_flow
from course.checks.readers.ses import sends
from course.flow import ApiCall, Flow, utf8_size
from course.rules import filter_policy, pricing
from course.rules.pricing import money

#: A Lambda function's memory when ``CreateFunction`` does not set it (MB).
DEFAULT_MEMORY_MB = 128
#: Route 53 does not charge a hosted zone deleted within this many seconds of its creation.
ZONE_GRACE_SECONDS = 12 * 3600


@dataclass(frozen=True)
class LineItem:
    """One line of a bill: ``quantity`` of ``item`` at ``unit_price`` dollars a unit."""

    service: str
    item: str
    quantity: float
    unit_price: float
    price_key: str
    free_tier: str = ""

    @property
    def cost(self) -> float:
        """The item's list price in US dollars, free tier excluded."""
        return self.quantity * self.unit_price

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cost": self.cost, "page": pricing.PRICE_SOURCES[self.price_key][0]}


@dataclass(frozen=True)
class Bill:
    """The line items of a flow, in service order, with totals before and after the free tier."""

    items: list[LineItem] = field(default_factory=list)

    @property
    def total(self) -> float:
        """The list price of every item, free tier excluded."""
        return sum(i.cost for i in self.items)

    @property
    def after_free_tier(self) -> float:
        """What remains once each free tier pool has covered its quantity."""
        remaining = self.total
        for free, _, keys in pricing.FREE_TIER.values():
            pooled = [i for i in self.items if i.price_key in keys]
            quantity = sum(i.quantity for i in pooled)
            if quantity:
                covered = min(free, quantity) / quantity
                remaining -= covered * sum(i.cost for i in pooled)
        return max(0.0, round(remaining, 12))  # no float dust from the pools' subtractions

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [i.to_json() for i in self.items],
            "total": self.total,
            "after_free_tier": self.after_free_tier,
            "prices_read": pricing.PRICES_READ,
        }

    def rows(
        self, translate: Callable[[str], str] = str
    ) -> list[tuple[str, str, str, str, str, str]]:
        """The items as text: service, item, quantity, unit price, cost, free tier; the item
        and the free tier passed through ``translate`` (the reader's language)."""
        return [
            (
                i.service,
                translate(i.item),
                _quantity(i.quantity),
                money(i.unit_price),
                money(i.cost),
                translate(i.free_tier) if i.free_tier else "",
            )
            for i in self.items
        ]

    def summary(self) -> str:
        """One sentence: the total, with and without the free tier."""
        return (
            f"On AWS these calls would cost {money(self.total)} at list prices "
            f"({money(self.after_free_tier)} after the free tier; prices read "
            f"{pricing.PRICES_READ}, US East)."
        )


def _quantity(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4f}"


def _attributes_size(attributes: Any) -> int:
    size = 0
    for name, value in (attributes or {}).items() if isinstance(attributes, dict) else ():
        size += utf8_size(name)
        if isinstance(value, dict):
            size += utf8_size(value.get("DataType") or value.get("Type") or "")
            for key in ("StringValue", "BinaryValue", "Value"):
                if value.get(key) is not None:
                    size += utf8_size(value[key])
    return size


def _message_size(message: dict[str, Any], body: str = "MessageBody") -> int:
    return utf8_size(message.get(body)) + _attributes_size(message.get("MessageAttributes"))


def _sqs_payload(call: ApiCall) -> int:
    if call.action == "SendMessage":
        return _message_size(call.request)
    if call.action == "SendMessageBatch":
        return sum(_message_size(e) for e in call.request.get("Entries") or [])
    if call.action == "ReceiveMessage":
        return sum(_message_size(m, "Body") for m in call.response.get("Messages") or [])
    return 0


def _sqs(flow: Flow) -> Counter[str]:
    requests: Counter[str] = Counter()
    for call in flow.calls_to("sqs", ok=True):
        fifo = (call.queue_name or "").endswith(".fifo")
        key = "sqs_fifo_request" if fifo else "sqs_standard_request"
        requests[key] += pricing.billed_requests(1, _sqs_payload(call))
    return requests


@dataclass
class _Subscription:
    topic: str
    protocol: str
    active: bool
    policy: dict[str, Any] | None = None
    scope: str = filter_policy.ATTRIBUTES

    def set(self, name: str, value: Any) -> None:
        if name == "FilterPolicy":
            try:
                self.policy = json.loads(value) if value else None
            except (TypeError, ValueError):
                self.policy = None
        elif name == "FilterPolicyScope" and value:
            self.scope = str(value)


def _sns_attributes(attributes: Any) -> dict[str, dict[str, Any]]:
    """Published message attributes in the shape filter policies read (``Type``, ``Value``)."""
    found = {}
    for name, value in (attributes or {}).items() if isinstance(attributes, dict) else ():
        if isinstance(value, dict):
            found[name] = {
                "Type": value.get("DataType", "String"),
                "Value": value.get("StringValue", value.get("BinaryValue")),
            }
    return found


def _published(call: ApiCall) -> Iterable[tuple[str, dict[str, Any]]]:
    if call.action == "Publish":
        yield str(call.request.get("TopicArn") or call.request.get("TargetArn") or ""), call.request
    else:
        failed = {str(f.get("Id")) for f in call.response.get("Failed") or []}
        for entry in call.request.get("PublishBatchRequestEntries") or []:
            if str(entry.get("Id")) not in failed:
                yield str(call.request.get("TopicArn") or ""), entry


def _sns(flow: Flow) -> tuple[int, Counter[str], int]:
    """Billed publish requests, deliveries by protocol, and deliveries to Lambda functions."""
    subs: dict[str, _Subscription] = {}
    pending: list[_Subscription] = []
    publishes = 0
    deliveries: Counter[str] = Counter()
    for call in flow.calls_to("sns", ok=True):
        request = call.request
        if call.action == "Subscribe":
            sub = _Subscription(
                str(request.get("TopicArn")), str(request.get("Protocol", "")), False
            )
            for name, value in (request.get("Attributes") or {}).items():
                sub.set(name, value)
            arn = str(call.response.get("SubscriptionArn") or "")
            if arn.startswith("arn:"):
                sub.active = True
                subs[arn] = sub
            else:
                pending.append(sub)
        elif call.action == "ConfirmSubscription":
            arn = str(call.response.get("SubscriptionArn") or "")
            topic = str(request.get("TopicArn"))
            match = next((s for s in pending if s.topic == topic), None)
            if match is not None and arn not in subs:
                pending.remove(match)
                match.active = True
                subs[arn] = match
        elif call.action == "SetSubscriptionAttributes":
            if sub := subs.get(str(request.get("SubscriptionArn"))):
                sub.set(str(request.get("AttributeName")), request.get("AttributeValue"))
        elif call.action == "Unsubscribe":
            subs.pop(str(request.get("SubscriptionArn")), None)
        elif call.action in ("Publish", "PublishBatch"):
            entries = list(_published(call))
            size = sum(_message_size(e, "Message") for _, e in entries)
            publishes += pricing.billed_requests(1, size)
            for topic, entry in entries:
                attributes = _sns_attributes(entry.get("MessageAttributes"))
                for sub in subs.values():
                    if sub.topic == topic and filter_policy.matches(
                        sub.policy, sub.scope, str(entry.get("Message", "")), attributes
                    ):
                        deliveries[sub.protocol] += 1
    return publishes, deliveries, deliveries.get("lambda", 0)


def _memory(flow: Flow) -> dict[str, int]:
    memory: dict[str, int] = {}
    for call in flow.calls_to("lambda", "CreateFunction", "UpdateFunctionConfiguration", ok=True):
        name = str(call.request.get("FunctionName", "")).rsplit(":function:", 1)[-1]
        size = call.request.get("MemorySize")
        if size or call.action == "CreateFunction":
            memory[name.split(":")[0]] = int(size or DEFAULT_MEMORY_MB)
    return memory


def _lambda(flow: Flow) -> tuple[int, float]:
    """Invoke requests and GB-seconds of the synchronous ones."""
    memory = _memory(flow)
    requests, gb_seconds = 0, 0.0
    for call in flow.calls_to("lambda", "Invoke", ok=True):
        requests += 1
        if call.request.get("InvocationType", "RequestResponse") != "RequestResponse":
            continue
        name = str(call.request.get("FunctionName", "")).rsplit(":function:", 1)[-1]
        megabytes = memory.get(name.split(":")[0], DEFAULT_MEMORY_MB)
        seconds = math.ceil(max(call.duration, 0.0) * 1000) / 1000
        gb_seconds += megabytes / 1024 * seconds
    return requests, gb_seconds


def _route53_zones(flow: Flow) -> int:
    created: dict[str, float] = {}
    for call in flow.calls_to("route53", "CreateHostedZone", ok=True):
        zone = str((call.response.get("HostedZone") or {}).get("Id", call.seq))
        created[zone.rsplit("/", 1)[-1]] = call.started
    for call in flow.calls_to("route53", "DeleteHostedZone", ok=True):
        zone = str(call.request.get("Id", "")).rsplit("/", 1)[-1]
        if zone in created and call.started - created[zone] < ZONE_GRACE_SECONDS:
            del created[zone]
    return len(created)


def _cloudwatch(flow: Flow) -> tuple[int, int, int]:
    """Alarms, custom metrics and API requests."""
    alarms = {
        str(c.request.get("AlarmName"))
        for c in flow.calls_to("cloudwatch", "PutMetricAlarm", ok=True)
    }
    metrics = set()
    for call in flow.calls_to("cloudwatch", "PutMetricData", ok=True):
        for datum in call.request.get("MetricData") or []:
            dimensions = tuple(
                sorted(
                    (str(d.get("Name")), str(d.get("Value"))) for d in datum.get("Dimensions") or []
                )
            )
            metrics.add(
                (str(call.request.get("Namespace")), str(datum.get("MetricName")), dimensions)
            )
    return len(alarms), len(metrics), len(flow.calls_to("cloudwatch", ok=True))


def _free(key: str) -> str:
    return next((note for _, note, keys in pricing.FREE_TIER.values() if key in keys), "")


def _item(service: str, item: str, quantity: float, key: str) -> LineItem:
    return LineItem(service, item, quantity, pricing.PRICES[key], key, _free(key))


_SNS_DELIVERY_ITEMS = {
    "sns_http_delivery": "HTTP/S deliveries",
    "sns_email_delivery": "email deliveries",
    "sns_sqs_delivery": "deliveries to SQS queues",
    "sns_lambda_delivery": "deliveries to Lambda functions",
}


def bill(flow: Flow) -> Bill:
    """What the successful calls of ``flow`` would cost on AWS, as line items (only the items
    with a quantity), by the rules in this module's docstring."""
    items: list[LineItem] = []
    sqs = _sqs(flow)
    items.append(
        _item(
            "SQS", "requests (standard queues)", sqs["sqs_standard_request"], "sqs_standard_request"
        )
    )
    items.append(
        _item("SQS", "requests (FIFO queues)", sqs["sqs_fifo_request"], "sqs_fifo_request")
    )
    publishes, deliveries, to_lambda = _sns(flow)
    items.append(_item("SNS", "publish requests", publishes, "sns_publish_request"))
    by_price: Counter[str] = Counter()
    for protocol, count in deliveries.items():
        if key := pricing.SNS_DELIVERY_PRICE.get(protocol):
            by_price[key] += count
    items += [_item("SNS", label, by_price[key], key) for key, label in _SNS_DELIVERY_ITEMS.items()]
    emails = sum(len(s.recipients) for s in sends(flow) if s.ok)
    items.append(_item("SES", "messages (one per recipient)", emails, "ses_email"))
    invokes, gb_seconds = _lambda(flow)
    items.append(_item("Lambda", "requests", invokes + to_lambda, "lambda_request"))
    items.append(_item("Lambda", "compute (GB-seconds)", round(gb_seconds, 6), "lambda_gb_second"))
    items.append(
        _item(
            "Route 53", "hosted zones (a month)", _route53_zones(flow), "route53_hosted_zone_month"
        )
    )
    alarms, metrics, api = _cloudwatch(flow)
    items.append(_item("CloudWatch", "alarms (a month)", alarms, "cloudwatch_alarm_month"))
    items.append(
        _item("CloudWatch", "custom metrics (a month)", metrics, "cloudwatch_metric_month")
    )
    items.append(_item("CloudWatch", "API requests", api, "cloudwatch_api_request"))
    return Bill([i for i in items if i.quantity])


def meter(aws: Aws) -> Bill | None:
    """The bill of every call the local backend of ``aws`` recorded so far (read afresh, not
    the flow ``aws`` may hold); None on a real account (nothing records the calls there) or
    where the flow cannot be read: the meter never fails a check."""
    if aws.endpoint_url is None:
        return None
    try:
        return bill(fetch_flow(aws.endpoint_url))
    except Exception:  # a reading problem leaves the meter out, nothing else
        return None
