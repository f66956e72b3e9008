"""Every field of Envoy Gateway's policy CRDs (the pinned schema, resources/schemas) is accounted
for: setting it alone either is an error or a warning (a field meshgate does not implement is
warned about and ignored), or it is one meshgate reads, listed here. A field that loads silently and
is not listed would be ignored without a word: when the schema is regenerated, each new field must
be implemented and listed, or warned about."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshgate.resources import schemas
from meshgate.resources.loader import load_text

SCHEMA = json.loads((Path(schemas.__file__).parent / "envoy-gateway.json").read_text())

# The leaf fields that load without a word because meshgate implements them.
READ: dict[str, set[str]] = {
    "BackendTrafficPolicy": {
        "circuitBreaker.maxConnections",
        "circuitBreaker.maxParallelRequests",
        "circuitBreaker.maxParallelRetries",
        "circuitBreaker.maxPendingRequests",
        "circuitBreaker.maxRequestsPerConnection",
        "circuitBreaker.perEndpoint.maxConnections",
        "compression.type",
        "compressor.type",
        "dns.lookupFamily",
        "dns.respectDnsTtl",
        "faultInjection.abort.grpcStatus",
        "healthCheck.panicThreshold",
        "healthCheck.passive.alwaysEjectOneEndpoint",
        "healthCheck.passive.consecutive5XxErrors",
        "healthCheck.passive.failurePercentageThreshold",
        "healthCheck.passive.consecutiveGatewayErrors",
        "healthCheck.passive.consecutiveLocalOriginFailures",
        "healthCheck.passive.maxEjectionPercent",
        "healthCheck.passive.splitExternalLocalOriginErrors",
        "http2.maxConcurrentStreams",
        "proxyProtocol.version",
        "requestBuffer.limit",
        "retry.numRetries",
        "retry.retryOn.triggers",
        "tcpKeepalive.probes",
        "telemetry.metrics.routeStatName",
        "telemetry.tracing.clientSamplingFraction.numerator",
        "telemetry.tracing.customTags",
        "telemetry.tracing.overallSamplingFraction.numerator",
        "telemetry.tracing.samplingFraction.numerator",
        "telemetry.tracing.tags",
        "useClientProtocol",
    },
    "ClientTrafficPolicy": {
        "clientIPDetection.customHeader.name",
        "clientIPDetection.xForwardedFor.numTrustedHops",
        "connection.bufferLimit",
        "connection.connectionLimit.value",
        "enableProxyProtocol",
        "grpc.enableWeb",
        "headers.earlyRequestHeaders.remove",
        "headers.preserveXRequestID",
        "headers.withUnderscoresAction",
        "headers.xForwardedClientCert.mode",
        "http1.enableTrailers",
        "http1.preserveHeaderCase",
        "http2.maxConcurrentStreams",
        "path.disableMergeSlashes",
        "path.escapedSlashesAction",
        "proxyProtocol.optional",
        "scheme",
        "tls.ciphers",
        "tls.clientValidation.caCertificateRefs.name",
        "tls.ecdhCurves",
        "tls.maxVersion",
        "tls.minVersion",
    },
    "SecurityPolicy": {
        "authorization.defaultAction",
        "basicAuth.users.name",
        "cors.allowCredentials",
        "cors.allowHeaders",
        "cors.allowMethods",
        "cors.exposeHeaders",
        "csrf.additionalOrigins",
        "csrf.shadowFraction.numerator",
    },
}


def _sample(node: dict[str, Any]) -> Any:
    """A value of the schema node's type (its first enum value if it has one)."""
    if "enum" in node:
        return node["enum"][0]
    if node.get("x-kubernetes-int-or-string"):
        return 1
    kind = node.get("type")
    if kind == "array":
        return [_sample(node.get("items", {}))]
    if kind == "object" or "properties" in node:
        return {}
    return {"string": "x", "integer": 1, "number": 1, "boolean": True}.get(kind or "string", "x")


def _leaves(node: dict[str, Any], path: tuple[tuple[str, bool], ...] = ()) -> Iterator[tuple[tuple[str, bool], ...]]:
    """(field, is a list item) paths to every leaf field under `node`."""
    items = node.get("items") or {}
    in_list = bool(items.get("properties"))
    for name, child in (items["properties"] if in_list else node.get("properties", {})).items():
        here = (*path, (name, in_list))
        if child.get("properties") or (child.get("items") or {}).get("properties"):
            yield from _leaves(child, here)
        else:
            yield here


def _value(node: dict[str, Any], path: tuple[tuple[str, bool], ...]) -> Any:
    for name, in_list in path:
        node = (node["items"] if in_list else node)["properties"][name]
    return _sample(node)


def _silent(kind: str) -> set[str]:
    spec = SCHEMA["kinds"][f"gateway.envoyproxy.io/v1alpha1/{kind}"]["properties"]["spec"]
    target = "Gateway" if kind == "ClientTrafficPolicy" else "HTTPRoute"
    out = set()
    for path in _leaves(spec):
        if path[0][0] in ("targetRef", "targetRefs", "targetSelectors"):
            continue
        value = _value(spec, path)
        for name, in_list in reversed(path):
            value = {name: value}
            if in_list:
                value = [value]
        doc = {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": kind, "metadata": {"name": "p", "namespace": "d"},
               "spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": target, "name": "w"}], **value}}
        if not load_text(yaml.safe_dump(doc), "fields.yaml", "2026-01-01T00:00:00Z").errors:
            out.add(".".join(name for name, _ in path))
    return out


@pytest.mark.parametrize("kind", sorted(READ))
def test_every_field_is_read_or_reported(kind: str) -> None:
    silent = _silent(kind)
    assert silent - READ[kind] == set(), "fields ignored without a word (implement and list them, or warn)"
    assert READ[kind] - silent == set(), "listed as read, but reported when set"
