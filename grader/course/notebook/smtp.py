"""Where a notebook's SMTP client connects: the local backend's SES SMTP interface, or AWS's.

On the local backend the SMTP server listens on a loopback port chosen when the backend starts;
``GET <endpoint>/_course/ses/smtp`` says which. On a real account it is SES's regional endpoint,
``email-smtp.<region>.amazonaws.com`` on port 587 (STARTTLS)
(https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html).
"""

from __future__ import annotations

import json
import os
import urllib.request

from course.connection import DEFAULT_REGION


def smtp_endpoint(region: str | None = None) -> tuple[str, int]:
    """(host, port) of the SES SMTP interface for the backend this notebook is connected to."""
    region = region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    endpoint = os.environ.get("COURSE_ENDPOINT")
    if os.environ.get("COURSE_BACKEND", "local") == "local" and endpoint:
        with urllib.request.urlopen(f"{endpoint}/_course/ses/smtp", timeout=10) as response:
            found = json.loads(response.read())
        return found["host"], int(found["port"])
    return f"email-smtp.{region}.amazonaws.com", 587
