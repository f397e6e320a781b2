"""What SQS, SNS and SES cost: one table of prices and the billing rules, for lab 10's cost
function and its checks.

Prices are AWS's list prices for US East (N. Virginia), before any free tier, from AWS's pricing
pages (https://aws.amazon.com/sqs/pricing/, https://aws.amazon.com/sns/pricing/,
https://aws.amazon.com/ses/pricing/). ``PRICES_READ`` is the date they were last checked:
against cost guides of 2026 that quote those pages and against the course notes (the live pages
could not be opened from where this table was written; check them when it is updated). Only the
first volume tier is used (SQS's lower rates start beyond 100 billion requests a month).

The rules the lab teaches:

- SQS bills every API action as a request, and "each 64 KB chunk of a payload is billed as 1
  request" (a 256 KB message is 4); FIFO queues cost more per request;
- SNS bills each publish the same way (64 KB chunks), and each delivery by its protocol:
  HTTP/S and email are charged, deliveries to SQS queues and Lambda functions are free;
- SES bills each email (per recipient) and the attachments' gigabytes;
- the free tiers (1 million SQS requests, 1 million SNS publishes, ...) are left out: the cost
  is what the usage would cost without them (``FREE_TIER`` lists them for the cost meter).

The cost meter (``course.checks.readers.cost``) also prices Lambda (requests and GB-seconds),
Route 53 (hosted zones a month, queries) and CloudWatch (alarms and custom metrics a month, API
requests); ``PRICE_SOURCES`` gives each price's page and the date it was read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

PRICES_READ = "2026-11-29"
CHUNK_BYTES = 64 * 1024
#: US dollars per unit; one table, used by the checks and quoted by lab 10.
PRICES: dict[str, float] = {
    "sqs_standard_request": 0.40 / 1_000_000,
    "sqs_fifo_request": 0.50 / 1_000_000,
    "sns_publish_request": 0.50 / 1_000_000,
    "sns_http_delivery": 0.60 / 1_000_000,
    "sns_email_delivery": 2.00 / 100_000,
    "sns_sqs_delivery": 0.0,
    "sns_lambda_delivery": 0.0,
    "ses_email": 0.10 / 1_000,
    "ses_attachment_gb": 0.12,
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second": 0.0000166667,
    "route53_hosted_zone_month": 0.50,
    "route53_standard_query": 0.40 / 1_000_000,
    "cloudwatch_alarm_month": 0.10,
    "cloudwatch_metric_month": 0.30,
    "cloudwatch_api_request": 0.01 / 1_000,
}
#: Where each price was read, and when (the cost meter, ``course.checks.readers.cost``, quotes
#: them); the prices above are US East (N. Virginia), first volume tier, x86 for Lambda.
PRICE_PAGES: dict[str, str] = {
    "sqs": "https://aws.amazon.com/sqs/pricing/",
    "sns": "https://aws.amazon.com/sns/pricing/",
    "ses": "https://aws.amazon.com/ses/pricing/",
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "route53": "https://aws.amazon.com/route53/pricing/",
    "cloudwatch": "https://aws.amazon.com/cloudwatch/pricing/",
}
PRICE_SOURCES: dict[str, tuple[str, str]] = {
    key: (PRICE_PAGES[key.split("_", 1)[0]], PRICES_READ) for key in PRICES
}
#: The monthly free tier, per pool of prices that share it: (free quantity, what AWS says).
#: Lambda's, SQS's, SNS's and CloudWatch's are always free; SES's is for the first 12 months.
FREE_TIER: dict[str, tuple[float, str, tuple[str, ...]]] = {
    "sqs": (
        1_000_000,
        "first 1 million requests a month",
        ("sqs_standard_request", "sqs_fifo_request"),
    ),
    "sns_publish": (1_000_000, "first 1 million requests a month", ("sns_publish_request",)),
    "sns_http": (100_000, "first 100,000 HTTP/S deliveries a month", ("sns_http_delivery",)),
    "sns_email": (1_000, "first 1,000 email deliveries a month", ("sns_email_delivery",)),
    "ses": (3_000, "3,000 message charges a month, first 12 months", ("ses_email",)),
    "lambda_requests": (1_000_000, "first 1 million requests a month", ("lambda_request",)),
    "lambda_compute": (400_000, "first 400,000 GB-seconds a month", ("lambda_gb_second",)),
    "cloudwatch_alarms": (10, "10 standard alarm metrics", ("cloudwatch_alarm_month",)),
    "cloudwatch_metrics": (10, "10 custom metrics", ("cloudwatch_metric_month",)),
    "cloudwatch_api": (1_000_000, "1 million API requests", ("cloudwatch_api_request",)),
}
SNS_DELIVERY_PRICE = {
    "http": "sns_http_delivery",
    "https": "sns_http_delivery",
    "email": "sns_email_delivery",
    "email-json": "sns_email_delivery",
    "sqs": "sns_sqs_delivery",
    "lambda": "sns_lambda_delivery",
}


def billed_requests(count: int, payload_bytes: int) -> int:
    """How many requests ``count`` calls each carrying ``payload_bytes`` are billed as: one per
    started 64 KB chunk (a call with an empty payload is still one request)."""
    return int(count) * max(1, math.ceil(int(payload_bytes) / CHUNK_BYTES))


def _requests(pairs: Iterable[Any]) -> int:
    return sum(billed_requests(int(count), int(size)) for count, size in pairs or [])


def lab_cost(usage: Mapping[str, Any]) -> float:
    """The cost in US dollars of ``usage``, free tier excluded. ``usage`` may hold:

    - ``sqs_standard`` / ``sqs_fifo``: ``[[count, payload_bytes], ...]`` API calls on standard /
      FIFO queues (a receive or delete has a payload of 0 bytes);
    - ``sns_publish``: ``[[count, payload_bytes], ...]`` publishes;
    - ``sns_deliveries``: ``{protocol: count}`` (``http``, ``https``, ``email``, ``email-json``,
      ``sqs``, ``lambda``);
    - ``ses_emails``: emails sent (one per recipient); ``ses_attachment_gb``: attachments' GB.

    A missing key costs nothing."""
    cost = _requests(usage.get("sqs_standard", [])) * PRICES["sqs_standard_request"]
    cost += _requests(usage.get("sqs_fifo", [])) * PRICES["sqs_fifo_request"]
    cost += _requests(usage.get("sns_publish", [])) * PRICES["sns_publish_request"]
    for protocol, count in (usage.get("sns_deliveries") or {}).items():
        cost += int(count) * PRICES[SNS_DELIVERY_PRICE[str(protocol)]]
    cost += int(usage.get("ses_emails", 0)) * PRICES["ses_email"]
    cost += float(usage.get("ses_attachment_gb", 0)) * PRICES["ses_attachment_gb"]
    return cost


def money(dollars: float) -> str:
    """Dollars to a readable precision: cents, or 3 significant digits below a cent (in fixed
    point: $0.0000024)."""
    if dollars == 0:
        return "$0"
    if dollars >= 0.01:
        return f"${dollars:,.2f}"
    return f"${Decimal(f'{dollars:.3g}'):f}"  # fixed point, never 2.4e-06
