"""The API's rules for each verb: what create, update, patch and delete do to an object, as the
real server's registry strategies do (uid, creationTimestamp, generation, resourceVersion
preconditions, status subresource isolation, finalizers, CRDs adding and removing resources)."""

from __future__ import annotations

import copy
import datetime
import ipaddress
import random
import re
import uuid
from collections.abc import Callable
from typing import Any

from . import errors
from .defaults import apply_defaults, crd_status
from .patch import apply_patch
from .resources import CRD_KEY, Registry, ResourceType
from .selectors import Selector
from .store import Store, name_of, namespace_of

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Server-set metadata a client cannot change by update or patch.
_SERVER_METADATA = ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds",
                    "namespace", "name")
BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def now() -> str:
    """The current time as the API writes timestamps (RFC 3339, seconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec_part(obj: dict[str, Any]) -> dict[str, Any]:
    # What generation counts: everything but metadata and status.
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Verbs:
    """Create, update, patch, delete, get and list with the API's semantics, over a Store."""

    def __init__(self, store: Store, registry: Registry, service_cidr: str = "127.96.0.0/16") -> None:
        self.store = store
        self.registry = registry
        self.service_cidr = ipaddress.IPv4Network(service_cidr)
        # Told of every object actually removed (the garbage collector's input).
        self.on_removed: Callable[[ResourceType, dict[str, Any]], None] = lambda rtype, obj: None

    def bootstrap(self) -> None:
        """Create the namespaces every cluster has, and serve the CRDs already stored."""
        for name in BUILTIN_NAMESPACES:
            if self.store.get(("", "namespaces"), "", name) is None:
                self.create(self._type(("", "namespaces")), "", {"metadata": {"name": name}})
        self.refresh_crds()

    def _type(self, key: tuple[str, str]) -> ResourceType:
        rtype = self.registry.get(*key)
        assert rtype is not None
        return rtype

    def refresh_crds(self) -> None:
        """Serve exactly the resources the stored CRDs define."""
        self.registry.set_crds(self.store.items(CRD_KEY))

    # -- reads -------------------------------------------------------------------------------

    def get(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        """The object, or 404 NotFound."""
        obj = self.store.get(rtype.key, namespace, name)
        if obj is None:
            raise errors.not_found(rtype.plural, rtype.group, name)
        return copy.deepcopy(obj)

    def list(self, rtype: ResourceType, namespace: str | None, selector: Selector) -> tuple[list[dict[str, Any]], int]:
        """The selected objects and the resourceVersion the list is consistent at."""
        items = [copy.deepcopy(o) for o in self.store.items(rtype.key, namespace) if selector.matches(o)]
        return items, self.store.rv

    # -- writes ------------------------------------------------------------------------------

    def _check_identity(self, rtype: ResourceType, namespace: str, body: dict[str, Any], version: str) -> None:
        if not isinstance(body, dict):
            raise errors.ApiError("BadRequest", "the body of the request must be a JSON object")
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if api_version and api_version not in {rtype.api_version(v) for v in rtype.versions}:
            raise errors.ApiError("BadRequest", f"the API version in the data ({api_version}) does not match the "
                                                f"expected API version ({rtype.api_version(version)})")
        if kind and kind != rtype.kind:
            raise errors.ApiError("BadRequest", f"the kind in the data ({kind}) does not match the expected kind "
                                                f"({rtype.kind})")
        meta = body.setdefault("metadata", {})
        if rtype.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.ApiError("BadRequest", "the namespace of the provided object does not match the "
                                                    "namespace sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)

    def _check_namespace(self, namespace: str) -> None:
        ns = self.store.get(("", "namespaces"), "", namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.ApiError("Forbidden", f"unable to create new content in namespace {namespace} because it "
                                               f"is being terminated")

    def create(self, rtype: ResourceType, namespace: str, body: dict[str, Any], version: str = "") -> dict[str, Any]:
        """POST: a new object with uid, creationTimestamp, generation 1 and a resourceVersion."""
        body = copy.deepcopy(body)
        self._check_identity(rtype, namespace, body, version or rtype.versions[0])
        meta = body["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            suffix = "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))
            meta["name"] = meta["generateName"] + suffix
        name = meta.get("name") or ""
        if not name:
            raise errors.invalid(rtype.kind, rtype.group, "", "metadata.name", "name or generateName is required")
        if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
            raise errors.invalid(rtype.kind, rtype.group, name, "metadata.name",
                                 "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters,"
                                 " '-' or '.', and must start and end with an alphanumeric character")
        if meta.get("resourceVersion"):
            raise errors.invalid(rtype.kind, rtype.group, name, "metadata.resourceVersion",
                                 "resourceVersion should not be set on objects to be created")
        if rtype.namespaced:
            self._check_namespace(namespace)
        if self.store.get(rtype.key, meta.get("namespace", ""), name) is not None:
            raise errors.already_exists(rtype.plural, rtype.group, name)
        if rtype.key == CRD_KEY:
            self._check_crd(body)
        for server_set in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(server_set, None)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
        body["apiVersion"], body["kind"] = rtype.api_version(), rtype.kind
        if rtype.status:
            body.pop("status", None)  # set only through the status subresource
        ips = {(o.get("spec") or {}).get("clusterIP", "") for o in self.store.items(("", "services"))}
        apply_defaults(rtype, body, ips, self.service_cidr, now())
        stored = self.store.write(rtype.key, body, "ADDED")
        if rtype.key == CRD_KEY:
            self.refresh_crds()
        return copy.deepcopy(stored)

    def _check_crd(self, crd: dict[str, Any]) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        expected = f"{names.get('plural')}.{spec.get('group')}"
        if name_of(crd) != expected:
            raise errors.invalid("CustomResourceDefinition", "apiextensions.k8s.io", name_of(crd), "metadata.name",
                                 f'must be spec.names.plural+"."+spec.group ({expected})')
        if sum(1 for v in spec.get("versions") or [] if v.get("storage")) != 1:
            raise errors.invalid("CustomResourceDefinition", "apiextensions.k8s.io", name_of(crd), "spec.versions",
                                 "must have exactly one version marked as storage version")

    def update(self, rtype: ResourceType, namespace: str, name: str, body: dict[str, Any],
               status: bool = False, version: str = "") -> dict[str, Any]:
        """PUT (of the object or its status subresource), with the resourceVersion precondition."""
        body = copy.deepcopy(body)
        self._check_identity(rtype, namespace, body, version or rtype.versions[0])
        if body["metadata"].get("name") != name:
            raise errors.ApiError("BadRequest", "the name of the object does not match the name on the URL")
        old = self.store.get(rtype.key, namespace, name)
        if old is None:
            raise errors.not_found(rtype.plural, rtype.group, name)
        sent_rv = body["metadata"].get("resourceVersion")
        if not sent_rv and rtype.custom:
            raise errors.invalid(rtype.kind, rtype.group, name, "metadata.resourceVersion",
                                 "must be specified for an update")
        if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rtype.plural, rtype.group, name, "the object has been modified; please apply your "
                                                                   "changes to the latest version and try again")
        return self._replace(rtype, old, body, status)

    def patch(self, rtype: ResourceType, namespace: str, name: str, content_type: str, body: bytes,
              status: bool = False) -> dict[str, Any]:
        """PATCH (merge, JSON or strategic merge), of the object or its status subresource. A
        metadata.resourceVersion in the patch is a precondition, as with update."""
        old = self.store.get(rtype.key, namespace, name)
        if old is None:
            raise errors.not_found(rtype.plural, rtype.group, name)
        new = apply_patch(content_type, old, body, rtype.custom)
        if new.get("metadata", {}).get("resourceVersion") != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rtype.plural, rtype.group, name, "the object has been modified; please apply your "
                                                                   "changes to the latest version and try again")
        if name_of(new) != name or (rtype.namespaced and namespace_of(new) != namespace):
            raise errors.ApiError("BadRequest", "a patch cannot change the name or namespace of an object")
        return self._replace(rtype, old, new, status)

    def _replace(self, rtype: ResourceType, old: dict[str, Any], new: dict[str, Any], status: bool) -> dict[str, Any]:
        if status:
            # The status subresource changes status only.
            merged = copy.deepcopy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            new = merged
        else:
            meta = new.setdefault("metadata", {})
            for key in _SERVER_METADATA:
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
                else:
                    meta.pop(key, None)
            if rtype.status:
                # Writes to the object itself leave its status as it was.
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            if _spec_part(new) != _spec_part(old):
                meta["generation"] = old["metadata"].get("generation", 1) + 1
        new["apiVersion"], new["kind"] = old["apiVersion"], old["kind"]
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old:
            return copy.deepcopy(old)  # a no-op write takes no new resourceVersion and sends no event
        if rtype.key == CRD_KEY and not status:
            self._check_crd(new)
            new["status"] = crd_status(new, now())
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            # The last finalizer went: the deletion completes (watchers see DELETED only).
            return self._remove(rtype, new)
        stored = self.store.write(rtype.key, new, "MODIFIED")
        if rtype.key == CRD_KEY:
            self.refresh_crds()
        return copy.deepcopy(stored)

    def delete(self, rtype: ResourceType, namespace: str, name: str, options: dict[str, Any] | None = None
               ) -> dict[str, Any]:
        """DELETE: removed at once unless it has finalizers (then deletionTimestamp is set and it
        goes when the last finalizer is removed); dependents go later, by the garbage collector."""
        options = options or {}
        old = self.store.get(rtype.key, namespace, name)
        if old is None:
            raise errors.not_found(rtype.plural, rtype.group, name)
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
            raise errors.conflict(rtype.plural, rtype.group, name, "Precondition failed: UID in precondition: "
                                                                   f"{pre['uid']}, UID in object meta: "
                                                                   f"{old['metadata']['uid']}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rtype.plural, rtype.group, name, "the object has been modified; please apply your "
                                                                   "changes to the latest version and try again")
        if options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents"):
            self.orphan_dependents(old["metadata"]["uid"])
        if old["metadata"].get("finalizers"):
            if old["metadata"].get("deletionTimestamp"):
                return copy.deepcopy(old)
            marked = copy.deepcopy(old)
            marked["metadata"].update(deletionTimestamp=now(), deletionGracePeriodSeconds=0)
            return copy.deepcopy(self.store.write(rtype.key, marked, "MODIFIED"))
        if rtype.key == ("", "namespaces"):
            # Simplified namespace lifecycle: marked Terminating, emptied by the collector, then gone.
            marked = copy.deepcopy(old)
            marked["metadata"].update(deletionTimestamp=now(), deletionGracePeriodSeconds=0)
            marked["status"] = {"phase": "Terminating"}
            stored = self.store.write(rtype.key, marked, "MODIFIED")
            self.on_removed(rtype, stored)
            return copy.deepcopy(stored)
        return self._remove(rtype, old)

    def _remove(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        gone = self.store.remove(rtype.key, namespace_of(obj), name_of(obj), last=obj)
        assert gone is not None
        if rtype.key == CRD_KEY:
            defined = self.registry.get(gone["spec"]["group"], gone["spec"]["names"]["plural"])
            if defined is not None:
                # The CRD's objects go with it, then its resource stops being served.
                for item in self.store.items(defined.key):
                    self.store.remove(defined.key, namespace_of(item), name_of(item))
                self.store.drop_watches(defined.key)
            self.refresh_crds()
        self.on_removed(rtype, gone)
        return copy.deepcopy(gone)

    def orphan_dependents(self, owner_uid: str) -> None:
        """Remove the ownerReferences to `owner_uid` from every object (propagationPolicy Orphan)."""
        for key, obj in self.store.all_objects():
            refs = obj["metadata"].get("ownerReferences") or []
            kept = [r for r in refs if r.get("uid") != owner_uid]
            if len(kept) != len(refs):
                changed = copy.deepcopy(obj)
                changed["metadata"]["ownerReferences"] = kept
                if not kept:
                    del changed["metadata"]["ownerReferences"]
                self.store.write(key, changed, "MODIFIED")

    def finish_namespace(self, name: str) -> None:
        """Remove a terminating namespace if its contents are all gone (objects held by finalizers
        keep it Terminating until they go)."""
        ns = self.store.get(("", "namespaces"), "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp") or ns["metadata"].get("finalizers"):
            return
        if not any(namespace_of(obj) == name for _, obj in self.store.all_objects()):
            self.store.remove(("", "namespaces"), "", name)

    def delete_namespaced(self, rtype: ResourceType, namespace: str) -> None:
        """Delete every object of a resource in a namespace (the namespace controller's sweep)."""
        for item in self.store.items(rtype.key, namespace):
            try:
                self.delete(rtype, namespace, name_of(item))
            except errors.ApiError:
                continue  # already gone


def version_string() -> dict[str, str]:
    """What /version answers."""
    return {"major": "1", "minor": "34", "gitVersion": "v1.34.0-meshgate-emulator", "platform": "linux/amd64",
            "goVersion": "python", "compiler": "python", "gitCommit": "", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z"}
