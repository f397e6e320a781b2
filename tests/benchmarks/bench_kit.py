"""Benchmarks of the kit's speed goals, with figures to quote (not a test: nothing here asserts).

    python tests/benchmarks/bench_kit.py [--rounds N] [--labs 01 02 ...]

Measures: backend start-up; check() latency against a populated backend and, per lab, against
what its solution did; SQS round trips per
second through the kit's backend (flow recorder and extensions) against plain moto server mode;
and, per lab, the wall time to grade its solution and its student copy.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import boto3
from course.backend.process import Backend
from course.checks.catalog import graded_lab_ids
from course.grading.grade import grade_submission
from course.notebook.check import check

ROOT = Path(__file__).resolve().parents[2]


def client(url: str, service: str = "sqs"):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def bench_start(rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        backend = Backend.start()
        times.append(time.perf_counter() - started)
        backend.stop()
    return times


def bench_managed_policy(rounds: int, moto_loads_all: bool = False) -> list[float]:
    """Seconds from starting a backend to its answer to GetPolicy on an AWS managed policy
    (the first IAM call is when they are made); ``moto_loads_all``: moto's own loading of all."""
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    times = []
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = str(moto_loads_all).lower()
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            with Backend.start() as backend:
                client(backend.url, "iam").get_policy(PolicyArn=arn)
                times.append(time.perf_counter() - started)
    finally:
        del os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"]
    return times


def bench_check(backend: Backend, rounds: int) -> list[float]:
    sqs = client(backend.url)
    url = sqs.create_queue(QueueName="lab-standard-queue")["QueueUrl"]
    for i in range(20):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": str(i), "age": i}))
    for _ in range(10):
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    os.environ["COURSE_ENDPOINT"] = backend.url
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        check("01")
        times.append(time.perf_counter() - started)
    return times


def round_trips(url: str, seconds: float = 5.0) -> float:
    sqs = client(url)
    queue = sqs.create_queue(QueueName=f"bench-{time.time_ns()}")["QueueUrl"]
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sqs.send_message(QueueUrl=queue, MessageBody="x")
        message = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)["Messages"][0]
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        count += 1
    return count / seconds


def plain_moto_round_trips() -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                client(url).list_queues()
                break
            except Exception:
                time.sleep(0.1)
        return round_trips(url)
    finally:
        server.terminate()
        server.wait()


def bench_check_after_solution(lab: str, rounds: int) -> list[float]:
    """check() latency against a backend holding what the lab's solution notebook did."""
    import tempfile

    import nbformat
    from course.checks.api import run_check
    from course.checks.catalog import resolve_lab
    from course.checks.context import Aws
    from course.connection import scrubbed_environment
    from course.grading.execute import Limits, execute_notebook

    notebook = nbformat.read(next((ROOT / "solutions").glob(f"{lab}-*.ipynb")), as_version=4)
    times = []
    with Backend.start() as backend:
        env = scrubbed_environment(dict(os.environ), backend.url)
        execute_notebook(notebook, env=env, cwd=Path(tempfile.mkdtemp()), limits=Limits())
        for _ in range(rounds):
            started = time.perf_counter()
            aws = Aws(backend.url, answers={})
            for definition in resolve_lab(lab).checks:
                run_check(definition, aws)
            times.append(time.perf_counter() - started)
    return times


def bench_labs(labs: list[str]) -> list[tuple[str, str, float, str]]:
    rows = []
    for lab in labs:
        for folder in ("solutions", "labs"):
            path = next((ROOT / folder).glob(f"{lab}-*.ipynb"))
            started = time.perf_counter()
            grade = grade_submission(path, lab)
            elapsed = time.perf_counter() - started
            rows.append((lab, folder, elapsed, f"{grade.score:g}/{grade.max_score:g}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--labs", nargs="*", default=graded_lab_ids())
    args = parser.parse_args()

    starts = bench_start(max(3, args.rounds // 2))
    print(f"backend start-up: median {statistics.median(starts):.2f} s, max {max(starts):.2f} s")
    kit, every = (bench_managed_policy(3), bench_managed_policy(3, moto_loads_all=True))
    print(
        f"start-up to GetPolicy on an AWS managed policy: median {statistics.median(kit):.2f} s "
        f"(moto loading all of them: {statistics.median(every):.2f} s)"
    )
    with Backend.start() as backend:
        checks = bench_check(backend, args.rounds)
        print(
            f"check('01'): median {statistics.median(checks) * 1000:.0f} ms, "
            f"max {max(checks) * 1000:.0f} ms"
        )
        kit = round_trips(backend.url)
    plain = plain_moto_round_trips()
    print(
        f"SQS send+receive+delete round trips/s: kit backend {kit:.0f}, "
        f"plain moto server {plain:.0f}"
    )
    for lab in args.labs:
        times = bench_check_after_solution(lab, args.rounds)
        print(
            f"check('{lab}') after its solution: median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms"
        )
    for lab, folder, elapsed, score in bench_labs(args.labs):
        print(f"grade lab {lab} {folder:<9}: {elapsed:6.1f} s  score {score}")


if __name__ == "__main__":
    main()
