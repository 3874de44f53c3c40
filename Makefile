# Two commands for a fresh machine (Python 3.13 is all it needs):
#   make run    set up, migrate SQLite, load the demo, serve on 127.0.0.1:$(PORT)
#   make test   set up and run every test (browser tests skip without Chromium, the HTML
#               check without Java)

PORT ?= 8000
VENV ?= .venv
# pyenv resolves python3 through .python-version; elsewhere python3.13 is used when present.
PYTHON ?= $(shell command -v python3.13 2>/dev/null || command -v python3)
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed

.PHONY: run test lint check-python clean

run: $(STAMP)
	DJANGO_DEBUG=true $(MANAGE) migrate --noinput
	DJANGO_DEBUG=true $(MANAGE) load_demo
	@echo "Serving the portal on http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/)"
	DJANGO_DEBUG=true $(MANAGE) runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' || { \
	  echo "Python 3.13 or newer is needed; found $$($(PYTHON) --version 2>&1) at $(PYTHON)." >&2; \
	  echo "Install it (e.g. 'pyenv install 3.13') or run 'make PYTHON=/path/to/python3.13 ...'." >&2; \
	  exit 1; }

# The virtual environment is rebuilt when the dependencies change.
$(STAMP): pyproject.toml | check-python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .ruff_cache *.egg-info
