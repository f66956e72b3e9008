"""Regenerate the structural schemas in this package from the upstream files they come from.

    python -m meshgate.resources.schemas.generate CACHE_DIR [NAME...]

(NAMEs: only those outputs, e.g. `envoy-gateway`.)

CACHE_DIR holds the upstream files as `CACHE_DIR/<owner>/<repo>/<path>`, at the commits named in
SOURCES (get them with git: `git -C <clone> show <commit>:<path>`). Each output file records the
repository, commit, paths and sha256 it was made from. Only structure is kept (types, properties,
items, additionalProperties, required, enum and the x-kubernetes-* markers): what the API server
needs to prune unknown fields, none of the descriptions or validation rules.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Source:
    """One upstream repository at one commit, and the files read from it."""

    name: str  # the output file: <name>.json
    repo: str
    commit: str
    paths: tuple[str, ...]
    note: str


SOURCES = (
    Source(
        "gateway-api", "kubernetes-sigs/gateway-api", "4564255ac2c35d582249b3cdf261bdf51c8bca32",
        tuple(f"config/crd/experimental/gateway.networking.{g}_{n}.yaml" for g, n in (
            ("k8s.io", "backendtlspolicies"), ("k8s.io", "gatewayclasses"), ("k8s.io", "gateways"),
            ("k8s.io", "grpcroutes"), ("k8s.io", "httproutes"), ("k8s.io", "listenersets"),
            ("k8s.io", "referencegrants"), ("k8s.io", "tcproutes"), ("k8s.io", "tlsroutes"),
            ("k8s.io", "udproutes"), ("x-k8s.io", "xbackends"), ("x-k8s.io", "xbackendtrafficpolicies"),
            ("x-k8s.io", "xmeshes"))),
        "the experimental channel's CRDs (a superset of the standard channel's), every served version; "
        "the same commit as the conformance manifests",
    ),
    Source(
        "istio", "istio/istio", "86c9f01fd735fb01d8192f5bcaf0d424afb7f14c",
        ("manifests/charts/base/files/crd-all.gen.yaml",),
        "ServiceEntry, WorkloadEntry, DestinationRule, AuthorizationPolicy and RequestAuthentication, every served version",
    ),
    Source(
        "envoy-gateway", "envoyproxy/gateway", "d32f28294245e454d20f81d323d626a90e660c1e",
        tuple(f"charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_{n}.yaml" for n in (
            "backends", "backendtrafficpolicies", "clienttrafficpolicies", "envoyextensionpolicies",
            "envoypatchpolicies", "envoyproxies", "httproutefilters", "securitypolicies")),
        "Envoy Gateway's policy CRDs meshgate reads (BackendTrafficPolicy, SecurityPolicy, ClientTrafficPolicy), "
        "every served version; the other CRDs for their kinds' names only",
    ),
    Source(
        "kubernetes", "kubernetes-client/python", "024658493d124f046fc0a9827a2a3165cf2aee28",
        ("kubernetes/swagger.json.unprocessed",),
        "Kubernetes' own OpenAPI (v2) document, release-1.36, as the Python client copies it from "
        "kubernetes/kubernetes api/openapi-spec/swagger.json; the core kinds meshgate reads and ObjectMeta",
    ),
)

ISTIO_KINDS = frozenset({"ServiceEntry", "WorkloadEntry", "DestinationRule", "AuthorizationPolicy",
                         "RequestAuthentication"})
ENVOY_GATEWAY_KINDS = frozenset({"BackendTrafficPolicy", "SecurityPolicy", "ClientTrafficPolicy"})
_WANTED = {"istio": ISTIO_KINDS, "envoy-gateway": ENVOY_GATEWAY_KINDS}
# Kubernetes' definitions of the core kinds meshgate reads, and the metadata every kind has.
CORE_KINDS = {
    "v1/Namespace": "io.k8s.api.core.v1.Namespace",
    "v1/Service": "io.k8s.api.core.v1.Service",
    "v1/Pod": "io.k8s.api.core.v1.Pod",
    "v1/Node": "io.k8s.api.core.v1.Node",
    "v1/Secret": "io.k8s.api.core.v1.Secret",
    "v1/ConfigMap": "io.k8s.api.core.v1.ConfigMap",
    "discovery.k8s.io/v1/EndpointSlice": "io.k8s.api.discovery.v1.EndpointSlice",
}
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

# What a structural schema needs to say which fields exist; everything else is dropped.
_SCALAR_KEYS = ("type", "format", "nullable", "required", "enum",
                "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
                "x-kubernetes-embedded-resource", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
                "x-kubernetes-map-type")
_DEFS = "#/definitions/"


def reduce(node: Any) -> Any:
    """The structure of one OpenAPI schema node (recursively), descriptions and rules dropped."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    if "$ref" in node:
        ref = node["$ref"]
        out["$ref"] = ref.removeprefix(_DEFS)
    for key in _SCALAR_KEYS:
        if key in node:
            out[key] = node[key]
    if "properties" in node:
        out["properties"] = {k: reduce(v) for k, v in sorted(node["properties"].items())}
    if "items" in node:
        out["items"] = reduce(node["items"])
    if "additionalProperties" in node:
        extra = node["additionalProperties"]
        out["additionalProperties"] = reduce(extra) if isinstance(extra, dict) else extra
    for key in ("allOf", "anyOf", "oneOf"):  # kept only where they add structure (int-or-string)
        parts = [reduce(p) for p in node.get(key, ())]
        parts = [p for p in parts if set(p) - {"required"}]
        if parts:
            out[key] = parts
    return out


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        if "$ref" in node:
            found.add(node["$ref"])
        for v in node.values():
            _refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _refs(v, found)


