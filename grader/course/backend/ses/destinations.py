"""Configuration-set event destinations: one store for the SES v1 and v2 APIs.

moto keeps a single event destination per configuration set (the last one created). AWS: a
configuration set has several destinations, each with ``Enabled`` and ``MatchingEventTypes``
(https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_EventDestination.html). They are
stored here in v2's shape (``course.backend.ses.destination_actions`` answers the v1 and v2
calls and converts); the events of a sent message go to them (``course.backend.ses.events``).
moto still stores the configuration sets themselves.
"""

from __future__ import annotations

import threading
from typing import Any

from course.backend.core import moto_state
from course.backend.core.registry import on_reset


class Destinations:
    """Event destinations by (account, region) and configuration set, in SESv2's shape."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._sets: dict[tuple[str, str], dict[str, dict[str, dict[str, Any]]]] = {}

    def clear(self) -> None:
        """Forget every destination (backend reset)."""
        with self.lock:
            self._sets.clear()

    def of(self, account_id: str, region: str, config_set: str) -> dict[str, dict[str, Any]]:
        """The configuration set's destinations by name, a dict the caller may change."""
        with self.lock:
            return self._sets.setdefault((account_id, region), {}).setdefault(config_set, {})

    def drop_set(self, account_id: str, region: str, config_set: str) -> None:
        """Forget a deleted configuration set's destinations."""
        with self.lock:
            self._sets.get((account_id, region), {}).pop(config_set, None)


DESTINATIONS = Destinations()
on_reset(DESTINATIONS.clear)


def config_set_exists(account_id: str, region: str, name: str) -> bool:
    """True when the configuration set exists (moto stores configuration sets)."""
    return name in moto_state.ses(account_id, region).config_sets
