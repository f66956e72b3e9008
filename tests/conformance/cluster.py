"""What a Kubernetes cluster would add to the conformance manifests, worked out without one.

The suite applies manifests.yaml and each test's YAML to a cluster where Deployments become Pods,
the EndpointSlice controller lists the Pods behind each Service, and the suite itself creates the
TLS Secrets. Here: placeholders are filled, every echo-basic Pod gets its own loopback address and
a Kubernetes-looking name (`<deployment>-<template hash>-<suffix>`), and EndpointSlices and Secrets
are written as YAML for meshgate to read.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MANIFESTS = Path(__file__).resolve().parent / "manifests"  # copies of ../shared/gateway-api/conformance/
GATEWAY_CLASS = "meshgate-conformance"
CONTROLLER = "meshgate.io/gateway-controller"
PLACEHOLDERS = {"{GATEWAY_CLASS_NAME}": GATEWAY_CLASS, "{GATEWAY_CONTROLLER_NAME}": CONTROLLER}
ECHO_IMAGE = "gateway-api/conformance/echo-basic"
COREDNS_IMAGE = "coredns/coredns"
ECHO_HTTP_PORT = 3000  # echo-basic's plain HTTP port (also the gRPC and TCP modes' plain port)
ECHO_H2C_PORT = 3001
ECHO_TLS_PORT = 8443
ECHO_UDP_PORT = 8080
DNS_PORT = 53
# Pod template hashes and name suffixes use Kubernetes' "safe" alphabet (no vowels, no 0/1/3).
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Secrets the suite creates at start-up (suite.go), with the hosts it signs them for. The
# wildcard-only names ("*", "*.org") are what upstream uses; OpenSSL will not match a wildcard
# that covers a whole top-level domain, so the hosts the HTTPS tests use are named as well.
# The ones upstream signs with a CA it publishes as a ConfigMap: ca_certificates.py.
TLS_SECRETS: dict[tuple[str, str], tuple[str, ...]] = {
    ("gateway-conformance-infra", "tls-validity-checks-certificate"):
        ("*", "*.org", "example.org", "second-example.org", "unknown-example.org", "*.wildcard.org",
         "https-listener.org"),
    ("gateway-conformance-web-backend", "certificate"): ("*", "*.example.com", "example.com"),
}


def manifest_text(name: str) -> str:
    """An upstream manifest with the placeholders filled in."""
    text = (MANIFESTS / name).read_text()
    for k, v in PLACEHOLDERS.items():
        text = text.replace(k, v)
    return text


# GatewayStaticAddresses: what the suite's --unusable-address gives. A documentation address
# (RFC 5737): in no run's address pool and on no interface of this host, so meshgate cannot give
# it (no one binds or sends to it: every loopback address is this host's own, hence usable). The
# usable one is the pool's last address (runner.py), which the pool hands out last.
UNUSABLE_ADDRESS = "192.0.2.1"
FAKE_ADDRESS_TYPE = "test/fake-invalid-type"


def overlay_addresses(obj: dict, usable: str, unusable: str) -> dict | None:
    """A Gateway with its spec.addresses placeholders replaced as the suite's Applier does: the
    `test/fake-invalid-type` addresses kept, then the unusable, then the usable address (each an
    IPAddress). None when `obj` has no placeholder."""
    addresses = (obj.get("spec") or {}).get("addresses") or []
    values = {a.get("value") for a in addresses}
    if obj.get("kind") != "Gateway" or not values & {"PLACEHOLDER_USABLE_ADDRS", "PLACEHOLDER_UNUSABLE_ADDRS"}:
        return None
    overlay = [a for a in addresses if a.get("type") == FAKE_ADDRESS_TYPE]
    if "PLACEHOLDER_UNUSABLE_ADDRS" in values:
        overlay.append({"type": "IPAddress", "value": unusable})
    if "PLACEHOLDER_USABLE_ADDRS" in values:
        overlay.append({"type": "IPAddress", "value": usable})
    return {**obj, "spec": {**obj["spec"], "addresses": overlay}}


def documents(text: str) -> list[dict]:
    """The objects of a manifest (harness side: meshgate does its own, stricter, reading)."""
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


@dataclass(frozen=True)
class EchoSpec:
    """What one echo-basic (or coredns) container serves, read from its image and environment as
    echo-basic reads them: the mode, its ports, and the Secret whose certificate the TLS port uses."""

    mode: str = "http"  # http, grpc, tcp, udp (echo-basic's modes) or dns (the coredns stand-in)
    port: int = ECHO_HTTP_PORT
    h2c_port: int | None = None
    grpc_port: int | None = None  # the GrpcEcho service beside HTTP (echo-advanced's --grpc, in the mesh)
    tls_port: int | None = None
    tls_secret: tuple[str, str] | None = None  # (namespace, name) of the mounted Secret
    # (namespace, name) of the mounted ConfigMap whose ca.crt TLS_CLIENT_CACERTS names: client
    # certificates presented to the TLS port are verified against it (http mode).
    tls_client_ca: tuple[str, str] | None = None
    service: str = ""  # SERVICE_NAME
    ingress: str = ""  # INGRESS_NAME

    @property
    def udp(self) -> bool:
        """Whether it listens on UDP only (no TCP port to wait for)."""
        return self.mode in ("udp", "dns")

    def ports(self) -> list[int]:
        """Every port it listens on."""
        return [p for p in (self.port, self.h2c_port, self.grpc_port, self.tls_port) if p is not None]


@dataclass(frozen=True)
class Pod:
    """An echo replica (echo-basic, or echo-advanced in the mesh): where it listens and what it reports."""

    namespace: str
    name: str
    labels: tuple[tuple[str, str], ...]
    ip: str
    spec: EchoSpec = EchoSpec()

    @property
    def port(self) -> int:
        """Its (first) HTTP port."""
        return self.spec.port

    @property
    def service_prefix(self) -> str:
        return self.name.rsplit("-", 2)[0]


def _token(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def _env_port(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, "")
    return int(value) if value.isdigit() else default


def echo_spec(deployment: dict) -> EchoSpec | None:
    """How a Deployment's Pods are served here, or None when they are not echo-basic or coredns."""
    template = deployment.get("spec", {}).get("template", {}).get("spec", {})
    namespace = deployment.get("metadata", {}).get("namespace", "default")
    secrets = [v["secret"]["secretName"] for v in template.get("volumes", []) if v.get("secret", {}).get("secretName")]
    config_maps = [v["configMap"]["name"] for v in template.get("volumes", []) if v.get("configMap", {}).get("name")]
    for c in template.get("containers", []):
        image = c.get("image", "")
        if COREDNS_IMAGE in image:
            return EchoSpec(mode="dns", port=DNS_PORT)
        if ECHO_IMAGE not in image:
            continue
        # Only plain values count: the fieldRef ones (POD_NAME, NAMESPACE) are the Pod's own.
        env = {e["name"]: str(e["value"]) for e in c.get("env", []) if "name" in e and "value" in e}
        key_var = "TLS_SERVER_PRIVKEY"  # the HTTP server's spelling; the gRPC and TCP servers read ..._PRIV_KEY
        if "GRPC_ECHO_SERVER" in env or "TCP_ECHO_SERVER" in env:
            key_var = "TLS_SERVER_PRIV_KEY"
        secret = (namespace, secrets[0]) if env.get("TLS_SERVER_CERT") and env.get(key_var) and secrets else None
        common = {"service": env.get("SERVICE_NAME", ""), "ingress": env.get("INGRESS_NAME", "")}
        if "GRPC_ECHO_SERVER" in env:
            return EchoSpec("grpc", _env_port(env, "HTTP_PORT", ECHO_HTTP_PORT),
                            tls_port=_env_port(env, "HTTPS_PORT", ECHO_TLS_PORT) if secret else None,
                            tls_secret=secret, **common)
        if "TCP_ECHO_SERVER" in env:
            return EchoSpec("tcp", _env_port(env, "TCP_PORT", ECHO_HTTP_PORT),
                            tls_port=_env_port(env, "TLS_PORT", ECHO_TLS_PORT) if secret else None,
                            tls_secret=secret, **common)
        if "UDP_ECHO_SERVER" in env:
            return EchoSpec("udp", _env_port(env, "UDP_PORT", ECHO_UDP_PORT), **common)
        client_ca = (namespace, config_maps[0]) if secret and env.get("TLS_CLIENT_CACERTS") and config_maps else None
        return EchoSpec("http", _env_port(env, "HTTP_PORT", ECHO_HTTP_PORT),
                        h2c_port=_env_port(env, "H2C_PORT", ECHO_H2C_PORT),
                        tls_port=_env_port(env, "HTTPS_PORT", ECHO_TLS_PORT) if secret else None,
                        tls_secret=secret, tls_client_ca=client_ca, **common)
    return None


