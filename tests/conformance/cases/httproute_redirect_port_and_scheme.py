"""HTTPRouteRedirectPortAndScheme (conformance/tests/httproute-redirect-port-and-scheme.go): the port a
redirect carries when scheme and/or port are set or left out, from HTTP listeners on 80 and 8080 and
an HTTPS listener on 443.

A Redirect without a port accepts an empty port or the scheme's default (80/443) in Location."""

from dataclasses import replace

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

GATEWAY_80 = GatewayRef(INFRA, "same-namespace")
ROUTE_80 = Key(INFRA, "http-route-for-listener-on-port-80")
GATEWAY_8080 = GatewayRef(INFRA, "same-namespace-with-http-listener-on-8080")
ROUTE_8080 = Key(INFRA, "http-route-for-listener-on-port-8080")
GATEWAY_443 = GatewayRef(INFRA, "same-namespace-with-https-listener")
ROUTE_443 = Key(INFRA, "http-route-for-listener-on-port-443")
CERT = Key(INFRA, "tls-validity-checks-certificate")


def _redirect(path: str, scheme: str, port: str = "", host: str = "") -> Expect:
    return Expect(Request(path=path, host=host), response=Response(status=302),
                  redirect=Redirect(scheme=scheme, host="example.org", port=port))


def _titled(prefix: str, cases: tuple[Expect, ...]) -> tuple[Expect, ...]:
    """The Go names these subtests "<listener>/<case>", which keeps the repeated paths apart."""
    return tuple(replace(case, name=f"{prefix}/{case.title()}") for case in cases)


CASES_80 = _titled("http-listener-on-80", (
    _redirect("/scheme-nil-and-port-nil", "http"),
    _redirect("/scheme-nil-and-port-80", "http"),
    _redirect("/scheme-nil-and-port-8080", "http", port="8080"),
    _redirect("/scheme-https-and-port-nil", "https"),
    _redirect("/scheme-https-and-port-443", "https"),
    _redirect("/scheme-https-and-port-8443", "https", port="8443"),
))

CASES_8080 = _titled("http-listener-on-8080", (
    _redirect("/scheme-nil-and-port-nil", "http", port="8080"),
    _redirect("/scheme-nil-and-port-80", "http"),
    _redirect("/scheme-https-and-port-nil", "https"),
))

CASES_443 = _titled("https-listener-on-443", (
    _redirect("/scheme-nil-and-port-nil", "https", host="example.org"),
    _redirect("/scheme-nil-and-port-443", "https", host="example.org"),
    _redirect("/scheme-nil-and-port-8443", "https", port="8443", host="example.org"),
    _redirect("/scheme-http-and-port-nil", "http", host="example.org"),
    _redirect("/scheme-http-and-port-80", "http", host="example.org"),
    _redirect("/scheme-http-and-port-8080", "http", port="8080", host="example.org"),
))


def body(t: Checks) -> None:
    address_80 = t.gateway_and_routes_accepted(GATEWAY_80, ROUTE_80)
    t.route_resolved_refs(ROUTE_80, GATEWAY_80.key)
    address_8080 = t.gateway_and_routes_accepted(GATEWAY_8080, ROUTE_8080)
    t.route_resolved_refs(ROUTE_8080, GATEWAY_8080.key)
    address_443 = t.gateway_and_routes_accepted(GATEWAY_443, ROUTE_443)
    t.route_resolved_refs(ROUTE_443, GATEWAY_443.key)

    expect_all(t, address_80, CASES_80)
    expect_all(t, address_8080, CASES_8080)
    # The Go test trusts the Secret's certificate and uses SNI example.org (= the request host).
    expect_all(t, address_443, CASES_443, tls_cert=CERT)


TEST = ConformanceTest(
    short_name="HTTPRouteRedirectPortAndScheme",
    description="An HTTPRoute with port and scheme redirect filter",
    manifests=("httproute-redirect-port-and-scheme.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRoutePortRedirect", "GatewayPort8080"),
    body=body,
    source="conformance/tests/httproute-redirect-port-and-scheme.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc"
           " (same cases in carmal891/gateway-api @ 3470482ab302b45b3c6a6e5618df48dfcc741221)",
)
