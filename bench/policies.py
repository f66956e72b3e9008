"""BackendTrafficPolicies for the benchmarks' inputs (`--policies`): one on the Gateway (retries,
passive health checks: every route gets a retry policy and every cluster a policy variant) and
one on every tenth route (active health checks, a circuit breaker and a local rate limit), so
that `bench/apply.py --policies`, `bench/propagation.py --policies` and `bench/push.py
--policies` measure what policies cost a change, against the same runs without them.
`--policies routes`: the route policies only (no Gateway-wide one), the common case."""

from __future__ import annotations

EVERY = 10  # one route in EVERY gets a policy of its own


def add_argument(parser: object) -> None:
    """The benchmarks' --policies option."""
    parser.add_argument("--policies", nargs="?", const="all", choices=KINDS, default=None,  # type: ignore[attr-defined]
                        help="add bench/policies.py's BackendTrafficPolicies: all (the Gateway's and every tenth "
                             "route's; the default) or routes (every tenth route's only)")


def _policy(namespace: str, name: str, kind: str, target: str, body: str) -> str:
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: {kind}, name: {target}}}]
{body}"""


GATEWAY_BODY = ("  retry: {numRetries: 2, retryOn: {httpStatusCodes: [503]}}\n"
                "  healthCheck: {passive: {consecutive5XxErrors: 5}}\n")
ROUTE_BODY = ("  healthCheck: {active: {type: HTTP, interval: 10s, http: {path: /healthz}}}\n"
              "  circuitBreaker: {maxConnections: 1000}\n"
              "  rateLimit: {type: Local, local: {rules: [{limit: {requests: 1000, unit: Second}}]}}\n")


KINDS = ("all", "routes")  # what --policies adds: the Gateway's policy and the routes', or the routes' only


def policies_yaml(namespace: str, gateway: str, routes: list[str], kind: str = "all") -> str:
    """The Gateway's policy (kind "all"), and one for every EVERY-th of `routes` (HTTPRoute names)."""
    docs = [_policy(namespace, "gateway-wide", "Gateway", gateway, GATEWAY_BODY)] if kind == "all" else []
    docs += [_policy(namespace, f"route-policy-{i}", "HTTPRoute", name, ROUTE_BODY)
             for i, name in enumerate(routes) if i % EVERY == 0]
    return "---\n".join(docs)
