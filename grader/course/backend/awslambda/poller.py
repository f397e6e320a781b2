"""One SQS event source mapping's poller: it polls the queue and invokes the function, as Lambda's.

"Lambda polls the queue and invokes your Lambda function synchronously with an event that
contains queue messages. Lambda reads messages in batches and invokes your function once for
each batch. When your function successfully processes a batch, Lambda deletes its messages from
the queue." (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)

The poller is a thread of the backend that makes real API calls to its own backend over HTTP,
so each of them is in the flow record as any call is, under the principal ``"lambda"``
(``course.flow.PRINCIPAL_HEADER``, which the server believes only with the admin token): a long
poll (``ReceiveMessage``, WaitTimeSeconds 20, every attribute asked for), more receives to fill
the batch within ``MaximumBatchingWindowInSeconds``, a synchronous ``Invoke`` of the function
with the event (``course.backend.awslambda.sqs_event``), and ``DeleteMessageBatch`` of what
succeeded. What failed is left alone: it comes back after the queue's visibility timeout, and
the queue's redrive policy moves it to the dead-letter queue after ``maxReceiveCount`` receives.

Batches run concurrently, as Lambda's pollers do (at most ``ScalingConfig.MaximumConcurrency``,
else ``CONCURRENCY``): the poller keeps polling while a batch is processed, so a visibility
timeout shorter than the processing time shows its effect, the message delivered again while its
first run still works on it. Every wait is on the backend's clock (the long poll is moto's,
which follows it; the poller's own pauses wait ``clock.to_real`` of their AWS span).
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from typing import Any

import boto3
from botocore.config import Config

from course.backend.awslambda.sqs_event import kept, record
from course.backend.core import clock, moto_state
from course.backend.core.settings import SETTINGS
from course.client import ADMIN_HEADER
from course.flow import PRINCIPAL_HEADER

PRINCIPAL = "lambda"
#: ReceiveMessage's longest wait, which Lambda's pollers use (AWS seconds).
LONG_POLL = 20
#: Batches in flight at once when the mapping sets no ScalingConfig.MaximumConcurrency.
CONCURRENCY = 5
#: AWS seconds the poller waits before polling again after a call failed (the queue is gone).
BACKOFF = 5.0
#: AWS seconds between two looks at a disabled mapping.
IDLE = 1.0
#: Real seconds an Invoke may take beyond the function's timeout (its process start, the reply).
INVOKE_ALLOWANCE = 30.0


class Poller:
    """The poller of the event source mapping ``uuid`` (moto keeps its configuration, which the
    poller reads afresh before each batch: an update takes effect at the next one).

    ``state`` is what Get/ListEventSourceMappings report: Creating, Enabling, Enabled,
    Disabling or Disabled (Deleting is reported by DeleteEventSourceMapping itself)."""

    def __init__(self, uuid: str, account_id: str, region: str, endpoint_url: str) -> None:
        self.uuid = uuid
        self.account_id = account_id
        self.region = region
        self.state = "Creating"
        self.last_result = "No records processed"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._running: set[threading.Thread] = set()
        self._lock = threading.Lock()
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        self._sqs = self._client(session, "sqs", endpoint_url)
        self._lambda = self._client(session, "lambda", endpoint_url)
        self._thread = threading.Thread(target=self._run, name=f"esm-{uuid[:8]}", daemon=True)

    @staticmethod
    def _client(session: Any, service: str, endpoint_url: str) -> Any:
        config = Config(retries={"max_attempts": 1}, read_timeout=900, connect_timeout=5)
        client = session.client(service, endpoint_url=endpoint_url, config=config)
        token = SETTINGS.admin_token

        def principal(request: Any, **_: Any) -> None:
            request.headers[PRINCIPAL_HEADER] = PRINCIPAL
            if token:
                request.headers[ADMIN_HEADER] = token

        client.meta.events.register("before-sign", principal)
        return client

    # -------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start polling (the mapping's ``Enabled`` decides whether it receives anything)."""
        self._thread.start()

    def wake(self) -> None:
        """Look at the mapping's configuration again now (after an update)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop for good (the mapping was deleted, or the backend reset): no batch is received,
        invoked or deleted from now on; a long poll in flight ends on its own."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` real seconds for the poller's thread to end (it ends at once
        unless a call of its is in flight; the flow record forgets a call begun before a
        reset)."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called."""
        return self._stop.is_set()

    # ----------------------------------------------------------------------------- polling

    def _mapping(self) -> Any | None:
        backend = moto_state.awslambda(self.account_id, self.region)
        return backend.get_event_source_mapping(self.uuid)

    def _pause(self, aws_seconds: float) -> None:
        self._wake.wait(clock.to_real(aws_seconds))
        self._wake.clear()

    def _run(self) -> None:
        while not self.stopped:
            mapping = self._mapping()
            if mapping is None:
                break
            if not mapping.enabled:
                self.state = "Disabled"
                self._pause(IDLE)
                continue
            self.state = "Enabled"
            if not self._take_slot(mapping):
                continue
            try:
                batch = self._gather(mapping)
            except Exception:  # the queue is gone, or the backend is going away
                self._pause(BACKOFF)
                continue
            if batch and not self.stopped:
                self._dispatch(mapping, batch)

    def _take_slot(self, mapping: Any) -> bool:
        """Wait until fewer batches than the mapping's concurrency are in flight."""
        limit = int((mapping.scaling_config or {}).get("MaximumConcurrency") or CONCURRENCY)
        while not self.stopped:
            with self._lock:
                self._running = {t for t in self._running if t.is_alive()}
                if len(self._running) < limit:
                    return True
            self._pause(IDLE / 10)
        return False

    def _queue_url(self, mapping: Any) -> str:
        _, _, _, _, account, name = mapping.event_source_arn.split(":", 5)
        return f"{self._sqs.meta.endpoint_url}/{account}/{name}"

    def _receive(self, mapping: Any, count: int, wait: int) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url(mapping),
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(answer.get("Messages") or [])

    def _gather(self, mapping: Any) -> list[dict[str, Any]]:
        """Up to BatchSize messages: a long poll, then more receives until the batch is full,
        the batching window is over, or the queue has nothing more to give."""
        size = int(mapping.batch_size)
        messages = self._receive(mapping, size, LONG_POLL)
        if not messages:
            return []
        deadline = clock.now() + float(mapping.max_batch_window or 0)
        while len(messages) < size and not self.stopped:
            remaining = deadline - clock.now()
            wait = 0 if remaining <= 0 else min(LONG_POLL, math.ceil(remaining))
            more = self._receive(mapping, size - len(messages), wait)
            messages.extend(more)
            if not more and wait == 0:
                break
        return messages

    # ---------------------------------------------------------------------------- batches

    def _dispatch(self, mapping: Any, batch: list[dict[str, Any]]) -> None:
        report = "ReportBatchItemFailures" in (mapping.function_response_types or [])
        work = threading.Thread(
            target=self._settle,
            args=(mapping.function_arn, self._queue_url(mapping), mapping.event_source_arn),
            kwargs={"batch": batch, "report": report},
            name=f"esm-batch-{self.uuid[:8]}",
            daemon=True,
        )
        with self._lock:
            self._running.add(work)
        work.start()

    def _settle(
        self,
        function_arn: str,
        queue_url: str,
        queue_arn: str,
        *,
        batch: list[dict[str, Any]],
        report: bool,
    ) -> None:
        """Invoke the function with the batch, then delete what it processed."""
        event = {"Records": [record(m, queue_arn, self.region) for m in batch]}
        try:
            answer = self._lambda.invoke(
                FunctionName=function_arn,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode("utf-8"),
            )
            failed = "FunctionError" in answer
            payload = answer["Payload"].read()
        except Exception:  # no such function, or the backend went away: the batch failed
            failed, payload = True, b""
        if self.stopped:
            return
        stay = kept([m["MessageId"] for m in batch], payload, failed, report)
        self.last_result = "PROBLEM: Function call failed" if failed else "OK"
        processed = [m for m in batch if m["MessageId"] not in stay]
        for start in range(0, len(processed), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(processed[start : start + 10])
            ]
            with contextlib.suppress(Exception):
                self._sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
