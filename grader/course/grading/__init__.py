"""Grading: run submissions in sandboxes, check what they did, write the reports.

jsonschema (through nbformat) imports ``rfc3987_syntax`` when it is installed (JupyterLab's
dependencies bring it), and that module compiles a grammar at import: 1.4 s of every
``course grade`` on an idle machine, 5 s on a busy one, for an IRI format check notebooks never
use. Marking it absent makes jsonschema skip that one checker, as it does wherever the package
is not installed.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
