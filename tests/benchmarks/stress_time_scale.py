"""Are scores on dilated time the same as in real time, every time, on a busy machine?

    python tests/benchmarks/stress_time_scale.py [--rounds 5] [--scale 10] [--labs 01 02 ...]
        [--notebooks] [--no-load]

Each round runs the labs' check tests (``tests/checks/labs/test_labNN.py``: every right and wrong
submission the suite has, each with the outcome it must get) twice, on the wall clock and with
``--time-scale K``, and compares the two runs test by test. With ``--notebooks`` it also grades
every lab's solution and student copy at both speeds
(``tests/grading/test_time_scale_labs.py`` and ``test_time_scale_lab11.py``).
Meanwhile, unless ``--no-load``, a second grading job loads the machine: ``course grade 02`` of
two copies of lab 02's solution on the wall clock, sandboxed, restarted whenever it ends.

Not a test (it takes minutes per round and wants a machine to itself): it prints, per round,
how many tests passed at each speed, every test whose outcome differs between the two or that
failed, and the load average, and exits 1 if any round had one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PER_LAB = ("tests/grading/test_time_scale_labs.py", "tests/grading/test_time_scale_lab11.py")


def outcomes(junit: Path) -> dict[str, str]:
    """Each test's outcome in a JUnit XML report: passed, failed, error or skipped."""
    result = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        result[name] = {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
    return result


def run_tests(targets: list[str], scale: float, workdir: Path) -> dict[str, str]:
    """Run pytest on ``targets`` at ``scale``; every test's outcome."""
    junit = workdir / f"junit-{scale:g}.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", *targets, "-q", "-p", "no:cacheprovider",
         f"--time-scale={scale:g}", f"--junitxml={junit}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    return outcomes(junit) if junit.exists() else {}


class Load:
    """A second grading job on the wall clock, restarted until ``stop``: a class run's load."""

    def __init__(self, workdir: Path) -> None:
        self.submissions = workdir / "load"
        self.submissions.mkdir()
        for n in (1, 2):
            shutil.copy(
                ROOT / "solutions/02-visibility-timeout.ipynb", self.submissions / f"s{n}.ipynb"
            )
        self.out = workdir / "load-out"
        self.runs = 0
        self._stop = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> Load:
        self._thread.start()
        return self

    def _loop(self) -> None:
        course = Path(sys.executable).with_name("course")
        while not self._stop.is_set():
            shutil.rmtree(self.out, ignore_errors=True)
            self._process = subprocess.Popen(
                [str(course), "grade", "02", str(self.submissions), "--out", str(self.out),
                 "-j", "1", "--real-time"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            self._process.wait()
            self.runs += 1

    def stop(self) -> None:
        self._stop.set()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
        self._thread.join(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--labs", nargs="*", default=[f"{n:02d}" for n in range(1, 10)])
    parser.add_argument("--notebooks", action="store_true", help="also grade every notebook")
    parser.add_argument("--no-load", action="store_true", help="no second grading job")
    args = parser.parse_args()
    targets = [f"tests/checks/labs/test_lab{lab}.py" for lab in args.labs]
    targets = [t for t in targets if (ROOT / t).exists()]
    if args.notebooks:
        targets.extend(PER_LAB)
    bad_rounds = 0
    with tempfile.TemporaryDirectory(prefix="stress-time-scale-") as tmp:
        workdir = Path(tmp)
        load = None if args.no_load else Load(workdir).start()
        try:
            for number in range(1, args.rounds + 1):
                started = time.monotonic()
                real = run_tests(targets, 1.0, workdir)
                fast = run_tests(targets, args.scale, workdir)
                differ = sorted(t for t in real.keys() | fast.keys() if real.get(t) != fast.get(t))
                failed = sorted(
                    t for t in real.keys() | fast.keys() if "failed" in (real.get(t), fast.get(t))
                )
                passed_real = sum(o == "passed" for o in real.values())
                passed_fast = sum(o == "passed" for o in fast.values())
                print(
                    f"round {number}: {passed_real}/{len(real)} passed in real time, "
                    f"{passed_fast}/{len(fast)} at {args.scale:g}x, {len(differ)} differ, "
                    f"{time.monotonic() - started:.0f} s, load average "
                    f"{os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                for test in sorted(set(differ) | set(failed)):
                    print(f"  {test}: real {real.get(test)}, dilated {fast.get(test)}", flush=True)
                bad_rounds += bool(differ or failed or not real or not fast)
        finally:
            if load is not None:
                load.stop()
                print(f"the loading job graded lab 02 {load.runs} time(s) meanwhile")
    print(f"{bad_rounds} round(s) of {args.rounds} with a difference or a failure")
    return 1 if bad_rounds else 0


if __name__ == "__main__":
    sys.exit(main())
