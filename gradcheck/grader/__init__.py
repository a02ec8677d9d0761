"""The autograder backend: grade untrusted submissions in a sandbox, decide every verdict here.

``spec`` reads the assignment, ``sandbox`` runs the submission in a locked-down
child process reached over a private channel (``protocol``, ``child``),
``grade`` runs the checks and scores them, ``formats`` writes Gradescope,
PrairieLearn, JUnit and JSON results.
"""
