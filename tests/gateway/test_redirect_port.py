"""The port_redirect meshgate asks Envoy for, per the Gateway API's redirect port rules.

Expected Locations (from the upstream HTTPRouteRedirectPortAndScheme test): with no port given,
the new scheme's well-known port when the scheme changes, else the listener's; 80 and 443 are
left out for http and https. Envoy keeps the request's Host port, drops it when host_redirect
is set and drops the old scheme's default itself, so port_redirect is set only where needed.
"""

from __future__ import annotations

import pytest

from meshgate.gateway.rules import ListenerContext, redirect_port

HTTP80 = ListenerContext(80, "http")
HTTP8080 = ListenerContext(8080, "http")
HTTPS443 = ListenerContext(443, "https")


@pytest.mark.parametrize(
    ("listener", "scheme", "hostname", "port", "expected"),
    [
        (HTTP80, None, None, None, None),
        (HTTP80, None, None, 80, None),
        (HTTP80, None, None, 8080, 8080),
        (HTTP80, "https", None, None, None),  # Envoy drops :80, Location has no port
        (HTTP80, "https", None, 443, None),
        (HTTP80, "https", None, 8443, 8443),
        (HTTP8080, None, None, None, None),  # the client's :8080 stays
        (HTTP8080, None, None, 80, 80),
        (HTTP8080, "https", None, None, 443),  # never 8080
        (HTTPS443, None, None, None, None),
        (HTTPS443, "http", None, None, None),
        (HTTPS443, "http", None, 8080, 8080),
        # With a hostname Envoy drops the port: spell out anything but the default.
        (HTTP80, None, "example.org", None, None),
        (HTTP8080, None, "example.org", None, 8080),
        (HTTP8080, "https", "example.org", None, None),
        (HTTPS443, None, "example.org", 8443, 8443),
    ],
)
def test_redirect_port(listener: ListenerContext, scheme: str | None, hostname: str | None, port: int | None,
                       expected: int | None) -> None:
    assert redirect_port(scheme, hostname, port, listener) == expected
