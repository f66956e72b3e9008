"""MeshHTTPRouteBackendRequestHeaderModifier (conformance/tests/mesh/httproute-request-header-modifier.go):
the same table as MeshHTTPRouteRequestHeaderModifier, with the filters on the backendRef."""

from ..suite import MESH_SOURCE, ConformanceTest
from .mesh_httproute_request_header_modifier import body

TEST = ConformanceTest(
    short_name="MeshHTTPRouteBackendRequestHeaderModifier",
    description="An HTTPRoute backend has request header modifier filters applied correctly",
    manifests=("mesh/httproute-request-header-modifier-backend.yaml",),
    features=("Mesh", "HTTPRoute", "MeshHTTPRouteBackendRequestHeaderModification"),
    body=body,
    source=MESH_SOURCE.format("httproute-request-header-modifier.go"),
)
