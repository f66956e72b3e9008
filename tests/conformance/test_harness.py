"""The harness's own parts, without Envoy: comparisons, status checks, the stand-in cluster, the client.

A conformance run that passes says something only if these reject what upstream rejects.
"""

from __future__ import annotations

import http.server
import io
import json
import re
import ssl
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from . import status_checks as sc
from .ca_certificates import CA_SIGNED, authority, client_certificate
from .checks import merge_patch, with_unique_query
from .client import host_header, round_trip
from .cluster import (
    CONTROLLER,
    TLS_SECRETS,
    UNUSABLE_ADDRESS,
    EchoSpec,
    Pod,
    documents,
    endpoint_slices,
    manifest_text,
    overlay_addresses,
    pods,
    self_signed,
)
from .compare import compare
from .expect import (
    INFRA,
    Expect,
    ExpectedRequest,
    GatewayRef,
    Key,
    Redirect,
    Request,
    Response,
)
from .model import Result
from .processes import EchoPod, Meshgate
from .report import print_results
from .stream_clients import udp_echo
from .suite import Condition, ConformanceTest, ExpectedListener, ExpectedParent, Reply


def echo_reply(path: str = "/", pod: str = "infra-backend-v1-abc-def", namespace: str = INFRA,
               headers: dict | None = None, host: str = "example.com", method: str = "GET",
               response_headers: dict | None = None) -> Reply:
    echo = {"path": path, "host": host, "method": method, "namespace": namespace, "pod": pod,
            "headers": headers or {}}
    hdrs = {"content-type": ["application/json"]} | {k.lower(): [v] for k, v in (response_headers or {}).items()}
    return Reply(200, hdrs, json.dumps(echo).encode(), echo)


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, {"location": [location]}, b"", None)


# -- compare -------------------------------------------------------------------------------------
def test_matching_echo_passes() -> None:
    assert compare(Expect(Request(path="/x?a=b"), backend="infra-backend-v1"), echo_reply("/x?a=b"), "http") is None


@pytest.mark.parametrize("expected, reply, reason", [
    (Expect(Request(path="/"), backend="infra-backend-v2"), echo_reply(), "pod name to start with 'infra-backend-v2'"),
    (Expect(Request(path="/a?q=1")), echo_reply("/a"), "expected path '/a?q=1'"),
    (Expect(Request(path="/"), namespace="other"), echo_reply(), "expected namespace 'other'"),
    (Expect(Request(path="/", method="POST")), echo_reply(), "expected method 'POST'"),
    (Expect(Request(path="/", host="a.example:1234")), echo_reply(host="a.example"), "expected host 'a.example:1234'"),
    (Expect(Request(path="/"), ExpectedRequest(headers={"X-Header-Set": "v"})), echo_reply(),
     "request header X-Header-Set to be set"),
    (Expect(Request(path="/"), ExpectedRequest(headers={"X-Header-Add": "a,b"})),
     echo_reply(headers={"X-Header-Add": ["b", "a"]}), "expected request header X-Header-Add: 'a,b', got 'b,a'"),
    (Expect(Request(path="/"), ExpectedRequest(absent_headers=("X-Remove",))),
     echo_reply(headers={"X-Remove": ["v"]}), "X-Remove to be absent"),
    (Expect(Request(path="/"), response=Response(headers={"X-Out": "1"})), echo_reply(), "response header X-Out"),
    (Expect(Request(path="/"), response=Response(absent_headers=("X-Out",))),
     echo_reply(response_headers={"X-Out": "1"}), "response header X-Out to be absent"),
    # No JSON echo: as upstream, a request with the method sent and nothing else (no path).
    (Expect(Request(path="/")), Reply(200, {"content-type": ["text/plain"]}, b"hi", None), "expected path '/', got ''"),
    (Expect(Request(path="/"), response=Response(status=404)), echo_reply(), "expected status 404, got 200"),
    (Expect(Request(path="/"), response=Response(status=500)), Reply(503, {}, b"", None), "expected status 500, got 503"),
])
def test_mismatches_are_reported(expected: Expect, reply: Reply, reason: str) -> None:
    problem = compare(expected, reply, "http")
    assert problem is not None and reason in problem, problem


def test_header_names_compare_without_case() -> None:
    expected = Expect(Request(path="/"), ExpectedRequest(headers={"x-header-set": "v"}))
    assert compare(expected, echo_reply(headers={"X-Header-Set": ["v"]}), "http") is None


