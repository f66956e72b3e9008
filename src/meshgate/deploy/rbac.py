"""meshgate's permissions, least privilege: each rule derived from the code that needs it, so that a
kind the provider starts to read, a status it starts to write or an object it starts to provision
changes the rendering (and the golden deploy/meshgate.yaml shows it in review).

Cluster-wide (ClusterRole): what the provider lists and watches (resources/kinds.py KINDS), the
status subresources the leader patches (providers/kubernetes/provider.py STATUS_KINDS), and what
provisioning lists, creates, replaces and deletes in Gateways' namespaces (cluster/apply.py PATHS).
In meshgate's own namespace only (Role): the leader's Lease, the xDS CA's Secret and the
replicas' proxy-answers ConfigMaps (cluster/proxy_answers.py).

Not granted, because nothing in meshgate does it yet: Events, CustomResourceDefinitions (a CRD
appearing is noticed through API discovery, which every authenticated client may read through
the built-in system:discovery binding), and reads of the route kinds the provider does not take yet.
"""

from __future__ import annotations

from ..cluster.apply import PATHS
from ..providers.kubernetes.provider import STATUS_KINDS
from ..resources import gateway_api, meshgate_kinds
from ..resources.kinds import KINDS
from .settings import CA_SECRET, NAME, ManifestOptions

READ = ("get", "list", "watch")


# Kinds whose resource name the English rule below would get wrong.
_PLURALS = {meshgate_kinds.KIND: meshgate_kinds.PLURAL}


def plural(kind: str) -> str:
    """The resource name of `kind` (lower case, English plural, as the API server names them)."""
    if kind in _PLURALS:
        return _PLURALS[kind]
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return lower[:-1] + "ies"
    return lower + "s"


def _group_of(prefix: str) -> str:
    """The API group of a path prefix: /api/v1 is the core group, /apis/GROUP/VERSION a named one."""
    parts = prefix.strip("/").split("/")
    return "" if parts[0] == "api" else parts[1]


def _by_group(pairs: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """(group, resource) pairs as (group, sorted resources), groups sorted (core first)."""
    groups: dict[str, set[str]] = {}
    for group, resource in pairs:
        groups.setdefault(group, set()).add(resource)
    return [(g, sorted(groups[g])) for g in sorted(groups)]


def read_rules() -> list[dict]:
    """get/list/watch of every kind the provider reads (list-then-watch per kind). Secrets are read
    cluster-wide because a Gateway's listeners may name certificates in any namespace (through a
    ReferenceGrant), ConfigMaps likewise for the CA certificates of its client certificate
    validation; Pods and Nodes give proxies their locality, Namespaces their labels."""
    pairs = [(spec.group, plural(spec.kind)) for spec in KINDS.values()]
    return [{"apiGroups": [g], "resources": rs, "verbs": list(READ)} for g, rs in _by_group(pairs)]


def status_rules() -> list[dict]:
    """patch of the status subresource of the kinds whose status the leader writes (a merge patch
    through /status: the leader never writes an object's spec)."""
    pairs = [(spec.group, plural(spec.kind) + "/status") for spec in KINDS.values() if spec.kind in STATUS_KINDS]
    return [{"apiGroups": [g], "resources": rs, "verbs": ["patch"]} for g, rs in _by_group(pairs)]


def provisioning_rules() -> list[dict]:
    """What the leader does to each served Gateway's proxy objects, in the Gateway's namespace:
    list (cluster-wide, by the managed-by label: RBAC cannot narrow a list by label, so this lets it
    read every object of these kinds), create, update (a PUT that replaces) and delete.
    Plus update of gateways/finalizers: the objects name their Gateway as owner with
    blockOwnerDeletion, which the OwnerReferencesPermissionEnforcement admission plugin (on in
    OpenShift and some managed clusters) allows only to who may update the owner's finalizers."""
    pairs = [(_group_of(prefix), resource) for prefix, resource in PATHS.values()]
    rules = [{"apiGroups": [g], "resources": rs, "verbs": ["list", "create", "update", "delete"]}
             for g, rs in _by_group(pairs)]
    rules.append({"apiGroups": [gateway_api.GROUP], "resources": ["gateways/finalizers"], "verbs": ["update"]})
    return rules


def lease_rules() -> list[dict]:
    """The leader election's Lease (kubernetes-asyncio's LeaseLock: read, create, replace), in
    meshgate's own namespace only. create cannot be narrowed to a name (the object does not exist
    yet); get and update are narrowed to the one Lease."""
    group = "coordination.k8s.io"
    return [{"apiGroups": [group], "resources": ["leases"], "verbs": ["create"]},
            {"apiGroups": [group], "resources": ["leases"], "resourceNames": [NAME], "verbs": ["get", "update"]}]


def ca_rules() -> list[dict]:
    """The xDS CA's Secret (runtime/cluster_pki.py): read by every replica, created by the first
    that finds none; in meshgate's own namespace, get narrowed to the one Secret."""
    return [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [CA_SECRET], "verbs": ["get"]}]


def answers_rules() -> list[dict]:
    """Each replica's ConfigMap of its proxies' NACKs (cluster/proxy_answers.py): written by its
    replica (create, then update), listed by the leader. Their names derive from the replicas'
    identities, so they cannot be narrowed by name."""
    return [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "list", "update"]}]


def _subject(options: ManifestOptions) -> list[dict]:
    return [{"kind": "ServiceAccount", "name": NAME, "namespace": options.namespace}]


def rbac_objects(options: ManifestOptions) -> list[dict]:
    """ClusterRole and its binding, then the namespaced Role and its binding, for meshgate's
    ServiceAccount."""
    labels = options.labels
    cluster_role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": NAME, "labels": dict(labels)},
                    "rules": read_rules() + status_rules() + provisioning_rules()}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": NAME, "namespace": options.namespace, "labels": dict(labels)},
            "rules": lease_rules() + ca_rules() + answers_rules()}

    def binding(kind: str, role_kind: str) -> dict:
        meta: dict = {"name": NAME, **({"namespace": options.namespace} if kind == "RoleBinding" else {}),
                      "labels": dict(labels)}
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": NAME},
                "subjects": _subject(options)}

    return [cluster_role, binding("ClusterRoleBinding", "ClusterRole"), role, binding("RoleBinding", "Role")]
