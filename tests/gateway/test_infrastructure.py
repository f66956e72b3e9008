"""Gateway `spec.infrastructure` and parametersRef (GatewayClass and Gateway), through translation.

The IR carries, per Gateway, the labels and annotations of what is created for it (its managed
Envoy's node metadata; a provisioner's Deployment and Service): the Gateway's own plus the
gateway-name and gateway-class-name labels, and the proxy parameters of GatewayParameters named
by parametersRef (the class's, overridden by the Gateway's). A parametersRef to another kind, or
to a GatewayParameters that does not exist, is invalid: its GatewayClass or Gateway is not
accepted (InvalidParameters) and nothing is served for it.
"""

from __future__ import annotations

from meshgate import ir
from meshgate.pipeline import Translation, translate_store
from meshgate.resources.loader import LoadResult, load_text
from meshgate.store import Store

NOW = "2026-01-01T00:00:00Z"


def translate(text: str) -> Translation:
    result = LoadResult()
    result.extend(load_text(text, "input.yaml", NOW))
    assert not result.errors, result.errors
    store, _ = Store.from_load(result)
    return translate_store(store, NOW)


def gateway(name: str, spec_extra: str = "", cls: str = "meshgate", port: int = 8080, protocol: str = "HTTP") -> str:
    return f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: ns}}
spec:
  gatewayClassName: {cls}{spec_extra}
  listeners: [{{name: l, port: {port}, protocol: {protocol}}}]
"""


def conditions(tr: Translation, kind: str, name: str) -> dict[str, tuple[str, str, str]]:
    (obj,) = [s for s in tr.status if s["kind"] == kind and s["metadata"]["name"] == name]
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in obj["status"]["conditions"]}


def config(tr: Translation, name: str) -> ir.GatewayConfig:
    (cfg,) = [c for c in tr.configs if c.name == name]
    return cfg


def test_infrastructure_labels_and_annotations_are_carried_with_the_gateway_name() -> None:
    tr = translate(gateway("edge", """
  infrastructure:
    labels: {team: web, gateway.networking.k8s.io/gateway-name: spoofed}
    annotations: {example.com/owner: alice}""") + gateway("plain", port=8081))
    assert config(tr, "edge").infrastructure == ir.Infrastructure(
        labels=(("gateway.networking.k8s.io/gateway-class-name", "meshgate"),
                ("gateway.networking.k8s.io/gateway-name", "edge"),  # ours wins over the Gateway's
                ("team", "web")),
        annotations=(("example.com/owner", "alice"),))
    assert config(tr, "plain").infrastructure == ir.Infrastructure(
        labels=(("gateway.networking.k8s.io/gateway-class-name", "meshgate"),
                ("gateway.networking.k8s.io/gateway-name", "plain")))
    assert conditions(tr, "Gateway", "edge")["Accepted"][:2] == ("True", "Accepted")


def test_a_gateway_parameters_ref_is_invalid_parameters_and_nothing_is_served() -> None:
    tr = translate(gateway("params", """
  infrastructure:
    parametersRef: {group: invalid.io, kind: InvalidParameters, name: invalid}"""))
    conds = conditions(tr, "Gateway", "params")
    assert conds["Accepted"] == ("False", "InvalidParameters",
                                 ("parametersRef invalid.io/InvalidParameters invalid: unsupported kind "
                                  "(meshgate reads gateway.meshgate.io/GatewayParameters)"))
    assert conds["Programmed"][:2] == ("False", "Invalid")
    assert config(tr, "params").listeners == ()


def test_a_gateway_class_parameters_ref_rejects_the_class_and_its_gateways() -> None:
    cls = """---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: custom}
spec:
  controllerName: meshgate.io/gateway-controller
  parametersRef: {group: "", kind: ConfigMap, name: defaults, namespace: infra}
