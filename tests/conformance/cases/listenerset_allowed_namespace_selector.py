"""ListenerSetAllowedNamespaceSelector (conformance/tests/listenerset-allowed-namespace-selector.go): allowedListeners from Selector: the set in a selected namespace attaches, one in another is NotAllowed."""

from ..expect import INFRA, Key
from ..listener_set_checks import FEATURES, gateway_accepted_with_sets, set_attached, set_refused
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    gateway_accepted_with_sets(t, Key(INFRA, "gateway-allows-listenerset-in-selected-namespace"), 1)
    set_attached(t, Key("gateway-api-listenerset-selector-allowed-ns", "listenerset-in-selected-namespace"), "listenerset-in-selected-namespace-listener")
    set_refused(t, Key("gateway-api-listenerset-selector-not-allowed-ns", "listenerset-not-in-selected-namespace"), "NotAllowed")


TEST = ConformanceTest(
    short_name="ListenerSetAllowedNamespaceSelector",
    description="ListenerSets in the namespaces that match the labels are allowed when `allowedListeners` is set to `Selector`",
    manifests=("listenerset-allowed-namespace-selector.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/listenerset-allowed-namespace-selector.go @ 4564255ac2c3",
)
