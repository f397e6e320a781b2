"""Run untrusted code (a graded kernel, a Lambda handler) in a Linux sandbox built with bubblewrap.

``limits`` names the caps, ``bwrap`` builds the sandbox's command line and says whether one can
be made here, ``inside`` is what runs first inside it (limits, the one network path), ``cgroup``
adds the process cap that rlimits cannot give a root grader.
"""
