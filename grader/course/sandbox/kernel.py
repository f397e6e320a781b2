"""A graded kernel's entry point inside its sandbox: ipykernel, without its debugger.

Nobody attaches a debugger to a graded kernel, and importing debugpy is about half of
ipykernel's own start-up (80 ms of CPU a kernel). Marking it absent makes ipykernel start with
its debugger off, as it does wherever debugpy is not installed.

``--time-dilation SPEC`` (``course.timewarp.Dilation.spec``), if given, puts the kernel on
dilated time before ipykernel starts: after ipykernel is imported, so that the names it binds
at import (its messages' dates) keep the real clock, and before it runs anything.
"""

import sys

if __name__ == "__main__":
    sys.modules.setdefault("debugpy", None)  # type: ignore[assignment]
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    from ipykernel.kernelapp import launch_new_instance

    if any(arg.startswith("--time-dilation") for arg in sys.argv):
        from course.timewarp import Dilation, install

        dilation, sys.argv = Dilation.from_argv(sys.argv)
        if dilation is not None:
            install(dilation)
    launch_new_instance()
