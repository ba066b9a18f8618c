# Gentle-parenting assistant: the two commands are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
SPACY_MODEL := .spacy/en_parenting
MODEL := models/parenting.tar.gz
# Directories too, so that removing a data file also retrains.
TRAIN_INPUTS := config.yml $(wildcard domain/*.yml) $(shell find data -name '*.yml' -o -type d 2>/dev/null) \
	bot/safety_net.py bot/crisis_second_opinion.py bot/crisis_matcher.py bot/safety/crisis_patterns.yml bot/spacy_pipeline.py
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: install train run shell actions test lint validate eval bench benchmark load clean

# Find a Python 3.10 (Rasa 3.6 does not run on 3.11).
PYTHON310 := $(shell command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2]==(3,10)' 2>/dev/null && echo python3.10 || \
	(ls -d $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10 2>/dev/null | head -n1))

# The web chat widget (npm, from package-lock.json) and, for the browser tests, Debian's
# Chromium + chromedriver (installed when missing; needs root or sudo).
WEBCHAT := node_modules/.installed
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver

install: $(VENV)/.installed $(WEBCHAT) $(CHROMIUM)

$(VENV)/.installed: requirements.txt constraints.txt
	@if [ -z "$(PYTHON310)" ]; then \
		echo "ERROR: Python 3.10 was not found (Rasa 3.6 needs Python 3.8-3.10)."; \
		echo "Install it (e.g. 'pyenv install 3.10.13') and run 'make install' again."; \
		exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON310) ..."
	$(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel 'setuptools<70' 2>&1 | grep -v "is ignored" || true
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import rasa, rasa_sdk, spacy, spacy_lookups_data, sqlalchemy, dotenv, pytest, selenium"
	@touch $@

$(WEBCHAT): package.json package-lock.json
	@command -v npm >/dev/null || { echo "ERROR: npm was not found (Node.js 18+ is needed for the web chat widget)."; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(CHROMIUM) $(CHROMEDRIVER):
	@echo "Installing Chromium and chromedriver (Debian packages) for the browser tests ..."
	$$( [ "$$(id -u)" -ne 0 ] && echo sudo ) apt-get update -qq
	$$( [ "$$(id -u)" -ne 0 ] && echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver

$(SPACY_MODEL)/meta.json: bot/spacy_pipeline.py $(VENV)/.installed
	$(PY) -m bot.spacy_pipeline $(SPACY_MODEL)

train: $(MODEL)

$(MODEL): $(TRAIN_INPUTS) $(SPACY_MODEL)/meta.json $(VENV)/.installed
	$(PY) -m bot crisis-responses --check || $(PY) -m bot crisis-responses
	@start=$$(date +%s); \
	$(RASA) train --config config.yml --domain domain --data data --out models \
		--fixed-model-name parenting --quiet; \
	echo "training took $$(( $$(date +%s) - start )) s"

run: $(MODEL) $(WEBCHAT)
	$(PY) -m bot run

shell: $(MODEL)
	$(PY) -m bot shell

actions: install
	$(PY) -m bot actions

lint: install
	$(VENV)/bin/ruff check bot actions tests

validate: install
	$(RASA) data validate --config config.yml --domain domain --data data --fail-on-warnings

# make eval CV=1 adds Rasa's NLU cross-validation with 3 folds (CV=5: 5 folds; ~2 min a fold).
CV ?=
eval: $(MODEL)
	$(PY) -m bot eval $(if $(filter-out 0,$(CV)),--cross-validation $(if $(filter 1,$(CV)),3,$(CV)))

# Side by side with a stock `rasa init` assistant; trains both from scratch (6-10 min on 2 cores).
# make bench PROFILE=1 also writes py-spy flame graphs of every phase to results/.
bench: $(SPACY_MODEL)/meta.json
	$(PY) -m bot bench $(if $(filter-out 0,$(PROFILE)),--profile)

benchmark: bench

# Two Rasa processes + action servers on a private PostgreSQL database and Redis prefix;
# e.g. `make load LOAD_ARGS="--conversations 10 --messages 5"`.
LOAD_ARGS ?= --conversations 100 --messages 20
load: $(MODEL)
	$(PY) -m bot load $(LOAD_ARGS)

test: $(MODEL) $(WEBCHAT) $(CHROMIUM) $(CHROMEDRIVER)
	$(VENV)/bin/ruff check bot actions tests
	$(PY) -m pytest -q

clean:
	rm -rf models .spacy results var .pytest_cache node_modules
