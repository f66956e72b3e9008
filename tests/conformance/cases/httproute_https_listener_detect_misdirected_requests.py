"""HTTPRouteHTTPSListenerDetectMisdirectedRequests
(conformance/tests/httproute-https-listener-detect-misdirected-requests.go): HTTPS listeners sharing port 443
answer 421 when the Host header belongs to another listener than the one the TLS server name (SNI) selected."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest

ROUTES = tuple(Key(INFRA, f"https-listener-detect-misdirected-requests-test-{n}") for n in (1, 2, 3, 4))
GATEWAY = GatewayRef(INFRA, "same-namespace-with-https-listener")
CERT = Key(INFRA, "tls-validity-checks-certificate")
PATH = "/detect-misdirected-requests"


def _case(host: str, status: int, backend: str = "") -> Expect:
    # Go sets only StatusCodes; status is set too so that Expect.title() names the right code.
    return Expect(Request(host=host, path=PATH), response=Response(status=status, statuses=(status,)),
                  backend=backend, namespace=INFRA)


# (TLS server name, expectation for a request with that Host header), in the Go order.
CASES: tuple[tuple[str, Expect], ...] = (
    ("example.org", _case("example.org", 200, "infra-backend-v1")),
    ("example.org", _case("second-example.org", 421)),
    ("example.org", _case("unknown-example.org", 404)),

    ("second-example.org", _case("second-example.org", 200, "infra-backend-v2")),
    ("second-example.org", _case("example.org", 421)),
    ("second-example.org", _case("unknown-example.org", 421)),

    ("third-example.wildcard.org", _case("third-example.wildcard.org", 200, "infra-backend-v3")),
    ("third-example.wildcard.org", _case("fith-example.wildcard.org", 200, "infra-backend-v3")),
    ("third-example.wildcard.org", _case("fourth-example.wildcard.org", 421)),
    ("third-example.wildcard.org", _case("second-example.org", 421)),
    ("third-example.wildcard.org", _case("unknown-example.org", 421)),

    # infra-backend-v4 does not exist, so the fourth route reuses infra-backend-v1.
    ("fourth-example.wildcard.org", _case("fourth-example.wildcard.org", 200, "infra-backend-v1")),
    ("fourth-example.wildcard.org", _case("fith-example.wildcard.org", 421)),

    ("unknown-example.org", _case("example.org", 200, "infra-backend-v1")),
    ("unknown-example.org", _case("unknown-example.org", 404)),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, *ROUTES)
    for route in ROUTES:
        t.route_resolved_refs(route, GATEWAY.key)
    for server_name, expected in CASES:
        t.expect(address, expected, tls_cert=CERT, server_name=server_name)


TEST = ConformanceTest(
    short_name="HTTPRouteHTTPSListenerDetectMisdirectedRequests",
    description="HTTPS listeners on the same port detect misdirected requests and return HTTP 421 when "
                "appropriate",
    manifests=("httproute-https-listener-detect-misdirected-requests.yaml",),
    features=("Gateway", "GatewayHTTPSListenerDetectMisdirectedRequests", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-https-listener-detect-misdirected-requests.go"
           " @ 0c87f4c12b824bcc5db972ace7ea64075e432120",
)
