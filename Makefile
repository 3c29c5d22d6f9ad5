# `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint docs format clean postgres

install: $(STAMP)

# Exact versions come from constraints.txt (torch==2.13.0 is the local CPU
# wheel); pyproject.toml keeps ordinary ranges for users.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,dask]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sklstm demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Two workers on two cores; tests that share a server or a cluster stay on one
# worker (loadgroup). tests/test_postgres.py starts and stops its own throwaway
# server from Debian's binaries, which the postgres target installs if missing.
test: lint postgres
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql (binaries for the tests' throwaway server)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && \
	    $$SUDO apt-get install -y -q --no-install-recommends postgresql >/dev/null; } || \
	  echo "could not install postgresql: tests/test_postgres.py will skip"; }

# The documentation site; any Sphinx warning fails the build.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "docs/_build/html/index.html"

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) sklstm-output *.egg-info docs/_build docs/generated docs/_generated
