"""A Kubernetes API server emulator for meshgate's Kubernetes mode tests (issue 15): no real API
server can run on the test machines, so this one serves the API conventions meshgate's provider
relies on, over real HTTP (or HTTPS) on 127.0.0.1, to a real client (kubernetes-asyncio).

Why not kmock (PyPI `kmock` 0.8, by kopf's maintainer), evaluated first: it is an HTTP mock
with a simple in-memory object emulator, not an API server. Its list answers
`metadata.resourceVersion: "..."` (a literal placeholder); objects get no resourceVersion, uid,
generation or creationTimestamp; a watch ignores resourceVersion (it replays every object as
ADDED, then live changes), sends no bookmarks, never answers 410 and ignores timeoutSeconds;
updates are dict merges with no optimistic concurrency (no 409 Conflict on a stale
resourceVersion); there is no status subresource isolation, no CRD lifecycle (resources are known
up front or from stored objects), no garbage collection by ownerReferences. Those are exactly
what meshgate's provider must be tested against, so the emulator is written here on aiohttp.

What it serves (each module's docstring has the details and the simplifications):

- discovery (`discovery.py`): /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION, /version,
  /healthz; built-in kinds (`resources.py`), and custom kinds only while their CRD exists.
- objects (`verbs.py`, `store.py`): get, list (labelSelector, fieldSelector, limit/continue),
  create (uid, creationTimestamp, generation 1, generateName, 409 AlreadyExists, 404 in a missing
  namespace), update (409 Conflict on a stale resourceVersion; custom resources require one),
  patch (`patch.py`: merge, JSON and simplified strategic merge), delete (finalizers and
  deletionTimestamp, preconditions, Orphan), deletecollection; status subresource isolation;
  generation bumped only by changes outside metadata and status; a write that changes nothing
  takes no resourceVersion; server defaults for Services (clusterIP from a loopback range),
  Deployments, Namespaces, CRDs (`defaults.py`).
- watch (`watch.py`): ADDED/MODIFIED/DELETED/BOOKMARK/ERROR lines, a bounded history, 410
  Expired for a resourceVersion older than it, timeoutSeconds, selector transitions.
- errors (`errors.py`): Status objects with the real reasons and codes.
- garbage collection (`gc.py`) of dependents by ownerReferences, in the background.
- test controls (`controls.py`, also as Emulator methods): forbid a verb on a resource (403),
  compact the history, drop all watches, send bookmarks now, wait for the collector; restart on
  the same port keeping objects and resourceVersions (`Emulator.restart`, and a state file);
  resource requests counted per user, method and path (`Emulator.count`, with more users'
  tokens by `Emulator.add_user`), to count writes such as status writes per replica.
- `python -m tests.kubeapi` (`__main__.py`) runs it standalone and writes a kubeconfig
  (`kubeconfig.py`); `fixture.py` starts one in-process or as a subprocess for tests.

Not emulated: server-side apply (415), schema validation, defaulting and pruning of custom
resources, admission webhooks, controllers (no Deployment rollout, no EndpointSlices from
Services: tests write those), aggregated discovery, protobuf, tables, authentication other than
one bearer token, past snapshots (a list at an exact old resourceVersion gets 410).
"""

from .fixture import Process, Running, emulator_process, running_emulator
from .server import Emulator

__all__ = ["Emulator", "Process", "Running", "emulator_process", "running_emulator"]
