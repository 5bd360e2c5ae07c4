# Two entry points: `make run` (the app on the embedded SQLite default with the demo study)
# and `make test` (the whole suite, browser tests included). Both set up .venv themselves.
# `make test-postgres` runs the suite against a throwaway PostgreSQL cluster; .ci/run runs both.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8501
# Two pytest workers: the machines here have two cores.
TEST_WORKERS ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-postgres bench clean-venv

$(VENV)/.runtime-installed: requirements.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1 || $(PY) -m pip install -q --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	@touch $@

# Demo mode (CASESTUDY_DEMO=1): the demo accounts may sign in; a production server never sets it.
run: $(VENV)/.runtime-installed
	$(PY) -m casestudy db upgrade
	CASESTUDY_DEMO=1 $(PY) -m casestudy demo load --if-empty
	@echo ""
	@echo "  Casestudy runs at http://127.0.0.1:$(PORT)"
	@echo "  Demo login: user 'admin', password 'demo-admin-2026' (coders: coder1 / coder2, password 'demo-coder-2026')"
	@echo ""
	CASESTUDY_DEMO=1 $(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) --server.headless true

test: $(VENV)/.dev-installed
	@scripts/ensure-chromium
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The same suite against a throwaway PostgreSQL cluster (Debian's postgresql + pg_virtualenv).
# The browser tests drive the same server code as the AppTest tests and run in `make test`;
# here they are left out (PG_PYTEST_ARGS) to keep CI short.
PG_PYTEST_ARGS ?= -m "not browser"
test-postgres: $(VENV)/.dev-installed
	scripts/with-postgres $(PY) -m pytest -n $(TEST_WORKERS) $(PG_PYTEST_ARGS) $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
