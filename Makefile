# Two commands: `make run` and `make test`. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-feeds clean

$(BIN)/pprfeed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# feeds: run also builds the feeds into feeds/ (pprfeed build says where they are)
run: $(BIN)/pprfeed
	$(BIN)/pprfeed check
	$(BIN)/pprfeed build

test: $(BIN)/pprfeed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

# feeds: cold build, rebuild and peak memory on 10,000 synthetic articles, against Hugo and Pelican
bench-feeds: $(BIN)/pprfeed
	$(BIN)/python bench/feeds.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
