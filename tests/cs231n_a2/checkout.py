"""A CS231n assignment-2 checkout built from this folder's files, with the imports the handout writes.

``cs231n/layers.py``, ``cs231n/layer_utils.py`` (``from .layers import *``) and
``cs231n/classifiers/{cnn,fc_net}.py`` (``from ..layers import *``), each folder
a package with its ``__init__.py``.
"""
import pathlib

HERE = pathlib.Path(__file__).parent


def build(root: pathlib.Path, layers: str | None = None) -> pathlib.Path:
    """Write the checkout under ``root`` (with ``layers`` as layers.py's source, if given); returns ``root/cs231n``."""
    package = root / "cs231n"
    (package / "classifiers").mkdir(parents=True)
    for folder in (package, package / "classifiers"):
        (folder / "__init__.py").write_text("")
    (package / "layers.py").write_text(layers if layers is not None else (HERE / "layers.py").read_text())
    (package / "layer_utils.py").write_text((HERE / "layer_utils.py").read_text().replace("from layers import *", "from .layers import *"))
    for model, imported in (("cnn", "from layer_utils import *"), ("fc_net", "from layers import *")):
        source = (HERE / f"{model}.py").read_text()
        assert imported in source
        (package / "classifiers" / f"{model}.py").write_text(
            source.replace(imported, "from ..layers import *\nfrom ..layer_utils import *"))
    return package
