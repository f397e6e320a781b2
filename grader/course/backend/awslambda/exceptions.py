"""The AWS errors of AWS Lambda the kit answers with: one class per error code.

Codes and statuses as the AWS Lambda API Reference gives them (API_Invoke's "Errors"); the
messages are each hook's.
"""

from __future__ import annotations

from course.backend.core.errors import ServiceError


class ResourceNotFoundException(ServiceError):
    """The function does not exist."""

    code = "ResourceNotFoundException"
    status = 404


class InvalidRequestContentException(ServiceError):
    """The request body (an Invoke payload) is not JSON."""

    code = "InvalidRequestContentException"


class InvalidRuntimeException(ServiceError):
    """The function's runtime is not one the kit can run."""

    code = "InvalidRuntimeException"
    status = 502


class InvalidParameterValueException(ServiceError):
    """A parameter that is not what Lambda expects (say, an ARN that names no function)."""

    code = "InvalidParameterValueException"


class AccessDeniedException(ServiceError):
    """The function's resource policy does not let the caller (SNS, say) invoke it."""

    code = "AccessDeniedException"
    status = 403
