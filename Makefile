# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv from python3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Pin another Django for a matrix leg (.ci/matrix), e.g.
#   make test VENV=.venv-py312-dj61 PYTHON="$(python3 tools/find_python.py 3.12)" DJANGO="Django~=6.1.0"
DJANGO ?=
PYTEST_ARGS ?=
# The development tools at exact versions (tools/pins.py says which and why); `make upgrade`
# remakes it. Every pip install below takes it, and so do the isolated environments that pip and
# build make for the build backend (PIP_BUILD_CONSTRAINT for pip 25.3 and later, which no longer
# reads PIP_CONSTRAINT there). Django and the other runtime dependencies are not in it.
CONSTRAINTS := constraints.txt
PINNED := PIP_CONSTRAINT="$(CURDIR)/$(CONSTRAINTS)" PIP_BUILD_CONSTRAINT="$(CURDIR)/$(CONSTRAINTS)"
PIP_INSTALL := $(PINNED) $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: venv demo test lint docs bench wheel-check sdist-check upgrade clean

venv: $(VENV)/.installed

# iiniit_auth/__init__.py holds the version, which the installed metadata copies.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) iiniit_auth/__init__.py
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e ".[test,lint,example]" $(if $(DJANGO),"$(DJANGO)")
	touch $@

demo: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_setup
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: venv
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python tools/check_declared.py

# The documentation site (mkdocs.yml), into site/: every warning is an error, so a link to a page
# or a heading that does not exist fails the build.
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml $(CONSTRAINTS)
	$(PIP_INSTALL) -e ".[docs]" $(if $(DJANGO),"$(DJANGO)")
	touch $@

docs: $(VENV)/.docs-installed
	$(BIN)/mkdocs build --strict

# The benchmark against the peers (docs/performance.md). SQLite unless DATABASE_URL names a
# PostgreSQL server; e.g. make bench BENCH_ARGS="--keys 1000,100000,1000000".
BENCH_ARGS ?=

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml $(CONSTRAINTS)
	$(PIP_INSTALL) -e ".[bench]" $(if $(DJANGO),"$(DJANGO)")
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench $(BENCH_ARGS)

# The wheel is built with the pinned backend; tools/check_installed.py installs it with its
# declared dependencies alone, free of the pins.
wheel-check: venv
	$(PINNED) $(BIN)/python -m build --wheel --outdir dist/ .
	$(BIN)/python tools/check_wheel.py dist/
	$(BIN)/python tools/check_installed.py dist/

# The sdist, built with the pinned backend: tools/check_sdist.py checks what it holds, then
# installs it unpacked, under its own pins, in a new virtualenv and runs a part of the suite there.
sdist-check: venv
	$(PINNED) $(BIN)/python -m build --sdist --outdir dist/ .
	$(BIN)/python tools/check_sdist.py dist/

# Resolves the development tools afresh into constraints.txt (tools/pins.py; each Python of
# .ci/matrix must be installed), then rebuilds the virtualenv from the new pins and runs the lint
# and the suite. A bump is a commit of its own.
upgrade: venv
	$(BIN)/python tools/pins.py --output $(CONSTRAINTS)
	rm -rf $(VENV)
	$(MAKE) lint test

clean:
	rm -rf $(VENV) dist build site *.egg-info demo.sqlite3
