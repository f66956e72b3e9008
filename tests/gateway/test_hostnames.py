"""Hostname intersection and listener specificity, as the Gateway API defines them."""

from __future__ import annotations

import pytest

from meshgate.gateway.hostnames import (
    effective_hostnames,
    intersect,
    matches,
    specificity,
)


@pytest.mark.parametrize(
    ("listener", "route", "expected"),
    [
        (None, "a.com", "a.com"),
        (None, "*.a.com", "*.a.com"),
        ("a.com", "a.com", "a.com"),
        ("a.com", "b.com", None),
        # A listener wildcard accepts one or more labels, never the apex.
        ("*.w.io", "foo.w.io", "foo.w.io"),
        ("*.w.io", "foo.bar.w.io", "foo.bar.w.io"),
        ("*.w.io", "w.io", None),
        ("*.w.io", "foow.io", None),
        # A route wildcard narrows to the listener's name.
        ("very.specific.com", "*.specific.com", "very.specific.com"),
        ("specific.com", "*.specific.com", None),
        # Two wildcards: the more specific one.
        ("*.a.io", "*.a.io", "*.a.io"),
        ("*.a.io", "*.b.a.io", "*.b.a.io"),
        ("*.b.a.io", "*.a.io", "*.b.a.io"),
        ("*.x.io", "*.a.io", None),
    ],
)
def test_intersect(listener: str | None, route: str, expected: str | None) -> None:
    assert intersect(listener, route) == expected


# Every pair of these wildcards, with the intersection expected: the more specific of the two
# when one is below the other (whole labels only), else none.
_WILDCARDS = ("*.io", "*.a.io", "*.b.a.io", "*.c.b.a.io", "*.ba.io", "*.a.com")
_BELOW = {  # wildcard → the wildcards it is below (strictly)
    "*.a.io": {"*.io"},
    "*.b.a.io": {"*.io", "*.a.io"},
    "*.c.b.a.io": {"*.io", "*.a.io", "*.b.a.io"},
    "*.ba.io": {"*.io"},
}


@pytest.mark.parametrize("listener", _WILDCARDS)
@pytest.mark.parametrize("route", _WILDCARDS)
def test_intersect_two_wildcards(listener: str, route: str) -> None:
    if listener == route:
        expected: str | None = route
    elif listener in _BELOW.get(route, ()):
        expected = route
    elif route in _BELOW.get(listener, ()):
        expected = listener
    else:
        expected = None
    assert intersect(listener, route) == expected


def test_effective_hostnames() -> None:
    assert effective_hostnames(None, ()) == ["*"]
    assert effective_hostnames("*.w.io", ()) == ["*.w.io"]
    assert effective_hostnames("*.w.io", ("non.matching.com", "wildcard.io", "foo.w.io", "foo.w.io")) == ["foo.w.io"]
    assert effective_hostnames("a.com", ("b.com",)) == []


def test_matches_and_specificity() -> None:
    assert matches(None, "*")
    assert not matches("a.com", "*")
    assert matches("*.example.com", "*.foo.example.com")
    assert not matches("abc.foo.example.com", "*.foo.example.com")
    order = sorted([None, "*.example.com", "abc.foo.example.com", "*.foo.example.com"], key=specificity)
    assert order == ["abc.foo.example.com", "*.foo.example.com", "*.example.com", None]
