"""The base of every AWS error the kit's hooks raise: an error code, an HTTP status and a fault.

Each service package declares one subclass per AWS error code it answers with (its
``exceptions.py``, as moto declares them); a hook raises one, and the registry
(``course.backend.core.registry.run_before`` and ``run_after``) answers the call with that error
in the call's wire protocol, as boto3 parses it.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An AWS error answering the call: ``code`` and HTTP ``status`` are the subclass's, the
    message the instance's; ``sender`` says whose fault it is (AWS's "Sender" or "Receiver")."""

    code: str = "InternalFailure"
    status: int = 400
    sender: bool = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
