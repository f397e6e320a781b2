"""What the server fixes when it starts and the extensions read later: the SMTP port, the admin
token.

The server fills ``SETTINGS`` before it serves its first request; the extensions read it when
they need a value. Core never imports a service, so this is how the server hands one a value
(``course.backend.ses.smtp_endpoint`` reads ``smtp_port``; an SQS event source mapping's poller,
``course.backend.awslambda.poller``, sends ``admin_token`` so its calls are recorded as its own).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    """The server's choices for this process, as the extensions read them."""

    #: The loopback port the SES SMTP interface listens on when it starts; 0 picks a free one.
    #: The server fixes it in advance when it serves a gate (sandboxes learn their ports then).
    smtp_port: int = 0
    #: The backend's admin token (empty when it has none).
    admin_token: str = ""


SETTINGS = Settings()
