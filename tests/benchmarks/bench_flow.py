"""The flow record under load, with figures to quote (not a test: nothing here asserts).

    python tests/benchmarks/bench_flow.py [--messages 600] [--size 250000] [--moto]

Issue 14's measurement: ``--workers`` producers send ``--messages`` messages of ``--size`` bytes
to one queue while as many consumers receive and delete them. Then the whole flow record is
fetched (as the checks fetch it) while another client makes one API call after another. The
figures: the server's resident memory at start, at its peak (the kernel's high-water mark) and
after the traffic, and its peak once the record was fetched; the flow's size and fetch time; the
concurrent calls' latency during the fetch. ``--moto`` measures plain moto server mode's memory
under the same traffic, for comparison.

Last run (2026-11-29, 2 cores, load average 4-8 from other work on the machine), 600 messages of
250 KB, 8 producers and 8 consumers:

| | peak RSS (traffic) | after | peak with the fetch | flow | fetch | concurrent call, max |
|---|---|---|---|---|---|---|
| kit before (03c84c7^) | 581 MiB | 581 MiB | 1,377 MiB | 287 MiB | 5.1-11.9 s | 2.0-9.0 s |
| kit now | 342 MiB | 341 MiB | 351 MiB | 5.6 MiB | 0.09-0.11 s | 63-72 ms |
| plain moto | 301 MiB | 301 MiB | | | | |

(All three start at 74-111 MiB; what the kit still grows by is moto's own storage, as plain moto.)

It measures whichever ``course`` package Python imports: to compare with an older kit, put its
``grader/`` first on ``PYTHONPATH`` (an older backend that ignores ``limit`` answers the first
request with the whole record).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import psutil
from botocore.config import Config
from course.backend.process import Backend
from course.client import BackendClient

MiB = 1 << 20


def client(url: str) -> Any:
    config = Config(max_pool_connections=32, retries={"total_max_attempts": 1})
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def high_water_mark(pid: int) -> int:
    """The process's peak resident memory so far, in bytes (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def traffic(url: str, messages: int, size: int, workers: int) -> float:
    """Send ``messages`` bodies of ``size`` bytes with ``workers`` producers while ``workers``
    consumers receive and delete them; the seconds it took."""
    sqs = client(url)
    queue = sqs.create_queue(QueueName="bench-flow")["QueueUrl"]
    received = []
    lock = threading.Lock()
    per_producer = [messages // workers + (i < messages % workers) for i in range(workers)]

    def produce(count: int) -> None:
        mine = client(url)
        for _ in range(count):
            mine.send_message(QueueUrl=queue, MessageBody=os.urandom(size // 2).hex())

    def consume() -> None:
        mine = client(url)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= messages:
                    return
            got = mine.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            for message in got:
                mine.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            with lock:
                received.extend(m["MessageId"] for m in got)

    started = time.perf_counter()
    threads = [threading.Thread(target=produce, args=(n,)) for n in per_producer]
    threads += [threading.Thread(target=consume) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def fetch_under_calls(url: str) -> dict[str, float]:
    """Fetch the whole flow while another client calls GetQueueAttributes again and again."""
    sqs = client(url)
    queue = sqs.get_queue_url(QueueName="bench-flow")["QueueUrl"]
    latencies: list[float] = []
    done = threading.Event()

    def call_meanwhile() -> None:
        while not done.is_set():
            started = time.perf_counter()
            sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
            latencies.append(time.perf_counter() - started)

    caller = threading.Thread(target=call_meanwhile)
    caller.start()
    time.sleep(0.2)  # the caller is under way
    started = time.perf_counter()
    flow = BackendClient(url).flow(timeout=300)
    fetch = time.perf_counter() - started
    done.set()
    caller.join()
    return {
        "calls": len(flow["calls"]),
        "flow_mib": len(json.dumps(flow["calls"])) / MiB,
        "fetch_s": fetch,
        "call_median_ms": statistics.median(latencies) * 1000,
        "call_max_ms": max(latencies) * 1000,
        "calls_during": len(latencies),
    }


def bench_kit(messages: int, size: int, workers: int) -> dict[str, float]:
    backend = Backend.start()
    try:
        process = psutil.Process(backend.pid)
        client(backend.url).list_queues()
        start_rss = process.memory_info().rss
        seconds = traffic(backend.url, messages, size, workers)
        after_rss = process.memory_info().rss
        peak = high_water_mark(backend.pid)
        fetched = fetch_under_calls(backend.url)
        return {
            "start_mib": start_rss / MiB,
            "peak_mib": peak / MiB,
            "after_mib": after_rss / MiB,
            "fetch_peak_mib": high_water_mark(backend.pid) / MiB,
            "traffic_s": seconds,
            **fetched,
        }
    finally:
        backend.stop()


def bench_moto(messages: int, size: int, workers: int) -> dict[str, float]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                client(url).list_queues()
                break
            except Exception:
                time.sleep(0.1)
        process = psutil.Process(server.pid)
        start_rss = process.memory_info().rss
        seconds = traffic(url, messages, size, workers)
        return {
            "start_mib": start_rss / MiB,
            "peak_mib": high_water_mark(server.pid) / MiB,
            "after_mib": process.memory_info().rss / MiB,
            "traffic_s": seconds,
        }
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--size", type=int, default=250_000, help="bytes per message body")
    parser.add_argument("--workers", type=int, default=8, help="producers, and as many consumers")
    parser.add_argument("--moto", action="store_true", help="also measure plain moto server")
    args = parser.parse_args()
    import course

    print(f"kit: {Path(course.__file__).parent}")
    kit = bench_kit(args.messages, args.size, args.workers)
    print(
        f"kit backend: RSS {kit['start_mib']:.0f} MiB at start, peak {kit['peak_mib']:.0f}, "
        f"after {kit['after_mib']:.0f} (traffic {kit['traffic_s']:.1f} s); peak with the "
        f"fetch {kit['fetch_peak_mib']:.0f}"
    )
    print(
        f"flow: {kit['calls']:.0f} calls, {kit['flow_mib']:.1f} MiB as JSON, fetched in "
        f"{kit['fetch_s']:.2f} s; a concurrent GetQueueAttributes took "
        f"{kit['call_median_ms']:.0f} ms median, {kit['call_max_ms']:.0f} ms at most "
        f"({kit['calls_during']:.0f} calls during the fetch)"
    )
    if args.moto:
        moto = bench_moto(args.messages, args.size, args.workers)
        print(
            f"plain moto: RSS {moto['start_mib']:.0f} MiB at start, peak {moto['peak_mib']:.0f}, "
            f"after {moto['after_mib']:.0f} (traffic {moto['traffic_s']:.1f} s)"
        )


if __name__ == "__main__":
    main()
