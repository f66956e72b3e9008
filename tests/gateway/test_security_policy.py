"""What a SecurityPolicy does to the routes it reaches (gateway/policies/security.py): its
references resolved (Secrets, a ConfigMap's JWKS, the authorization Service, ReferenceGrants),
fail closed when they do not resolve, status (Invalid, Conflicted, Overridden), and a Secret's
change reaching routes through a route table that lives across translations."""

from __future__ import annotations

from meshgate import ir
from meshgate import ir_security as sec
from meshgate.discovery.index import Discovery
from meshgate.gateway.route_table import RouteTable
from meshgate.gateway.translate import GatewayTranslation, translate_gateways
from meshgate.resources.loader import load_text
from meshgate.store import Store

NOW = "2026-01-01T00:00:00Z"
BASE = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gw}
spec:
  gatewayClassName: meshgate
  listeners: [{name: a, port: 8080, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: gw}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: auth}
spec: {ports: [{port: 9000}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: gw}
spec:
  parentRefs: [{name: web}]
  rules:
  - {name: first, matches: [{path: {value: /first}}], backendRefs: [{name: svc, port: 8080}]}
  - {name: second, matches: [{path: {value: /second}}], backendRefs: [{name: svc, port: 8080}]}
"""
USERS = """apiVersion: v1
kind: Secret
metadata: {name: users, namespace: NS}
stringData: {.htpasswd: "u:{SHA}HASH"}
"""
GRANT = """apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: grant, namespace: NS}
spec:
  from: [{group: gateway.envoyproxy.io, kind: SecurityPolicy, namespace: gw}]
  to: [{group: "", kind: KIND}]
"""


def _policy(name: str, spec: str, target: str = "sectionName: first", created: str = NOW) -> str:
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {{name: {name}, namespace: gw, creationTimestamp: "{created}"}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r{", " + target if target else ""}}}]
{spec}"""


def _objects(*docs: str) -> list:
    loaded = load_text("---\n".join([BASE, *docs]), "in.yaml", NOW)
    assert [e for e in loaded.errors if e.severity == "error"] == []
    return loaded.objects


def _store(*docs: str) -> Store:
    store = Store()
    store.apply(_objects(*docs), [])
    return store


def _translate(store: Store, table: RouteTable | None = None) -> GatewayTranslation:
    return translate_gateways(store, Discovery(store), NOW, table=table)


def _routes(out: GatewayTranslation) -> dict[str, ir.Route]:
    """Rule name → the route."""
    found = {}
    for rc in out.gateways[0].route_configs:
        for vh in rc.virtual_hosts:
            for r in vh.routes:
                if r.source is not None and r.source.kind == "HTTPRoute":
                    found[r.source.section_name or ""] = r
    return found


def _conditions(out: GatewayTranslation, name: str) -> list[tuple[str, str, str, str]]:
    for s in out.status:
        if s["kind"] == "SecurityPolicy" and s["metadata"]["name"] == name:
            return [(c["type"], c["status"], c["reason"], c["message"])
                    for a in s["status"]["ancestors"] for c in a["conditions"]]
    raise AssertionError(f"no status for {name}")


BASIC = "  basicAuth: {users: {name: users}}\n"


def test_basic_auth_reads_the_secret_and_only_its_rule_gets_it() -> None:
    out = _translate(_store(USERS.replace("NS", "gw"), _policy("p", BASIC)))
    routes = _routes(out)
    first = routes["first"].security
    assert first is not None and first.basic_auth == sec.BasicAuth(b"u:{SHA}HASH", name="gw/p")
    assert routes["second"].security is None
    assert _conditions(out, "p") == [("Accepted", "True", "Accepted", "Policy has been accepted.")]


def test_a_missing_secret_fails_closed_and_says_which() -> None:
    out = _translate(_store(_policy("p", BASIC)))
    first = _routes(out)["first"]
    assert (first.direct_status, first.backends, first.security) == (500, (), None)
    assert _routes(out)["second"].backends  # untouched
    ((kind, status, reason, message),) = _conditions(out, "p")
    assert (kind, status, reason) == ("Accepted", "False", "Invalid")
    assert "Secret gw/users (spec.basicAuth.users) does not exist" in message


def test_a_secret_in_another_namespace_needs_a_reference_grant() -> None:
    spec = "  basicAuth: {users: {name: users, namespace: other}}\n"
    out = _translate(_store(USERS.replace("NS", "other"), _policy("p", spec)))
    assert _routes(out)["first"].direct_status == 500
    assert "no ReferenceGrant" in _conditions(out, "p")[0][3]
    out = _translate(_store(USERS.replace("NS", "other"), GRANT.replace("NS", "other").replace("KIND", "Secret"),
                            _policy("p", spec)))
    first = _routes(out)["first"]
    assert first.direct_status is None and first.security is not None and first.security.basic_auth is not None


