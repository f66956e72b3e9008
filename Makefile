# Everything runs from .venv, created on first use with the system's python3 (3.11+), and
# installed from requirements.lock: the whole tested set, pinned with hashes (Envoy included).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: install run test lint conformance golden bench lock clean

$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

## The quickstart, live: meshgate serving a managed Envoy, with echo backends (Ctrl-C stops).
run: $(STAMP)
	$(BIN)/meshgate status examples/quickstart
	$(BIN)/meshgate run examples/quickstart --echo

## The lint and type gates, then the whole test suite (unit, golden, bad input, Envoy
## validation, end to end, Gateway API conformance).
test: lint
	$(BIN)/python -m pytest -n auto -q

## ruff on everything, mypy on src/.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## The upstream Gateway API conformance tests through real Envoys: each test passed/failed/skipped
## with the reason, then the ConformanceReport (also written to build/conformance-report.yaml);
## then the same tests through the Kubernetes provider (objects applied to the API emulator,
## status read from it; build/conformance-report-kubernetes.yaml), and whether the two results
## match. Both runs always run; the target fails if either fails or the results differ.
## CONFORMANCE_SLOT picks the 127.1.x.0/24 networks (another run at the same time needs another).
CONFORMANCE_SLOT ?= 0
conformance: $(STAMP)
	mkdir -p build
	rm -f build/conformance-report.yaml build/conformance-report-kubernetes.yaml
	status=0; \
	$(BIN)/python -m tests.conformance --slot $(CONFORMANCE_SLOT) --report-output build/conformance-report.yaml \
		|| status=1; \
	$(BIN)/python -m tests.conformance --slot $(CONFORMANCE_SLOT) --provider kubernetes --report-output build/conformance-report-kubernetes.yaml \
		--compare-with build/conformance-report.yaml || status=1; \
	exit $$status

## Regenerate golden files after a reviewed change: git diff shows what moved.
golden: $(STAMP)
	$(BIN)/python -m pytest -q -p no:randomly tests/golden/test_golden.py tests/golden/test_ir_golden.py tests/golden/test_hints_golden.py tests/cluster/test_render.py tests/deploy/test_manifests.py --update-golden

bench: $(STAMP)
	$(BIN)/python bench/translate.py

## Re-resolve the newest releases allowed by pyproject.toml into requirements.lock (on purpose:
## review the diff, run `make test`, commit both). `make lock UPGRADE=` adds what pyproject.toml
## gained and keeps every other pin. It needs no installed set (a dependency just added to
## pyproject.toml fails the install's `pip check` until the lock has it): uv alone.
UPGRADE ?= --upgrade
lock:
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv pip compile pyproject.toml requirements/tools.in --extra test --extra dev \
		--generate-hashes --universal --python-version 3.11 $(UPGRADE) --quiet -o $(LOCK)

clean:
	rm -rf $(VENV) build src/*.egg-info
