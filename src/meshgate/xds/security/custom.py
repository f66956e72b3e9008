"""Istio's CUSTOM action (ir_security.CustomAuthorization), spelt as Istio spells it: an RBAC
filter in shadow mode whose shadow rules are the CUSTOM rules (it enforces nothing; it writes the
name of the rule that matched to the dynamic metadata `envoy.filters.http.rbac`, key
`istio_ext_authz_shadow_effective_policy_id`), then the provider's ext_authz filter, enabled only
when that name starts with the provider's prefix (its `filter_enabled_metadata`): a request that
matches no CUSTOM rule never reaches the authorizer.

meshgate gives each route its own filter configs, so the shadow rules are the route's (RBACPerRoute;
the metadata key comes from the connection manager's entry, which has no rules) and the ext_authz
filter is carried disabled and enabled by the routes under a CUSTOM policy, as the SecurityPolicy's
is. Rules are finer than routes (a path under a route's prefix, a header), which is why the
shadow RBAC decides rather than the route alone. The pair runs after JWT authentication (a CUSTOM
rule may ask for a claim; a bad token is refused before the authorizer is asked) and before the
RBAC filter of the DENY and ALLOW rules, in Istio's order.

The ext_authz filter of a provider is named `envoy.filters.http.ext_authz/istio:<provider>`: one
`/` where a SecurityPolicy's (`.../<namespace>/<policy>`) has two, so the two never collide.
"""

from __future__ import annotations

from collections.abc import Sequence

from envoy.extensions.filters.http.ext_authz.v3 import ext_authz_pb2
from envoy.extensions.filters.http.rbac.v3 import rbac_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.type.matcher.v3 import metadata_pb2, string_pb2, value_pb2
from google.protobuf.message import Message

from ... import ir
from ... import ir_security as sec
from ..common import to_any
from . import enabled
from .ext_authz import ext_authz_config, filter_name
from .rbac import RBAC_FILTER, rules_matcher

CUSTOM_RBAC_FILTER = f"{RBAC_FILTER}/istio-ext-authz"
CUSTOM_EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz/istio"  # the registry's name for the providers' filters
SHADOW_PREFIX = "istio_ext_authz_"
SHADOW_POLICY_KEY = SHADOW_PREFIX + "shadow_effective_policy_id"

# The connection manager's shadow RBAC: no rules of its own; it names the metadata key.
CUSTOM_RBAC_ENTRY = hcm.HttpFilter(name=CUSTOM_RBAC_FILTER, typed_config=to_any(
    rbac_pb2.RBAC(shadow_rules_stat_prefix=SHADOW_PREFIX)))


def custom_rbac_per_route(custom: sec.CustomAuthorization) -> rbac_pb2.RBACPerRoute:
    """A route's CUSTOM rules, as shadow rules: a match names its rule (and enforces nothing)."""
    return rbac_pb2.RBACPerRoute(rbac=rbac_pb2.RBAC(
        shadow_matcher=rules_matcher(custom.rules, "ALLOW", "no-custom-rule"), shadow_rules_stat_prefix=SHADOW_PREFIX))


def _enabled_by(prefix: str) -> metadata_pb2.MetadataMatcher:
    return metadata_pb2.MetadataMatcher(
        filter=RBAC_FILTER, path=[metadata_pb2.MetadataMatcher.PathSegment(key=SHADOW_POLICY_KEY)],
        value=value_pb2.ValueMatcher(string_match=string_pb2.StringMatcher(prefix=prefix)))


def _customs(routes: Sequence[ir.Route]) -> dict[str, sec.CustomAuthorization]:
    out: dict[str, sec.CustomAuthorization] = {}
    for r in routes:
        custom = r.security.custom  # type: ignore[union-attr]
        assert custom is not None
        out.setdefault(filter_name(custom.service), custom)
    return out


def custom_ext_authz_entries(routes: Sequence[ir.Route]) -> list[hcm.HttpFilter]:
    """One disabled ext_authz filter per provider the routes use, enabled by its rules' names."""
    out = []
    for name, custom in sorted(_customs(routes).items()):
        config = ext_authz_config(custom.service)
        config.filter_enabled_metadata.CopyFrom(_enabled_by(custom.prefix))
        out.append(hcm.HttpFilter(name=name, typed_config=to_any(config), disabled=True))
    return out


def custom_ext_authz_per_route(r: ir.Route) -> list[tuple[str, Message]]:
    """A route under a CUSTOM policy enables its provider's filter (which still asks only for the
    requests its rules match)."""
    assert r.security is not None and r.security.custom is not None
    return [(filter_name(r.security.custom.service), enabled(ext_authz_pb2.ExtAuthzPerRoute(
        check_settings=ext_authz_pb2.CheckSettings())))]
