"""Fixtures for the resources-layer tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from meshgate.resources.loader import LoadResult, load_text

from .support import CREATED


@pytest.fixture
def load() -> Callable[..., LoadResult]:
    """load(text, file="test.yaml") → LoadResult, with a fixed creationTimestamp."""

    def _load(text: str, file: str = "test.yaml") -> LoadResult:
        return load_text(text, file, created=CREATED)

    return _load