def test_a_preflight_the_gateway_answers_is_compared_as_upstream_does() -> None:
    # A CORS preflight answered by the gateway (204, no JSON): the captured request is the method
    # sent and nothing else, so HTTPRouteCORS's rows (expected path "", namespace "") match.
    sent = Request(path="/cors-1", method="OPTIONS")
    preflight = Expect(sent, ExpectedRequest(path="", method="OPTIONS"), response=Response(statuses=(200, 204)),
                       namespace="")
    assert compare(preflight, Reply(204, {}, b"", None), "http") is None
    assert "expected path" in (compare(replace(preflight, expected_request=None), Reply(204, {}, b"", None), "http") or "")


def test_timeouts_are_interchangeable() -> None:
    assert compare(Expect(response=Response(status=504)), Reply(408, {}, b"", None), "http") is None
    assert compare(Expect(response=Response(status=504)), Reply(503, {}, b"", None), "http") is not None


@pytest.mark.parametrize("want, location, scheme, ok", [
    (Redirect(host="example.org"), "http://example.org/p", "http", True),
    (Redirect(host="example.org"), "http://example.org:80/p", "http", True),  # the default port may be written
    (Redirect(host="example.org"), "http://example.org:8080/p", "http", False),  # any other may not
    (Redirect(port="8080"), "http://gw/p", "http", False),
    (Redirect(port="8080"), "http://gw:8080/p", "http", True),
    (Redirect(scheme="https"), "https://gw:443/p", "http", True),
    (Redirect(scheme="https"), "http://gw/p", "http", False),
    (Redirect(), "https://gw/p", "https", True),  # unset scheme: as requested
    (Redirect(path="/new"), "http://gw/old", "http", False),
    (Redirect(), "http://gw/p?x=1", "http", True),  # query is not compared
    (Redirect(), "http://gw/other", "http", False),  # unset path: the request's
])
def test_redirect_rules(want: Redirect, location: str, scheme: str, ok: bool) -> None:
    problem = compare(Expect(Request(path="/p"), redirect=want, response=Response(status=302)),
                      redirect(location), scheme)
    assert (problem is None) == ok, problem


# -- status checks -------------------------------------------------------------------------------
def gateway_status(generation: int = 1, addresses: bool = True, programmed: str = "True") -> dict:
    conds = [{"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": generation},
             {"type": "Programmed", "status": programmed, "reason": "Programmed", "observedGeneration": generation}]
    ls_conds = [{"type": t, "status": "True", "reason": t, "observedGeneration": 1}
                for t in ("Accepted", "ResolvedRefs", "Programmed")]
    return {"kind": "Gateway", "metadata": {"namespace": INFRA, "name": "gw"},
            "status": {"addresses": [{"type": "IPAddress", "value": "127.1.80.1"}] if addresses else [],
                       "conditions": conds,
                       "listeners": [{"name": "http", "attachedRoutes": 1, "conditions": ls_conds,
                                      "supportedKinds": [{"group": "gateway.networking.k8s.io",
                                                          "kind": "HTTPRoute"}]}]}}


def route_status(ref: dict, reason: str = "Accepted", controller: str = CONTROLLER, ns: str = INFRA) -> dict:
    return {"kind": "HTTPRoute", "metadata": {"namespace": ns, "name": "r"},
            "status": {"parents": [{"parentRef": ref, "controllerName": controller, "conditions": [
                {"type": "Accepted", "status": "True", "reason": reason, "observedGeneration": 1}]}]}}


FULL_REF = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}
GW = GatewayRef(INFRA, "gw")


def test_gateway_checks() -> None:
    assert sc.gateway_problem({"status": [gateway_status()]}, GW) is None
    assert "no status.addresses" in sc.gateway_problem({"status": [gateway_status(addresses=False)]}, GW)
    assert "observedGeneration 2" in sc.gateway_problem({"status": [gateway_status(generation=2)]}, GW)
    assert "Programmed=True" in sc.gateway_problem({"status": [gateway_status(programmed="False")]}, GW)
    assert "no status for listener other" in sc.gateway_problem(
        {"status": [gateway_status()]}, GatewayRef(INFRA, "gw", ("other",)))
    assert sc.gateway_ip({"status": [gateway_status()]}, GW.key) == "127.1.80.1"


