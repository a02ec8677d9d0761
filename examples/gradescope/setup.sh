#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (as root, Ubuntu).
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv /opt/gradcheck
/opt/gradcheck/bin/pip install --upgrade pip
/opt/gradcheck/bin/pip install /autograder/source/gradcheck   # or: pip install gradcheck
# Python and gradcheck must be readable by the unprivileged uid the sandbox switches to.
chmod -R a+rX /opt/gradcheck
