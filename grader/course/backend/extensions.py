"""The backend's extensions: every module that adds to or corrects moto, in the order they load.

Hooks on the same call run in this order, so it is written here rather than left to file names.
The server reports the list at ``/_course/health``.
"""

from __future__ import annotations

EXTENSIONS: tuple[str, ...] = (
    "course.backend.awslambda.invoke",
    "course.backend.mail.mailbox",
    "course.backend.ses.account",
    "course.backend.ses.destinations",
    "course.backend.ses.dns",
    "course.backend.ses.events",
    "course.backend.ses.identities",
    "course.backend.ses.identity_api",
    "course.backend.ses.send_api",
    "course.backend.ses.sending",
    "course.backend.ses.smtp_endpoint",
    "course.backend.ses.templates",
    "course.backend.sns.delivery_api",
    "course.backend.sns.email",
    "course.backend.sns.filter_policy_api",
    "course.backend.sqs.fifo",
    "course.backend.sqs.limits",
    "course.backend.sqs.receivers",
    "course.backend.sqs.redrive",
    "course.backend.sqs.retention",
)