def test_gateway_condition_and_address_checks() -> None:
    rejected = gateway_status(addresses=False)
    rejected["status"]["conditions"][0] |= {"status": "False", "reason": "InvalidParameters"}
    doc = {"status": [rejected]}
    assert sc.gateway_latest_problem(doc, GW.key) is None
    assert sc.gateway_condition_problem(doc, GW.key, Condition("Accepted", "False", "InvalidParameters")) is None
    assert "got False/InvalidParameters" in sc.gateway_condition_problem(doc, GW.key, Condition("Accepted", "True"))
    assert "no status.addresses entry" in sc.gateway_address_problem(doc, GW.key)
    stale = {"status": [gateway_status(generation=2)]}
    assert "observedGeneration 2" in sc.gateway_latest_problem(stale, GW.key)
    assert "observedGeneration 2" in sc.gateway_condition_problem(stale, GW.key, Condition("Accepted"))
    assert "observedGeneration 2" in sc.gateway_address_problem(stale, GW.key)
    assert sc.gateway_address_problem({"status": [gateway_status()]}, GW.key) is None
    untyped = gateway_status()
    untyped["status"]["addresses"] = [{"value": "127.1.80.1"}]
    assert "with a type" in sc.gateway_address_problem({"status": [untyped]}, GW.key)
    assert "has no status" in sc.gateway_latest_problem({"status": []}, GW.key)


def test_envoy_admin_urls_are_read_from_meshgates_output(tmp_path) -> None:
    mg = Meshgate(tmp_path, tmp_path, "127.1.80.0/24")
    mg.output += [
        "gateway ns/a: http://127.1.80.1:80  (Envoy admin http://127.0.0.1:4001, access log /w/ns_a.envoy.log)",
        "  try: curl -s http://127.1.80.1:80/",
        "gateway ns/a: https://127.1.80.1:443  (Envoy admin http://127.0.0.1:4001, access log /w/ns_a.envoy.log)",
        "gateway ns/b: http://127.1.80.2:80  (Envoy admin http://127.0.0.1:4002, access log /w/ns_b.envoy.log)",
        "gateway ns/a: infrastructure labels or annotations changed; restarting its Envoy",
        "gateway ns/a: http://127.1.80.1:80  (Envoy admin http://127.0.0.1:4003, access log /w/ns_a.envoy.log)",
    ]
    assert mg.envoy_admins() == {"ns/a": "http://127.0.0.1:4003", "ns/b": "http://127.0.0.1:4002"}


def test_assertions_not_checked_are_shown_with_the_result() -> None:
    test = ConformanceTest("T", "", ("x.yaml",), ("Gateway",), lambda t: None)
    out = io.StringIO()
    print_results([Result(test, "passed", [], 1.0, ["Services: no Kubernetes"])], out)
    assert out.getvalue() == "PASSED   T (core, 1.0 s)\n         - not checked: Services: no Kubernetes\n"


def test_route_accepted_checks() -> None:
    route = Key(INFRA, "r")
    assert sc.route_accepted_problem({"status": [route_status(FULL_REF)]}, route, GW.key) is None
    assert "group/kind must be set" in sc.route_accepted_problem({"status": [route_status({"name": "gw"})]},
                                                                 route, GW.key)
    assert "controllerName" in sc.route_accepted_problem({"status": [route_status(FULL_REF, controller="x/y")]},
                                                         route, GW.key)
    assert "got True/Other" in sc.route_accepted_problem({"status": [route_status(FULL_REF, reason="Other")]},
                                                         route, GW.key)
    # A route elsewhere must name the Gateway's namespace in its parentRef.
    other = route_status(FULL_REF, ns="apps")
    assert "no status.parents entry" in sc.route_accepted_problem({"status": [other]}, Key("apps", "r"), GW.key)


def test_route_parents_checks() -> None:
    route = Key(INFRA, "r")
    doc = {"status": [route_status(FULL_REF)]}
    unnamespaced = ExpectedParent(GW.key, conditions=(Condition("Accepted", "True", "Accepted"),), namespaced=False)
    assert sc.route_parents_problem(doc, route, [unnamespaced], True) is None
    namespaced = ExpectedParent(GW.key, conditions=(Condition("Accepted"),))
    assert sc.route_parents_problem(doc, route, [namespaced], True) is not None  # the entry lacks the namespace
    assert "expected 2 parents" in sc.route_parents_problem(doc, route, [unnamespaced, unnamespaced], True)


