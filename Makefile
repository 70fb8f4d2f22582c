# agent-ir: `make run` (demo, no external service), `make test` (everything), `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench system-deps venv clean

$(BIN)/ir: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/ir

# The demo: contain the simulated support-bot with the shipped playbook, then verify the case.
run: venv
	rm -f .ir/world.json
	$(BIN)/ir run agent-compromise --agent support-bot --yes --as demo-responder
	$(BIN)/ir verify "$$(ls -d cases/2*/ | tail -n 1)"

system-deps:
	scripts/install-system-deps

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite: unit, CLI, and integration tests against a private real dockerd.
test: system-deps venv lint
	$(BIN)/pytest

bench: system-deps venv
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .ir .pytest_cache .mypy_cache .ruff_cache bench/results
