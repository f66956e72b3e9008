"""Proxy identity from the Envoy node (ARCHITECTURE §6): node_metadata and identity_from_node agree."""

from __future__ import annotations

import pytest
from envoy.config.core.v3 import base_pb2
from google.protobuf import struct_pb2

from meshgate.discovery.model import Locality
from meshgate.envoy.bootstrap import ads_bootstrap
from meshgate.xds.proxy import (
    GATEWAY_KEY,
    LABELS_KEY,
    NODE_NAME_KEY,
    ProxyIdentity,
    identity_from_node,
    locality_proto,
    node_metadata,
)


def _node(identity: ProxyIdentity) -> base_pb2.Node:
    node = base_pb2.Node(id=identity.node_id, cluster="something-else")
    node.metadata.CopyFrom(node_metadata(identity))
    node.locality.CopyFrom(locality_proto(identity.locality))
    return node


def test_round_trip() -> None:
    identity = ProxyIdentity(
        gateway="infra/edge",
        locality=Locality("us-east-1", "us-east-1a", "rack7"),
        labels=(("topology.istio.io/network", "net1"), ("zone-group", "a")),
        node_name="worker-3",
        node_id="infra/edge~1234abcd",
    )
    back = identity_from_node(_node(identity))
    assert back == identity
    assert back.labels_dict() == {"topology.istio.io/network": "net1", "zone-group": "a"}


def test_minimal_round_trip() -> None:
    identity = ProxyIdentity(gateway="default/gw", node_id="n")
    meta = node_metadata(identity)
    assert set(meta.fields) == {GATEWAY_KEY}
    assert identity_from_node(_node(identity)) == identity


def test_labels_are_sorted() -> None:
    node = base_pb2.Node(id="x")
    node.metadata.fields[GATEWAY_KEY].string_value = "ns/gw"
    labels = node.metadata.fields[LABELS_KEY].struct_value
    for k in ("zeta", "alpha", "mid"):
        labels.fields[k].string_value = k.upper()
    assert identity_from_node(node).labels == (("alpha", "ALPHA"), ("mid", "MID"), ("zeta", "ZETA"))


def test_bootstrap_node_reads_back() -> None:
    boot = ads_bootstrap("ns/gw", "127.0.0.1", 15010, locality=Locality("r", "z"), labels={"b": "2", "a": "1"},
                         node_name="node-a", node_id="fixed")
    identity = identity_from_node(boot.node)
    assert identity == ProxyIdentity("ns/gw", Locality("r", "z", ""), (("a", "1"), ("b", "2")), "node-a", "fixed")
    assert boot.node.cluster == "ns/gw"


def test_default_node_id() -> None:
    boot = ads_bootstrap("ns/gw", "127.0.0.1", 15010)
    prefix, suffix = boot.node.id.split("~")
    assert prefix == "ns/gw" and len(suffix) == 8
    assert ads_bootstrap("ns/gw", "127.0.0.1", 15010).node.id != boot.node.id


def test_gateway_falls_back_to_node_cluster() -> None:
    identity = identity_from_node(base_pb2.Node(id="n1", cluster="team-a/public"))
    assert identity.gateway == "team-a/public"
    assert identity.locality == Locality()
    assert identity.labels == () and identity.node_name == ""


def test_metadata_wins_over_cluster() -> None:
    node = base_pb2.Node(id="n1", cluster="other/gw")
    node.metadata.fields[GATEWAY_KEY].string_value = "ns/gw"
    assert identity_from_node(node).gateway == "ns/gw"


def test_missing_gateway() -> None:
    with pytest.raises(ValueError, match="names no Gateway"):
        identity_from_node(base_pb2.Node(id="lonely"))


@pytest.mark.parametrize("bad", ["gw", "ns/", "/gw", "a/b/c", "", " ns/gw"])
def test_malformed_gateway_in_metadata(bad: str) -> None:
    node = base_pb2.Node(id="n")
    node.metadata.fields[GATEWAY_KEY].string_value = bad
    with pytest.raises(ValueError, match="namespace/name"):
        identity_from_node(node)


def test_malformed_gateway_in_cluster() -> None:
    with pytest.raises(ValueError, match=r"node\.cluster.*namespace/name"):
        identity_from_node(base_pb2.Node(id="n", cluster="edge.infra"))


def test_gateway_not_a_string() -> None:
    node = base_pb2.Node(id="n")
    node.metadata.fields[GATEWAY_KEY].number_value = 3
    with pytest.raises(ValueError, match="must be a string"):
        identity_from_node(node)


def test_labels_not_strings() -> None:
    node = base_pb2.Node(id="n")
    node.metadata.fields[GATEWAY_KEY].string_value = "ns/gw"
    node.metadata.fields[LABELS_KEY].struct_value.fields["k"].bool_value = True
    with pytest.raises(ValueError, match="label 'k'"):
        identity_from_node(node)
    node.metadata.fields[LABELS_KEY].string_value = "k=v"
    with pytest.raises(ValueError, match="map of strings"):
        identity_from_node(node)


def test_node_name_not_a_string() -> None:
    node = base_pb2.Node(id="n")
    node.metadata.fields[GATEWAY_KEY].string_value = "ns/gw"
    node.metadata.fields[NODE_NAME_KEY].list_value.CopyFrom(struct_pb2.ListValue())
    with pytest.raises(ValueError, match=NODE_NAME_KEY):
        identity_from_node(node)


def test_bootstrap_rejects_bad_gateway() -> None:
    with pytest.raises(ValueError, match="namespace/name"):
        ads_bootstrap("gw", "127.0.0.1", 15010)
