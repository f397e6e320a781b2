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
  is what the usage would cost without them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
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
