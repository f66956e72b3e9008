"""Prometheus metrics of one control plane (its own registry: no process-wide state)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ..xds.resources import SHORT_NAMES

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Connected proxies, pushes and NACKs by type, translation and push durations."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connected = Gauge("meshgate_connected_proxies", "xDS streams open", ["protocol"], registry=r)
        self.pushes = Counter("meshgate_xds_pushes", "xDS responses sent", ["type"], registry=r)
        self.nacks = Counter("meshgate_xds_nacks", "xDS responses rejected by a proxy", ["type"], registry=r)
        self.push_seconds = Histogram("meshgate_xds_push_seconds", "Time to build one xDS response", ["type"],
                                      buckets=_FAST, registry=r)
        self.translate_seconds = Histogram("meshgate_translate_seconds", "Time to apply a change set",
                                           ["path"], buckets=_FAST, registry=r)
        self.denied_streams = Counter("meshgate_xds_denied_streams",
                                      "xDS streams refused: the node named a Gateway its client certificate does not",
                                      registry=r)
        self.input_errors = Gauge("meshgate_input_errors", "Invalid inputs currently reported", registry=r)

    # ServerEvents
    def stream_opened(self, protocol: str) -> None:
        self.connected.labels(protocol).inc()

    def stream_closed(self, protocol: str) -> None:
        self.connected.labels(protocol).dec()

    def pushed(self, type_url: str, seconds: float) -> None:
        t = SHORT_NAMES.get(type_url, type_url)
        self.pushes.labels(t).inc()
        self.push_seconds.labels(t).observe(seconds)

    def nacked(self, type_url: str) -> None:
        self.nacks.labels(SHORT_NAMES.get(type_url, type_url)).inc()

    def denied(self) -> None:
        self.denied_streams.inc()

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)
