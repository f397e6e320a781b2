"""The AWS errors of Amazon CloudWatch the kit answers with: one class per error code."""

from __future__ import annotations

from course.backend.core.errors import ServiceError


class InvalidParameterValue(ServiceError):
    """A parameter's value CloudWatch refuses (GetMetricStatistics' StartTime not before its
    EndTime)."""

    code = "InvalidParameterValue"


class ValidationError(ServiceError):
    """A request CloudWatch's validation refuses (GetMetricData's StartTime after EndTime)."""

    code = "ValidationError"
