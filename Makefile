# Samverkan: `make run` serves the platform with demo data; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
PYTEST_WORKERS ?= 2

.PHONY: install lock hooks messages messages-update run serve-prod test test-postgres test-browser screenshots lint check-deploy audit bench clean assets check-assets

# Every dependency comes from requirements.lock, pinned with hashes; then the project itself, without deps.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# Re-pins every dependency (with hashes) after a change to pyproject.toml's dependencies.
lock: install
	$(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes --no-emit-index-url --no-emit-find-links --extra dev \
	  --strip-extras --output-file requirements.lock pyproject.toml

# Runs `make lint`'s fast checks (ruff, import contracts) before each commit.
hooks: install
	$(BIN)/pre-commit install

# Compiles the Swedish and Danish catalogues (locale/*/LC_MESSAGES/django.po) to .mo files.
messages: install
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0

# Adds new translatable texts of the source to both catalogues (then translate them; no entry may stay empty).
messages-update: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l sv -l da -e html,txt,py --no-location --no-obsolete \
	  --ignore=.venv --ignore=tests --ignore=bench --ignore=var --ignore=screenshots --verbosity 0

# The shared-notes editor bundle (focusgroups/static/focusgroups/notes-editor.js, committed) from its pinned
# sources in focusgroups/static/focusgroups/editor-src/; needs Node and npm (`make run` does not).
EDITOR_SRC := focusgroups/static/focusgroups/editor-src
assets:
	npm ci --no-audit --no-fund --prefix $(EDITOR_SRC)
	node $(EDITOR_SRC)/build.mjs

# Fails when the committed bundle differs from a fresh build of the pinned sources.
check-assets:
	npm ci --no-audit --no-fund --prefix $(EDITOR_SRC)
	node $(EDITOR_SRC)/build.mjs --check

run: install messages
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000/ (stop with Ctrl-C)"
	@DEBUG=1 $(BIN)/python manage.py task_worker --queue-name '*' --interval 0.5 & worker_pid=$$!; \
	 trap 'kill $$worker_pid 2>/dev/null' EXIT INT TERM; \
	 DEBUG=1 $(BIN)/python -m coordinator.servers daphne -b 127.0.0.1 -p 8000

# Production's shape on this machine behind one port (PORT, default 8000): PostgreSQL and Redis (started for
# it unless DATABASE_URL / REDIS_URL are set), gunicorn, uvicorn, nginx, task workers; see docs/deployment.md.
serve-prod: install messages
	$(BIN)/python -m coordinator.servers prod $(SERVE_PROD_ARGS)

test: install messages
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

test-postgres: install messages
	.ci/with-postgres $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

test-browser: install messages
	.ci/ensure-browser
	$(BIN)/python -m pytest -m browser -p no:xdist tests/browser $(PYTEST_ARGS)

screenshots: install messages
	.ci/ensure-browser
	SCREENSHOTS_DIR=$(CURDIR)/screenshots $(BIN)/python -m pytest -m browser -p no:xdist tests/browser/test_screenshots.py $(PYTEST_ARGS)
	@echo "Screenshots are in $(CURDIR)/screenshots"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy coordinator organisations shadowing seminars focusgroups
	$(BIN)/lint-imports

# Django's deployment checks with production settings as docs/deployment.md sets them (a fresh secret key);
# any warning fails.
check-deploy: install
	env -i PATH="$$PATH" HOME="$$HOME" DJANGO_SETTINGS_MODULE=coordinator.settings DEBUG=0 \
	  SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  ALLOWED_HOSTS=samverkan.example.org SITE_URL=https://samverkan.example.org \
	  CSRF_TRUSTED_ORIGINS=https://samverkan.example.org BEHIND_TLS_PROXY=1 TRUSTED_PROXY_COUNT=1 \
	  DATABASE_URL=postgres://samverkan@localhost:5432/samverkan REDIS_URL=redis://localhost:6379/0 \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

# Known vulnerabilities in the pinned dependencies (pip-audit); skipped, with the reason, where its
# vulnerability database cannot be reached.
audit: install
	.ci/audit-dependencies

clean:
	rm -rf $(VENV) var screenshots
