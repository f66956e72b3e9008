"""Keeping Python's cyclic garbage collector out of bulk work.

Loading and translation allocate many small containers and keep or free them in order; with a
large store alive, every full collection walks the whole heap, which costs about as much as
the work itself. Neither creates cyclic garbage, so pausing the collector around them is safe.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (re-enabling it only if it was enabled)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
