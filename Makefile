# Two commands: `make run` and `make test`. Everything lives in .venv.
#
#   make run    installs what running needs (pip install -e .), then check, build, publish --dry-run
#   make test   installs the test extras too (pip install -e '.[test]'), then ruff, mypy and pytest
#   make mutation  mutation testing of the core modules (hours; not part of `make test` or CI)
#
# Each install is remembered by a stamp file in .venv; both are redone when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
MUTATION_STAMP := $(VENV)/.installed-mutation

.PHONY: run test mutation bench bench-feeds clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "pprfeed needs Python 3.11 or later; $(PYTHON) is $$($(PYTHON) --version 2>&1)." \
		"Run again with PYTHON=python3.11 (or newer), e.g. make run PYTHON=python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# '.[test]' includes everything '.' installs, so it satisfies `make run` as well
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(RUN_STAMP)

$(MUTATION_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	@touch $@ $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/pprfeed check
	$(BIN)/pprfeed build
	@echo "== publishing preview: what the next Slack/Discord posts would be (no network, no ledger)"
	$(BIN)/pprfeed publish --dry-run
	@echo "== to look at the site: $(BIN)/pprfeed serve   (then open http://127.0.0.1:8000/)"

test: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

# mutmut on the core modules ([tool.mutmut] in pyproject.toml), then each module's score without the
# equivalent mutants listed in docs/mutation.md. `make mutation MUTANTS='pprfeed.text.*'` checks one module
# again (all of its mutants, after a test was added); results are kept in mutants/ between runs.
MUTANTS ?=
mutation: $(MUTATION_STAMP)
	$(BIN)/mutmut run $(if $(MUTANTS),"$(MUTANTS)")
	$(BIN)/mutmut results --all true | $(BIN)/python tests/mutation_score.py

# every benchmark in bench/ (minutes; prints the figures bench/README.md records)
bench: $(RUN_STAMP)
	$(BIN)/python bench/load.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/fanout_scale.py
	$(BIN)/python bench/bots.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/subscriptions.py
	$(BIN)/python bench/hostile_markdown.py

# feeds: cold `pprfeed build` and peak memory on synthetic archives, side by side with Hugo
bench-feeds: $(RUN_STAMP)
	$(BIN)/python bench/feeds.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
