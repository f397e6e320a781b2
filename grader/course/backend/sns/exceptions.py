"""The AWS errors of Amazon SNS the kit answers with: one class per error code.

Codes and statuses as the Amazon SNS API Reference gives them; the messages are each hook's, in
AWS's wording ("Invalid parameter: ...").
"""

from __future__ import annotations

from course.backend.core.errors import ServiceError


class InvalidParameter(ServiceError):
    """A parameter SNS refuses: a Subject, an endpoint, a token, an ARN or a filter policy."""

    code = "InvalidParameter"


class NotFound(ServiceError):
    """The topic (or other resource) the call names does not exist."""

    code = "NotFound"
    status = 404


class BatchRequestTooLong(ServiceError):
    """A PublishBatch whose messages together are longer than the topic allows."""

    code = "BatchRequestTooLong"
