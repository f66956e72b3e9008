"""The mesh a cluster would run under the mesh conformance tests, worked out without one.

Upstream's mesh tests (conformance/tests/mesh) apply `mesh/manifests.yaml`, where Deployments of
echo-advanced become Pods and each Service gets a ClusterIP, in a cluster whose mesh captures
traffic to those Services. Here, as Istio's ambient users set it up:

- every Service of the mesh manifests gets a ClusterIP (what the API server allocates): a loopback
  address from the upper quarter of the suite's Pod network (`service_network`);
- the namespace `gateway-conformance-mesh` is labelled `istio.io/use-waypoint: waypoint` (as
  `istioctl waypoint apply --enroll-namespace` does), and the harness adds that waypoint: a
  Gateway of class `meshgate-waypoint` with the HBONE listener Istio generates, placed on the first
  address of the service network (its own Service's ClusterIP, in a cluster). `meshgate run`
  starts its Envoy as for any Gateway;
- each echo-advanced replica is a `meshgate echo` process on its own Pod address, port 8080
  (echo-advanced's HTTP port: `--port=8080` in the manifest, and its default), with the gRPC echo
  (meshgate.echo.grpc_echo) on 7070 (`--grpc=7070`, also its default) as `--grpc-port`;
- EndpointSlices as for the Gateway tests (cluster.endpoint_slices).

The mesh manifests' own copies under manifests/mesh/ stay byte-identical: the ClusterIPs and the
label are added to the objects written into meshgate's watched directory, as the API server and
`kubectl label` would leave them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .cluster import EchoSpec, Pod, _token
from .expect import MESH, MESH_CONSUMER

MESH_NS = MESH
CONSUMER_NS = MESH_CONSUMER
WAYPOINT = "waypoint"
WAYPOINT_CLASS = "meshgate-waypoint"
USE_WAYPOINT = "istio.io/use-waypoint"
# Namespaces whose Services the mesh captures (the namespace label the harness sets).
ENROLLED = (MESH_NS,)
PROXY_PORT = 15088  # where ztunnel hands captured connections to a meshgate waypoint (PROXY protocol)
ECHO_ADVANCED = "gateway-api/conformance/echo-advanced"
ECHO_ADVANCED_HTTP_PORT = 8080  # echo-advanced's HTTP port (--port=8080; also its default)
ECHO_ADVANCED_GRPC_PORT = 7070  # echo-advanced's gRPC port (--grpc=7070; also its default)
MANIFESTS = "mesh/manifests.yaml"
MESH_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")  # the route kinds of the mesh tests, on Services


def service_network(pod_network: str) -> ipaddress.IPv4Network:
    """Where ClusterIPs come from: the upper quarter of the Pod network (Pods are numbered from the bottom)."""
    net = ipaddress.ip_network(pod_network)
    assert isinstance(net, ipaddress.IPv4Network)
    return list(net.subnets(prefixlen_diff=2))[-1]


@dataclass(frozen=True)
class MeshService:
    """A Service of the mesh manifests as the mesh sees it: its ClusterIP, ports, and whether captured."""

    namespace: str
    name: str
    cluster_ip: str
    ports: tuple[tuple[int, int], ...]  # (port, targetPort)
    selector: tuple[tuple[str, str], ...]
    captured: bool


@dataclass(frozen=True)
class Mesh:
    """The mesh of one suite: its Services, the waypoint's address, and the objects to write."""

    services: tuple[MeshService, ...]
    waypoint_ip: str
    objects: tuple[dict, ...]  # the mesh manifests as the cluster holds them, plus the waypoint

    def service(self, namespace: str, name: str) -> MeshService | None:
        """The Service `name` in `namespace`, if the mesh manifests have it."""
        return next((s for s in self.services if (s.namespace, s.name) == (namespace, name)), None)

    def by_ip(self, ip: str) -> MeshService | None:
        """The Service whose ClusterIP is `ip`."""
        return next((s for s in self.services if s.cluster_ip == ip), None)