def pods(objects: list[dict], network: str, skip: int = 0) -> list[Pod]:
    """The replicas of every echo-basic (and coredns) Deployment, one loopback address each (after
    the first `skip` addresses of `network`, which Pods made before hold)."""
    hosts = ipaddress.ip_network(network).hosts()
    for _ in range(skip):
        next(hosts)
    out = []
    for d in objects:
        spec = echo_spec(d) if d.get("kind") == "Deployment" else None
        if spec is None:
            continue
        meta = d["metadata"]
        ns = meta.get("namespace", "default")
        template_hash = _token(f"{ns}/{meta['name']}", 10)
        labels = tuple(sorted(d["spec"]["template"]["metadata"].get("labels", {}).items()))
        for i in range(int(d["spec"].get("replicas", 1))):
            suffix = _token(f"{ns}/{meta['name']}/{i}", 5)
            name = f"{meta['name']}-{template_hash}-{suffix}"
            out.append(Pod(ns, name, labels, str(next(hosts)), spec))
    return out


def endpoint_slices(objects: list[dict], all_pods: list[Pod]) -> list[dict]:
    """One EndpointSlice per Service with a selector, listing its Pods (the EndpointSlice controller)."""
    out = []
    for svc in objects:
        if svc.get("kind") != "Service" or not svc.get("spec", {}).get("selector"):
            continue
        meta, spec = svc["metadata"], svc["spec"]
        ns = meta.get("namespace", "default")
        selector = spec["selector"]
        members = [p for p in all_pods if p.namespace == ns and all(dict(p.labels).get(k) == v
                                                                     for k, v in selector.items())]
        ports = []
        for port in spec.get("ports", []):
            target = port.get("targetPort", port["port"])
            entry = {"name": port.get("name", ""), "port": int(target), "protocol": port.get("protocol", "TCP")}
            if "appProtocol" in port:
                entry["appProtocol"] = port["appProtocol"]
            ports.append(entry)
        out.append({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{meta['name']}-{_token(ns + meta['name'], 5)}", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": meta["name"],
                                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
            "addressType": "IPv4",
            "ports": ports,
            "endpoints": [{"addresses": [p.ip], "conditions": {"ready": True, "serving": True, "terminating": False},
                           "targetRef": {"kind": "Pod", "namespace": ns, "name": p.name}} for p in members],
        })
    return out


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate (its own CA) and its key, in PEM."""

    cert_pem: str
    key_pem: str


def self_signed(hosts: tuple[str, ...], now: datetime.datetime | None = None) -> Certificate:
    """A certificate for `hosts`, signed by itself, as the suite's MustCreateSelfSignedCertSecret makes."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gateway-conformance")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return Certificate(cert.public_bytes(serialization.Encoding.PEM).decode(),
                       key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kubernetes Gateway API"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def tls_secret(namespace: str, name: str, cert: Certificate) -> dict:
    """A kubernetes.io/tls Secret holding `cert` (stringData: meshgate reads it like data)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": {"tls.crt": cert.cert_pem, "tls.key": cert.key_pem}}


def gateway_class() -> dict:
    """The GatewayClass the suite is pointed at (an implementation provides it, not the manifests)."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
            "metadata": {"name": GATEWAY_CLASS}, "spec": {"controllerName": CONTROLLER}}


def dump_all(objects: list[dict]) -> str:
    """Objects as one multi-document YAML text."""
    return yaml.safe_dump_all(objects, sort_keys=False)
