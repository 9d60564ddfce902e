# wesog-dash: `make run` starts the console on the embedded sandbox; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := app

.PHONY: run serve test lint format migrate poll sandbox bench clean chromium screenshots requirements axe axe-report

# Debian's own python3 needs its python3-venv package for `-m venv`: install it when missing.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null \
	  && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed. Every pin carries its hashes, so pip checks
# each download against them (hash-checking mode).
$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# Compile the pins (every transitive one, with hashes) from requirements*.in (pip-tools).
requirements: $(VENV)/.installed-dev
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

migrate: $(VENV)/.installed
	$(BIN)/flask db upgrade

run: migrate
	@echo ""
	@echo "  wesog-dash is starting at http://$(HOST):$(PORT)"
	@echo "  (no WESOG_API_URL set: it talks to the embedded Wesog sandbox with demo images)"
	@echo "  Stop it with Ctrl+C."
	@echo ""
	@$(BIN)/flask users setup-url --base-url http://$(HOST):$(PORT)
	$(BIN)/flask run --host $(HOST) --port $(PORT) --no-reload --with-threads

# Debian's Chromium drives the browser tests (Playwright's own browser download cannot work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# axe-core for the accessibility browser test (tests/e2e/test_axe_e2e.py), pinned, from the npm
# registry into a git-ignored folder. Keep AXE_VERSION equal to tests/e2e/axe.py's.
AXE_VERSION := 4.14.1
AXE_JS := tests/e2e/vendor/node_modules/axe-core/axe.min.js
$(AXE_JS):
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Debian's npm for axe-core…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }
	npm install --no-audit --no-fund --no-save --prefix tests/e2e/vendor axe-core@$(AXE_VERSION)

axe: $(AXE_JS)

# Every test on SQLite and, at the same time, the `dialect` tests on PostgreSQL when
# WESOG_TEST_DATABASE_URL names a server (.ci/run sets it; see tests/engines.py), each leg
# on PYTEST_WORKERS processes (pytest-xdist); tests/legs.sh prints each leg's wall time.
test: lint chromium $(AXE_JS)
	tests/legs.sh $(BIN)/python

# The gates: ruff (style, complexity, argument counts), mypy, the package contracts
# (import-linter); their settings are in pyproject.toml.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Production-like: gunicorn web workers plus the poller in its own process (README "Running
# in production"). Stop both with Ctrl+C.
serve: migrate
	@WESOG_POLLER=external $(BIN)/flask wesog poll & poller=$$!; \
	trap 'kill $$poller 2>/dev/null' INT TERM EXIT; \
	WESOG_POLLER=external $(BIN)/gunicorn -c gunicorn.conf.py app:app

poll: migrate
	$(BIN)/flask wesog poll

sandbox: $(VENV)/.installed
	$(BIN)/flask wesog sandbox --api-key $${WESOG_API_KEY:-sandbox-key} --port $${SANDBOX_PORT:-8700}

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/fanin.py
	$(BIN)/python bench/fragments.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/safety.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/bulk.py
	$(BIN)/python bench/receipts.py
	$(BIN)/python bench/soak.py --minutes 2

# Screenshots of every page at 1280×800 and 390×844 into screenshots/ (git-ignored), for review.
screenshots: $(VENV)/.installed-dev chromium
	$(BIN)/python bench/screenshots.py --out screenshots

# axe-core on every page of the screenshots, both widths and schemes: a table of findings.
axe-report: $(VENV)/.installed-dev chromium $(AXE_JS)
	$(BIN)/python bench/axe_report.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
