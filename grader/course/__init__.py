"""An executable course kit and auto-grader for AWS messaging (SQS, SNS, SES).

``connect`` and ``check`` are loaded on first use, so the kit's small tools (the sandbox's
launcher among them) start without importing boto3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checks.notebook import check
    from .connection import connect

__all__ = ["check", "connect"]


def __getattr__(name: str) -> Any:
    if name == "connect":
        from .connection import connect

        return connect
    if name == "check":
        from .checks.notebook import check

        return check
    raise AttributeError(f"module 'course' has no attribute {name!r}")
