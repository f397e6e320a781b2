"""Read the local backend's mailbox from a notebook: ``mailbox().messages(to=...)``.

On a real account there is no kit mailbox: mail goes to real inboxes, and this says so.
"""

from __future__ import annotations

import time
from typing import Any

from course.client import BackendClient
from course.connection import settings
from course.i18n import _


class NoMailbox(RuntimeError):
    """The notebook is connected to a real account, where mail goes to real inboxes."""


class Mailbox:
    """The local backend's mailbox, over HTTP."""

    def __init__(self, endpoint_url: str) -> None:
        self._backend = BackendClient(endpoint_url)
        self.endpoint_url = self._backend.url

    @property
    def web_page(self) -> str:
        """The mailbox's address for a browser."""
        return self._backend.mailbox_page

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Every mail delivered (to ``to`` if given), oldest first."""
        return self._backend.mailbox(to)

    def wait_for(
        self, to: str, subject_contains: str = "", timeout: float = 10.0
    ) -> dict[str, Any]:
        """The newest mail to ``to`` with the text in its subject; waits up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages(to) if subject_contains in m["subject"]]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise TimeoutError(_(f"no mail to {to} with {subject_contains!r} in the subject"))
            time.sleep(0.2)


def mailbox() -> Mailbox:
    """The mailbox of the backend this notebook is connected to."""
    backend = settings().local_backend()
    if backend is None:
        raise NoMailbox(_("connected to a real account (or not connected): read your own inbox"))
    return Mailbox(backend.url)
