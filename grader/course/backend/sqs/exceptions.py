"""The AWS errors of Amazon SQS the kit answers with: one class per error code.

Codes and statuses as the Amazon SQS API Reference gives them (the JSON protocol names them
``com.amazonaws.sqs#<code>``); the messages are each hook's, in AWS's wording.
"""

from __future__ import annotations

from course.backend.core.errors import ServiceError


class InvalidParameterValue(ServiceError):
    """A parameter's value is out of its documented range, or its name breaks a rule."""

    code = "InvalidParameterValue"


class InvalidAttributeValue(ServiceError):
    """A queue attribute's value is out of its documented range."""

    code = "InvalidAttributeValue"


class InvalidAttributeName(ServiceError):
    """A queue attribute that SQS does not have."""

    code = "InvalidAttributeName"


class BatchRequestTooLong(ServiceError):
    """A SendMessageBatch whose messages carry more than 1 MiB in all."""

    code = "BatchRequestTooLong"


class ResourceNotFoundException(ServiceError):
    """A queue ARN, or a message movement task, that does not exist."""

    code = "ResourceNotFoundException"
    status = 404


class NonExistentQueue(ServiceError):
    """The queue does not exist (what SQS answers SNS for a subscribed queue that is gone)."""

    code = "AWS.SimpleQueueService.NonExistentQueue"


class AccessDenied(ServiceError):
    """The queue's policy does not let the caller act (what SQS answers SNS without it)."""

    code = "AccessDenied"
    status = 403


class MotoRefusal(ServiceError):
    """An error moto's SQS model raised while a hook called it, answered with moto's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
