"""IR value matches as Envoy string matchers (shared by route matches and filter configs)."""

from __future__ import annotations

from envoy.type.matcher.v3 import regex_pb2, string_pb2

from .. import ir


def string_match(m: ir.ValueMatch) -> string_pb2.StringMatcher:
    """An exact or regex match of a header, query parameter or origin value."""
    if m.regex:
        return string_pb2.StringMatcher(safe_regex=regex_pb2.RegexMatcher(regex=m.value))
    return string_pb2.StringMatcher(exact=m.value)
