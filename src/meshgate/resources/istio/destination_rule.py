"""DestinationRule: parsing and Istio's validation (ValidateDestinationRule and the traffic policy checks)."""

from __future__ import annotations

from typing import Any

from ..fields import Fields
from ..meta import Meta, Source
from .formats import is_prime, subset_name, wildcard_domain
from .model import (
    _INT32,
    _MAGLEV_TABLE_LIMIT,
    _UINT32_MAX,
    _UINT64_MAX,
    H2_UPGRADE_POLICIES,
    SIMPLE_LB,
    TLS_MODES,
    TOPOLOGY_LABELS,
    ClientTLS,
    ConnectionPool,
    ConsistentHash,
    DestinationRule,
    HTTPCookie,
    HTTPSettings,
    LoadBalancerSettings,
    LocalityLbSetting,
    OutlierDetection,
    PortTrafficPolicy,
    Subset,
    TcpKeepalive,
    TCPSettings,
    TrafficPolicy,
)
from .readers import (
    _duration,
    _export_to,
    _labels,
    _non_negative,
    _selector_labels,
    _uint32,
)


def _overlap(localities: list[str]) -> tuple[int, str] | None:
    """validateLocalities: well-formed, non-overlapping localities; (index, reason) of the first bad one."""
    tree: dict[str, dict[str, dict[str, bool]]] = {}
    for i, loc in enumerate(localities):
        stars = loc.count("*")
        if stars and (stars > 1 or not loc.endswith("*")):
            return i, f"locality {loc!r}: wildcard '*' can appear at most once, and only at the end"
        overlap = (i, f"locality {loc!r} overlaps with one given before")
        if "*" in tree:
            return overlap
        items = loc.split("/", 2)
        if any(item == "" for item in items):
            return i, f"locality {loc!r} must not contain empty region/zone/subzone info"
        region = items[0]
        zone = items[1] if len(items) > 1 else ""
        sub = items[2] if len(items) > 2 else ""
        if len(items) == 1:
            if region in tree:
                return overlap
            tree[region] = {"*": {"*": True}}
        elif len(items) == 2:
            zones = tree.setdefault(region, {})
            if "*" in zones or zone in zones:
                return overlap
            zones[zone] = {"*": True}
        else:
            zones = tree.setdefault(region, {})
            if "*" in zones:
                return overlap
            subs = zones.setdefault(zone, {})
            if subs.get("*") or subs.get(sub):
                return overlap
            subs[sub] = True
    return None


def _parse_locality_lb(f: Fields, has_outlier: bool) -> LocalityLbSetting:
    """ValidateLocalityLbSetting."""
    enabled = f.bool("enabled")
    distribute: list[tuple[str, tuple[tuple[str, int], ...]]] = []
    dist_fields: list[tuple[Fields, Fields | None]] = []
    for df in f.maps("distribute"):
        frm = df.str("from", default="") or ""
        to = df.map("to")
        weights: list[tuple[str, int]] = []
        if to is not None:
            for loc in to.data:
                if not isinstance(loc, str):
                    to.ctx.error(to.line_of(loc), to.sub(str(loc)), "keys must be strings")
                    continue
                w = to.int(loc, required=True, min=0, max=_UINT32_MAX)
                if w is not None:
                    weights.append((loc, w))
        distribute.append((frm, tuple(weights)))
        dist_fields.append((df, to))
    failover: list[tuple[str, str]] = []
    fail_fields: list[Fields] = []
    for ff in f.maps("failover"):
        failover.append((ff.str("from", default="") or "", ff.str("to", default="") or ""))
        fail_fields.append(ff)
    priority = f.str_items("failoverPriority")
    setting = LocalityLbSetting(tuple(distribute), tuple(failover), tuple(it.value for it in priority), enabled)

    if distribute and failover:
        f.error("failover", "can not simultaneously specify 'distribute' and 'failover'")
        return setting
    if failover and priority:
        for it in priority:
            if it.value in TOPOLOGY_LABELS:
                f.ctx.error(it.line, it.path, f"can not simultaneously set 'failover' and topology label "
                            f"{it.value!r} in 'failoverPriority'")
                return setting
    for (frm, read), (df, to_fields) in zip(distribute, dist_fields):
        # Without a `to` mapping there are no weights: only their total (0) is wrong.
        if to_fields is not None:
            if len(read) != len(to_fields.data):
                return setting  # a weight that could not be read was reported already
            for loc, w in read:
                if not 1 <= w <= 100:
                    to_fields.error(loc, f"locality weight must be in range [1, 100], got {w}")
                    return setting
        total = sum(w for _, w in read)
        if total != 100:
            df.error("to", f"total locality weight {total} != 100")
            return setting
        bad = _overlap([loc for loc, _ in read])
        if bad is not None and to_fields is not None:
            to_fields.error(read[bad[0]][0], bad[1])
    bad = _overlap([frm for frm, _ in distribute])
    if bad is not None:
        dist_fields[bad[0]][0].error("from", bad[1])
    if (failover or priority) and not has_outlier:
        f.error(None, "outlier detection policy must be provided for failover: without outlierDetection, "
                "failover and failoverPriority have no effect", severity="warning")
    for (frm, to_region), ff in zip(failover, fail_fields):
        if frm == to_region:
            ff.error("to", "locality lb failover settings must specify different regions")
        for key, value in (("from", frm), ("to", to_region)):
            if "/" in value:
                ff.error(key, f"invalid value {value!r}: locality lb failover only specify region (no '/')")
            elif "*" in value:
                ff.error(key, f"invalid value {value!r}: locality lb failover region should not contain '*' wildcard")
    return setting


