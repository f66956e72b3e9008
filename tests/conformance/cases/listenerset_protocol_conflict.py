"""ListenerSetProtocolConflict (conformance/tests/listenerset-protocol-conflict.go): listener precedence. The
Gateway's listeners come first, then each ListenerSet's in order: a set's listener that conflicts
(ProtocolConflict) with an earlier one is refused, the set stays accepted while another listener of it
is valid, and a set whose every listener is refused is ListenersNotValid."""

from ..listener_set_checks import FEATURES, expect_precedence
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    expect_precedence(t, "protocol", "ProtocolConflict")


TEST = ConformanceTest(
    short_name="ListenerSetProtocolConflict",
    description="Validate Listener Precedence when a ListenerSet listener has a protocol conflict",
    manifests=("listenerset-protocol-conflict.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/listenerset-protocol-conflict.go @ 4564255ac2c3",
)