def test_listener_checks() -> None:
    doc = {"status": [gateway_status()]}
    ok = ExpectedListener("http", 1, conditions=(Condition("Accepted"),))
    assert sc.listeners_problem(doc, GW.key, [ok]) is None
    assert "attachedRoutes 1, expected 2" in sc.listeners_problem(doc, GW.key, [ExpectedListener("http", 2)])
    assert "lacks GRPCRoute" in sc.listeners_problem(doc, GW.key, [ExpectedListener("http", 1, ("GRPCRoute",))])


def test_checks_follow_the_generation_a_test_patched_to() -> None:
    # After a spec patch (generation 2), conditions of generation 1 are stale, 2 are current.
    current = gateway_status(generation=2)
    for c in current["status"]["listeners"][0]["conditions"]:
        c["observedGeneration"] = 2
    old, new = {"status": [gateway_status()]}, {"status": [current]}
    listeners = [ExpectedListener("http", 1)]
    assert "observedGeneration 1" in sc.listeners_problem(old, GW.key, listeners, generation=2)
    assert sc.listeners_problem(new, GW.key, listeners, generation=2) is None
    assert "observedGeneration 1" in sc.gateway_latest_problem(old, GW.key, 2)
    assert sc.gateway_latest_problem(new, GW.key, 2) is None
    assert merge_patch({"spec": {"a": 1, "b": [1]}}, {"spec": {"b": [2], "a": None}}) == {"spec": {"b": [2]}}


# -- the stand-in cluster ------------------------------------------------------------------------
def test_static_address_placeholders_are_overlaid_as_the_suites_applier_does() -> None:
    (gw,) = [o for o in documents(manifest_text("gateway-static-addresses.yaml")) if o["kind"] == "Gateway"]
    overlaid = overlay_addresses(gw, "127.1.80.254", UNUSABLE_ADDRESS)
    assert overlaid is not None and overlaid["spec"]["addresses"] == [
        {"type": "test/fake-invalid-type", "value": "fake address teehee!"},
        {"type": "IPAddress", "value": UNUSABLE_ADDRESS}, {"type": "IPAddress", "value": "127.1.80.254"}]
    assert gw["spec"]["addresses"][2] == {"value": "PLACEHOLDER_USABLE_ADDRS"}  # the input is left alone
    plain = documents(manifest_text("manifests.yaml"))
    assert all(overlay_addresses(o, "a", "b") is None for o in plain)


def test_client_certificates_are_signed_by_their_ca_only() -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    ca, other = authority(), authority()
    client = x509.load_pem_x509_certificate(client_certificate(ca).cert_pem.encode())
    client.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert_pem.encode()))
    with pytest.raises(InvalidSignature):  # the same subject name: only the signature tells them apart
        client.verify_directly_issued_by(x509.load_pem_x509_certificate(other.cert_pem.encode()))



def test_pods_and_endpoint_slices() -> None:
    objects = documents(manifest_text("manifests.yaml"))
    members = pods(objects, "127.1.81.0/24")
    names = [p.name for p in members]
    assert len(names) == len(set(names)) and len({p.ip for p in members}) == len(members)
    v1 = [p for p in members if p.name.startswith("infra-backend-v1-")]
    assert len(v1) == 2  # replicas: 2
    assert all(re.fullmatch(r"infra-backend-v1-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}",
                            p.name) for p in v1)
    assert v1[0].name.rsplit("-", 1)[0] == v1[1].name.rsplit("-", 1)[0]  # one ReplicaSet
    specs = {p.service_prefix: p.spec for p in members if p.namespace == INFRA}
    assert specs["infra-backend-v1"] == EchoSpec("http", 3000, h2c_port=3001)
    assert specs["tls-backend"] == EchoSpec("http", 3000, h2c_port=3001, tls_port=8443,
                                            tls_secret=(INFRA, "tls-checks-certificate"))
    # GRPC_ECHO_SERVER and TCP_ECHO_SERVER read TLS_SERVER_PRIV_KEY (the HTTP server: TLS_SERVER_PRIVKEY)
    assert specs["grpc-infra-backend-v1"] == EchoSpec("grpc", 3000, tls_port=8443,
                                                      tls_secret=(INFRA, "tls-checks-certificate"))
    assert specs["grpc-infra-backend-v2"] == EchoSpec("grpc", 3000)
    assert specs["tcp-backend"] == EchoSpec("tcp", 3000, tls_port=8443,
                                            tls_secret=(INFRA, "tls-passthrough-checks-certificate"))
    assert specs["coredns"] == EchoSpec("dns", 53)
    assert all(p.spec.tls_secret is None or p.spec.tls_secret in TLS_SECRETS or p.spec.tls_secret in CA_SIGNED
               for p in members)
    slices = {(s["metadata"]["namespace"], s["metadata"]["labels"]["kubernetes.io/service-name"]): s
              for s in endpoint_slices(objects, members)}
    web = slices[("gateway-conformance-web-backend", "web-backend")]
    assert sorted(e["targetRef"]["name"] for e in web["endpoints"]) == \
        sorted(p.name for p in members if p.namespace == "gateway-conformance-web-backend")
    assert [p["port"] for p in slices[(INFRA, "infra-backend-v1")]["ports"]] == [3000, 3001, 3000]
    assert len(slices[(INFRA, "tls-backend")]["endpoints"]) == 1
    assert slices[(INFRA, "coredns")]["ports"] == [{"name": "udp-dns", "port": 53, "protocol": "UDP"}]
    assert [p["port"] for p in slices[(INFRA, "tcp-backend")]["ports"]] == [3000, 8443]


