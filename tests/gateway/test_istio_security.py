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
