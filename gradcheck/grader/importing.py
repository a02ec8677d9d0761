"""Import a user's file the way its own code expects: alone, or as a module of the package it lives in.

A CS231n checkout is a package: ``cs231n/classifiers/cnn.py`` starts with
``from ..layers import *`` (or, in older years, ``from cs231n.layers import *``),
so it only imports as ``cs231n.classifiers.cnn`` with the folder above
``cs231n/`` on the path. A file in a folder without ``__init__.py`` is
imported on its own, with its folder on the path so it can import its
neighbours. This module imports nothing of gradcheck: the sandboxed child
uses it too.
"""

import importlib
import importlib.util
import os
import sys


def package_of(path):
    """``(folder, dotted name)`` when ``path`` lives in a package (folders with ``__init__.py``), else None."""
    path = os.path.abspath(path)
    folder, parts = os.path.dirname(path), [os.path.splitext(os.path.basename(path))[0]]
    if parts == ["__init__"]:  # the package itself
        parts = []
    while os.path.isfile(os.path.join(folder, "__init__.py")) and os.path.basename(folder).isidentifier():
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    if not parts or (len(parts) == 1 and not path.endswith("__init__.py")) or not all(p.isidentifier() for p in parts):
        return None
    return folder, ".".join(parts)


def _forget(top, folder):
    """Drop a package of the same name imported from elsewhere, so this checkout's own modules are the ones run."""
    loaded = sys.modules.get(top)
    where = getattr(loaded, "__path__", None)
    if loaded is None or (where and os.path.abspath(list(where)[0]) == os.path.join(folder, top)):
        return
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def _checkout_python(path):
    """The ``python`` folder of the DLSys checkout ``path`` lives in (hw1's apps/simple_ml.py imports needle)."""
    folder = os.path.dirname(os.path.abspath(path))
    for _ in range(3):
        if os.path.isfile(os.path.join(folder, "python", "needle", "__init__.py")):
            return os.path.join(folder, "python")
        folder = os.path.dirname(folder)
    return None


def needle_package(folder):
    """The ``__init__.py`` of the needle package a DLSys checkout folder holds (its root, ``python/`` or the
    package itself), or None."""
    for package in (os.path.join(folder, "python", "needle"), os.path.join(folder, "needle"), folder):
        if os.path.isfile(os.path.join(package, "__init__.py")):
            return os.path.join(package, "__init__.py")
    return None


def import_file(path, name, keep_on_path=False):
    """Import the file at ``path``: as its package's module when it has one, else on its own as ``name``.

    Its folder (or its package's) stays on ``sys.path`` with ``keep_on_path``,
    for imports the code makes later, inside its functions. Exceptions raised
    while importing propagate; the caller says what they mean.
    """
    path = os.path.abspath(path)
    found = package_of(path)
    folder = found[0] if found else os.path.dirname(path)
    python = _checkout_python(path)
    if python:  # what the handout's sys.path.append('python/') means from the root, with this checkout's needle
        _forget("needle", python)
        if python in sys.path:
            sys.path.remove(python)
        sys.path.insert(0, python)
    sys.path.insert(0, folder)
    try:
        if found:
            _forget(found[1].split(".")[0], folder)
            return importlib.import_module(found[1])
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # as importlib does: dataclasses, pickling and inspect look it up there
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    finally:
        if not keep_on_path:
            sys.path.remove(folder)
