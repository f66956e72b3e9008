"""What the emulator serves: each resource type (group, versions, plural, kind, scope, whether it
has a status subresource), the built-in ones, and the ones a CustomResourceDefinition adds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One resource of the API, e.g. apps/v1 deployments. Objects are stored once per (group,
    plural) and served under every version in `versions` (no conversion: as a CRD with strategy None)."""

    group: str
    versions: tuple[str, ...]
    plural: str
    kind: str
    namespaced: bool
    status: bool = False
    singular: str = ""
    short_names: tuple[str, ...] = ()
    custom: bool = False  # from a CRD: updates need a resourceVersion, no strategic merge patch
    categories: tuple[str, ...] = field(default=())

    @property
    def key(self) -> tuple[str, str]:
        """The storage key of this resource: (group, plural)."""
        return (self.group, self.plural)

    def api_version(self, version: str | None = None) -> str:
        """`group/version` (or just `version` for the core group) for objects served at `version`."""
        version = version or self.versions[0]
        return f"{self.group}/{version}" if self.group else version


def _builtin(group: str, version: str, plural: str, kind: str, namespaced: bool, status: bool = False,
             short: tuple[str, ...] = ()) -> ResourceType:
    return ResourceType(group, (version,), plural, kind, namespaced, status, kind.lower(), short)


def builtin_types() -> list[ResourceType]:
    """The built-in resources a cluster serves that meshgate reads, writes or provisions."""
    return [
        _builtin("", "v1", "namespaces", "Namespace", False, True, ("ns",)),
        _builtin("", "v1", "nodes", "Node", False, True, ("no",)),
        _builtin("", "v1", "pods", "Pod", True, True, ("po",)),
        _builtin("", "v1", "services", "Service", True, True, ("svc",)),
        _builtin("", "v1", "endpoints", "Endpoints", True, False, ("ep",)),
        _builtin("", "v1", "secrets", "Secret", True),
        _builtin("", "v1", "configmaps", "ConfigMap", True, False, ("cm",)),
        _builtin("", "v1", "serviceaccounts", "ServiceAccount", True, False, ("sa",)),
        _builtin("", "v1", "events", "Event", True, False, ("ev",)),
        _builtin("apps", "v1", "deployments", "Deployment", True, True, ("deploy",)),
        _builtin("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
        _builtin("coordination.k8s.io", "v1", "leases", "Lease", True),
        _builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, True, ("pdb",)),
        _builtin("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, True, ("hpa",)),
        _builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
        _builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
        _builtin("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
        _builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
        _builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False, True,
                 ("crd", "crds")),
    ]


CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def crd_type(crd: dict[str, Any]) -> ResourceType | None:
    """The resource a CRD object defines, or None when it serves no version. The storage version
    is listed first (it is what `api_version()` defaults to)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    served = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not served or not names.get("plural") or not names.get("kind"):
        return None
    served.sort(key=lambda v: not v.get("storage", False))
    status = any("status" in (v.get("subresources") or {}) for v in served)
    return ResourceType(
        group=spec.get("group", ""), versions=tuple(v["name"] for v in served), plural=names["plural"],
        kind=names["kind"], namespaced=spec.get("scope", "Namespaced") == "Namespaced", status=status,
        singular=names.get("singular", names["kind"].lower()), short_names=tuple(names.get("shortNames") or ()),
        custom=True, categories=tuple(names.get("categories") or ()))


class Registry:
    """The resource types served now: the built-ins plus one per established CRD."""

    def __init__(self) -> None:
        self._builtin = {t.key: t for t in builtin_types()}
        self._custom: dict[tuple[str, str], ResourceType] = {}

    def set_crds(self, crds: list[dict[str, Any]]) -> None:
        """Replace the custom resources with the ones these CRD objects define."""
        custom = {}
        for crd in crds:
            rtype = crd_type(crd)
            if rtype is not None and rtype.key not in self._builtin:
                custom[rtype.key] = rtype
        self._custom = custom

    def all(self) -> list[ResourceType]:
        """Every served resource type, built-ins first."""
        return [*self._builtin.values(), *self._custom.values()]

    def get(self, group: str, plural: str) -> ResourceType | None:
        """The type stored under (group, plural), if served."""
        return self._builtin.get((group, plural)) or self._custom.get((group, plural))

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type a request path names, if that group serves it at that version."""
        rtype = self.get(group, plural)
        return rtype if rtype is not None and version in rtype.versions else None

    def group_versions(self) -> dict[str, list[str]]:
        """Each served group (the core group as "") with its versions, preferred first."""
        groups: dict[str, list[str]] = {}
        for rtype in self.all():
            versions = groups.setdefault(rtype.group, [])
            for version in rtype.versions:
                if version not in versions:
                    versions.append(version)
        return groups
