"""One module per upstream conformance test (conformance/tests/<name>.go), each defining TEST."""
