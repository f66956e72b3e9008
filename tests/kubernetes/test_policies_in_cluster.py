"""Envoy Gateway's policies in a cluster: a BackendTrafficPolicy (and a ClientTrafficPolicy) created through the API reaches
the provisioned Envoy (its fault injection answers), its status is written on it (Accepted, the
Gateway as ancestor), and deleting it takes its effect away."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from .harness import NAMESPACE, Cluster, cluster, create_web, echo, free_port, kubelet, run, serving

POLICY = {
    "apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "BackendTrafficPolicy",
    "metadata": {"name": "teapot", "namespace": NAMESPACE},
    "spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web"}],
             "faultInjection": {"abort": {"httpStatus": 418}}},
}


@contextlib.asynccontextmanager
async def web_served(tmp_path: Path) -> AsyncIterator[Cluster]:
    """The API emulator with the web Gateway, Service and route (its echo backend running),
    meshgate serving it and the test kubelet running its Envoy."""
    async with cluster(tmp_path) as c:
        with echo(f"{c.base}.11", 9001, "web-1"):
            await create_web(c)
            async with serving(c, free_port()), kubelet(c):
                yield c


def test_a_policy_created_through_the_api_is_applied_and_its_status_written(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with web_served(tmp_path) as c:
            assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
            await c.create(POLICY)
            await c.until_reply("/", lambda r: r.status == 418)

            async def accepted() -> dict | None:
                cond = await c.condition("BackendTrafficPolicy", "teapot", "Accepted")
                return cond if cond is not None and cond.get("status") == "True" else None
            await c.until("the policy's Accepted condition", accepted)
            policy = await c.get("BackendTrafficPolicy", NAMESPACE, "teapot")
            assert policy is not None
            ancestors = policy["status"]["ancestors"]
            assert [a["ancestorRef"]["name"] for a in ancestors] == ["gw"]
            await c.delete("BackendTrafficPolicy", NAMESPACE, "teapot")
            assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"

    run(scenario())


CLIENT_POLICY = {
    "apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "ClientTrafficPolicy",
    "metadata": {"name": "early", "namespace": NAMESPACE},
    "spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}],
             "headers": {"earlyRequestHeaders": {"set": [{"name": "x-early", "value": "set"}]}}},
}


def test_a_client_traffic_policy_created_through_the_api_is_applied_and_its_status_written(tmp_path: Path) -> None:
    """A ClientTrafficPolicy on the Gateway: the Envoy's connection manager sets a header before
    routing (the echo sees it), its status names the Gateway, deleting it takes it away."""
    async def scenario() -> None:
        async with web_served(tmp_path) as c:
            assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
            await c.create(CLIENT_POLICY)
            await c.until_reply("/", lambda r: r.header("x-early") == ["set"])

            async def accepted() -> dict | None:
                cond = await c.condition("ClientTrafficPolicy", "early", "Accepted")
                return cond if cond is not None and cond.get("status") == "True" else None
            await c.until("the policy's Accepted condition", accepted)
            policy = await c.get("ClientTrafficPolicy", NAMESPACE, "early")
            assert policy is not None
            assert [a["ancestorRef"]["name"] for a in policy["status"]["ancestors"]] == ["gw"]
            await c.delete("ClientTrafficPolicy", NAMESPACE, "early")
            await c.until_reply("/", lambda r: r.status == 200 and r.header("x-early") == [])

    run(scenario())


SECURITY = {
    "apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "SecurityPolicy",
    "metadata": {"name": "locked", "namespace": NAMESPACE},
    "spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web"}],
             "basicAuth": {"users": {"name": "users"}}},
}
USERS = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "users", "namespace": NAMESPACE},
         "stringData": {".htpasswd": "alice:{SHA}rSPWkcFBBHn8uTxd4V5+7G6/UoM=\n"}}


def test_a_security_policy_fails_closed_until_its_secret_is_created(tmp_path: Path) -> None:
    """A SecurityPolicy created through the API whose Secret does not exist yet: the route answers
    500 and the policy says Invalid; the Secret created: it asks for credentials (401) and the
    policy is Accepted."""
    async def scenario() -> None:
        async with web_served(tmp_path) as c:
            assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
            await c.create(SECURITY)
            await c.until_reply("/", lambda r: r.status == 500)

            async def accepted(status: str) -> dict | None:
                cond = await c.condition("SecurityPolicy", "locked", "Accepted")
                return cond if cond is not None and cond.get("status") == status else None
            invalid = await c.until("the policy's Accepted False", lambda: accepted("False"))
            assert invalid["reason"] == "Invalid" and f"Secret {NAMESPACE}/users" in invalid["message"]
            await c.create(USERS)
            await c.until_reply("/", lambda r: r.status == 401)
            await c.until("the policy's Accepted True", lambda: accepted("True"))
            await c.delete("SecurityPolicy", NAMESPACE, "locked")
            assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"

    run(scenario())


def test_an_istio_authorization_policy_created_through_the_api_denies(tmp_path: Path) -> None:
    """An Istio AuthorizationPolicy on the Gateway, created through the API: the provisioned
    Envoy refuses the path it denies (403) and serves the rest; deleting it lifts the denial."""
    policy = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
              "metadata": {"name": "no-admin", "namespace": NAMESPACE},
              "spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}],
                       "action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]}}

    async def scenario() -> None:
        async with web_served(tmp_path) as c:
            assert (await c.until_reply("/admin/x", lambda r: r.status == 200)).pod == "web-1"
            await c.create(policy)
            await c.until_reply("/admin/x", lambda r: r.status == 403)
            assert (await c.request("/shop")).status == 200
            await c.delete("AuthorizationPolicy", NAMESPACE, "no-admin")
            await c.until_reply("/admin/x", lambda r: r.status == 200)

    run(scenario())
