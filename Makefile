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

# The demo: the console on the demo workspace (simulated world: no Docker or cloud account). Start
# an incident on support-bot and walk it. Without a terminal (CI, a pipe) the same incident runs
# headless with every gate approved, and the case is verified. Heads are signed with a demo key
# that ir creates in .ir/ on first need and that only this workspace trusts (ir.yaml: signing).
run: venv
	rm -f .ir/world.json
	@if [ -t 0 ] && [ -t 1 ]; then \
		$(BIN)/ir tui --as demo-responder; \
	else \
		$(BIN)/ir run agent-compromise --agent support-bot --yes --as demo-responder && \
		$(BIN)/ir verify "$$(ls -d cases/2*/ | tail -n 1)"; \
	fi

system-deps:
	scripts/install-system-deps

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite: unit, CLI, and integration tests against a private real dockerd.
test: system-deps venv lint
	$(BIN)/pytest --durations=15

bench: system-deps venv
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .ir .pytest_cache .mypy_cache .ruff_cache bench/results
