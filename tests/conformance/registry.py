"""Every transcribed upstream test: the TEST of each module in cases/, in upstream file order."""

from __future__ import annotations

import importlib
import pkgutil

from . import cases
from .suite import ConformanceTest


def all_tests() -> list[ConformanceTest]:
    """The tests, sorted by their first manifest's name (the upstream file name; MeshBasic, with
    none, first)."""
    tests = []
    for info in pkgutil.iter_modules(cases.__path__):
        module = importlib.import_module(f"{cases.__name__}.{info.name}")
        tests.append(module.TEST)
    return sorted(tests, key=lambda t: t.manifests[0] if t.manifests else "")
