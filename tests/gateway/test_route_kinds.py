"""The route-kind registry agrees with what is read: every route kind the resources layer parses
(and the Kubernetes provider writes status for) is translated, and every listener protocol's
default kinds are registered ones."""

from __future__ import annotations

from meshgate.gateway.route_kinds import PROTOCOL_KINDS, ROUTE_KINDS
from meshgate.resources import gateway_api
from meshgate.resources.kinds import KINDS


def test_every_route_kind_read_is_translated() -> None:
    assert set(ROUTE_KINDS) == set(gateway_api.ROUTE_KINDS)
    for kind in ROUTE_KINDS:
        assert (gateway_api.GROUP, kind) in KINDS, kind


def test_protocol_kinds_are_registered() -> None:
    for protocol, kinds in PROTOCOL_KINDS.items():
        for k in kinds:
            assert k.group == gateway_api.GROUP and k.kind in ROUTE_KINDS, (protocol, k)


def test_ranks_are_distinct() -> None:
    """Precedence keys of different kinds never compare element by element past the rank."""
    ranks = [k.rank for k in ROUTE_KINDS.values()]
    assert len(ranks) == len(set(ranks))
