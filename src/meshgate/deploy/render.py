"""Everything that runs meshgate in a cluster, in the order to apply it, as data or as text
(`meshgate manifests`): meshgate's CRD, Namespace, ServiceAccount, RBAC, Service, Deployment,
PodDisruptionBudget, GatewayClasses."""

from __future__ import annotations

import json

import yaml

from .. import __version__
from .classes import gateway_classes
from .crds import gateway_parameters_crd
from .deployment import deployment, disruption_budget
from .rbac import rbac_objects
from .service import service
from .settings import NAME, ManifestOptions


def namespace(options: ManifestOptions) -> dict:
    """meshgate's Namespace. Pod Security `restricted` is enforced: meshgate's Pods meet it, and
    nothing else belongs there."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": options.namespace,
                         "labels": {**options.labels, "pod-security.kubernetes.io/enforce": "restricted"}}}


def service_account(options: ManifestOptions) -> dict:
    """The identity the RBAC rules are bound to."""
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": options.namespace, "labels": dict(options.labels)}}


def manifests(options: ManifestOptions) -> list[dict]:
    """Every object, in a stable order in which each one's dependencies come first (the
    Namespace before what lives in it, the ServiceAccount before its bindings and Pods)."""
    budget = disruption_budget(options)
    return [gateway_parameters_crd(options), namespace(options), service_account(options), *rbac_objects(options),
            service(options),
            deployment(options), *([budget] if budget is not None else []), *gateway_classes(options)]


def as_list(objects: list[dict]) -> dict:
    """A v1 List holding `objects` (what `kubectl apply -f` takes as one JSON document)."""
    return {"apiVersion": "v1", "kind": "List", "items": objects}


def to_json(objects: list[dict]) -> str:
    """The objects as one indented JSON v1 List."""
    return json.dumps(as_list(objects), indent=2) + "\n"


def to_yaml(objects: list[dict], options: ManifestOptions) -> str:
    """The objects as a multi-document YAML stream, after a comment saying what rendered it."""
    header = (f"# meshgate {__version__}: rendered by `meshgate manifests --namespace {options.namespace} "
              f"--replicas {options.replicas} --image {options.image_ref}`.\n"
              "# Regenerate rather than edit; apply with `kubectl apply -f` after the Gateway API CRDs.\n")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return header + yaml.dump_all(objects, Dumper=dumper, sort_keys=False, default_flow_style=False, width=120,
                                  explicit_start=True)
