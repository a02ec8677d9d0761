"""The autograder backend: grade untrusted submissions in a sandbox, decide every verdict here.

``spec`` reads the assignment, ``submission`` copies a submission's own regular
files into a private folder, ``sandbox`` runs that copy in a locked-down child
process as an unprivileged uid, reached over a private channel (``protocol``, ``child``),
``grade`` runs the checks and scores them, ``formats`` writes Gradescope,
PrairieLearn, JUnit and JSON results.
"""