def _parse_consistent_hash(ch: Fields) -> ConsistentHash:
    keys = [k for k in ("httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName") if ch.has(k)]
    for extra in keys[1:]:
        ch.error(extra, f"only one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName "
                 f"may be set (already set: {keys[0]})")
    header = ch.str("httpHeaderName")
    query = ch.str("httpQueryParameterName")
    source_ip = ch.bool("useSourceIp", default=False) or False
    cookie = None
    if ch.has("httpCookie"):
        cf = ch.map("httpCookie")
        if cf is not None:
            name = cf.str("name")
            if not name:
                cf.error("name", "name required for HttpCookie")
            path = cf.str("path")
            ttl = _duration(cf, "ttl", validate=False)
            cookie = HTTPCookie(name or "", path, ttl)
    algorithm = None
    ring_size = None
    table_size = None
    if ch.has("ringHash") and ch.has("maglev"):
        ch.error("maglev", "only one of ringHash or maglev may be set")
    if ch.has("ringHash"):
        rf = ch.map("ringHash")
        algorithm = "RING_HASH"
        if rf is not None:
            ring_size = rf.int("minimumRingSize", min=0, max=_UINT64_MAX)
    elif ch.has("maglev"):
        mf = ch.map("maglev")
        algorithm = "MAGLEV"
        if mf is not None:
            table_size = mf.int("tableSize", min=0, max=_UINT64_MAX)
            if not mf.has("tableSize") or table_size == 0:
                mf.error("tableSize", "tableSize must be set for maglev")
            elif table_size is not None:
                if table_size >= _MAGLEV_TABLE_LIMIT:
                    mf.error("tableSize", f"tableSize must be less than {_MAGLEV_TABLE_LIMIT} for maglev, got {table_size}")
                elif not is_prime(table_size):
                    mf.error("tableSize", f"tableSize must be a prime number for maglev, got {table_size}")
    legacy = ch.int("minimumRingSize", min=0, max=_UINT64_MAX)
    if legacy:
        ch.error("minimumRingSize", "consistent hash minimumRingSize is deprecated, use ringHash.minimumRingSize "
                 "instead", severity="warning")
        if algorithm is not None:
            ch.error("minimumRingSize", "only one of minimumRingSize or maglev/ringHash can be specified")
        else:
            ring_size = legacy
    return ConsistentHash(header, cookie, source_ip, query, algorithm, ring_size, table_size)


def _parse_load_balancer(lf: Fields, has_outlier: bool) -> LoadBalancerSettings:
    """validateLoadBalancer (and the lb_policy / hash oneofs, which Istio's decoding enforces)."""
    simple = lf.str("simple", enum=SIMPLE_LB)
    if lf.has("simple") and lf.has("consistentHash"):
        lf.error("consistentHash", "only one of simple or consistentHash may be set")
    consistent = None
    if lf.has("consistentHash"):
        ch = lf.map("consistentHash")
        if ch is not None:
            consistent = _parse_consistent_hash(ch)
    locality = None
    if lf.has("localityLbSetting"):
        llf = lf.map("localityLbSetting")
        if llf is not None:
            locality = _parse_locality_lb(llf, has_outlier)
    warmup = _duration(lf, "warmupDurationSecs")
    simple = {"UNSPECIFIED": None, "LEAST_CONN": "LEAST_REQUEST"}.get(simple, simple) if simple else None
    return LoadBalancerSettings(simple, consistent, locality, warmup)