def test_placeholders_are_filled() -> None:
    text = manifest_text("httproute-matching.yaml") + manifest_text("manifests.yaml")
    assert "{GATEWAY_CLASS_NAME}" not in text and "{GATEWAY_CONTROLLER_NAME}" not in text


# -- the client ----------------------------------------------------------------------------------
def test_unique_query_gives_every_probe_a_new_uuid_and_compares_against_it() -> None:
    expected = Expect(Request(path="/retry/x?responseCode=500&succeedAfter=1"), backend="infra-backend-v3",
                      unique_query="uuid")
    first, second = with_unique_query(expected), with_unique_query(expected)
    assert re.fullmatch(r"/retry/x\?responseCode=500&succeedAfter=1&uuid=[0-9a-f-]{36}", first.request.path)
    assert first.request.path != second.request.path
    assert compare(first, echo_reply(first.request.path, pod="infra-backend-v3-abc-def"), "http") is None
    assert compare(first, echo_reply(second.request.path, pod="infra-backend-v3-abc-def"), "http") is not None
    assert with_unique_query(Expect(Request(path="/a"), unique_query="id")).request.path.startswith("/a?id=")
    assert with_unique_query(Expect(Request(path="/a"))).request.path == "/a"


def test_host_header() -> None:
    assert host_header("127.1.80.1:80", Request(), False) == "127.1.80.1"
    assert host_header("127.1.80.1:8080", Request(), False) == "127.1.80.1:8080"
    assert host_header("127.1.80.1:443", Request(), True) == "127.1.80.1"
    assert host_header("127.1.80.1:80", Request(host="a.example:1234"), False) == "a.example:1234"


def test_tls_round_trip_checks_the_certificate(tmp_path) -> None:
    """SNI and verification against the generated certificate: a name it does not cover is refused."""
    cert = self_signed(("example.org",))
    (tmp_path / "c.pem").write_text(cert.cert_pem)
    (tmp_path / "k.pem").write_text(cert.key_pem)
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        address = f"127.0.0.1:{server.server_address[1]}"
        assert round_trip(address, Request(host="example.org"), cert.cert_pem).status == 204
        assert seen == ["example.org"]
        with pytest.raises(ssl.SSLCertVerificationError):
            round_trip(address, Request(host="other.org"), cert.cert_pem)
        with pytest.raises(ssl.SSLCertVerificationError):
            round_trip(address, Request(host="example.org"), self_signed(("example.org",)).cert_pem)
    finally:
        server.shutdown()
        server.server_close()


def test_echo_pod_commands_follow_the_deployment(tmp_path: Path) -> None:
    objects = documents(manifest_text("manifests.yaml"))
    by_name = {p.service_prefix: p for p in pods(objects, "127.1.81.0/24")}
    files = (tmp_path / "crt", tmp_path / "key")
    tls = EchoPod(by_name["tls-backend"], tmp_path / "log", tls_files=files).command()
    assert tls[tls.index("--mode") + 1] == "http" and tls[tls.index("--h2c-port") + 1] == "3001"
    assert tls[tls.index("--tls-port") + 1:tls.index("--tls-port") + 6] == ["8443", "--tls-cert", str(files[0]),
                                                                          "--tls-key", str(files[1])]
    # without the Secret's files (a Secret the harness does not make) the TLS port is left out
    assert "--tls-port" not in EchoPod(by_name["tls-backend"], tmp_path / "log").command()
    grpc = EchoPod(by_name["grpc-infra-backend-v2"], tmp_path / "log").command()
    assert grpc[grpc.index("--mode") + 1] == "grpc" and "--h2c-port" not in grpc
    dns = EchoPod(by_name["coredns"], tmp_path / "log")
    assert dns.command()[dns.command().index("--port") + 1] == "53" and dns.pod.spec.udp


