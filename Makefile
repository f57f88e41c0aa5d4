# Two commands: `make run` and `make test`. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench bench-feeds clean

$(BIN)/pprfeed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: $(BIN)/pprfeed
	$(BIN)/pprfeed check
	$(BIN)/pprfeed build
	@echo "== publishing preview: what the next Slack/Discord posts would be (no network, no ledger)"
	$(BIN)/pprfeed publish --dry-run

test: $(BIN)/pprfeed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

# every benchmark in bench/ (minutes; prints the figures the README quotes)
bench: $(BIN)/pprfeed
	$(BIN)/python bench/load.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/bots.py

# feeds: cold build, rebuild and peak memory on 10,000 synthetic articles, against Hugo and Pelican
bench-feeds: $(BIN)/pprfeed
	$(BIN)/python bench/feeds.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
