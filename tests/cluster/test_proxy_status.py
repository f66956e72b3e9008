"""A provisioned Gateway's status as its proxy makes it: addresses from its Service, Programmed
only with an available replica."""

from __future__ import annotations

from meshgate.cluster.proxy_status import ProxyState, observed_state, with_proxy_states


def gateway(addresses: list[dict] | None = None) -> dict:
    status: dict = {"conditions": [{"type": "Accepted", "status": "True"},
                                   {"type": "Programmed", "status": "True", "reason": "Programmed",
                                    "lastTransitionTime": "2026-12-04T10:00:00Z"}]}
    if addresses:
        status["addresses"] = addresses
    return {"kind": "Gateway", "metadata": {"namespace": "shop", "name": "gw"}, "status": status}


def test_the_load_balancers_addresses_win_over_the_cluster_ip() -> None:
    svc = {"spec": {"clusterIP": "10.96.0.9"},
           "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": "lb.example.com"}]}}}
    assert observed_state({"status": {"availableReplicas": 2}}, svc) == ProxyState(2, ("203.0.113.7", "lb.example.com"))
    assert observed_state(None, {"spec": {"clusterIP": "10.96.0.9"}}) == ProxyState(0, ("10.96.0.9",))
    assert observed_state(None, None) == ProxyState(0, ())


def test_addresses_and_programmed_follow_the_proxy() -> None:
    (obj,) = with_proxy_states([gateway()], {"shop/gw": ProxyState(0, ("203.0.113.7", "lb.example.com"))},
                               "2026-12-04T10:09:00Z")
    assert obj["status"]["addresses"] == [{"type": "IPAddress", "value": "203.0.113.7"},
                                          {"type": "Hostname", "value": "lb.example.com"}]
    programmed = obj["status"]["conditions"][1]
    assert (programmed["status"], programmed["reason"], programmed["lastTransitionTime"]) == (
        "False", "NoResources", "2026-12-04T10:09:00Z")
    (ready,) = with_proxy_states([gateway()], {"shop/gw": ProxyState(1, ("203.0.113.7",))}, "later")
    assert ready["status"]["conditions"][1]["status"] == "True"


def test_a_gateways_own_addresses_are_kept_and_others_untouched() -> None:
    own = [{"type": "IPAddress", "value": "127.1.80.4"}]
    route = {"kind": "HTTPRoute", "metadata": {"namespace": "shop", "name": "gw"}, "status": {}}
    objs = [gateway(own), route]
    out = with_proxy_states(objs, {"shop/gw": ProxyState(1, ("203.0.113.7",))}, "now")
    assert out[0]["status"]["addresses"] == own and out[1] is route
    assert objs[0]["status"]["addresses"] == own  # not modified
