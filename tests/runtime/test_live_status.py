"""Programmed as the proxies answered: a NACK turns it False, an ACK or a disconnect clears it."""

from __future__ import annotations

import copy

from meshgate.runtime.live_status import rejections, with_proxy_answers
from meshgate.xds.resources import LISTENER, ROUTE
from meshgate.xds.streams import StreamState

NOW = "2026-02-02T00:00:00Z"


def gateway(name: str) -> dict:
    def cond(type_: str) -> dict:
        return {"type": type_, "status": "True", "reason": type_, "message": "", "observedGeneration": 1,
                "lastTransitionTime": "2026-01-01T00:00:00Z"}
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"namespace": "ns", "name": name},
            "status": {"conditions": [cond("Accepted"), cond("Programmed")],
                       "listeners": [{"name": "a", "conditions": [cond("Programmed")]},
                                     {"name": "b", "conditions": [cond("Programmed")]}]}}


def stream(gateway: str, type_url: str, nack: str) -> StreamState:
    st = StreamState(1, "delta", gateway=gateway, node_id="node-1")
    st.type_state(type_url).nack = nack
    return st


PORTS = {"ns/gw": {"a": 80, "b": 81}}
ENVOY = {"ns/gw": {"127.0.0.5_80": 80, "127.0.0.5_81": 81}}
BIND = "Error adding/updating listener(s) 127.0.0.5_81: cannot bind '127.0.0.5:81': Address already in use"


def programmed(conditions: list[dict]) -> dict:
    return next(c for c in conditions if c["type"] == "Programmed")


def test_a_bind_nack_marks_the_gateway_and_the_listener_on_that_port() -> None:
    status = [gateway("gw"), gateway("other")]
    before = copy.deepcopy(status)
    out = with_proxy_answers(status, rejections([stream("ns/gw", LISTENER, BIND)]), PORTS, ENVOY, NOW)
    gw = out[0]["status"]
    assert programmed(gw["conditions"])["status"] == "False"
    assert programmed(gw["conditions"])["reason"] == "AddressNotUsable"
    assert "node-1" in programmed(gw["conditions"])["message"] and "LDS" in programmed(gw["conditions"])["message"]
    assert programmed(gw["conditions"])["lastTransitionTime"] == NOW
    assert programmed(gw["listeners"][0]["conditions"])["status"] == "True"
    assert programmed(gw["listeners"][1]["conditions"])["status"] == "False"
    assert "port 81" in programmed(gw["listeners"][1]["conditions"])["message"]
    assert out[1] == before[1]  # another Gateway is untouched
    assert status == before  # the translation's status is not modified


def test_a_route_nack_makes_the_gateway_not_programmed_but_no_listener() -> None:
    out = with_proxy_answers([gateway("gw")], rejections([stream("ns/gw", ROUTE, "invalid regex")]),
                             PORTS, ENVOY, NOW)
    gw = out[0]["status"]
    assert programmed(gw["conditions"])["reason"] == "Invalid"
    assert "RDS" in programmed(gw["conditions"])["message"]
    assert all(programmed(ls["conditions"])["status"] == "True" for ls in gw["listeners"])


def test_no_standing_nack_leaves_status_as_translated() -> None:
    status = [gateway("gw")]
    acked = stream("ns/gw", LISTENER, "")
    assert with_proxy_answers(status, rejections([acked]), PORTS, ENVOY, NOW) is status
