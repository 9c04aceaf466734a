# gameday -- the two commands: `make demo` (run the main job) and `make test` (the whole suite).
VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo test test-fast lint bench images clean

# Python's own bytecode cache on, even where the environment turns it off (PYTHONDONTWRITEBYTECODE=1): without it
# every process compiles every module it imports from source, and pytest rewrites the asserts of every module of
# its plugins' packages (simulator, hypothesis, faker, schemathesis ...) in each worker on each run. With it, a
# second `make test-fast` collects in 5.6 s instead of 12.8 and uses 353 CPU seconds instead of 441 (bench/README).
unexport PYTHONDONTWRITEBYTECODE

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,postgres,examples]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Run the main job: the payment-outage scenario end to end, worked by the automated responder.
demo: install
	$(BIN)/gameday validate scenarios/
	$(BIN)/gameday run pool-exhaustion --responder auto --time-scale 10

FAST     = not slow and not docker and not browser and not alone
# pytest-xdist: one test file per worker at a time (a file's shared runs stay in one process), the longest files
# first and the CPU hog last (tests/conftest.py: LONGEST_FIRST, LAST)
WORKERS  = --dist loadgroup --no-loadscope-reorder

## The whole test suite (CI runs exactly this), in three parts that always all run (either failing fails it):
## the fast set on 4 workers; the slow, Docker and browser tests on 2 (the CPU hog last); then the tests marked
## `alone` (the seed runs at x30, near their thresholds, and the tests that keep whole cores busy by design) one
## at a time, beside nothing.
test: install
	$(BIN)/python -m pytest -n 4 $(WORKERS) -m "$(FAST)" -q; fast=$$?; \
	$(BIN)/python -m pytest -n 2 $(WORKERS) -m "not ($(FAST)) and not alone" --durations=20; slow=$$?; \
	$(BIN)/python -m pytest -m "alone" --durations=5; alone=$$?; \
	test $$fast -eq 0 && test $$slow -eq 0 && test $$alone -eq 0

## The fast set, for a developer's inner loop (about 2 minutes on 2 cores).
test-fast: install
	$(BIN)/python -m pytest -n 4 $(WORKERS) -m "$(FAST)" -q

lint: install
	$(BIN)/ruff check .

## The docker backend's image (gameday/targets), built offline: debootstrap base + host wheelhouse.
## Rebuilds only when its inputs change. With a registry: BASE_IMAGE=python:3.11-slim make images
images: install
	PYTHON=$(BIN)/python docker/build-images.sh

## Every benchmark, each beside its baseline (bench/README.md). About an hour: the test-suite bench runs the whole
## of `make test` (--whole) for CI's figure. One script: PYTHONPATH=. .venv/bin/python bench/NAME.py
bench: install
	@for b in bench/*.py; do echo "== $$b"; args=; [ $$b = bench/test_suite.py ] && args=--whole; \
	  PYTHONPATH=. $(BIN)/python $$b $$args || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
