# Everything runs from .venv, created on first use with the system's python3 (3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test conformance golden bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The quickstart, live: meshgate serving a managed Envoy, with echo backends (Ctrl-C stops).
run: $(STAMP)
	$(BIN)/meshgate status examples/quickstart
	$(BIN)/meshgate run examples/quickstart --echo

## The whole test suite (unit, golden, bad input, Envoy validation, end to end, Gateway API conformance).
test: $(STAMP)
	$(BIN)/python -m pytest -n auto -q

## The upstream Gateway API conformance tests through real Envoys: each test passed/failed/skipped
## with the reason, then the ConformanceReport (also written to build/conformance-report.yaml).
conformance: $(STAMP)
	mkdir -p build
	$(BIN)/python -m tests.conformance --report-output build/conformance-report.yaml

## Regenerate golden files after a reviewed change: git diff shows what moved.
golden: $(STAMP)
	$(BIN)/python -m pytest -q -p no:randomly tests/golden/test_golden.py tests/golden/test_hints_golden.py --update-golden

bench: $(STAMP)
	$(BIN)/python bench/translate.py

clean:
	rm -rf $(VENV) build src/*.egg-info