"""
    tr = translate(cls + gateway("of-custom", cls="custom") + gateway("of-builtin", port=8081))
    assert conditions(tr, "GatewayClass", "custom")["Accepted"] == (
        "False", "InvalidParameters", ("parametersRef core/ConfigMap infra/defaults: unsupported kind "
                                       "(meshgate reads gateway.meshgate.io/GatewayParameters)"))
    accepted = conditions(tr, "Gateway", "of-custom")["Accepted"]
    assert accepted[:2] == ("False", "InvalidParameters")
    assert accepted[2].startswith("GatewayClass custom is not accepted: parametersRef core/ConfigMap")
    assert config(tr, "of-custom").listeners == ()
    assert conditions(tr, "Gateway", "of-builtin")["Accepted"][:2] == ("True", "Accepted")
    assert len(config(tr, "of-builtin").listeners) == 1
    # Without the parametersRef, the class and its Gateway are accepted.
    tr = translate(cls.replace("  parametersRef: {group: \"\", kind: ConfigMap, name: defaults, namespace: infra}\n", "")
                   + gateway("of-custom", cls="custom"))
    assert conditions(tr, "GatewayClass", "custom")["Accepted"][:2] == ("True", "Accepted")
    assert len(config(tr, "of-custom").listeners) == 1


def test_a_waypoint_with_a_parameters_ref_is_not_accepted_and_serves_nothing() -> None:
    extra = """
  infrastructure:
    labels: {team: mesh}
    parametersRef: {group: example.com, kind: WaypointParameters, name: p}"""
    services = "".join(f"""---
apiVersion: v1
kind: Service
metadata: {{name: to-{wp}, namespace: ns, labels: {{istio.io/use-waypoint: {wp}}}}}
spec: {{clusterIP: 10.0.0.{i}, ports: [{{name: http, port: 80}}]}}
""" for i, wp in enumerate(("wp", "ok"), 1))
    tr = translate(gateway("wp", extra, cls="meshgate-waypoint", port=15008, protocol="HBONE")
                   + gateway("ok", cls="meshgate-waypoint", port=15008, protocol="HBONE") + services)
    conds = conditions(tr, "Gateway", "wp")
    assert conds["Accepted"][:2] == ("False", "InvalidParameters")
    assert conds["Programmed"][:2] == ("False", "Invalid")
    assert config(tr, "wp").listeners == () and config(tr, "wp").waypoint
    assert ("team", "mesh") in config(tr, "wp").infrastructure.labels
    assert conditions(tr, "Gateway", "ok")["Accepted"][:2] == ("True", "Accepted")
    assert config(tr, "ok").listeners != ()


PARAMETERS = """---
apiVersion: gateway.meshgate.io/v1alpha1
kind: GatewayParameters
metadata: {name: small, namespace: infra}
spec: {replicas: 1, logLevel: info, service: {type: ClusterIP}, resources: {requests: {cpu: 50m}}}
---
apiVersion: gateway.meshgate.io/v1alpha1
kind: GatewayParameters
metadata: {name: scaled, namespace: ns}
spec: {autoscaling: {maxReplicas: 4}, podDisruptionBudget: {maxUnavailable: 1}, logLevel: debug}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: custom}
spec:
  controllerName: meshgate.io/gateway-controller
  parametersRef: {group: gateway.meshgate.io, kind: GatewayParameters, name: small, namespace: infra}
"""


def test_gateway_parameters_of_class_and_gateway_merge_field_by_field() -> None:
    ref = "\n  infrastructure: {parametersRef: {group: gateway.meshgate.io, kind: GatewayParameters, name: scaled}}"
    tr = translate(PARAMETERS + gateway("own", ref, cls="custom") + gateway("plain", cls="custom"))
    assert conditions(tr, "GatewayClass", "custom")["Accepted"][0] == "True"
    assert conditions(tr, "Gateway", "own")["Accepted"][0] == "True"
    params = {c.name: c.infrastructure.parameters for c in tr.configs}
    assert params["plain"] == ir.ProxyParameters(replicas=1, log_level="info", service_type="ClusterIP",
                                                 requests=(("cpu", "50m"),))
    assert params["own"] == ir.ProxyParameters(replicas=1, log_level="debug", service_type="ClusterIP",
                                               requests=(("cpu", "50m"),), autoscaling=(1, 4, 80), max_unavailable=1)


def test_a_missing_gateway_parameters_is_invalid_parameters() -> None:
    ref = "\n  infrastructure: {parametersRef: {group: gateway.meshgate.io, kind: GatewayParameters, name: nope}}"
    tr = translate(PARAMETERS + gateway("own", ref))
    status, reason, message = conditions(tr, "Gateway", "own")["Accepted"]
    assert (status, reason) == ("False", "InvalidParameters") and "not found" in message
    # A GatewayClass names a namespaced kind: its reference must say the namespace.
    without = PARAMETERS.replace("name: small, namespace: infra}\n\"\"\"", "name: small}\n\"\"\"")
    without = without.replace("kind: GatewayParameters, name: small, namespace: infra}", "kind: GatewayParameters, name: small}")
    tr = translate(without + gateway("g", cls="custom"))
    status, reason, message = conditions(tr, "GatewayClass", "custom")["Accepted"]
    assert (status, reason) == ("False", "InvalidParameters") and "give its namespace" in message
