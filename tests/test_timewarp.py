"""The dilated clock (course.timewarp): each test that installs it runs in a fresh process.

Real time is measured with the clocks ``timewarp.REAL`` captured before ``install``, or from
this process. Bounds are generous (a loaded machine sleeps late), but tight enough that an
undilated clock fails them: at K = 10, 2 virtual seconds are 0.2 real ones, not 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from course.sandbox.bwrap import Sandbox
from course.sandbox.limits import ResourceLimits
from course.timewarp import OPTION, Dilation
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

K = 10
#: Real seconds that 2 virtual ones may take at K = 10 on a loaded machine (0.2 unloaded).
SLACK = 1.2


def child(body: str, dilation: Dilation) -> list[str]:
    """A command running ``body`` in a fresh Python after ``patched = install(dilation)``."""
    script = "import json, time\nfrom course import timewarp\n"
    script += f"dilation = timewarp.Dilation.parse({dilation.spec!r})\n"
    script += "patched = timewarp.install(dilation)\n" + textwrap.dedent(body)
    return [sys.executable, "-c", script]


def run_child(body: str, dilation: Dilation | None = None) -> Any:
    """Run ``child(body, dilation)`` (K = 10 by default); the JSON it prints last."""
    command = child(body, dilation or Dilation.starting_now(K))
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_spec_and_argv_round_trip() -> None:
    dilation = Dilation.starting_now(12.5)
    assert Dilation.parse(dilation.spec) == dilation
    argv = ["-f", "kernel.json", *dilation.to_argv(), "--other"]
    assert Dilation.from_argv(argv) == (dilation, ["-f", "kernel.json", "--other"])
    assert Dilation.from_argv([f"{OPTION}={dilation.spec}"]) == (dilation, [])
    assert Dilation.from_argv(["-f", "kernel.json"]) == (None, ["-f", "kernel.json"])
    with pytest.raises(ValueError):
        Dilation.parse("10:1")
    with pytest.raises(ValueError):
        Dilation(0, 1.0, 1.0)


def test_sleep_takes_a_tenth_and_every_clock_advances_by_its_length() -> None:
    result = run_child(
        """
        import datetime
        real = timewarp.REAL.monotonic()
        def readings():
            seconds = [time.time(), time.monotonic(), time.perf_counter(),
                       time.clock_gettime(time.CLOCK_MONOTONIC)]
            nanoseconds = [time.time_ns(), time.monotonic_ns(), time.perf_counter_ns(),
                           time.clock_gettime_ns(time.CLOCK_REALTIME)]
            return [*seconds, *(ns / 1e9 for ns in nanoseconds), datetime.datetime.now()]

        before = readings()
        time.sleep(2)
        advanced = [b - a for a, b in zip(before, readings())]
        advanced[-1] = advanced[-1].total_seconds()
        print(json.dumps({"real": timewarp.REAL.monotonic() - real, "advanced": advanced}))
        """
    )
    assert 0.15 < result["real"] < SLACK
    assert len(result["advanced"]) == 9
    for advanced in result["advanced"]:
        assert 2 <= advanced < K * SLACK + 0.1


def test_datetime_stays_a_datetime() -> None:
    result = run_child(
        """
        import datetime, pickle
        from datetime import datetime as imported_after
        real_class = timewarp.REAL.datetime
        now = imported_after.now(datetime.timezone.utc)
        print(json.dumps({
            "instance": isinstance(now, real_class),
            "real_is_virtual": isinstance(real_class(2024, 1, 1), imported_after),
            "subclass": issubclass(real_class, imported_after),
            "repr": repr(imported_after(2024, 1, 2, 3, 4)),
            "type": repr(type(now)),
            "arithmetic": str(imported_after(2024, 1, 1) + datetime.timedelta(days=1)),
            "pickle": pickle.loads(pickle.dumps(now)) == now,
            "utcnow_naive": imported_after.utcnow().tzinfo is None,
            "today": abs(datetime.date.today().toordinal() - now.date().toordinal()) <= 1,
            "virtual": abs(now.timestamp() - time.time()) < 1,
        }))
        """
    )
    assert result.pop("repr") == "datetime.datetime(2024, 1, 2, 3, 4)"
    assert result.pop("type") == "<class 'datetime.datetime'>"
    assert result.pop("arithmetic") == "2024-01-02 00:00:00"
    assert all(result.values()), result


def test_threads_wait_in_virtual_seconds() -> None:
    result = run_child(
        """
        import queue, threading
        results = {}

        def measure(name, wait):
            virtual, real = time.monotonic(), timewarp.REAL.monotonic()
            wait()
            results[name] = [time.monotonic() - virtual, timewarp.REAL.monotonic() - real]

        def get_from_empty_queue():
            try:
                queue.Queue().get(timeout=2)
            except queue.Empty:
                pass

        def put_into_full_queue():
            full = queue.Queue(1)
            full.put(0)
            try:
                full.put(1, timeout=2)
            except queue.Full:
                pass

        condition = threading.Condition()

        def wait_on_condition():
            with condition:
                condition.wait(2)

        def wait_for_never():
            with condition:
                condition.wait_for(lambda: False, timeout=2)

        fired = threading.Event()
        waits = {
            "sleep": lambda: time.sleep(2),
            "event": lambda: threading.Event().wait(2),
            "condition": wait_on_condition,
            "wait_for": wait_for_never,
            "queue_get": get_from_empty_queue,
            "queue_put": put_into_full_queue,
            "timer": lambda: (threading.Timer(2, fired.set).start(), fired.wait()),
            "join": lambda: sleeper.join(2),
        }
        sleeper = threading.Thread(target=time.sleep, args=(30,), daemon=True)
        sleeper.start()
        threads = [threading.Thread(target=measure, args=item) for item in waits.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(json.dumps(results))
        """
    )
    assert len(result) == 8
    for name, (virtual, real) in result.items():
        assert 2 <= virtual < K * SLACK + 0.1, name
        assert real < SLACK, name


def test_a_process_and_a_sandboxed_one_on_the_same_anchors_agree() -> None:
    dilation = Dilation.starting_now(K)
    at = time.time() + 2  # both read their clocks at this real instant
    body = f"""
        while timewarp.REAL.time() < {at!r}:
            pass
        print(json.dumps([time.time(), time.monotonic()]))
        """
    sandboxed = Sandbox(ResourceLimits(), {}).launch(child(body, dilation))
    try:
        commands = [child(body, dilation), sandboxed.argv]
        processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for argv in commands]
        readings = [json.loads(process.communicate(timeout=30)[0]) for process in processes]
    finally:
        sandboxed.done()
    expected = dilation.wall_anchor + (at - dilation.wall_anchor) * K
    for wall, _ in readings:
        assert 0 <= wall - expected < 0.5  # read at `at` or a little after, in real time
    (wall, monotonic), (sandboxed_wall, sandboxed_monotonic) = readings
    assert abs(wall - sandboxed_wall) < 0.5
    assert abs(monotonic - sandboxed_monotonic) < 0.5  # the PID namespace keeps the clock


def test_a_scale_of_one_patches_nothing() -> None:
    result = run_child(
        """
        import datetime, threading
        print(json.dumps([patched, time.time is timewarp.REAL.time,
                          datetime.datetime is timewarp.REAL.datetime, timewarp.installed()]))
        """,
        Dilation.starting_now(1),
    )
    assert result == [[], True, True, None]


def test_install_is_idempotent_and_uninstall_restores() -> None:
    result = run_child(
        """
        import asyncio, datetime, queue, threading
        timewarp.uninstall()
        originals = [time.time, time.sleep, datetime.datetime, threading.Condition.wait,
                     threading.Thread.join, queue.time, asyncio.sleep]
        again = timewarp.install(dilation)
        same = timewarp.install(dilation) == again == patched
        try:
            timewarp.install(timewarp.Dilation.starting_now(2))
            refused = False
        except RuntimeError:
            refused = True
        timewarp.uninstall()
        restored = [time.time, time.sleep, datetime.datetime, threading.Condition.wait,
                    threading.Thread.join, queue.time, asyncio.sleep]
        print(json.dumps([same, refused, restored == originals, time.time is timewarp.REAL.time,
                          "time.sleep" in patched, "datetime.datetime" in patched]))
        """
    )
    assert result == [True, True, True, True, True, True]


# A real Jupyter kernel, started by the sandbox's entry point with a dilation (no sandbox).


@pytest.fixture
def km(tmp_path: Path) -> Iterator[KernelManager]:
    """A manager (not started) of a kernel on K = 10: ``course.sandbox.kernel --time-dilation``."""
    spec_dir = tmp_path / "kernels" / "timewarp"
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "course.sandbox.kernel", "-f", "{connection_file}"]
    spec = {
        "argv": [*argv, *Dilation.starting_now(K).to_argv()],
        "display_name": "dilated",
        "language": "python",
        "interrupt_mode": "message",  # as the grader's kernels
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    km = KernelManager(
        kernel_name="timewarp",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]),
    )
    yield km
    if km.has_kernel and km.is_alive():
        km.shutdown_kernel(now=True)


@pytest.fixture
def kc(km: KernelManager) -> Iterator[BlockingKernelClient]:
    """A client of ``km``'s kernel, started."""
    km.start_kernel()
    kc = km.blocking_client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    yield kc
    kc.stop_channels()


def execute(kc: BlockingKernelClient, code: str) -> tuple[dict[str, Any], str]:
    """Run ``code``; its reply's content and what it printed."""
    printed: list[str] = []

    def on_output(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    reply = kc.execute_interactive(code, timeout=60, output_hook=on_output)
    return reply["content"], "".join(printed)


@pytest.mark.slow
def test_a_kernel_sleeps_five_seconds_in_half_a_second(kc: BlockingKernelClient) -> None:
    execute(kc, "import asyncio, time")
    started = time.monotonic()
    reply, printed = execute(kc, "s = time.monotonic()\ntime.sleep(5)\nprint(time.monotonic() - s)")
    real = time.monotonic() - started
    assert reply["status"] == "ok"
    assert 5 <= float(printed) < 5 + K * 2
    assert real < 2.5  # 0.5 s unloaded

    # A cell's own asyncio.sleep is dilated too, on the kernel's (real-time) event loop.
    started = time.monotonic()
    reply, printed = execute(
        kc, "s = time.monotonic()\nawait asyncio.sleep(5)\nprint(time.monotonic() - s)"
    )
    assert reply["status"] == "ok"
    assert 5 <= float(printed) < 5 + K * 2
    assert time.monotonic() - started < 2.5


CONSUMER = """\
import queue, threading, time
inbox, seen = queue.Queue(), []

def consume():
    while True:
        try:
            message = inbox.get(timeout=3)
        except queue.Empty:
            return
        seen.append(message)

start = time.monotonic()
consumer = threading.Thread(target=consume)
consumer.start()
for number in range(5):
    inbox.put(number)
    time.sleep(1)
consumer.join(timeout=30)
print(seen, consumer.is_alive(), round(time.monotonic() - start))
"""


@pytest.mark.slow
def test_a_notebook_with_a_thread_based_consumer_runs(km: KernelManager) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CONSUMER)])
    started = time.monotonic()
    NotebookClient(notebook, km=km, timeout=60).execute()
    real = time.monotonic() - started
    printed = notebook.cells[0].outputs[0]["text"]
    seen, alive, virtual = printed.rsplit(maxsplit=2)
    assert (seen, alive) == ("[0, 1, 2, 3, 4]", "False")
    # The last message comes at 4 s, the queue is then empty for 3 s: 7 virtual seconds.
    assert 7 <= int(virtual) < 7 + K * 3
    assert real < 8  # the kernel's start-up, then 0.7 s


@pytest.mark.slow
def test_a_loop_of_sleeps_is_interruptible_and_the_kernel_shuts_down(
    km: KernelManager, kc: BlockingKernelClient
) -> None:
    for loop in ("while True: time.sleep(1)", "threading.Event().wait()"):
        msg_id = kc.execute(f"import threading, time\n{loop}")
        time.sleep(1)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=20)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["ename"] == "KeyboardInterrupt"
    reply, printed = execute(kc, "print('still here')")
    assert printed == "still here\n"

    kc.shutdown()
    deadline = time.monotonic() + 20
    while km.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert km.provisioner is not None
    assert km.provisioner.process.returncode == 0  # type: ignore[attr-defined]
