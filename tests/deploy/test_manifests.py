"""`meshgate manifests`: the checked-in deploy/meshgate.yaml is what it renders now, and the
objects agree with the code that runs in them (serve's options, the Service proxies dial, the
Lease, what the provisioner owns)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from meshgate import __version__
from meshgate.cli import main
from meshgate.cluster.apply import PATHS
from meshgate.cluster.render import MANAGED_BY
from meshgate.deploy.deployment import serve_args
from meshgate.deploy.rbac import plural
from meshgate.deploy.render import manifests
from meshgate.deploy.settings import ManifestOptions
from meshgate.naming import BUILTIN_CLASSES, CONTROLLER_NAME
from meshgate.providers.kubernetes.provider import STATUS_KINDS
from meshgate.resources.kinds import KINDS
from meshgate.runtime.cluster_pki import CA_SECRET
from meshgate.runtime.in_cluster import ClusterDuties, proxy_defaults

GOLDEN = Path(__file__).resolve().parents[2] / "deploy" / "meshgate.yaml"
ORDER = ["CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
         "Deployment", "PodDisruptionBudget", "GatewayClass", "GatewayClass"]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, ["manifests", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _by_kind(objects: list[dict]) -> dict[str, dict]:
    return {o["kind"]: o for o in objects}


def test_the_checked_in_rendering_is_what_meshgate_manifests_renders(update_golden: bool) -> None:
    got = _cli()
    if update_golden:
        GOLDEN.write_text(got)
    assert GOLDEN.read_text() == got, "run `make golden` and review the diff"


def test_yaml_stream_and_json_list_hold_the_same_objects_in_a_stable_order() -> None:
    docs = list(yaml.safe_load_all(_cli()))
    assert [d["kind"] for d in docs] == ORDER
    listed = json.loads(_cli("-o", "json"))
    assert listed["apiVersion"] == "v1" and listed["kind"] == "List"
    assert listed["items"] == docs
    assert _cli() == _cli()


def test_options_reach_every_object() -> None:
    objects = manifests(ManifestOptions(namespace="mesh", replicas=3, image="registry.example:5000/me/mg:dev"))
    kinds = _by_kind(objects)
    assert kinds["Namespace"]["metadata"]["name"] == "mesh"
    cluster_scoped = {"CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterRoleBinding", "GatewayClass"}
    for obj in objects:
        assert (obj["metadata"].get("namespace") == "mesh") == (obj["kind"] not in cluster_scoped), obj["kind"]
    for binding in ("ClusterRoleBinding", "RoleBinding"):
        assert kinds[binding]["subjects"] == [{"kind": "ServiceAccount", "name": "meshgate", "namespace": "mesh"}]
    deployment = kinds["Deployment"]["spec"]
    assert deployment["replicas"] == 3
    assert deployment["template"]["spec"]["containers"][0]["image"] == "registry.example:5000/me/mg:dev"


def test_the_redis_url_comes_from_a_secret_into_the_variable_serve_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    container = _by_kind(manifests(ManifestOptions()))["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert not any(e["name"] == "MESHGATE_RATE_LIMIT_REDIS" for e in container["env"])  # in memory by default
    options = ManifestOptions(namespace="mesh", rate_limit_redis_secret="meshgate-redis")
    container = _by_kind(manifests(options))["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["valueFrom"] for e in container["env"]}
    assert env["MESHGATE_RATE_LIMIT_REDIS"] == {"secretKeyRef": {"name": "meshgate-redis", "key": "url"}}
    assert container["args"] == serve_args()  # no URL (nor its password) on the command line
    monkeypatch.setenv("MESHGATE_RATE_LIMIT_REDIS", "redis://:pw@redis.cache.svc:6379/0")
    ctx = main.commands["serve"].make_context("serve", serve_args()[1:])
    assert ctx.params["rate_limit_redis"] == "redis://:pw@redis.cache.svc:6379/0"
    result = CliRunner().invoke(main, ["manifests", "--rate-limit-redis-secret", "meshgate-redis"])
    assert result.exit_code == 0 and "secretKeyRef" in result.output


def test_the_default_image_is_this_version_on_ghcr() -> None:
    container = _by_kind(manifests(ManifestOptions()))["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/meshgate/meshgate:{__version__}"


def test_a_single_replica_gets_no_budget_that_would_block_node_drains() -> None:
    assert "PodDisruptionBudget" not in _by_kind(manifests(ManifestOptions(replicas=1)))
    budget = _by_kind(manifests(ManifestOptions(replicas=2)))["PodDisruptionBudget"]
    assert budget["spec"]["minAvailable"] == 1


def test_the_container_runs_serve_with_options_serve_accepts() -> None:
    args = serve_args()
    assert args[:2] == ["serve", "--kubernetes"]
    ctx = main.commands["serve"].make_context("serve", args[1:])  # parsed and checked as at start-up
    assert ctx.params["kubernetes"] and ctx.params["debug_address"] == "0.0.0.0"
    assert ctx.params["xds"] == "0.0.0.0:18000"


def test_proxies_dial_the_rendered_service_and_the_lease_is_the_one_the_role_names(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "mesh")
    kinds = _by_kind(manifests(ManifestOptions(namespace="mesh")))
    svc = kinds["Service"]
    defaults = proxy_defaults()
    assert defaults.xds_host == f"{svc['metadata']['name']}.mesh.svc"
    assert defaults.xds_port in [p["port"] for p in svc["spec"]["ports"]]
    lease_names = {n for r in kinds["Role"]["rules"] if r["resources"] == ["leases"] for n in r.get("resourceNames", [])}
    assert lease_names == {ClusterDuties.__dataclass_fields__["lease_name"].default}
    secret_names = {n for r in kinds["Role"]["rules"] if r["resources"] == ["secrets"] for n in r.get("resourceNames", [])}
    assert secret_names == {CA_SECRET}
    container = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} == set(ports)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http-metrics"}


def test_the_provisioner_never_takes_meshgate_itself_for_a_proxy_to_delete() -> None:
    # The provisioner lists every object labelled managed-by=meshgate and deletes those no
    # Gateway wants: meshgate's own Deployment and Service must not carry that label.
    for obj in manifests(ManifestOptions()):
        assert MANAGED_BY not in obj["metadata"].get("labels", {}), obj["kind"]
        template = obj.get("spec", {}).get("template", {}).get("metadata", {})
        assert MANAGED_BY not in template.get("labels", {})


def _granted(rules: list[dict]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for rule in rules if "resourceNames" not in rule
            for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def test_rbac_grants_what_the_code_does_and_nothing_else() -> None:
    cluster = _granted(_by_kind(manifests(ManifestOptions()))["ClusterRole"]["rules"])
    reads = {(s.group, plural(s.kind), v) for s in KINDS.values() for v in ("get", "list", "watch")}
    status = {(s.group, plural(s.kind) + "/status", "patch") for s in KINDS.values() if s.kind in STATUS_KINDS}
    provisioning = {("" if prefix == "/api/v1" else prefix.split("/")[2], resource, verb)
                    for prefix, resource in PATHS.values() for verb in ("list", "create", "update", "delete")}
    finalizers = {("gateway.networking.k8s.io", "gateways/finalizers", "update")}
    assert cluster == reads | status | provisioning | finalizers
    assert not any(r == "*" or v == "*" for _, r, v in cluster)
    assert ("", "events", "create") not in cluster


def test_plurals_are_the_api_servers() -> None:
    assert {k: plural(k) for k in ("GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant", "EndpointSlice",
                                   "ServiceEntry", "WorkloadEntry", "DestinationRule", "Namespace", "Node",
                                   "Policy", "GatewayParameters")} == {
        "GatewayClass": "gatewayclasses", "Gateway": "gateways", "HTTPRoute": "httproutes",
        "ReferenceGrant": "referencegrants", "EndpointSlice": "endpointslices", "ServiceEntry": "serviceentries",
        "WorkloadEntry": "workloadentries", "DestinationRule": "destinationrules", "Namespace": "namespaces",
        "Node": "nodes", "Policy": "policies", "GatewayParameters": "gatewayparameters"}


def test_the_builtin_gateway_classes_are_meshgates() -> None:
    classes = [o for o in manifests(ManifestOptions()) if o["kind"] == "GatewayClass"]
    assert [c["metadata"]["name"] for c in classes] == list(BUILTIN_CLASSES)
    assert {c["spec"]["controllerName"] for c in classes} == {CONTROLLER_NAME}


def test_the_pod_meets_the_restricted_pod_security_standard() -> None:
    kinds = _by_kind(manifests(ManifestOptions()))
    assert kinds["Namespace"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] and sc["runAsUser"] > 0 and sc["readOnlyRootFilesystem"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {e["name"] for e in container["env"]} == {"POD_NAME", "POD_NAMESPACE", "POD_UID"}
    assert container["resources"]["requests"] and container["resources"]["limits"]
    affinity = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert affinity[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
