# Two entry points: `make run` (the app on the embedded SQLite default with the demo study)
# and `make test` (the whole suite, browser tests included). Both set up .venv themselves.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8501
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

run: $(VENV)/.runtime-installed
	$(PY) -m casestudy db upgrade
	$(PY) -m casestudy demo load --if-empty
	@echo ""
	@echo "  Casestudy runs at http://127.0.0.1:$(PORT)"
	@echo "  Demo login: user 'admin', password 'demo-admin-2026' (coders: coder1 / coder2, password 'demo-coder-2026')"
	@echo ""
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) --server.headless true

test: $(VENV)/.dev-installed
	@scripts/ensure-chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite against a throwaway PostgreSQL cluster (Debian's postgresql + pg_virtualenv).
test-postgres: $(VENV)/.dev-installed
	@scripts/ensure-postgres
	pg_virtualenv -o shared_buffers=128MB sh -c 'CASESTUDY_TEST_DATABASE_URL="postgresql+psycopg://$$PGUSER:$$PGPASSWORD@$$PGHOST:$$PGPORT/$$PGDATABASE" $(PY) -m pytest $(PYTEST_ARGS)'

bench: $(VENV)/.dev-installed
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
