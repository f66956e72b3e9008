"""`meshgate manifests`: the Kubernetes objects that run meshgate in a cluster."""

from __future__ import annotations

import click

from ..deploy.settings import DEFAULT_NAMESPACE, DEFAULT_REPLICAS, image_problem, namespace_problem, secret_problem
from .group import main
from .options import check_manifest_option


@main.command()
@click.option("-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, metavar="NS",
              callback=check_manifest_option(namespace_problem), help="The namespace meshgate runs in.")
@click.option("--replicas", type=click.IntRange(min=1), default=DEFAULT_REPLICAS, show_default=True,
              help="meshgate replicas (each serves xDS; the Lease holder also writes status and provisions).")
@click.option("--image", metavar="IMG", callback=check_manifest_option(image_problem),
              help="meshgate's image (default: ghcr.io/meshgate/meshgate:<this version>).")
@click.option("--rate-limit-redis-secret", metavar="SECRET", callback=check_manifest_option(secret_problem),
              help="Keep the global rate limit counters in Redis, shared by the replicas: the Redis URL is key "
                   "'url' of this Secret in meshgate's namespace (default: in memory, per replica).")
@click.option("-o", "--output", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="yaml: a multi-document stream; json: one v1 List.")
def manifests(namespace: str, replicas: int, image: str | None, rate_limit_redis_secret: str | None,
              fmt: str) -> None:
    """The Kubernetes objects that run meshgate in a cluster: Namespace, ServiceAccount, RBAC,
    Service, Deployment, PodDisruptionBudget and meshgate's GatewayClasses (`kubectl apply -f -`)."""
    from ..deploy.render import manifests as render
    from ..deploy.render import to_json, to_yaml
    from ..deploy.settings import ManifestOptions

    options = ManifestOptions(namespace, replicas, image or "", rate_limit_redis_secret or "")
    objects = render(options)
    click.echo(to_json(objects) if fmt == "json" else to_yaml(objects, options), nl=False)