def _parse_outlier(of: Fields) -> OutlierDetection:
    """validateOutlierDetection."""
    legacy = of.int("consecutiveErrors", min=_INT32[0], max=_INT32[1])
    if legacy:
        of.error("consecutiveErrors", "outlier detection consecutive errors is deprecated, use "
                 "consecutiveGatewayErrors or consecutive5xxErrors instead", severity="warning")
    c5xx = _uint32(of, "consecutive5xxErrors")
    gateway = _uint32(of, "consecutiveGatewayErrors")
    local = _uint32(of, "consecutiveLocalOriginFailures")
    split = of.bool("splitExternalLocalOriginErrors", default=False) or False
    if not split and local:
        of.error("consecutiveLocalOriginFailures", "outlier detection consecutive local origin failures is "
                 "specified, but split external local origin errors is set to false")
    interval = _duration(of, "interval")
    base = _duration(of, "baseEjectionTime")
    max_ejection = of.int("maxEjectionPercent", min=0, max=100)
    min_health = of.int("minHealthPercent", min=0, max=100)
    return OutlierDetection(c5xx, gateway, local, split, interval, base, max_ejection, min_health, legacy)


def _parse_connection_pool(pf: Fields) -> ConnectionPool | None:
    """validateConnectionPool."""
    if not (pf.has("tcp") or pf.has("http")):
        pf.error(None, "connection pool must have at least one field (tcp or http)")
        return None
    tcp = http = None
    tf = pf.map("tcp")
    if tf is not None:
        keepalive = None
        kf = tf.map("tcpKeepalive")
        if kf is not None:
            keepalive = TcpKeepalive(_uint32(kf, "probes"), _duration(kf, "time"), _duration(kf, "interval"))
        tcp = TCPSettings(
            _non_negative(tf, "maxConnections", "max connections"),
            _duration(tf, "connectTimeout"),
            keepalive,
            _duration(tf, "maxConnectionDuration"),
            _duration(tf, "idleTimeout"),
        )
    hf = pf.map("http")
    if hf is not None:
        policy = hf.str("h2UpgradePolicy", default="DEFAULT", enum=H2_UPGRADE_POLICIES) or "DEFAULT"
        client_protocol = hf.bool("useClientProtocol", default=False) or False
        if policy == "UPGRADE" and client_protocol:
            hf.error("useClientProtocol", "use client protocol must not be true when h2UpgradePolicy is UPGRADE")
        http = HTTPSettings(
            _non_negative(hf, "http1MaxPendingRequests", "http1 max pending requests"),
            _non_negative(hf, "http2MaxRequests", "http2 max requests"),
            _non_negative(hf, "maxRequestsPerConnection", "max requests per connection"),
            _non_negative(hf, "maxRetries", "max retries"),
            _duration(hf, "idleTimeout"),
            policy,
            client_protocol,
            _non_negative(hf, "maxConcurrentStreams", "max concurrent streams"),
        )
    return ConnectionPool(tcp, http)


def _parse_tls(tf: Fields) -> ClientTLS:
    """agent.ValidateTLS."""
    mode = tf.str("mode", default="DISABLE", enum=TLS_MODES) or "DISABLE"
    cert = tf.str("clientCertificate") or None
    key = tf.str("privateKey") or None
    ca = tf.str("caCertificates") or None
    credential = tf.str("credentialName") or None
    crl = tf.str("caCrl") or None
    sni = tf.str("sni") or None
    sans = tf.strs("subjectAltNames") or []
    insecure = tf.bool("insecureSkipVerify")
    if insecure:
        if mode == "SIMPLE" and (ca or credential or sans):
            tf.error("insecureSkipVerify", "cannot specify caCertificates or credentialName or subjectAltNames when "
                     "insecureSkipVerify is set true")
        if mode == "MUTUAL" and (ca or sans):
            tf.error("insecureSkipVerify", "cannot specify caCertificates or subjectAltNames when insecureSkipVerify "
                     "is set true")
    if mode in ("SIMPLE", "MUTUAL") and credential:
        if cert or ca or key or crl:
            tf.error("credentialName", "cannot specify client certificates or CA certificate or CA CRL if "
                     "credentialName is set")
    elif mode == "MUTUAL":
        if not cert:
            tf.error("clientCertificate", "client certificate required for mutual tls (or set credentialName)")
        if not key:
            tf.error("privateKey", "private key required for mutual tls (or set credentialName)")
    return ClientTLS(mode, cert, key, ca, credential, tuple(sans), sni, insecure, crl)


