"""What the TCPRoute, TLSRoute and UDPRoute tests share: a stream route's accepted parent, one TCP
echo answer's Pod, a weighted distribution over TCP connections (utils/weight), the TLSRoute tests'
GatewayAndTLSRoutesMustBeAccepted and the CA they read from a ConfigMap."""

from __future__ import annotations

from collections.abc import Callable

from .expect import INFRA, GatewayRef, Key
from .stream_clients import tcp_echo
from .suite import Checks, Condition, ExpectedParent

TOTAL = 500  # weight.TestWeightedDistribution's requests
TOLERANCE = 0.05
MAX_ATTEMPTS = 10  # weight.MaxTestRetries


def accepted_parent(gateway: Key) -> tuple[ExpectedParent, ...]:
    """The one parent entry of a route attached to `gateway` (namespace spelled out)."""
    return (ExpectedParent(gateway, conditions=(Condition("Accepted", "True", "Accepted"),)),)


TLS_CHECKS_CA = Key(INFRA, "tls-checks-ca-certificate")


def tls_routes_accepted(t: Checks, gateway: GatewayRef, *routes: Key) -> tuple[str, list[str]]:
    """GatewayAndTLSRoutesMustBeAccepted: the Gateway and the TLSRoutes accepted (as the harness's
    gateway_and_routes_accepted judges), the test address and, as upstream returns them, the
    spec.hostnames of the last route."""
    address = t.gateway_and_routes_accepted(gateway, *routes, route_kind="TLSRoute")
    hostnames: list[str] = []
    for route in routes:
        obj = t.get("TLSRoute", route)
        if obj is None:
            t.fail(f"TLSRoute {route} was not applied")
        hostnames = list((obj or {}).get("spec", {}).get("hostnames") or [])
    return address, hostnames


def ca_certificate(t: Checks, config_map: Key = TLS_CHECKS_CA) -> str:
    """kubernetes.GetConfigMapData(...)["ca.crt"]: a CA the suite published."""
    obj = t.get("ConfigMap", config_map)
    if obj is None:
        t.fail(f"unexpected error finding CA certificate ConfigMap {config_map}")
    ca = ((obj or {}).get("data") or {}).get("ca.crt")
    if not ca:
        t.fail(f"ca.crt not found in configmap: {config_map}")
    return str(ca)


def tcp_pod(address: str) -> str:
    """tcp.EchoSendOnce: the Pod that answered one connection."""
    return str(tcp_echo(address).test.get("pod", ""))


def distribution_error(send: Callable[[], str], weights: dict[str, float]) -> str | None:
    """One round of weight.TestWeightedDistribution over `send` (which answers a Pod name)."""
    seen: dict[str, int] = {}
    for _ in range(TOTAL):
        pod = send()
        backend = next((b for b in weights if pod.startswith(b + "-")), None)
        if backend is None:
            return f"request was handled by an unexpected pod {pod!r}"
        seen[backend] = seen.get(backend, 0) + 1
    errors = []
    for backend, want in weights.items():
        got = seen.get(backend, 0) / TOTAL
        if want == 0.0 and got:
            errors.append(f"backend {backend!r} got traffic with weight 0")
        elif abs(got - want) > TOLERANCE:
            errors.append(f"backend {backend!r} weighted traffic of {got} not within tolerance {want} (+/-{TOLERANCE})")
    return "; ".join(errors) or None


def expect_distribution(t: Checks, send: Callable[[], str], weights: dict[str, float]) -> None:
    """Retry the distribution round up to MAX_ATTEMPTS times, as upstream does."""
    failures = []
    for attempt in range(MAX_ATTEMPTS):
        error = distribution_error(send, weights)
        if error is None:
            return
        failures.append(f"({attempt + 1}/{MAX_ATTEMPTS}) {error}")
    t.fail("weighted distribution did not converge within tolerance: " + " | ".join(failures))
