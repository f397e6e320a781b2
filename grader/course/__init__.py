"""An executable course kit and auto-grader for AWS messaging (SQS, SNS, SES)."""

from .checks.notebook import check
from .connection import connect

__all__ = ["check", "connect"]
