# dbops.aurora_restore: every check has its own target; `make test` runs them all from a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
OUT := $(CURDIR)/tests/output
SUMMARY := $(OUT)/summary
COLLECTIONS := $(CURDIR)/.collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/dbops/aurora_restore
# ansible-test must run inside an ansible_collections/<ns>/<name> tree: it gets a copy, outside the checkout.
# (one per checkout, so two checkouts can run their checks at once).
SANITY_ROOT ?= $(or $(TMPDIR),/tmp)/dbops-aurora-restore-sanity-$(shell id -u)-$(shell echo "$(CURDIR)" | md5sum | cut -c1-8)
PYTEST_WORKERS ?= 2
# Integration tests mostly wait (emulated AWS durations, subprocesses): more workers than cores pays off.
# --dist worksteal: a worker that runs out takes queued tests from a busy one, so no worker is left alone at the
# end with the long pipeline tests (tests/conftest.py starts those first).
INTEGRATION_WORKERS ?= 4

export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS):$(CURDIR)/tools/localaws
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup shell postgres sanity lint units integration molecule ecosystem test matrix matrix-ends demo bench bench-large build ee-context local-up local-down local-status clean

help:
	@echo "make test          every check (sanity, lint, units, integration) on a fresh clone"
	@echo "make demo          the main job, end to end, on the local emulator"
	@echo "make sanity|lint|units|ecosystem|integration|molecule   one check (integration includes the emulator's own tests)"
	@echo "make matrix        ansible-test sanity and units on every ansible-core line claimed (2.17 to 2.21), own venvs"
	@echo "make matrix-ends   the same on the oldest and the newest line only (what CI runs)"
	@echo "make bench         benchmarks that print figures (pipeline, swap vs replace downtime, refresh by method and size, 200 db users)"
	@echo "make bench-large   the pipeline with minute-long waits (--scale 10): one target twice, then 30 targets (about 25 minutes)"
	@echo "make build         the collection tarball (ansible-galaxy collection build)"
	@echo "make ee-context    the execution environment's build context (ansible-builder create) in tests/output/ee"
	@echo "make local-up|local-down|local-status   the local AWS emulator"
	@echo "make shell         a shell with the checkout's venv and paths (what 'source tools/env.sh' gives)"

setup: $(VENV)/.installed $(COLLECTION_LINK) postgres

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

postgres:
	@bash tools/ensure_postgres.sh

# An interactive shell set up as tools/env.sh sets one up (your ~/.bashrc first, then the checkout's paths).
shell: setup
	@bash --rcfile <(printf '%s\n' 'test -f ~/.bashrc && . ~/.bashrc' '. "$(CURDIR)/tools/env.sh"' \
	  'PS1="(aurora_restore) $${PS1:-\\$$ }"') -i

sanity: setup
	@mkdir -p $(SUMMARY)
	bash tests/sanity/run.sh "$(SANITY_ROOT)" sanity | tee $(OUT)/sanity.log
	@n=$$(grep -c "^Running sanity test" $(OUT)/sanity.log || true); echo "sanity: $$n tests run, 0 failed" > $(SUMMARY)/sanity.txt

lint: setup
	@mkdir -p $(SUMMARY)
	NO_COLOR=1 ansible-lint --profile production --nocolor 2>&1 | tee $(OUT)/lint.log
	@sed 's/\x1b\[[0-9;]*m//g' $(OUT)/lint.log | grep -E "^(Passed|Failed)" | sed 's/^/lint: /' > $(SUMMARY)/lint.txt

# The unit tests from the checkout, then as ansible-test runs them on what the tarball ships.
units: setup
	@mkdir -p $(SUMMARY)
	pytest -p no:cacheprovider -n $(PYTEST_WORKERS) tests/unit 2>&1 | tee $(OUT)/units.log
	bash tests/sanity/run.sh "$(SANITY_ROOT)-units" units | tee $(OUT)/ansible-test-units.log
	@tail -n 1 $(OUT)/units.log | sed 's/^=* */units: /; s/ *=*$$//' > $(SUMMARY)/units.txt
	@grep -E "^=+ [0-9]+ passed" $(OUT)/ansible-test-units.log | sed 's/^=* *//; s/ in [0-9.]*s.*$$//' | paste -sd '+' \
	  | sed 's/^/units (ansible-test on the tarball, module and controller runs): /' >> $(SUMMARY)/units.txt

