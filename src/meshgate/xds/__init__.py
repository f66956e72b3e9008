"""xDS: the IR spelled as Envoy protos, and (later) served over ADS."""
