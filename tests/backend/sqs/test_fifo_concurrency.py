"""FIFO message groups stay exclusive under concurrent consumers, and a blocked long poll sleeps
(``course/backend/sqs/fifo.py``).

moto scans a queue in every receive at once, against a copy of the in-flight groups taken when
the receive began: two overlapping receives each took a message of one group, out of order,
with sequence numbers going backwards; and a long poll on a blocked group looked again at once,
burning a full core for its whole wait. Consumers here are threads, each with its own boto3
client, as a student's workers would be.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from course.backend.process import Backend

from tests.conftest import make_client

FIFO_LOGIC = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "FIFO-queues-understanding-logic.html"
)
LONG_POLLING = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "sqs-short-and-long-polling.html"
)
CONSUMERS = 8


@dataclass
class Ledger:
    """What the consumers saw, checked as each batch arrives (under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: set[str] = field(default_factory=set)
    next_index: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last_sequence: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    received: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    def take(self, batch: list[dict[str, Any]]) -> None:
        """Check a received batch: no group another consumer holds, each group's messages next
        in its order, sequence numbers rising; then hold its groups."""
        with self.lock:
            groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for message in batch:
                groups[message["Attributes"]["MessageGroupId"]].append(message)
            for group, messages in groups.items():
                if group in self.in_flight:
                    self.faults.append(f"group {group} delivered while in flight elsewhere")
                for message in messages:
                    index = int(message["Body"].split(":")[1])
                    if index != self.next_index[group]:
                        self.faults.append(f"{message['Body']} after {group}:{index - 1}")
                    sequence = int(message["Attributes"]["SequenceNumber"])
                    if sequence <= self.last_sequence[group]:
                        self.faults.append(f"{message['Body']}: sequence number went back")
                    self.next_index[group] = index + 1
                    self.last_sequence[group] = sequence
                    self.received.append(message["Body"])
                self.in_flight.add(group)

    def release(self, batch: list[dict[str, Any]]) -> None:
        """The consumer is done with its batch's groups (it deletes them next)."""
        with self.lock:
            for message in batch:
                self.in_flight.discard(message["Attributes"]["MessageGroupId"])


def consume(client: Any, url: str, ledger: Ledger, total: int, deadline: float) -> None:
    """Receive (1 to 3 at a time), check and delete until every message was seen."""
    rng = random.Random()
    while time.monotonic() < deadline:
        with ledger.lock:
            if len(ledger.received) >= total:
                return
        batch = client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=rng.randint(1, 3),
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["MessageGroupId", "SequenceNumber"],
        ).get("Messages", [])
        if not batch:
            continue
        ledger.take(batch)
        ledger.release(batch)
        client.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)
            ],
        )


def fifo_queue(sqs: Any, name: str) -> str:
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    attributes["VisibilityTimeout"] = "300"  # no message comes back during the test
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


@pytest.mark.parametrize(("groups", "per_group"), [(1, 40), (5, 16)])
def test_concurrent_consumers_never_share_a_group(
    sqs: Any, backend: Backend, groups: int, per_group: int
) -> None:
    """FIFO delivery logic (FIFO_LOGIC): "When you receive a message with a message group ID, no
    more messages for the same message group ID are returned unless you delete the message or
    it becomes visible", and within a group "all messages are sent and received in strict
    order". Eight consumers, each its own client: every message exactly once, each group in
    order, its sequence numbers increasing, never two consumers holding one group."""
    url = fifo_queue(sqs, f"work-{groups}.fifo")
    total = groups * per_group
    ledger = Ledger()
    clients = [make_client(backend, "sqs") for _ in range(CONSUMERS)]
    deadline = time.monotonic() + 60
    threads = [
        threading.Thread(target=consume, args=(client, url, ledger, total, deadline))
        for client in clients
    ]
    for thread in threads:  # the consumers wait on the empty queue as the messages arrive
        thread.start()
    for index in range(0, per_group, 2):
        entries = [
            {"Id": f"g{g}-{i}", "MessageBody": f"g{g}:{i}", "MessageGroupId": f"g{g}"}
            for i in (index, index + 1)
            for g in range(groups)
        ]
        for start in range(0, len(entries), 10):
            sqs.send_message_batch(QueueUrl=url, Entries=entries[start : start + 10])
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    assert ledger.faults == []
    expected = {f"g{g}:{i}" for g in range(groups) for i in range(per_group)}
    assert sorted(ledger.received) == sorted(expected)  # each exactly once


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far (Linux ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_a_long_poll_on_a_blocked_group_sleeps(sqs: Any, backend: Backend) -> None:
    """Long polling (LONG_POLLING) "waits until a message is available in the queue before
    sending a response"; a message of a group in flight is not available (FIFO_LOGIC). The
    backend must wait for it without spinning: a 5-second blocked poll costs it well under a
    second of CPU time (moto's loop burned a full core)."""
    url = fifo_queue(sqs, "blocked.fifo")
    for index in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"A:{index}", MessageGroupId="A")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "A:0"
    before, started = cpu_seconds(backend.pid), time.monotonic()
    answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
    waited, spent = time.monotonic() - started, cpu_seconds(backend.pid) - before
    assert answer.get("Messages", []) == []
    assert waited >= 5 / backend.api.clock()["scale"] * 0.9
    assert spent < 0.5


def test_a_long_poll_wakes_when_its_group_is_released(sqs: Any, backend: Backend) -> None:
    """Long polling (LONG_POLLING) returns as soon as a message is available: deleting the
    group's message in flight hands the next one to a consumer already waiting, at once rather
    than at its next look (FIFO_LOGIC: the group is blocked "unless you delete the message")."""
    url = fifo_queue(sqs, "released.fifo")
    for index in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"A:{index}", MessageGroupId="A")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    waiter = make_client(backend, "sqs")
    answers: list[tuple[float, dict[str, Any]]] = []
    thread = threading.Thread(
        target=lambda: answers.append(
            (time.monotonic(), waiter.receive_message(QueueUrl=url, WaitTimeSeconds=20))
        )
    )
    thread.start()
    time.sleep(0.3)
    deleted = time.monotonic()
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    thread.join(timeout=25)
    (returned, answer), *_ = answers
    assert [m["Body"] for m in answer["Messages"]] == ["A:1"]
    assert returned - deleted < 0.5 / backend.api.clock()["scale"] + 0.2