def test_ext_auth_resolves_its_service_to_a_cluster_the_gateway_carries() -> None:
    spec = "  extAuth: {http: {backendRefs: [{name: authz, namespace: auth, port: 9000}], path: /check}}\n"
    out = _translate(_store(_policy("p", spec)))
    assert _routes(out)["first"].direct_status == 500  # no ReferenceGrant yet
    out = _translate(_store(GRANT.replace("NS", "auth").replace("KIND", "Service"), _policy("p", spec)))
    first = _routes(out)["first"].security
    assert first is not None and first.ext_auth is not None
    assert first.ext_auth.cluster == "outbound|9000||authz.auth.svc.cluster.local"
    assert first.ext_auth.cluster in {c.name for c in out.gateways[0].clusters}
    wrong_port = spec.replace("9000", "9999")
    out = _translate(_store(GRANT.replace("NS", "auth").replace("KIND", "Service"), _policy("p", wrong_port)))
    assert "has no port 9999" in _conditions(out, "p")[0][3]


def test_authorization_rules_keep_their_order_and_jwt_claims_name_the_policys_provider() -> None:
    spec = """  jwt:
    providers: [{name: idp, localJWKS: {type: Inline, inline: '{"keys": []}'}}]
  authorization:
    defaultAction: Deny
    rules:
    - {name: no-lab, action: Deny, principal: {clientCIDRs: [10.1.0.0/16]}}
    - name: staff
      action: Allow
      principal: {clientCIDRs: [10.0.0.0/8], jwt: {provider: idp, claims: [{name: org.team, values: [a, b]}], scopes: [read]}}
      operation: {methods: [GET], path: {type: PathPrefix, value: /first/}}
"""
    out = _translate(_store(_policy("p", spec)))
    security = _routes(out)["first"].security
    assert security is not None and security.jwt is not None and security.authorization is not None
    assert [p.name for p in security.jwt.providers] == ["gw/p/idp"]
    auth = security.authorization
    assert auth.default_action == "DENY"
    assert [(r.name, r.action) for r in auth.rules] == [("no-lab", "DENY"), ("staff", "ALLOW")]
    (principal,) = auth.rules[1].principals
    assert principal.source_cidrs == ("10.0.0.0/8",)
    assert principal.claims == (sec.ClaimCondition("gw/p/idp", ("org", "team"), ("a", "b")),
                                sec.ClaimCondition("gw/p/idp", ("scope",), ("read",), list_value=True))
    (permission,) = auth.rules[1].permissions
    assert permission.methods == ("GET",)
    assert permission.paths == (sec.StringMatch("regex", r"/first(/.*)?"),)


def test_a_jwks_configmap_that_is_missing_fails_closed() -> None:
    spec = """  jwt:
    providers: [{name: idp, localJWKS: {type: ValueRef, valueRef: {group: "", kind: ConfigMap, name: keys}}}]
"""
    out = _translate(_store(_policy("p", spec)))
    assert _routes(out)["first"].direct_status == 500
    assert "ConfigMap gw/keys" in _conditions(out, "p")[0][3]
    configmap = """apiVersion: v1
kind: ConfigMap
metadata: {name: keys, namespace: gw}
data: {jwks: '{"keys": []}'}
"""
    out = _translate(_store(configmap, _policy("p", spec)))
    security = _routes(out)["first"].security
    assert security is not None and security.jwt is not None
    assert security.jwt.providers[0].local_jwks == '{"keys": []}'


def test_conflicts_and_overrides_come_from_the_framework() -> None:
    deny = "  authorization: {defaultAction: Deny}\n"
    allow = "  authorization: {defaultAction: Allow}\n"
    out = _translate(_store(_policy("old", deny, created="2026-01-01T00:00:00Z"),
                            _policy("new", allow, created="2026-01-02T00:00:00Z"),
                            _policy("route", allow, target="", created="2026-01-03T00:00:00Z")))
    assert _conditions(out, "new")[0][:3] == ("Accepted", "False", "Conflicted")
    route_conds = _conditions(out, "route")
    assert ("Overridden", "True", "Overridden") in [c[:3] for c in route_conds]
    routes = _routes(out)
    first, second = routes["first"].security, routes["second"].security
    assert first is not None and first.authorization is not None and first.authorization.default_action == "DENY"
    assert second is not None and second.authorization is not None and second.authorization.default_action == "ALLOW"


def test_a_secret_created_later_reaches_the_route_through_a_living_table() -> None:
    store = _store(_policy("p", BASIC))
    table = RouteTable(store, Discovery(store))
    assert _routes(translate_gateways(store, Discovery(store), NOW, table=table))["first"].direct_status == 500
    store.apply(load_text(USERS.replace("NS", "gw"), "users.yaml", NOW).objects, [])
    first = _routes(translate_gateways(store, Discovery(store), NOW, table=table))["first"]
    assert first.direct_status is None and first.security is not None
    assert first.security.basic_auth == sec.BasicAuth(b"u:{SHA}HASH", name="gw/p")
    # And a change of its content.
    store.apply(load_text(USERS.replace("NS", "gw").replace("HASH", "OTHER"), "users.yaml", NOW).objects, [])
    first = _routes(translate_gateways(store, Discovery(store), NOW, table=table))["first"]
    assert first.security is not None and first.security.basic_auth == sec.BasicAuth(b"u:{SHA}OTHER", name="gw/p")
