#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (as root, Ubuntu), with the
# autograder archive unpacked in /autograder/source.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv /opt/gradcheck
/opt/gradcheck/bin/pip install --upgrade pip
# gradcheck-src/ is a copy of the gradcheck repository (the folder that holds pyproject.toml).
/opt/gradcheck/bin/pip install /autograder/source/gradcheck-src
# The submission runs as an unprivileged uid: Python and gradcheck must be readable by it.
chmod -R a+rX /opt/gradcheck
# The secret seed of the hidden inputs. Put your own number in secret_seed before zipping, so
# that rebuilding the image keeps the same inputs; without one, this draws one per build.
if [ ! -s /autograder/source/secret_seed ]; then
    od -An -N4 -tu4 /dev/urandom | tr -d ' ' > /autograder/source/secret_seed
fi
chmod 600 /autograder/source/secret_seed
