"""Istio's policies as ordered rules (gateway/policies/istio_security.py): DENY (and CUSTOM) rules
before ALLOW ones, default deny once an ALLOW policy applies, request principals matched against
the route's issuers, peer identities never present, unsupported conditions closed both ways."""

from __future__ import annotations

from meshgate.gateway.policies.istio_security import authorization, istio_security, request_principals
from meshgate.resources.loader import load_text

ISSUERS = ("https://a.example.com", "https://b.example.com")


def _policies(text: str) -> list:
    loaded = load_text(text, "in.yaml", "2026-01-01T00:00:00Z")
    assert [e for e in loaded.errors if e.severity == "error"] == []
    return loaded.objects


def _policy(name: str, action: str, rules: str) -> str:
    return f"""apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: {name}, namespace: ns}}
spec: {{action: {action}, rules: {rules}}}
---
"""


def test_request_principals_are_matched_against_the_routes_issuers() -> None:
    assert request_principals(["*"], ISSUERS) == ("https://a.example.com/*", "https://b.example.com/*")
    assert request_principals(["https://a.example.com/alice"], ISSUERS) == ("https://a.example.com/alice",)
    assert request_principals(["https://a.example.com/*"], ISSUERS) == ("https://a.example.com/*",)
    assert request_principals(["https://a.example.com/ad*"], ISSUERS) == ("https://a.example.com/ad*",)
    assert request_principals(["*b.example.com/bob"], ISSUERS) == ("https://b.example.com/bob",)
    assert request_principals(["*-admin"], ISSUERS) == ("https://a.example.com/*-admin", "https://b.example.com/*-admin")
    assert request_principals(["https://c.example.com/x", "https://c*"], ISSUERS) == ()
    assert request_principals(["https://*"], ISSUERS) == ("https://a.example.com/*", "https://b.example.com/*")


def test_deny_rules_come_first_and_an_allow_policy_denies_the_rest() -> None:
    auth = authorization(_policies(
        _policy("allow", "ALLOW", "[{to: [{operation: {methods: [GET]}}]}]")
        + _policy("deny", "DENY", "[{to: [{operation: {paths: [/admin*]}}]}]")), ISSUERS)
    assert auth is not None
    assert [(r.name, r.action) for r in auth.rules] == [("ns/deny/0", "DENY"), ("ns/allow/0", "ALLOW")]
    assert auth.default_action == "DENY"
    assert auth.rules[0].permissions[0].paths[0].kind == "prefix"
    only_deny = authorization(_policies(_policy("deny", "DENY", "[{to: [{operation: {paths: [/x]}}]}]")), ISSUERS)
    assert only_deny is not None and only_deny.default_action == "ALLOW"


def test_an_allow_policy_without_rules_denies_everything() -> None:
    auth = authorization(_policies(_policy("nothing", "ALLOW", "[]")), ISSUERS)
    assert auth is not None and (auth.rules, auth.default_action) == ((), "DENY")


def test_peer_identities_never_match_and_unsupported_conditions_close() -> None:
    auth = authorization(_policies(
        _policy("peer", "ALLOW", "[{from: [{source: {principals: [cluster.local/ns/a/sa/b]}}]}]")
        + _policy("sni-allow", "ALLOW", "[{when: [{key: connection.sni, values: [a.example]}]}]")
        + _policy("sni-deny", "DENY", "[{when: [{key: connection.sni, values: [a.example]}]}]")), ISSUERS)
    assert auth is not None
    # The peer rule and the ALLOW on what meshgate cannot check grant nothing; the DENY denies all.
    assert [(r.name, r.action, r.principals, r.permissions) for r in auth.rules] == [
        ("ns/sni-deny/0", "DENY", (), ())]


def test_when_conditions_are_all_required() -> None:
    auth = authorization(_policies(_policy("both", "ALLOW", """[{when: [
        {key: "request.headers[x-a]", values: ["1"]}, {key: "request.headers[x-b]", values: ["2"]},
        {key: "request.auth.claims[group]", values: [admins]}]}]""")), ISSUERS)
    assert auth is not None
    (principal,) = auth.rules[0].principals
    assert [p.headers[0].name for p in principal.all_of[1:3]] == ["x-a", "x-b"]
    claims = principal.all_of[3].any_of
    assert [c.claims[0].provider for c in claims] == list(ISSUERS)


def test_request_authentication_makes_optional_tokens_named_by_issuer() -> None:
    security = istio_security([], _policies("""apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: tokens, namespace: ns}
spec:
  jwtRules:
  - {issuer: "https://a.example.com", jwksUri: "https://a.example.com/jwks"}
"""))
    assert security is not None and security.jwt is not None and security.jwt.optional
    assert [(p.name, p.remote_jwks) for p in security.jwt.providers] == [("https://a.example.com",
                                                                          "https://a.example.com/jwks")]
    assert security.authorization is None