def test_a_backend_verifying_client_certificates_mounts_the_ca_config_map(tmp_path: Path) -> None:
    """TLS_CLIENT_CACERTS (gateway-tls-backend-client-certificate.yaml): the Pod verifies client
    certificates against the ca.crt of the ConfigMap it mounts."""
    objects = documents(manifest_text("gateway-tls-backend-client-certificate.yaml"))
    (pod,) = pods(objects, "127.1.81.0/24")
    assert pod.spec.tls_client_ca == ("gateway-conformance-infra", "tls-checks-ca-certificate")
    assert pod.spec.tls_secret == ("gateway-conformance-infra", "tls-checks-certificate")
    files = (tmp_path / "crt", tmp_path / "key")
    cmd = EchoPod(pod, tmp_path / "log", tls_files=files, client_ca=tmp_path / "ca").command()
    assert cmd[cmd.index("--tls-client-ca") + 1] == str(tmp_path / "ca")
    # the base tls-backend Pods verify no client certificates
    base = {p.service_prefix: p for p in pods(documents(manifest_text("manifests.yaml")), "127.1.81.0/24")}
    assert base["tls-backend"].spec.tls_client_ca is None


def test_the_client_certificate_the_backend_saw_is_compared() -> None:
    """ExpectedRequest.ClientCert: among the echo's tls.peerCertificates."""
    expected = Expect(Request(path="/"), ExpectedRequest(client_cert="PEM-A"))
    seen = echo_reply()
    seen.echo["tls"] = {"peerCertificates": ["PEM-B"]}
    assert compare(expected, seen, "http") == "expected client certificate was not captured"
    seen.echo["tls"] = {"peerCertificates": ["PEM-B", "PEM-A"]}
    assert compare(expected, seen, "http") is None


TEST_BACKENDS = """
apiVersion: v1
kind: Service
metadata: {name: udp-backend-v1, namespace: gateway-conformance-infra}
spec:
  selector: {app: udp-backend-v1}
  ports: [{name: udp, protocol: UDP, port: 8080, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: udp-backend-v1, namespace: gateway-conformance-infra}
spec:
  replicas: 1
  selector: {matchLabels: {app: udp-backend-v1}}
  template:
    metadata: {labels: {app: udp-backend-v1}}
    spec:
      containers:
        - name: udp-backend
          image: registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0
          env:
            - {name: UDP_ECHO_SERVER, value: "1"}
            - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
            - {name: SERVICE_NAME, value: udp-backend-v1}
"""


def test_a_tests_own_backends_get_the_next_addresses_and_their_mode(tmp_path: Path) -> None:
    # as the UDPRoute tests' manifests bring their own udp-backend Deployments (upstream's shape)
    base = pods(documents(manifest_text("manifests.yaml")), "127.1.81.0/24")
    objects = documents(TEST_BACKENDS)
    extra = pods(objects, "127.1.81.0/24", skip=len(base))
    assert [p.ip for p in extra] == [f"127.1.81.{len(base) + 1}"]
    assert extra[0].spec == EchoSpec("udp", 8080, service="udp-backend-v1")
    (slice_,) = endpoint_slices(objects, base + extra)
    assert [e["targetRef"]["name"] for e in slice_["endpoints"]] == [extra[0].name]
    # the process: a UDP Pod is ready once it says where it listens (nothing to connect to)
    pod = EchoPod(Pod(INFRA, extra[0].name, extra[0].labels, "127.0.0.1", EchoSpec("udp", 0, service="s")),
                  tmp_path / "udp.log")
    pod.start()
    try:
        pod.wait_ready()
        port = int(re.search(r"udp://127\.0\.0\.1:(\d+)", pod.logs())[1])  # type: ignore[index]
        assert udp_echo(f"127.0.0.1:{port}")["service"] == "s"
    finally:
        pod.stop()
