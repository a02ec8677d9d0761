"""In a notebook, a result shows its HTML report inline: the example notebook, executed headlessly as a student's would be."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).parents[1] / "examples" / "notebook" / "verify.ipynb"


def test_the_example_notebook_shows_the_report_of_its_wrong_gradient_inline(tmp_path):
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent))
    if jupyter is None:
        pytest.skip("jupyter is not installed beside this Python: pip install -e '.[test]' installs nbconvert")
    out = tmp_path / "executed.ipynb"
    run = subprocess.run([jupyter, "nbconvert", "--to", "notebook", "--execute", "--output", str(out), str(NOTEBOOK)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    outputs = [o for cell in nbformat.read(out, as_version=4).cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert printed.startswith("verify: FAIL, ") and "seed 0" in printed
    (shown,) = [o for o in outputs if o.output_type == "execute_result"]
    view = shown.data["text/html"]
    assert view.startswith('<div class="gradcheck">') and '<img class="heatmap" src="data:image/png;base64,' in view
    assert "W1" in view and "Eq. 11: ∇W₁ = Xᵀ" in view and 'class="badge fail">FAIL' in view
    assert shown.data["text/plain"].startswith("<Verification verify: FAIL")  # not pages of arrays
