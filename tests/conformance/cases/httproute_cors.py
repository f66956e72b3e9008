"""HTTPRouteCORS (conformance/tests/httproute-cors.go): the CORS filter answers preflights and decorates simple requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, Reply

ROUTE_1 = Key(INFRA, "cors-multiple-origins-methods-headers")
ROUTE_2 = Key(INFRA, "cors-wildcard-methods")
ROUTE_3 = Key(INFRA, "cors-wildcard-origin")
ROUTE_4 = Key(INFRA, "cors-wildcard-methods-headers")
GATEWAY = GatewayRef(INFRA, "same-namespace")

# A preflight is answered by the gateway with an empty body, so nothing is echoed: upstream then
# expects an empty path and namespace, and only the method (which the client fills in itself).
PREFLIGHT = ExpectedRequest(host="", method="OPTIONS", path="")
NO_ECHO = ""

# Upstream's RequiredConsecutiveSuccesses default.
CONSECUTIVE = 3


def _none() -> Mapping[str, tuple[str, ...]]:
    return {}


@dataclass(frozen=True)
class Case:
    """One row of the Go table: an Expect plus the two http.Response fields Expect has no room for."""

    expect: Expect
    # Go's Response.ValidHeaderValues: each header's value (values joined by ",") must be one of these.
    valid_header_values: Mapping[str, tuple[str, ...]] = field(default_factory=_none)
    # Go's Response.IgnoreWhitespace: spaces do not count when comparing those values.
    ignore_whitespace: bool = False


CORS_1_PREFLIGHT_VALUES = {
    "access-control-allow-methods": ("GET, OPTIONS", "OPTIONS, GET"),
    "access-control-allow-headers": ("x-header-1, x-header-2", "x-header-2, x-header-1"),
    "access-control-expose-headers": ("x-header-3, x-header-4", "x-header-4, x-header-3"),
    "access-control-max-age": ("3600",),
    "access-control-allow-credentials": ("true",),
}


def _cors_1_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "access-control-request-method": "GET",
        "access-control-request-headers": "x-header-1, x-header-2",
    }


CASES = (
    Case(
        Expect(
            Request(path="/cors-1", method="OPTIONS", headers=_cors_1_headers("https://www.foo.com")),
            expected_request=PREFLIGHT,
            namespace=NO_ECHO,
            response=Response(statuses=(200, 204)),
            name="CORS preflight request from an exact matching origin should be allowed",
        ),
        {"access-control-allow-origin": ("https://www.foo.com",), **CORS_1_PREFLIGHT_VALUES},
        ignore_whitespace=True,
    ),
    Case(
        Expect(
            Request(path="/cors-1", method="OPTIONS", headers=_cors_1_headers("https://www.bar.com")),
            expected_request=PREFLIGHT,
            namespace=NO_ECHO,
            response=Response(status=200),
            name="CORS preflight request from a wildcard matching origin should be allowed",
        ),
        {"access-control-allow-origin": ("https://www.bar.com",), **CORS_1_PREFLIGHT_VALUES},
        ignore_whitespace=True,
    ),
    Case(
        Expect(
            Request(path="/cors-1", method="OPTIONS", headers=_cors_1_headers("https://xpto.www.bar.com")),
            expected_request=PREFLIGHT,
            namespace=NO_ECHO,
            response=Response(status=200),
            name="CORS preflight request from a wildcard matching any number of periods left to '*' should be allowed",
        ),
        {"access-control-allow-origin": ("https://xpto.www.bar.com",), **CORS_1_PREFLIGHT_VALUES},
        ignore_whitespace=True,
    ),
    Case(Expect(
        Request(path="/cors-1", method="OPTIONS",
                headers={"Origin": "https://foobar.com", "access-control-request-method": "GET"}),
        expected_request=PREFLIGHT,
        namespace=NO_ECHO,
        response=Response(statuses=(200, 204, 403), absent_headers=("access-control-allow-origin",)),
        name="CORS preflight request from a non-matching origin should not be allowed",
    )),
    Case(Expect(
        Request(path="/cors-1", method="GET", headers=_cors_1_headers("https://www.foo.com")),
        namespace=INFRA,
        response=Response(statuses=(200, 204), headers={"access-control-allow-origin": "https://www.foo.com"}),
        name="Simple request from an exact matching origin should be allowed",
    )),
    Case(Expect(
        Request(path="/cors-1", method="GET", headers=_cors_1_headers("https://www.bar.com")),
        namespace=INFRA,
        response=Response(statuses=(200, 204), headers={"access-control-allow-origin": "https://www.bar.com"}),
        name="Simple request from a wildcard matching origin should be allowed",
    )),
    Case(Expect(
        Request(path="/cors-1", method="GET",
                headers={"Origin": "https://foobar.com", "access-control-request-method": "GET"}),
        namespace=INFRA,
        response=Response(absent_headers=("access-control-allow-origin",)),
        name="Simple request from a non-matching origin should not be allowed",
    )),
    Case(
        Expect(
            Request(path="/cors-2", method="OPTIONS",
                    headers={"Origin": "https://www.foo.com", "access-control-request-method": "POST"}),
            expected_request=PREFLIGHT,
            namespace=NO_ECHO,
            response=Response(
                statuses=(200, 204),
                headers={"access-control-allow-origin": "https://www.foo.com"},
                absent_headers=("access-control-allow-credentials",),
            ),
            name="CORS preflight request with POST method should be allowed by allowMethods with wildcard",
        ),
        {"access-control-allow-methods": ("POST", "*")},
    ),
    Case(Expect(
        Request(path="/cors-2", method="OPTIONS",
                headers={"Origin": "https://www.foo.com", "access-control-request-method": "POST"}),
        expected_request=PREFLIGHT,
        namespace=NO_ECHO,
        response=Response(absent_headers=("Access-Control-Allow-Credentials",)),
        name="CORS preflight request should not receive access-control-allow-credentials header without"
             " access-control-allow-credentials set to true",
    )),
    Case(
        Expect(
            Request(path="/cors-wildcard-origin", method="OPTIONS",
                    headers={"Origin": "https://foobar.com", "access-control-request-method": "PUT"}),
            expected_request=PREFLIGHT,
            namespace=NO_ECHO,
            response=Response(statuses=(200, 204), absent_headers=("Access-Control-Allow-Credentials",)),
            name="Pre-flight request from a wildcard origin should return header with '*' or with the requested Origin",
        ),
        # Envoy echoes the requested Origin; others may answer "*" to a request without credentials.
        {"access-control-allow-origin": ("https://foobar.com", "*"), "access-control-allow-methods": ("PUT",)},
    ),
    Case(
        Expect(
            Request(path="/cors-wildcard-origin", method="OPTIONS",
                    headers={"Origin": "https://foobar.com:12345", "access-control-request-method": "PUT"}),
            expected_request=PREFLIGHT,
            namespace=NO_ECHO,
            response=Response(statuses=(200, 204), absent_headers=("Access-Control-Allow-Credentials",)),
            name="Pre-flight request from a wildcard origin containing a port should return header with '*' or"
                 " with the requested Origin",
        ),
        {"access-control-allow-origin": ("https://foobar.com:12345", "*"), "access-control-allow-methods": ("PUT",)},
    ),
    Case(
        Expect(
            Request(path="/cors-wildcard-origin", method="PUT", headers={"Origin": "https://foobar.com:12345"}),
            namespace=INFRA,
            response=Response(statuses=(200,)),
            name="Request from a wildcard origin containing a port should return header with '*' or with the"
                 " requested Origin",
        ),
        {"access-control-allow-origin": ("https://foobar.com:12345", "*")},
    ),
    Case(
        Expect(
            Request(path="/cors-wildcard-origin", method="PUT", headers={"Origin": "https://foobar.com"}),
            namespace=INFRA,
            response=Response(statuses=(200, 204), absent_headers=("Access-Control-Allow-Credentials",)),
            name="Simple request from a wildcard origin should return header with '*' or with the requested Origin",
        ),
        {"access-control-allow-origin": ("https://foobar.com", "*")},
    ),
    Case(
        Expect(
            Request(path="/cors-wildcard-methods-headers", method="OPTIONS", headers={
                "Origin": "https://other.foo.com",
                "access-control-request-method": "PUT",
                "access-control-request-headers": "x-header-1, x-header-2",
            }),
            expected_request=PREFLIGHT,
            namespace=NO_ECHO,
            response=Response(status=200),
            name="CORS preflight request requesting auth and specific method and headers should be allowed and"
                 " always echo the origin",
        ),
        {
            "access-control-allow-origin": ("https://other.foo.com",),
            "access-control-allow-methods": ("PUT",),
            "access-control-allow-headers": ("x-header-1, x-header-2", "x-header-2, x-header-1"),
            "access-control-allow-credentials": ("true",),
        },
        ignore_whitespace=True,
    ),
    Case(
        Expect(
            Request(path="/cors-wildcard-methods-headers-unauth", method="OPTIONS", headers={
                "Origin": "https://other.foo.com",
                "access-control-request-method": "PUT",
                "access-control-request-headers": "x-header-1, x-header-2",
            }),
            expected_request=PREFLIGHT,
            namespace=NO_ECHO,
            response=Response(status=200, absent_headers=("access-control-allow-credentials",)),
            name="CORS preflight request requesting auth and specific method and headers should hide auth headers"
                 " on unauth path",
        ),
        {
            "access-control-allow-origin": ("https://other.foo.com", "*"),
            "access-control-allow-methods": ("PUT", "*"),
            "access-control-allow-headers": ("x-header-1, x-header-2", "x-header-2, x-header-1", "*"),
        },
    ),
    Case(
        Expect(
            Request(path="/cors-wildcard-methods-headers", method="GET",
                    headers={"Origin": "https://other.foo.com", "Authorization": "Bearer test"}),
            namespace=INFRA,
            response=Response(status=200),
            name="Simple request with credentials auth should be allowed and always echo the origin",
        ),
        {"access-control-allow-origin": ("https://other.foo.com",), "access-control-allow-credentials": ("true",)},
    ),
    Case(
        Expect(
            Request(path="/cors-wildcard-methods-headers-unauth", method="GET",
                    headers={"Origin": "https://other.foo.com", "Authorization": "Bearer test"}),
            namespace=INFRA,
            response=Response(status=200, absent_headers=("access-control-allow-credentials",)),
            name="Simple request with credentials should hide auth headers on unauth path",
        ),
        {"access-control-allow-origin": ("https://other.foo.com",)},
    ),
)


def _squash(value: str, ignore_whitespace: bool) -> str:
    return "".join(value.split()) if ignore_whitespace else value


def _valid_values_problem(reply: Reply, case: Case) -> str | None:
    """Why this reply breaks the row's ValidHeaderValues (None: it does not)."""
    response = case.expect.response
    if not response.accepts(reply.status):
        return f"expected status code to be one of {list(response.statuses or (response.status,))}, got {reply.status}"
    for name, valid in case.valid_header_values.items():
        got = reply.header(name)
        if got is None:
            return f"expected {name} header to be set"
        if _squash(got, case.ignore_whitespace) not in {_squash(v, case.ignore_whitespace) for v in valid}:
            return f"expected {name} header to be one of {list(valid)}, got {got!r}"
    return None


def _consistently_valid(t: Checks, address: str, case: Case) -> Callable[[], str | None]:
    def check() -> str | None:
        for _ in range(CONSECUTIVE):
            problem = _valid_values_problem(t.request(address, case.expect.request), case)
            if problem:
                return problem
        return None
    return check


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE_1, ROUTE_2)
    for route in (ROUTE_1, ROUTE_2, ROUTE_3, ROUTE_4):
        t.route_resolved_refs(route, GATEWAY.key)
    for case in CASES:
        t.expect(address, case.expect)
    # Upstream checks ValidHeaderValues inside each row's subtest; `eventually` stops the test on
    # failure, so these run after every row has had its (non-stopping) `expect`.
    for case in CASES:
        if case.valid_header_values:
            t.eventually(f"{case.expect.title()}: valid header values", _consistently_valid(t, address, case))


TEST = ConformanceTest(
    short_name="HTTPRouteCORS",
    description="An HTTPRoute with CORS filter should allow CORS requests from specified origins",
    manifests=("httproute-cors.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteCORS"),
    body=body,
    source="conformance/tests/httproute-cors.go @ 3d122026d42e22980e9f9880a36b6d5193ad310b",
)
