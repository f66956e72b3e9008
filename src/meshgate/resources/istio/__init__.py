"""Istio kinds (networking.istio.io v1/v1beta1/v1alpha3): model and Istio's validation.

ServiceEntry, WorkloadEntry and DestinationRule, read through `Fields` so every problem names its
field path and line. The checks are the ones Istio makes when it admits these objects: its
validation webhook (istio/istio pkg/config/validation/validation.go: ValidateServiceEntry,
ValidateWorkloadEntry, ValidateDestinationRule and the functions they call; agent/validation.go:
ValidateTLS, ValidateLocalityLbSetting, ValidateDuration, ValidateWildcardDomain) and the CEL
rules of its CRDs (pkg/config/validation/testdata/crds). What Istio refuses is an error (the
object is excluded); what Istio accepts with a warning is a warning. Reasons are worded after
Istio's messages.

Durations are read as Istio reads them (Go syntax: "10s", "1m30s", "500ms", "1.5s", "1h") and
kept in milliseconds.
"""

from __future__ import annotations

from .destination_rule import parse_destination_rule  # noqa: F401
from .formats import (  # noqa: F401
    fqdn,
    go_duration_ns,
    ip_subnet,
    is_dns1123_label,
    is_ip,
    is_prime,
    port_name,
    protocol,
    subset_name,
    tag_key,
    tag_value,
    unix_path,
    visibility,
    wildcard_domain,
)
from .model import (  # noqa: F401
    GROUP,
    H2_UPGRADE_POLICIES,
    HTTP_PROTOCOLS,
    LOCATIONS,
    PROTOCOLS,
    RESOLUTIONS,
    SIMPLE_LB,
    TCP_PROTOCOLS,
    TLS_MODES,
    TLS_PROTOCOLS,
    TOPOLOGY_LABELS,
    UNIX_PREFIX,
    ClientTLS,
    ConnectionPool,
    ConsistentHash,
    DestinationRule,
    HTTPCookie,
    HTTPSettings,
    LoadBalancerSettings,
    LocalityLbSetting,
    OutlierDetection,
    PortTrafficPolicy,
    ServiceEntry,
    ServiceEntryPort,
    Subset,
    TcpKeepalive,
    TCPSettings,
    TrafficPolicy,
    WorkloadEntry,
)
from .service_entry import parse_service_entry  # noqa: F401
from .workload_entry import parse_workload_entry  # noqa: F401
