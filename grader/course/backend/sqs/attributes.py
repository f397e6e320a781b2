"""SQS SetQueueAttributes changes only the attributes it names.

moto 5.2's ``Queue._set_attributes`` sets the queue's policy from the call's attributes whether
or not the call names ``Policy``, so any SetQueueAttributes without it (a visibility timeout, a
redrive policy) silently removes the queue's access policy, and with it the permission an SNS
topic needs to deliver (lab 07). AWS changes only what the call names: "Sets the value of one or
more queue attributes" (SetQueueAttributes reference,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html);
a policy goes away only when ``Policy`` is set to an empty string. This module wraps moto's
method once so a call without ``Policy`` keeps the one the queue has.
"""

from __future__ import annotations

from typing import Any

from moto.sqs.models import Queue


def _keep_policy(original: Any) -> Any:
    """Wrap ``Queue._set_attributes``: a call whose attributes do not name Policy keeps it."""

    def set_attributes(self: Queue, attributes: dict[str, Any], now: float | None = None) -> None:
        kept = getattr(self, "policy", None)
        original(self, attributes, now)
        if "Policy" not in attributes:
            self.policy = kept

    set_attributes.__course_keeps_policy__ = True  # type: ignore[attr-defined]
    return set_attributes


def install() -> None:
    """Wrap moto's ``Queue._set_attributes`` once."""
    if not getattr(Queue._set_attributes, "__course_keeps_policy__", False):
        Queue._set_attributes = _keep_policy(Queue._set_attributes)  # type: ignore[method-assign]


install()
