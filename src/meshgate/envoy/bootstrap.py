"""Envoy bootstraps that fetch everything from meshgate over ADS (ARCHITECTURE §6, `meshgate bootstrap`).

The bootstrap holds only what Envoy needs before it can talk to the control plane: its node
identity (the keys of `meshgate.xds.proxy`), the `meshgate-xds` cluster (HTTP/2, for gRPC) and
ADS as the source of listeners and clusters; routes, endpoints and secrets follow from those.
Its runtime raises Envoy's RE2 program size limit as Istio's bootstrap does (`runtime_layers`).
With `XdsClientTLS`, the `meshgate-xds` cluster speaks mutual TLS: Envoy presents its Gateway's
client certificate and checks that the server's certificate, signed by the given CA, names the
server it meant to reach.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from envoy.config.accesslog.v3 import accesslog_pb2
from envoy.config.bootstrap.v3 import bootstrap_pb2
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import (
    address_pb2,
    base_pb2,
    config_source_pb2,
    grpc_service_pb2,
    protocol_pb2,
)
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.extensions.access_loggers.file.v3 import file_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, tls_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as hpo
from envoy.type.matcher.v3 import string_pb2
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.json_format import MessageToJson

from ..discovery.model import Locality
from ..naming import XDS_CLUSTER
from ..resources.formats import RE2_MAX_PROGRAM_SIZE
from ..xds.proxy import ANNOTATIONS_KEY, ProxyIdentity, check_gateway, locality_proto, node_metadata
from .stats import DEFAULT_PREFIXES, stats_config

_HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def _any(msg) -> any_pb2.Any:
    out = any_pb2.Any()
    out.Pack(msg)
    return out


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _ads_source() -> config_source_pb2.ConfigSource:
    return config_source_pb2.ConfigSource(
        ads=config_source_pb2.AggregatedConfigSource(),
        resource_api_version=config_source_pb2.V3,
    )


def runtime_layers() -> bootstrap_pb2.LayeredRuntime:
    """Envoy's runtime: a static layer, then the admin layer (`/runtime_modify`), as Istio's.

    The static layer sets `re2.max_program_size.error_level` to 32768, Istio's value: at Envoy's
    default (100) a regex as modest as `/[a-z]{200}` is refused, and with it the whole route
    configuration of its listener. The loader checks every regex against the same limit
    (resources/formats.py), so nothing meshgate accepts is refused here. The warn level is left
    unset (no warning), as Istio leaves it. Values are strings, as in Istio's bootstrap.
    """
    runtime = bootstrap_pb2.LayeredRuntime()
    static = runtime.layers.add(name="global config")
    static.static_layer.fields["re2.max_program_size.error_level"].string_value = str(RE2_MAX_PROGRAM_SIZE)
    runtime.layers.add(name="admin").admin_layer.SetInParent()
    return runtime


@dataclass(frozen=True, slots=True)
class XdsClientTLS:
    """How a proxy reaches meshgate over mutual TLS: files Envoy reads at start-up."""

    ca: Path  # the CA that signed the server's certificate
    certificate: Path  # the proxy's client certificate (its Gateway's SPIFFE ID as URI SAN)
    key: Path
    server_name: str = ""  # the name the server's certificate must carry (default: the xDS host)
    sni: str | None = None  # sent in the handshake (default: server_name when it is a DNS name)


def _tls_socket(tls: XdsClientTLS, host: str) -> base_pb2.TransportSocket:
    name = tls.server_name or host
    ip = _is_ip(name)
    sni = tls.sni if tls.sni is not None else ("" if ip else name)  # no IP literals in SNI (RFC 6066)
    matcher = common_pb2.SubjectAltNameMatcher(
        san_type=common_pb2.SubjectAltNameMatcher.IP_ADDRESS if ip else common_pb2.SubjectAltNameMatcher.DNS,
        matcher=string_pb2.StringMatcher(exact=name))
    ctx = tls_pb2.UpstreamTlsContext(sni=sni, common_tls_context=tls_pb2.CommonTlsContext(
        alpn_protocols=["h2"],
        tls_certificates=[common_pb2.TlsCertificate(
            certificate_chain=base_pb2.DataSource(filename=str(tls.certificate)),
            private_key=base_pb2.DataSource(filename=str(tls.key)))],
        validation_context=common_pb2.CertificateValidationContext(
            trusted_ca=base_pb2.DataSource(filename=str(tls.ca)),
            match_typed_subject_alt_names=[matcher]),
    ))
    return base_pb2.TransportSocket(name="envoy.transport_sockets.tls", typed_config=_any(ctx))


def _xds_cluster(address: str, port: int, tls: XdsClientTLS | None = None) -> cluster_pb2.Cluster:
    """The static cluster Envoy reaches meshgate through: HTTP/2 (gRPC), kept alive."""
    cluster = cluster_pb2.Cluster(
        name=XDS_CLUSTER,
        type=cluster_pb2.Cluster.STATIC if _is_ip(address) else cluster_pb2.Cluster.STRICT_DNS,
        connect_timeout=duration_pb2.Duration(seconds=1),
    )
    # TCP keepalive after 5 minutes idle, like Istio's xds-grpc cluster (the kernel default is
    # 2 h); probe interval and count stay the kernel's.
    cluster.upstream_connection_options.tcp_keepalive.keepalive_time.value = 300
    if cluster.type == cluster_pb2.Cluster.STRICT_DNS:
        # "localhost" and dual-stack names: prefer the IPv4 address, fall back to IPv6.
        cluster.dns_lookup_family = cluster_pb2.Cluster.V4_PREFERRED
    cluster.typed_extension_protocol_options[_HTTP_PROTOCOL_OPTIONS].CopyFrom(_any(hpo.HttpProtocolOptions(
        explicit_http_config=hpo.HttpProtocolOptions.ExplicitHttpConfig(
            http2_protocol_options=protocol_pb2.Http2ProtocolOptions()),
    )))
    cluster.load_assignment.CopyFrom(endpoint_pb2.ClusterLoadAssignment(
        cluster_name=XDS_CLUSTER,
        endpoints=[endpoint_components_pb2.LocalityLbEndpoints(lb_endpoints=[
            endpoint_components_pb2.LbEndpoint(endpoint=endpoint_components_pb2.Endpoint(
                address=address_pb2.Address(socket_address=address_pb2.SocketAddress(
                    address=address, port_value=port)))),
        ])],
    ))
    if tls is not None:
        cluster.transport_socket.CopyFrom(_tls_socket(tls, address))
    return cluster


def ads_bootstrap(
    gateway: str,
    xds_address: str,
    xds_port: int,
    admin_address: str = "127.0.0.1",
    admin_port: int = 0,
    locality: Locality | None = None,
    labels: dict[str, str] | None = None,
    node_name: str = "",
    delta: bool = True,
    node_id: str | None = None,
    access_log: bool = True,
    tls: XdsClientTLS | None = None,
    annotations: dict[str, str] | None = None,
    stats_prefixes: tuple[str, ...] | None = DEFAULT_PREFIXES,
) -> bootstrap_pb2.Bootstrap:
    """A bootstrap for a proxy of `gateway` ("namespace/name") fed by meshgate at xds_address:xds_port.

    `delta` picks incremental (Delta) ADS, else State of the World. `admin_port` 0 lets the
    kernel pick (learn it with `envoy --admin-address-path`). `access_log` gives the admin
    interface an explicit access log to /dev/null; without it none is configured. Either way
    nothing is logged: gateway access logs come with the listeners, over xDS. `tls` makes the
    connection to meshgate mutual TLS (plaintext without it). `labels` are the proxy's labels
    (`meshgate.io/labels`); `annotations` go to `meshgate.io/annotations` in the node metadata.
    `stats_prefixes`: the statistics Envoy keeps (envoy/stats.py; None: all).
    """
    check_gateway(gateway)
    xds_address = xds_address.removeprefix("[").removesuffix("]")  # "[::1]" -> "::1"
    if not xds_address:
        raise ValueError("xds_address is empty")
    if not 0 < xds_port < 65536:
        raise ValueError(f"xds_port {xds_port} is not a TCP port")
    if not 0 <= admin_port < 65536:
        raise ValueError(f"admin_port {admin_port} is not a TCP port (or 0)")
    identity = ProxyIdentity(
        gateway=gateway,
        locality=locality or Locality(),
        labels=tuple(sorted((labels or {}).items())),
        node_name=node_name,
        node_id=node_id or f"{gateway}~{uuid.uuid4().hex[:8]}",
    )

    boot = bootstrap_pb2.Bootstrap()
    boot.node.id = identity.node_id
    boot.node.cluster = gateway
    boot.node.metadata.CopyFrom(node_metadata(identity))
    if annotations:
        notes = boot.node.metadata.fields[ANNOTATIONS_KEY].struct_value
        for key, value in sorted(annotations.items()):
            notes.fields[key].string_value = value
    if locality is not None and any((locality.region, locality.zone, locality.subzone)):
        boot.node.locality.CopyFrom(locality_proto(locality))

    ads = boot.dynamic_resources.ads_config
    ads.api_type = (config_source_pb2.ApiConfigSource.DELTA_GRPC if delta
                    else config_source_pb2.ApiConfigSource.GRPC)
    ads.transport_api_version = config_source_pb2.V3
    ads.grpc_services.append(grpc_service_pb2.GrpcService(
        envoy_grpc=grpc_service_pb2.GrpcService.EnvoyGrpc(cluster_name=XDS_CLUSTER)))
    ads.set_node_on_first_message_only = True
    boot.dynamic_resources.lds_config.CopyFrom(_ads_source())
    boot.dynamic_resources.cds_config.CopyFrom(_ads_source())

    boot.static_resources.clusters.append(_xds_cluster(xds_address, xds_port, tls))
    boot.layered_runtime.CopyFrom(runtime_layers())
    boot.stats_config.CopyFrom(stats_config(stats_prefixes))

    boot.admin.address.socket_address.address = admin_address
    boot.admin.address.socket_address.port_value = admin_port
    if access_log:
        boot.admin.access_log.append(accesslog_pb2.AccessLog(
            name="envoy.access_loggers.file",
            typed_config=_any(file_pb2.FileAccessLog(path="/dev/null")),
        ))
    return boot


def bootstrap_text(boot: bootstrap_pb2.Bootstrap, fmt: Literal["json", "yaml"] = "json") -> str:
    """The bootstrap as Envoy reads it from a file: proto3 JSON or YAML with proto field names."""
    if fmt not in ("json", "yaml"):
        raise ValueError(f"unknown bootstrap format {fmt!r}: json or yaml")
    text = MessageToJson(boot, preserving_proto_field_name=True, indent=2)
    if fmt == "json":
        return text + "\n"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(json.loads(text), Dumper=dumper, sort_keys=False, default_flow_style=False, width=120)