integration: setup
	@mkdir -p $(SUMMARY)
	pytest -p no:cacheprovider -n $(INTEGRATION_WORKERS) --dist worksteal --durations=15 tests/localaws tests/integration 2>&1 | tee $(OUT)/integration.log
	@tail -n 1 $(OUT)/integration.log | sed 's/^=* */integration: /; s/ *=*$$//' > $(SUMMARY)/integration.txt

# The collection as Galaxy and the docsite see it (galaxy-importer, antsibull-docs), in a venv of its own.
ecosystem: setup
	@mkdir -p $(SUMMARY)
	bash tests/ecosystem/run.sh 2>&1 | tee $(OUT)/ecosystem.log
	@echo "ecosystem: galaxy-importer, antsibull-docs lint-collection-docs and the docsite build clean" > $(SUMMARY)/ecosystem.txt

# Molecule scenarios (molecule/<role>): driver `default`, unmanaged, against the emulator each scenario starts.
molecule: setup
	@mkdir -p $(SUMMARY)
	NO_COLOR=1 molecule test --all 2>&1 | tee $(OUT)/molecule.log
	@ok=$$(grep -cE "^[a-z_]+ +: actions=.* failed=0$$" $(OUT)/molecule.log || true); \
	  all=$$(grep -cE "^[a-z_]+ +: actions=" $(OUT)/molecule.log || true); \
	  echo "molecule: $$ok of $$all scenarios passed (converge, idempotence, verify)" > $(SUMMARY)/molecule.txt; \
	  test "$$ok" = "$$all" -a "$$all" -gt 0

# The ecosystem check (a venv of its own, mostly pip and single-threaded tools) runs beside sanity, lint and units,
# which leave the second core idle most of the time: about a minute less on 2 cores. Its output follows theirs.
test: setup
	@rm -rf $(SUMMARY) $(OUT)/ecosystem.console
	@mkdir -p $(OUT)
	@$(MAKE) --no-print-directory ecosystem > $(OUT)/ecosystem.console 2>&1 & ecosystem=$$!; \
	  status=0; \
	  { $(MAKE) --no-print-directory sanity && $(MAKE) --no-print-directory lint && $(MAKE) --no-print-directory units; } || status=$$?; \
	  wait $$ecosystem && ecosystem_status=0 || ecosystem_status=$$?; \
	  echo "== make ecosystem (ran beside sanity, lint and units)"; cat $(OUT)/ecosystem.console; \
	  if [ $$status -ne 0 ]; then exit $$status; fi; \
	  if [ $$ecosystem_status -ne 0 ]; then echo "make ecosystem failed (exit $$ecosystem_status)"; exit $$ecosystem_status; fi
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory molecule
	@echo "== checks run =="; cat $(SUMMARY)/sanity.txt $(SUMMARY)/lint.txt $(SUMMARY)/units.txt $(SUMMARY)/ecosystem.txt $(SUMMARY)/integration.txt $(SUMMARY)/molecule.txt

demo: setup
	bash tools/demo.sh

# Each ansible-core line meta/runtime.yml claims, in venvs of its own under .cache/matrix (tests/matrix/<line>.txt pins
# them; the newest lines need Python 3.12+, found on PATH or through pyenv). Outside `make test`: about 3 minutes a line.
matrix: setup
	bash tests/matrix/run.sh

matrix-ends: setup
	bash tests/matrix/run.sh 2.17 2.21

# Figures, not assertions: each benchmark starts its own emulator.
bench: setup
	python tests/bench/bench_pipeline.py --targets 10
	python tests/bench/bench_cluster_restore.py
	python tests/bench/bench_methods.py
	python tests/bench/bench_db_users.py

# Many targets, minute-long waits: what one AWX execution node carries (docs/awx.md).
bench-large: setup
	python tests/bench/bench_pipeline.py --targets 30 --scale 10

build: setup
	@mkdir -p $(OUT)/build
	ansible-galaxy collection build --force --output-path $(OUT)/build

# Build context of execution-environment.yml (no container runtime needed); docs/awx.md: build and push the image.
ee-context: setup
	rm -rf $(OUT)/build $(OUT)/ee
	$(MAKE) --no-print-directory build
	ansible-builder create --file execution-environment.yml --context $(OUT)/ee --output-filename Containerfile

local-up: setup
	python -m localaws up

local-down:
	$(BIN)/python -m localaws down

local-status:
	$(BIN)/python -m localaws status

clean:
	-$(BIN)/python -m localaws down 2>/dev/null
	rm -rf $(OUT) $(COLLECTIONS) .local .pytest_cache "$(SANITY_ROOT)" "$(SANITY_ROOT)-units"
