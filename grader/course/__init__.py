"""An executable course kit and auto-grader for AWS messaging (SQS, SNS, SES).

What a lab notebook imports is here, loaded on first use so that the kit's small tools (the
sandbox's launcher among them) start without importing boto3:

- ``connect``: the lab's first cell; the local backend or a real account.
- ``name``: a resource name as the labs create it (the learner's prefix on a real account).
- ``check``: the lab's checks, run on what the notebook did.
- ``mailbox``, ``NoMailbox``: the local backend's mailbox.
- ``smtp_endpoint``: where the local backend's SES SMTP interface listens.
- ``flow_mark``, ``visibility_timeline``: lab 02's timeline of message visibility.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from course.connection import connect, name
    from course.notebook.check import check
    from course.notebook.mailbox import NoMailbox, mailbox
    from course.notebook.smtp import smtp_endpoint
    from course.notebook.timeline import flow_mark, visibility_timeline

#: Each name a notebook imports from ``course``, and the module that defines it.
_HOMES = {
    "connect": "course.connection",
    "name": "course.connection",
    "check": "course.notebook.check",
    "mailbox": "course.notebook.mailbox",
    "NoMailbox": "course.notebook.mailbox",
    "smtp_endpoint": "course.notebook.smtp",
    "flow_mark": "course.notebook.timeline",
    "visibility_timeline": "course.notebook.timeline",
}

__all__ = [
    "NoMailbox",
    "check",
    "connect",
    "flow_mark",
    "mailbox",
    "name",
    "smtp_endpoint",
    "visibility_timeline",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'course' has no attribute {name!r}")
