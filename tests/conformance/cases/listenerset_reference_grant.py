"""ListenerSetReferenceGrant (conformance/tests/listenerset-reference-grant.go): a ListenerSet's
certificate in another namespace needs a ReferenceGrant from ListenerSets (the Gateway's grant
does not extend to its sets); without one the listener is RefNotPermitted and the set, with no
other listener, ListenersNotValid."""

from ..expect import INFRA, Key
from ..listener_set_checks import FEATURES
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    t.gateway_condition(Key(INFRA, "gateway-with-listener-sets-test-reference-grant"), Condition("Accepted"))
    granted = Key(INFRA, "listenerset-with-reference-grant")
    t.object_condition("ListenerSet", granted, Condition("Accepted", "True"))
    t.object_condition("ListenerSet", granted, Condition("Programmed", "True"))
    t.listener_conditions("ListenerSet", granted, (Condition("ResolvedRefs", "True"),),
                          "listenerset-with-reference-grant-listener")
    refused = Key("gateway-api-listener-sets-test-reference-grant-ns", "listenerset-without-reference-grant")
    t.object_condition("ListenerSet", refused, Condition("Accepted", "False", "ListenersNotValid"))
    t.object_condition("ListenerSet", refused, Condition("Programmed", "False", "ListenersNotValid"))
    t.listener_conditions("ListenerSet", refused, (Condition("ResolvedRefs", "False", "RefNotPermitted"),),
                          "listenerset-without-reference-grant-listener")


TEST = ConformanceTest(
    short_name="ListenerSetReferenceGrant",
    description="ListenerSet with reference grant support",
    manifests=("listenerset-reference-grant.yaml",),
    features=(*FEATURES, "ReferenceGrant"),
    body=body,
    source="conformance/tests/listenerset-reference-grant.go @ 4564255ac2c3",
)
