"""Istio's mesh config (the ConfigMap istio-system/istio, key `mesh`) as meshgate reads it
(resources/istio/mesh_config.py): the ext_authz providers, and every problem named by the
ConfigMap, the line inside its `mesh` text, the field and the reason; a bad provider is unusable
and the others still apply; a `mesh` that is not YAML gives one error."""

from __future__ import annotations

from meshgate.pipeline import translate_store
from meshgate.resources.errors import InputError
from meshgate.resources.istio.mesh_config import ExtAuthzProvider, RequestBody, parse_mesh_config
from meshgate.resources.loader import load_text
from meshgate.store import Store

CREATED = "2026-01-01T00:00:00Z"

MESH = """apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  other: x
  mesh: |
    defaultConfig: {discoveryAddress: istiod:15012}
    extensionProviders:
    - name: good
      envoyExtAuthzHttp:
        service: authz.shop.svc.cluster.local
        port: 8000
        timeout: 250ms
        includeRequestHeadersInCheck: [x-a, "x-b-*"]
        includeAdditionalHeadersInCheck: {x-from: mesh}
        includeRequestBodyInCheck: {maxRequestBytes: 100, packAsBytes: true}
    - name: grpc
      envoyExtAuthzGrpc: {service: shop/authz.shop.svc.cluster.local, port: 9000, statusOnError: "503"}
    - name: no-port
      envoyExtAuthzHttp: {service: authz.shop.svc.cluster.local}
    - name: bad-types
      envoyExtAuthzHttp: {service: 7, port: "80", failOpen: "yes", pathPrefix: check}
    - name: bad-values
      envoyExtAuthzGrpc: {service: authz, port: 70000, timeout: soon, statusOnError: "999", colour: red}
    - name: good
      envoyExtAuthzGrpc: {service: a.b.svc.cluster.local, port: 1}
    - name: Bad_Name
      envoyExtAuthzHttp: {service: a, port: 1, includeRequestHeadersInCheck: ["*"]}
    - name: tracer
      zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
"""


def _config_map(text: str):
    loaded = load_text(text, "mesh.yaml", CREATED)
    assert loaded.errors == []
    (cm,) = loaded.objects
    return cm


def _problems(errors: tuple[InputError, ...]) -> list[tuple[int, str, str]]:
    return [(e.line, e.field, e.reason) for e in errors]


def test_providers_are_read_and_each_problem_names_its_line_and_field() -> None:
    mesh = parse_mesh_config(_config_map(MESH))
    assert mesh.providers == {
        "good": ExtAuthzProvider("good", "HTTP", "authz.shop.svc.cluster.local", 8000, 250,
                                 headers_to_service=("x-a", "x-b-*"), headers_to_add=(("x-from", "mesh"),),
                                 body=RequestBody(100, False, True)),
        "grpc": ExtAuthzProvider("grpc", "GRPC", "shop/authz.shop.svc.cluster.local", 9000, status_on_error=503),
    }
    assert mesh.other == {"tracer"}
    assert sorted(mesh.unusable) == ["Bad_Name", "bad-types", "bad-values", "no-port"]
    assert all(e.kind == "ConfigMap" and (e.namespace, e.name) == ("istio-system", "istio") and e.file == "mesh.yaml"
               for e in mesh.errors)
    p = "data.mesh.extensionProviders"
    got = _problems(mesh.errors)
    expected = [
        (20, f"{p}[2].envoyExtAuthzHttp.port", "required field is missing"),
        (22, f"{p}[3].envoyExtAuthzHttp.service", "must be a string, got integer"),
        (22, f"{p}[3].envoyExtAuthzHttp.port", "must be an integer, got string"),
        (22, f"{p}[3].envoyExtAuthzHttp.failOpen", "must be a boolean, got string"),
        (22, f"{p}[3].envoyExtAuthzHttp.pathPrefix", "pathPrefix must begin with `/`"),
        (24, f"{p}[4].envoyExtAuthzGrpc.colour", "unknown field"),
        (24, f"{p}[4].envoyExtAuthzGrpc.port", "must be between 1 and 65535, got 70000"),
        (24, f"{p}[4].envoyExtAuthzGrpc.timeout", "invalid timeout 'soon'"),
        (24, f"{p}[4].envoyExtAuthzGrpc.statusOnError", "unsupported statusOnError '999'"),
        (25, f"{p}[5].name", "extension provider name must be unique, found duplicate: good"),
        (27, f"{p}[6].name", "invalid provider name 'Bad_Name'"),
        (28, f"{p}[6].envoyExtAuthzHttp.includeRequestHeadersInCheck", 'a single wildcard ("*") is not supported'),
    ]
    assert len(got) == len(expected), got
    for (line, field, reason), (eline, efield, ereason) in zip(got, expected, strict=True):
        assert (line, field) == (eline, efield) and ereason in reason, (line, field, reason)
    assert "port: required field is missing" in mesh.why_not("no-port")
    assert "not an external authorizer" in mesh.why_not("tracer")
    assert "has no extension provider 'absent'" in mesh.why_not("absent")
    assert mesh.why_not("good") is None


def test_a_mesh_that_is_not_yaml_is_one_error_and_names_no_provider() -> None:
    mesh = parse_mesh_config(_config_map("""apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    extensionProviders:
    - name: a
      envoyExtAuthzHttp: {service: [unclosed
"""))
    assert mesh.providers == {}
    ((line, field, reason),) = _problems(mesh.errors)
    assert field == "data.mesh" and reason.startswith("invalid YAML") and line >= 6
    listed = parse_mesh_config(_config_map("""apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data: {mesh: "[1, 2]"}
"""))
    assert _problems(listed.errors) == [(4, "data.mesh", "must be a mapping (a MeshConfig), got list")]


def test_mesh_config_problems_are_translation_errors_and_good_providers_still_apply() -> None:
    loaded = load_text(MESH.replace("authz.shop", "authz.default") + """---
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: default}
spec: {clusterIP: 10.96.0.9, ports: [{name: http, port: 8000}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: meshgate
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: authz, port: 8000}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: checked, namespace: default}
spec:
  action: CUSTOM
  provider: {name: good}
  rules: [{to: [{operation: {paths: [/admin]}}]}]
""", "mesh.yaml", CREATED)
    store, _ = Store.from_load(loaded)
    tr = translate_store(store, CREATED)
    assert tr.failed
    assert len([e for e in tr.errors if e.kind == "ConfigMap"]) == 12
    (gw,) = tr.configs
    (route,) = gw.route_configs[0].virtual_hosts[0].routes
    assert route.security is not None and route.security.custom is not None
    assert route.security.custom.service.cluster == "outbound|8000||authz.default.svc.cluster.local"
    assert "outbound|8000||authz.default.svc.cluster.local" in {c.name for c in gw.clusters}