_POLICY_KEYS = ("loadBalancer", "connectionPool", "outlierDetection", "tls")


def _parse_policies(f: Fields) -> tuple[Any, Any, Any, Any]:
    """loadBalancer, connectionPool, outlierDetection, tls of a traffic policy or port policy."""
    outlier = _parse_outlier(of) if (of := f.map("outlierDetection")) is not None else None
    pool = _parse_connection_pool(cf) if (cf := f.map("connectionPool")) is not None else None
    lb = None
    if (lf := f.map("loadBalancer")) is not None:
        lb = _parse_load_balancer(lf, has_outlier=f.has("outlierDetection"))
    tls = _parse_tls(tf) if (tf := f.map("tls")) is not None else None
    return lb, pool, outlier, tls


def _parse_port_policies(f: Fields) -> tuple[PortTrafficPolicy, ...]:
    """validatePortTrafficPolicies."""
    out: list[PortTrafficPolicy] = []
    seen: dict[int, int] = {}
    for pf in f.maps("portLevelSettings", max_items=4096):
        number = None
        if not pf.has("port"):
            pf.error("port", "required field is missing: portTrafficPolicy must have valid port")
        elif (sel := pf.map("port")) is not None:
            number = sel.int("number", min=0, max=_UINT32_MAX)
            if sel.has("number") and number is not None and not 1 <= number <= 65535:
                sel.error("number", f"port {number} is not a port number: this setting never applies",
                          severity="warning")
            elif not sel.has("number"):
                sel.error("number", "no port number: this setting never applies", severity="warning")
            elif number in seen:
                sel.error("number", f"port {number} already has settings (line {seen[number]}): only the first apply",
                          severity="warning")
            if number is not None:
                seen.setdefault(number, pf.line)
        if not any(pf.has(k) for k in _POLICY_KEYS):
            pf.error(None, "port traffic policy must have at least one field")
            continue
        lb, pool, outlier, tls = _parse_policies(pf)
        if number is not None:
            out.append(PortTrafficPolicy(number, lb, pool, outlier, tls))
    return tuple(out)


def _parse_traffic_policy(f: Fields) -> TrafficPolicy | None:
    """validateTrafficPolicy."""
    if not any(f.has(k) for k in (*_POLICY_KEYS, "portLevelSettings", "tunnel", "proxyProtocol")):
        f.error(None, "traffic policy must have at least one field")
        return None
    if f.has("tunnel") and f.has("proxyProtocol"):
        f.error(None, "tunnel and proxyProtocol must not be set together")
        return None
    lb, pool, outlier, tls = _parse_policies(f)
    return TrafficPolicy(lb, pool, outlier, tls, _parse_port_policies(f))


def parse_destination_rule(f: Fields, meta: Meta, source: Source) -> DestinationRule:
    """DestinationRule.spec (ValidateDestinationRule)."""
    spec = f.map("spec", required=True)
    if spec is None:
        return DestinationRule(meta, source, "", None, (), (), None)
    host = spec.str("host", required=True, check=wildcard_domain) or ""
    policy = _parse_traffic_policy(tp) if (tp := spec.map("trafficPolicy")) is not None else None
    subsets: list[Subset] = []
    names: set[str] = set()
    for sf in spec.maps("subsets"):
        name = sf.str("name", required=True, check=subset_name)
        if name is not None:
            if name in names:
                sf.error("name", f"duplicate subset names: {name}")
                name = None
            else:
                names.add(name)
        labels = _labels(sf, "labels")
        sub_policy = _parse_traffic_policy(tp) if (tp := sf.map("trafficPolicy")) is not None else None
        if name is not None:
            subsets.append(Subset(name, labels, sub_policy))
    selector = None
    if spec.has("workloadSelector"):
        sel = spec.map("workloadSelector")
        if sel is not None:
            selector = _selector_labels(sel, "matchLabels", "workload selector specified without labels")
    export_to = _export_to(spec, meta.namespace, service_entry=False, selector=spec.has("workloadSelector"))
    return DestinationRule(meta, source, host, policy, tuple(subsets), export_to, selector)
