"""The labs' checks: how a check is declared (``api``), what it reads (``context``, ``readers``),
one module ``labs/labNN.py`` per graded lab, and the catalog that resolves a lab (``catalog``).

Everything that needs a lab asks ``course.checks.catalog``: ``resolve_lab``, ``all_labs`` or
``graded_lab_ids``.
"""
