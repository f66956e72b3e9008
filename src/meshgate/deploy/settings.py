"""What `meshgate manifests` is asked for (namespace, replicas, image), checked, and the names and
ports every rendered object agrees on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import __version__
from ..resources.formats import dns1123_label, dns1123_subdomain

NAME = "meshgate"  # the ServiceAccount, RBAC objects, Service, Deployment, PDB and the leader's Lease
CA_SECRET = "meshgate-xds-ca"  # the xDS CA's Secret (runtime/cluster_pki.py CA_SECRET, checked by a test)
DEFAULT_NAMESPACE = "meshgate-system"  # runtime/in_cluster.py's fallback when $POD_NAMESPACE is unset
DEFAULT_REPLICAS = 2
# Where the project publishes its image (pyproject's Source is github.com/meshgate/meshgate), tagged
# with the version of the package that renders the manifests: a rendering and its image agree.
IMAGE_REPOSITORY = "ghcr.io/meshgate/meshgate"

# Provisioned proxies dial meshgate.<namespace>.svc at cluster/render.py ProxyDefaults' port (a
# test holds the two equal; not imported here, so that the CLI starts without the renderer).
XDS_PORT = 18000
DEBUG_PORT = 18001  # /healthz, /readyz, /metrics (serve's --debug-port default, given explicitly anyway)

# The environment variable `serve --rate-limit-redis` is read from (cli/options.py uses this one), and
# the key of the Secret that holds the URL for it (`meshgate manifests --rate-limit-redis-secret`).
REDIS_URL_ENV = "MESHGATE_RATE_LIMIT_REDIS"
REDIS_URL_SECRET_KEY = "url"

# The labels of meshgate's own objects. Never app.kubernetes.io/managed-by=meshgate: that label
# marks what the provisioner owns, and it deletes such objects when no Gateway wants them.
SELECTOR = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "control-plane"}

# Docker's reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest].
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IMAGE = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?")
_MAX_NAME = 255  # the repository name's limit in the same grammar


def default_image() -> str:
    """`ghcr.io/meshgate/meshgate:<version>`, the image built by the Dockerfile for this version."""
    return f"{IMAGE_REPOSITORY}:{__version__}"


def namespace_problem(value: str) -> str | None:
    """Why `value` cannot name a Namespace (a DNS-1123 label), or None."""
    return dns1123_label(value)


def secret_problem(value: str) -> str | None:
    """Why `value` cannot name a Secret (a DNS-1123 subdomain), or None."""
    return dns1123_subdomain(value)


def image_problem(value: str) -> str | None:
    """Why `value` is not an image reference a kubelet could pull, or None."""
    if not _IMAGE.fullmatch(value):
        return "is not an image reference such as registry.example.com/team/meshgate:1.2.3 or name@sha256:..."
    name = value.split("@", 1)[0]
    if name.rsplit("/", 1)[-1].count(":") == 1:
        name = name.rsplit(":", 1)[0]
    if len(name) > _MAX_NAME:
        return f"has a repository name longer than {_MAX_NAME} characters"
    return None


@dataclass(frozen=True, slots=True)
class ManifestOptions:
    """The choices the manifests are rendered for (checked on construction)."""

    namespace: str = DEFAULT_NAMESPACE
    replicas: int = DEFAULT_REPLICAS
    image: str = ""  # empty: default_image()
    # A Secret in `namespace` whose key "url" is the Redis URL of the global rate limit counters
    # (empty: none, counters in memory per replica).
    rate_limit_redis_secret: str = ""

    def __post_init__(self) -> None:
        problem = namespace_problem(self.namespace)
        if problem:
            raise ValueError(f"namespace {self.namespace!r} {problem}")
        if isinstance(self.replicas, bool) or not isinstance(self.replicas, int) or self.replicas < 1:
            raise ValueError(f"replicas must be a whole number of at least 1, not {self.replicas!r}")
        problem = image_problem(self.image) if self.image else None
        if problem:
            raise ValueError(f"image {self.image!r} {problem}")
        problem = secret_problem(self.rate_limit_redis_secret) if self.rate_limit_redis_secret else None
        if problem:
            raise ValueError(f"Secret name {self.rate_limit_redis_secret!r} {problem}")

    @property
    def image_ref(self) -> str:
        """The image to run."""
        return self.image or default_image()

    @property
    def labels(self) -> dict[str, str]:
        """Every rendered object's labels (the selector's, plus the version)."""
        return {**SELECTOR, "app.kubernetes.io/version": __version__}
