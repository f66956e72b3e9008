"""Which API resources the provider watches: each kind meshgate reads, at the first of its
versions the API server serves (a CRD may be missing, or installed at an older version)."""

from __future__ import annotations

from dataclasses import dataclass

from ...resources.kinds import KINDS, KindSpec
from .client import ApiError, KubeClient


@dataclass(frozen=True, slots=True)
class ApiResource:
    """One served resource: where its objects are listed and watched."""

    spec: KindSpec
    version: str
    plural: str

    @property
    def kind(self) -> str:
        """The kind's name."""
        return self.spec.kind

    @property
    def api_version(self) -> str:
        """`group/version`, or `v1` for the core group."""
        return f"{self.spec.group}/{self.version}" if self.spec.group else self.version

    def path(self, namespace: str = "", name: str = "") -> str:
        """The collection's path (in `namespace` when given), or one object's."""
        base = f"/apis/{self.spec.group}/{self.version}" if self.spec.group else f"/api/{self.version}"
        ns = f"/namespaces/{namespace}" if namespace and self.spec.namespaced else ""
        return f"{base}{ns}/{self.plural}" + (f"/{name}" if name else "")


def group_version_path(group: str, version: str) -> str:
    """The discovery document of one group version."""
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


async def served(client: KubeClient, spec: KindSpec) -> ApiResource | None:
    """The resource serving `spec`'s kind at the first version the server has; None when no
    version is served (its CRD is not installed). ApiError when the server cannot say."""
    for version in spec.versions:
        try:
            doc = await client.get(group_version_path(spec.group, version))
        except ApiError as exc:
            if exc.code == 404:
                continue
            raise
        for resource in doc.get("resources", []):
            if resource.get("kind") == spec.kind and "/" not in resource.get("name", "/"):
                return ApiResource(spec, version, resource["name"])
    return None


def watched_kinds() -> list[KindSpec]:
    """Every kind meshgate reads, in a stable order (cluster-scoped first: Namespaces and
    classes frame the rest)."""
    return sorted(KINDS.values(), key=lambda s: (s.namespaced, s.group, s.kind))
