"""What the sandbox itself costs a submission (a figure to quote, not a test: nothing asserts).

    python tests/benchmarks/bench_sandbox.py [--rounds N]

Measures, as medians over N rounds:
- bubblewrap alone: ``bwrap <the grader's sandbox> /bin/true`` against plain ``/bin/true``
  (namespaces, mounts, the read-only remounts), wall time;
- the launcher inside (``course.sandbox.inside``: limits and the relay to the gate) on top;
- a kernel from start to ready, in its sandbox (``SandboxedKernel``) and as nbclient starts one
  without (``KernelManager`` on TCP), both with the same warm-up imports;
- one HTTP round trip to the backend through the relay and gate against direct loopback.

The sandbox's own cost per submission is the kernel-start difference plus the round-trip
difference times the calls a lab-01 submission makes (about 20).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

from course.backend.process import Backend
from course.grading.kernel import WARM_UP, SandboxedKernel
from course.sandbox.bwrap import Sandbox
from course.sandbox.limits import ResourceLimits
from jupyter_client.manager import KernelManager
from jupyter_client.utils import run_sync

CALLS_PER_SUBMISSION = 20


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def bwrap_alone(rounds: int) -> tuple[float, float, float]:
    plain = [timed(lambda: subprocess.run(["/bin/true"], check=True)) for _ in range(rounds)]
    sandbox = Sandbox(ResourceLimits(), {})
    argv = sandbox.argv(["/bin/true"])
    bare = [*sandbox.bwrap_args(), "/bin/true"]  # bubblewrap without the launcher
    boxed = [timed(lambda: subprocess.run(bare, check=True)) for _ in range(rounds)]
    launched = [timed(lambda: subprocess.run(argv, check=True)) for _ in range(rounds)]
    return median_ms(plain), median_ms(boxed), median_ms(launched)


def kernel_ready(backend: Backend, rounds: int) -> tuple[float, float]:
    def sandboxed() -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        sandbox = Sandbox(ResourceLimits(), env, forward_ports=backend.ports, gate=backend.gate)
        kernel = SandboxedKernel.start(sandbox)
        client = kernel.km.client()  # asynchronous, as nbclient uses it
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        client.stop_channels()
        kernel.close()

    def plain() -> None:
        km = KernelManager(kernel_name="python3")
        km.start_kernel(
            extra_arguments=[f"--IPKernelApp.exec_lines={json.dumps([WARM_UP])}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        client.stop_channels()
        km.shutdown_kernel(now=True)

    boxed = [timed(sandboxed) for _ in range(rounds)]
    bare = [timed(plain) for _ in range(rounds)]
    return median_ms(bare), median_ms(boxed)


def round_trip(backend: Backend, rounds: int) -> tuple[float, float]:
    direct = [
        timed(lambda: urllib.request.urlopen(f"{backend.url}/_course/health").read())
        for _ in range(rounds * 10)
    ]
    code = (
        "import time, urllib.request, statistics\n"
        "samples = []\n"
        f"for _ in range({rounds * 10}):\n"
        "    t = time.perf_counter()\n"
        f"    urllib.request.urlopen('{backend.url}/_course/health').read()\n"
        "    samples.append(time.perf_counter() - t)\n"
        "print(statistics.median(samples))\n"
    )
    argv = Sandbox(ResourceLimits(), {}, forward_ports=backend.ports, gate=backend.gate).argv(
        [sys.executable, "-c", code]
    )
    inside = float(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    return median_ms(direct), round(inside * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    plain, bwrap_ms, launched = bwrap_alone(args.rounds)
    print(f"/bin/true: {plain} ms; in bubblewrap: {bwrap_ms} ms; with the launcher: {launched} ms")
    backend = Backend.start(gate=True)
    try:
        bare, boxed = kernel_ready(backend, args.rounds)
        print(f"kernel start to ready: {bare} ms plain, {boxed} ms sandboxed")
        direct, relayed = round_trip(backend, args.rounds)
        print(f"HTTP round trip: {direct} ms direct, {relayed} ms through relay and gate")
    finally:
        backend.stop()
    cost = (boxed - bare) + (relayed - direct) * CALLS_PER_SUBMISSION
    print(f"the sandbox's own cost per submission: about {cost:.0f} ms of wall time")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
