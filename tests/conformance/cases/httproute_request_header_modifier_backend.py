"""HTTPRouteBackendRequestHeaderModifier (conformance/tests/httproute-request-header-modifier-backend.go): the request header modifiers set on backendRefs.

The Gateway variant's Go source is not in the code index. Upstream's mesh twin
(MeshHTTPRouteBackendRequestHeaderModifier) reuses the rule-level test's body with the backend
manifest, and the backend YAML keeps the route name and every rule of the rule-level one, so
this test does the same: HTTPRouteRequestHeaderModifier's checks against the backend manifest.
"""

from ..suite import ConformanceTest
from .httproute_request_header_modifier import body

TEST = ConformanceTest(
    short_name="HTTPRouteBackendRequestHeaderModifier",
    description="An HTTPRoute backend has request header modifier filters applied correctly",
    manifests=("httproute-request-header-modifier-backend.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteBackendRequestHeaderModification"),
    body=body,
    source=("derived: httproute-request-header-modifier-backend.yaml + the rule-level test (index file id 768140054)"
            " + the mesh variant conformance/tests/mesh/httproute-request-header-modifier.go (index file id 6404169653)"),
)
