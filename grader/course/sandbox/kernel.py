"""A graded kernel's entry point inside its sandbox: ipykernel, without its debugger.

Nobody attaches a debugger to a graded kernel, and importing debugpy is about half of
ipykernel's own start-up (80 ms of CPU a kernel). Marking it absent makes ipykernel start with
its debugger off, as it does wherever debugpy is not installed.
"""

import sys

if __name__ == "__main__":
    sys.modules.setdefault("debugpy", None)  # type: ignore[assignment]
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()
