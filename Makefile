# Quick start: `make demo`, then `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := .demo
VIGIL := $(BIN)/vigil

.PHONY: demo ui test lint bench corpus clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@# Meta's vpdq, to check Vigil's vPDQ against it; it compiles against FFmpeg's dev libraries
	@# (.ci/run installs them); without them its test is skipped, nothing else needs it
	$(BIN)/pip install -q 'vpdq>=0.2' || echo "vpdq not built (FFmpeg dev libraries missing): its test is skipped"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(BIN)/python -m vigil.demo $(DEMO)
	$(VIGIL) hashset import $(DEMO)/lists/national.vics.json --name national-vics --source "demo national database (VICS v2)" --db $(DEMO)/vigil.db
	$(VIGIL) hashset import $(DEMO)/lists/hotline-md5.txt --name hotline-md5 --source "demo hotline list" --category csam --db $(DEMO)/vigil.db
	$(VIGIL) hashset import $(DEMO)/lists/NSRLFile.txt --name nsrl-demo --source "demo known-good list (NSRL RDS v2 form)" --db $(DEMO)/vigil.db
	$(VIGIL) hashset import $(DEMO)/lists/unit-video.vpdq.txt --name unit-videos --source "demo unit's assessed video (Meta vPDQ text)" --category csam --db $(DEMO)/vigil.db
	$(VIGIL) hashset list --db $(DEMO)/vigil.db
	$(VIGIL) scan $(DEMO)/evidence --case demo --json $(DEMO)/case.json --csv $(DEMO)/case.csv --html $(DEMO)/case.html --db $(DEMO)/vigil.db
	@echo "case result: $(DEMO)/case.json, $(DEMO)/case.csv and $(DEMO)/case.html (thumbnails blurred in their pixels)"

# the web UI on the demo data: http://127.0.0.1:8000 (Ctrl-C stops it)
ui: $(VENV)/.installed
	test -f $(DEMO)/vigil.db || $(MAKE) demo
	$(BIN)/python -m vigil.demo_ui $(DEMO)
	VIGIL_EXCHANGE_INTERVAL=0 $(VIGIL) serve --port 8000 --db $(DEMO)/vigil.db

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench || true
	$(BIN)/lint-imports

bench: $(VENV)/.installed-test
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/hashing.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache .hypothesis
