"""What the TCPRoute, TLSRoute and UDPRoute tests share: a stream route's accepted parent, one TCP
echo answer's Pod, and a weighted distribution over TCP connections (utils/weight)."""

from __future__ import annotations

from collections.abc import Callable

from .expect import Key
from .stream_clients import tcp_echo
from .suite import Checks, Condition, ExpectedParent

TOTAL = 500  # weight.TestWeightedDistribution's requests
TOLERANCE = 0.05
MAX_ATTEMPTS = 10  # weight.MaxTestRetries


def accepted_parent(gateway: Key) -> tuple[ExpectedParent, ...]:
    """The one parent entry of a route attached to `gateway` (namespace spelled out)."""
    return (ExpectedParent(gateway, conditions=(Condition("Accepted", "True", "Accepted"),)),)


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
