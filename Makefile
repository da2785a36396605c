# Flock: `make run` serves the API locally, `make test` runs everything CI runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 8000
CHROMIUM := /usr/bin/chromium
# pytest-xdist workers for `make test` / `make unit`: one per core by default.
TEST_WORKERS ?= auto
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: setup run demo test unit package lint bench clean test-pytest test-template

$(STAMP): requirements.txt requirements-dev.txt
	@echo "Setting up $(VENV): installing Flock's Python packages (a minute or two the first time)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "$(VENV) is ready."

# The browser tests drive Debian's Chromium (Playwright's own download is not reachable).
# Without apt-get (not Debian) the browser tests skip, saying why.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "No apt-get here: the browser tests will skip."; exit 0; }; \
	echo "Installing Debian's chromium for the browser tests..."; \
	apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }

setup: $(STAMP)

run: setup
	PORT=$(PORT) $(PY) scripts/devserver.py

demo: setup
	PORT=$(PORT) $(PY) scripts/devserver.py --demo

unit: setup
	$(PY) -m pytest -q -n $(TEST_WORKERS)

# pytest and the template (package, then lint it) at once: the template takes
# a minute of its own and needs nothing from the tests. Fails if either fails.
test: setup $(CHROMIUM)
	$(MAKE) --no-print-directory -j2 test-pytest test-template

test-pytest: setup $(CHROMIUM)
	$(PY) -m pytest -q -n $(TEST_WORKERS)

test-template: setup
	$(MAKE) --no-print-directory package
	$(MAKE) --no-print-directory lint

package: setup
	$(PY) infra/package.py

# checkov has its own venv: it pins a boto3 Flock's cannot sit beside
# (requirements-checkov.txt). It runs offline and never waits on a prompt: no
# platform download (--skip-download, BC_SKIP_MAPPING), no PyPI version check
# (CKV_SKIP_PACKAGE_UPDATE_CHECK), no API key, stdin closed. Any failed check
# fails the build; a check that does not fit is skipped in infra/template.py
# on its resource, with the reason.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat requirements-checkov.txt | cksum | cut -d' ' -f1)

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	rm -f $(CHECKOV_VENV)/.installed-*
	touch $@

lint: setup $(CHECKOV_STAMP)
	$(VENV)/bin/cfn-lint build/sam.json --ignore-checks W3002
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov -f build/sam.json \
		--framework cloudformation --skip-download --compact --quiet < /dev/null

# LOAN_SIZES=1000 keeps section 6 (loan servicing) short, without its 1,000 -> 10,000 linearity check.
LOAN_SIZES ?= 1000,10000

bench: setup
	$(PY) bench/run.py --loan-sizes $(LOAN_SIZES)

clean:
	rm -rf build .pytest_cache .hypothesis