def waypoint_gateway(address: str) -> dict:
    """The waypoint Gateway (as `istioctl waypoint generate` writes it, with meshgate's class and an address)."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": WAYPOINT, "namespace": MESH_NS, "labels": {"istio.io/waypoint-for": "service"}},
            "spec": {"gatewayClassName": WAYPOINT_CLASS,
                     "addresses": [{"type": "IPAddress", "value": address}],
                     "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]}}


def build_mesh(objects: list[dict], pod_network: str) -> Mesh:
    """The mesh manifests' objects with ClusterIPs and the namespace label, and the waypoint."""
    hosts = service_network(pod_network).hosts()
    waypoint_ip = str(next(hosts))
    out: list[dict] = []
    services = []
    for obj in objects:
        obj = dict(obj)
        meta = dict(obj.get("metadata", {}))
        ns = meta.get("namespace", "default")
        if obj.get("kind") == "Namespace" and meta["name"] in ENROLLED:
            meta["labels"] = {**meta.get("labels", {}), USE_WAYPOINT: WAYPOINT}
        if obj.get("kind") == "Service":
            ip = str(next(hosts))
            obj["spec"] = {**obj["spec"], "clusterIP": ip, "clusterIPs": [ip]}
            ports = tuple((int(p["port"]), int(p.get("targetPort", p["port"]))) for p in obj["spec"]["ports"])
            services.append(MeshService(ns, meta["name"], ip, ports, tuple(sorted(obj["spec"]["selector"].items())),
                                        ns in ENROLLED))
        obj["metadata"] = meta
        out.append(obj)
    out.append(waypoint_gateway(waypoint_ip))
    return Mesh(tuple(services), waypoint_ip, tuple(out))


def _first_arg(args: list[str], flag: str, default: int) -> int:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"{flag}=")]
    return int(values[0]) if values else default


def _echo_advanced_spec(deployment: dict) -> EchoSpec | None:
    """What an echo-advanced Deployment's Pods serve here: HTTP on its first `--port=` and gRPC
    on its first `--grpc=` (else echo-advanced's defaults); None when it is not echo-advanced."""
    for c in deployment["spec"]["template"]["spec"].get("containers", []):
        if ECHO_ADVANCED not in c.get("image", ""):
            continue
        args = c.get("args", [])
        return EchoSpec(port=_first_arg(args, "--port", ECHO_ADVANCED_HTTP_PORT),
                        grpc_port=_first_arg(args, "--grpc", ECHO_ADVANCED_GRPC_PORT))
    return None


def mesh_pods(objects: list[dict], hosts: list[str]) -> list[Pod]:
    """The replicas of every echo-advanced Deployment, one address each from `hosts` (in order)."""
    out: list[Pod] = []
    for d in objects:
        if d.get("kind") != "Deployment":
            continue
        spec = _echo_advanced_spec(d)
        if spec is None:
            continue
        meta = d["metadata"]
        ns = meta.get("namespace", "default")
        template_hash = _token(f"{ns}/{meta['name']}", 10)
        labels = tuple(sorted(d["spec"]["template"]["metadata"].get("labels", {}).items()))
        for i in range(int(d["spec"].get("replicas", 1))):
            suffix = _token(f"{ns}/{meta['name']}/{i}", 5)
            name = f"{meta['name']}-{template_hash}-{suffix}"
            out.append(Pod(ns, name, labels, hosts[len(out)], spec))
    return out


def pod_object(pod: Pod) -> dict:
    """The Pod object of a mesh echo replica, as the API holds it once it runs: meshgate learns
    which namespace a client is in from its Pod's IP (consumer routes), and, standalone, computes
    the Services' EndpointSlices from the Pods as the EndpointSlice controller would."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod.name, "namespace": pod.namespace, "labels": dict(pod.labels)},
            "spec": {"containers": [{"name": "echo", "image": f"registry.k8s.io/{ECHO_ADVANCED}:v0.1.0",
                                     "ports": [{"containerPort": p, "protocol": "TCP"} for p in pod.spec.ports()]}]},
            "status": {"phase": "Running", "podIP": pod.ip, "podIPs": [{"ip": pod.ip}],
                       "conditions": [{"type": "Ready", "status": "True"}]}}
