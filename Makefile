# Developer shortcuts. Needs only python3 (with venv) and make.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
DEMO_ADDRESS ?= 127.0.0.1:8000

.PHONY: demo
# Install, set up and run the demo project at http://$(DEMO_ADDRESS)/ (users: see setup_demo).
demo: $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet -e '.[demo]'
	$(VENV_PYTHON) manage.py migrate
	$(VENV_PYTHON) manage.py setup_demo
	$(VENV_PYTHON) manage.py runserver $(DEMO_ADDRESS)

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

.PHONY: check
# Quick checks while working: lint, types and the unit tests (no servers, Node or
# browser), on SQLite and a private Redis. `make test` runs everything.
check: $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet -e '.[test]'
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -m "not e2e and not browser" --ignore=tests/e2e --ignore=tests/browser

.PHONY: test
# Install everything the suite needs, then run linters, type checks, docs and all tests,
# the tests under coverage (`make check` runs none).
# Uses DATABASE_URL / REDIS_URL when set; otherwise SQLite and a private redis-server.
test: $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet -e '.[test,docs,demo]'
	npm ci --prefix client --no-audit --no-fund --loglevel=error
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	# The browser tests drive Debian's Chromium (Playwright never downloads a browser).
	command -v chromium || (apt-get update && apt-get install -y chromium)
	# The deployment tests check the sample nginx config and run websockets through it.
	command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update && apt-get install -y nginx)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV_PYTHON) manage.py makemigrations --check --dry-run
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	npm test --prefix client
	# pytest under coverage (setup.cfg [coverage:*]): branch coverage of collab/, also in
	# the servers the tests start. The data is combined even when tests fail; the report
	# fails under the floor (fail_under).
	$(VENV)/bin/coverage erase
	$(VENV)/bin/coverage run -m pytest || { status=$$?; $(VENV)/bin/coverage combine --quiet; exit $$status; }
	$(VENV)/bin/coverage combine --quiet
	$(VENV)/bin/coverage report
