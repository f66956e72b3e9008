"""What the upstream BackendTLSPolicy tests share (conformance/tests/backendtlspolicy*.go): the
kind, the conditions they expect, and the request they send to one of the policies' Services."""

from __future__ import annotations

from .expect import INFRA, Expect, Key, Request, Response
from .suite import Checks, Condition

KIND = "BackendTLSPolicy"
FEATURES = ("Gateway", "HTTPRoute", "BackendTLSPolicy")
SAME_NAMESPACE = Key(INFRA, "same-namespace")
ACCEPTED = Condition("Accepted", "True", "Accepted")
RESOLVED_REFS = Condition("ResolvedRefs", "True", "ResolvedRefs")
CONFLICTED = Condition("Accepted", "False", "Conflicted")
NO_VALID_CA = Condition("Accepted", "False", "NoValidCACertificate")
INVALID_CA_REF = Condition("ResolvedRefs", "False", "InvalidCACertificateRef")
INVALID_KIND = Condition("ResolvedRefs", "False", "InvalidKind")
SERVER_ERRORS = Response(statuses=(500, 502, 503))


def policy_has(t: Checks, policy: str, *conditions: Condition, gateway: Key = SAME_NAMESPACE,
               generation: int = 1) -> None:
    """BackendTLSPolicyMustHaveCondition for each condition, on the policy's entry for `gateway`."""
    for condition in conditions:
        t.policy_condition(KIND, Key(INFRA, policy), gateway, condition, generation)


def to(path: str, host: str = "abc.example.com", response: Response | None = None) -> Expect:
    """A request for `path` on `host`, answered by the echo backend (200) unless `response` says."""
    return Expect(Request(host=host, path=path), response=response or Response(status=200))
