"""Giving memory back to the system after a burst of allocation (a big file parsed).

CPython frees the parse's objects, but glibc keeps the freed pages in its arenas, so a process
that once parsed a big file stays big. `malloc_trim(0)` hands them back.
"""

from __future__ import annotations

import ctypes
import gc


def give_back_memory() -> bool:
    """Collect cyclic garbage, then return free heap pages to the system where the C library
    can (glibc's malloc_trim); True when it could."""
    gc.collect()
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)  # ctypes releases the GIL: the event loop runs meanwhile when called from a thread
    return True
