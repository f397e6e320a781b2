"""A backend extension for ``test_flow_bounds`` only: its hook crashes on one call, as a bug in a
hook would, so the test can see the crash answered and recorded."""

from __future__ import annotations

from course.backend.core.registry import ApiRequest, Reply, before

CRASH_PREFIX = "crash-here"


@before("sqs", "ListQueues")
def crash(request: ApiRequest) -> Reply | None:
    """Raise on ListQueues with ``QueueNamePrefix`` ``CRASH_PREFIX``; let any other through."""
    if request.params.get("QueueNamePrefix") == CRASH_PREFIX:
        raise RuntimeError("a hook broke on purpose")
    return None
