# `make run` and `make test` are all the set-up a fresh clone needs (Python >= 3.11 and make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test eval venv lock clean browser

run: $(STAMP)
	$(BIN)/quotewire run --raw raw --warehouse warehouse

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# The report tests render the page in headless Chromium: installed through apt when missing
# (as root), else make stops at once with one line saying what to install.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); } || \
	  { echo "make test needs Chromium for the report tests: install it (Debian: apt-get install chromium)" >&2; exit 1; }

# Quote accuracy on the evaluation sets beside the project (../shared is not needed by tests).
eval: $(STAMP)
	$(BIN)/quotewire eval ../shared/eval/polnear/dev.gold.jsonl ../shared/gold/*.gold.json --errors warehouse/eval-errors.jsonl

venv: $(STAMP)

# The lock file pins every package, transitive ones included; the venv is rebuilt when it changes.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "quotewire needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Re-resolve the pins after changing dependencies in pyproject.toml.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -e '.[test]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) warehouse/parquet warehouse/snapshots warehouse/marts warehouse/quotewire.duckdb
