"""The AWS errors of Amazon SES (v1 and v2) the kit answers with: one class per error code.

Codes and statuses as the Amazon SES API References give them
(https://docs.aws.amazon.com/ses/latest/APIReference/CommonErrors.html and the v2 reference's
"Errors" of each action). SES v1 (the query protocol) answers with HTTP 400; SES v2 (REST)
gives some codes a status of their own. The messages are each hook's.
"""

from __future__ import annotations

from course.backend.core.errors import ServiceError

# ---------------------------------------------------------------- both APIs


class MessageRejected(ServiceError):
    """The message was refused: a sender or (in the sandbox) a recipient is not verified."""

    code = "MessageRejected"


class MailFromDomainNotVerifiedException(ServiceError):
    """The identity's custom MAIL FROM domain is not set up, and it rejects the message then."""

    code = "MailFromDomainNotVerifiedException"


# ---------------------------------------------------------------- SES v1


class InvalidParameterValue(ServiceError):
    """A parameter's value is not one SES accepts."""

    code = "InvalidParameterValue"


class ConfigurationSetDoesNotExist(ServiceError):
    """The configuration set the call names does not exist."""

    code = "ConfigurationSetDoesNotExist"


class EventDestinationAlreadyExists(ServiceError):
    """The configuration set already has an event destination of that name."""

    code = "EventDestinationAlreadyExists"


class EventDestinationDoesNotExist(ServiceError):
    """The configuration set has no event destination of that name."""

    code = "EventDestinationDoesNotExist"


class TemplateDoesNotExist(ServiceError):
    """The email template the call names does not exist."""

    code = "TemplateDoesNotExist"


class AccountSendingPausedException(ServiceError):
    """Email sending is paused for the account."""

    code = "AccountSendingPausedException"


class Throttling(ServiceError):
    """The sending rate or the daily quota is used up."""

    code = "Throttling"


# ---------------------------------------------------------------- SES v2


class BadRequestException(ServiceError):
    """A parameter's value is not one SES accepts."""

    code = "BadRequestException"


class NotFoundException(ServiceError):
    """The identity, configuration set, event destination or template does not exist."""

    code = "NotFoundException"
    status = 404


class AlreadyExistsException(ServiceError):
    """The identity, event destination or template already exists."""

    code = "AlreadyExistsException"


class ConflictException(ServiceError):
    """The request conflicts with one in progress (a production-access review)."""

    code = "ConflictException"
    status = 409


class SendingPausedException(ServiceError):
    """Email sending is paused for the account."""

    code = "SendingPausedException"


class TooManyRequestsException(ServiceError):
    """The sending rate or the daily quota is used up."""

    code = "TooManyRequestsException"
    status = 429


class LimitExceededException(ServiceError):
    """An account limit is reached (one contact list per account)."""

    code = "LimitExceededException"


class UnknownOperationException(ServiceError):
    """No SES v2 operation is bound to the request's method and path."""

    code = "UnknownOperationException"
    status = 404


class OperationNotImplemented(ServiceError):
    """An SES v2 operation AWS has that the course's backend does not answer."""

    code = "NotImplemented"
    status = 501
    sender = False
