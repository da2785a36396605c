# Flock: `make run` serves the API locally, `make test` runs everything CI runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 8000
CHROMIUM := /usr/bin/chromium
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: setup run demo test unit package lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@echo "Setting up $(VENV): installing Flock's Python packages (a minute or two the first time)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "$(VENV) is ready."

# The browser tests drive Debian's Chromium (Playwright's own download is not reachable).
$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests..."
	apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }

setup: $(STAMP)

run: setup
	PORT=$(PORT) $(PY) scripts/devserver.py

demo: setup
	PORT=$(PORT) $(PY) scripts/devserver.py --demo

unit: setup
	$(PY) -m pytest -q

test: setup $(CHROMIUM)
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory package lint

package: setup
	$(PY) infra/package.py

lint: setup
	$(VENV)/bin/cfn-lint build/sam.json --ignore-checks W3002

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf build .pytest_cache .hypothesis