def _crd_kinds(documents: list[Any], wanted: frozenset[str] | None) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        kind = spec["names"]["kind"]
        if wanted is not None and kind not in wanted:
            continue
        for version in spec["versions"]:
            if not version.get("served", False):
                continue
            schema = version["schema"]["openAPIV3Schema"]
            kinds[f"{spec['group']}/{version['name']}/{kind}"] = reduce(schema)
    return kinds


def _crd_names(documents: list[Any]) -> list[str]:
    """`group/Kind` of every CRD in the documents, schema kept or not."""
    return sorted({f"{d['spec']['group']}/{d['spec']['names']['kind']}" for d in documents
                   if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"})


def _dedupe(kinds: dict[str, Any]) -> dict[str, Any]:
    """A version whose schema equals an earlier one's refers to it ({"$kind": ...}): one copy each."""
    seen: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key in sorted(kinds):
        text = json.dumps(kinds[key], sort_keys=True)
        if text in seen:
            out[key] = {"$kind": seen[text]}
        else:
            seen[text] = key
            out[key] = kinds[key]
    return out


def _read(cache: Path, source: Source, path: str) -> bytes:
    file = cache / source.repo / path
    if not file.is_file():
        sys.exit(f"missing {file}: put {source.repo}'s {path} at commit {source.commit} there")
    return file.read_bytes()


def build(cache: Path, source: Source) -> dict[str, Any]:
    """The output document for one source."""
    texts = {p: _read(cache, source, p) for p in source.paths}
    definitions: dict[str, Any] = {}
    if source.name == "kubernetes":
        (text,) = texts.values()
        defs = json.loads(text)["definitions"]
        kinds: dict[str, Any] = {k: {"$ref": name} for k, name in CORE_KINDS.items()}
        todo, done = {*CORE_KINDS.values(), OBJECT_META}, set()
        while todo:  # every definition the kinds reach, and only those
            name = todo.pop()
            done.add(name)
            definitions[name] = reduce(defs[name])
            found: set[str] = set()
            _refs(definitions[name], found)
            todo |= found - done
        definitions = dict(sorted(definitions.items()))
        names = sorted({f"{g['group']}/{g['kind']}" for d in defs.values()
                        for g in d.get("x-kubernetes-group-version-kind", ())})
    else:
        documents = [d for t in texts.values() for d in yaml.load_all(t, Loader=yaml.CSafeLoader)]
        kinds = _dedupe(_crd_kinds(documents, _WANTED.get(source.name)))
        names = _crd_names(documents)
    return {
        "source": {
            "repository": f"https://github.com/{source.repo}",
            "commit": source.commit,
            "files": [{"path": p, "sha256": hashlib.sha256(t).hexdigest()} for p, t in texts.items()],
            "note": source.note,
            "license": "Apache-2.0 (LICENSE beside this file)",
            "generated_by": "python -m meshgate.resources.schemas.generate",
        },
        # Every kind the source defines (`group/Kind`, core kinds with an empty group): a kind
        # named here is a real kind meshgate does not read, never a misspelling of one it does.
        "all_kinds": names,
        "kinds": dict(sorted(kinds.items())),
        "definitions": definitions,
    }


def main(argv: list[str]) -> None:
    """Write every source's reduced schemas into this package."""
    if not argv:
        sys.exit(__doc__)
    cache = Path(argv[0])
    for source in SOURCES:
        if argv[1:] and source.name not in argv[1:]:
            continue
        out = HERE / f"{source.name}.json"
        # One line per kind and definition: small, and a regeneration's diff stays readable.
        doc = build(cache, source)
        lines = ["{", f'"source": {json.dumps(doc["source"])},', f'"all_kinds": {json.dumps(doc["all_kinds"])},']
        for section in ("kinds", "definitions"):
            items = [f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in doc[section].items()]
            lines.append(f'"{section}": {{' + ("\n" + ",\n".join(items) + "\n" if items else "") + "}"
                         + ("," if section == "kinds" else ""))
        lines.append("}")
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{out}: {len(doc['kinds'])} kinds, {len(doc['definitions'])} definitions, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