# -- CUSTOM: an external authorizer of the mesh config -------------------------------------------

_CUSTOM_BASE = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: meshgate
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec: {clusterIP: 10.96.0.8, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: ns}
spec: {clusterIP: 10.96.0.9, ports: [{name: grpc, port: 9000}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    extensionProviders:
    - {name: checker, envoyExtAuthzGrpc: {service: authz.ns.svc.cluster.local, port: 9000, failOpen: true}}
    - {name: wrong-port, envoyExtAuthzGrpc: {service: authz.ns.svc.cluster.local, port: 9001}}
    - {name: no-service, envoyExtAuthzHttp: {service: gone.ns.svc.cluster.local, port: 80}}
---
"""


def _custom(name: str, provider: str, rules: str = "[{to: [{operation: {paths: [/admin*]}}]}]") -> str:
    return f"""apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: {name}, namespace: ns}}
spec: {{action: CUSTOM, provider: {{name: {provider}}}, rules: {rules}}}
---
"""


def _translate(text: str):
    from meshgate.pipeline import translate_store
    from meshgate.store import Store

    store, _ = Store.from_load(load_text(text, "in.yaml", "2026-01-01T00:00:00Z"))
    tr = translate_store(store, "2026-01-01T00:00:00Z")
    (gw,) = tr.configs
    (route,) = gw.route_configs[0].virtual_hosts[0].routes
    return route.security, {c.name for c in gw.clusters}, [e for e in tr.errors if e.severity == "warning"]


def test_custom_rules_go_to_the_provider_and_leave_deny_and_allow_to_rbac() -> None:
    security, clusters, warnings = _translate(_CUSTOM_BASE + _custom("checked", "checker")
                                              + _policy("deny", "DENY", "[{to: [{operation: {paths: [/x]}}]}]"))
    assert warnings == []
    assert security is not None and security.custom is not None
    custom = security.custom
    assert (custom.service.protocol, custom.service.cluster, custom.service.fail_open) == (
        "GRPC", "outbound|9000||authz.ns.svc.cluster.local", True)
    assert custom.service.timeout_ms == 600_000  # Istio's default
    assert [r.name for r in custom.rules] == ["istio-ext-authz-checker-ns[ns]-policy[checked]-rule[0]"]
    assert custom.prefix == "istio-ext-authz-checker"
    assert security.authorization is not None
    assert [r.name for r in security.authorization.rules] == ["ns/deny/0"]  # the CUSTOM rule is not a DENY
    assert "outbound|9000||authz.ns.svc.cluster.local" in clusters
    # Only CUSTOM policies: no RBAC decision at all, the authorizer decides what the rules match.
    security, _, _ = _translate(_CUSTOM_BASE + _custom("checked", "checker"))
    assert security is not None and security.authorization is None and security.custom is not None


def test_custom_fails_closed_when_its_provider_cannot_decide() -> None:
    for provider, why in [("absent", "has no extension provider 'absent'"),
                          ("wrong-port", "Service ns/authz has no port 9001"),
                          ("no-service", "is not a host of any Service or ServiceEntry")]:
        security, clusters, warnings = _translate(_CUSTOM_BASE + _custom("checked", provider))
        assert security is not None and security.custom is None
        assert security.authorization is not None
        assert [(r.name, r.action) for r in security.authorization.rules] == [("ns/checked/0", "DENY")]
        assert "outbound|9000||authz.ns.svc.cluster.local" not in clusters
        (warning,) = warnings
        assert warning.field == "spec.provider" and why in warning.reason and "fail closed" in warning.reason
    # No mesh config at all.
    without = _CUSTOM_BASE.replace("name: istio, namespace: istio-system", "name: other, namespace: istio-system")
    security, _, warnings = _translate(without + _custom("checked", "checker"))
    assert security is not None and security.custom is None and security.authorization is not None
    assert "ConfigMap istio-system/istio, which does not exist" in warnings[0].reason


def test_two_custom_providers_on_one_gateway_deny_as_istio_does() -> None:
    security, _, warnings = _translate(_CUSTOM_BASE + _custom("a", "checker")
                                       + _custom("b", "wrong-port", "[{to: [{operation: {paths: [/b]}}]}]"))
    assert security is not None and security.custom is None and security.authorization is not None
    assert [(r.name, r.action) for r in security.authorization.rules] == [("ns/a/0", "DENY"), ("ns/b/0", "DENY")]
    assert len(warnings) == 2 and all("several providers (checker, wrong-port)" in w.reason for w in warnings)
