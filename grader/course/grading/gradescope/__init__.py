"""A Gradescope autograder for one lab: the bundle an instructor uploads (``bundle``), and what
its ``run_autograder`` runs in Gradescope's container for each submission (``autograder``).

Layout and results as Gradescope's autograder specification documents them
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): the zip holds ``setup.sh``
and ``run_autograder`` at its root; Gradescope unpacks it to ``/autograder/source``, runs
``setup.sh`` once as root when it builds the image, then ``run_autograder`` in
``/autograder`` for each submission, which it puts in ``/autograder/submission``; the results
go to ``/autograder/results/results.json``. ``COURSE_AUTOGRADER_ROOT`` moves ``/autograder``
elsewhere, for tests.
"""
