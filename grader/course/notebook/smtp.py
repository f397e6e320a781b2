"""Where a notebook's SMTP client connects: the local backend's SES SMTP interface, or AWS's.

On the local backend the SMTP server listens on a loopback port chosen when the backend starts;
``GET <endpoint>/_course/ses/smtp`` says which. On a real account it is SES's regional endpoint,
``email-smtp.<region>.amazonaws.com`` on port 587 (STARTTLS)
(https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html). ``COURSE_SMTP_ENDPOINT=host:port``
names another one, for an AWS-compatible emulator reached through ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

from course.connection import settings


def smtp_endpoint(region: str | None = None) -> tuple[str, int]:
    """(host, port) of the SES SMTP interface for the backend this notebook is connected to."""
    where = settings()
    backend = where.local_backend()
    if backend is not None:
        return backend.smtp_endpoint()
    if where.smtp:
        host, _, port = where.smtp.rpartition(":")
        return host, int(port)
    return f"email-smtp.{region or where.region}.amazonaws.com", 587
