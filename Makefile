# Operator and developer entry points; each wraps the `imageboard` console script.
VENV ?= .venv
PYTHON ?= python3
IB := $(VENV)/bin/imageboard
PYTEST_ARGS ?=

.PHONY: install web run up down status infra migrate admin lint deadcode test test-unit test-faults fuzz mutate bench bench-search bench-stream soak clean

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## make web: the web client (web/): `npm ci` when package-lock.json changed, `npm run build`
## (web/dist, which nginx serves at /) when a source changed; nothing when both are current.
WEB_SRC := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/package.json
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run --silent build
	touch $@

web: web/dist/index.html

## make run: everything in the foreground; Ctrl-C stops it all
run: install web
	$(IB) run

## make up / make down: the same in the background (logs and pids in var/)
up: install web
	$(IB) up

down: install
	$(IB) down

status: install
	$(IB) status

infra: install
	$(IB) infra up

migrate: install
	$(IB) migrate

## make admin USER=alice   (REVOKE=1 to take the rights back)
admin: install
	@if [ "$(origin USER)" != "command line" ]; then echo "usage: make admin USER=<username> [REVOKE=1]"; exit 2; fi
	$(IB) make-admin $(USER) $(if $(REVOKE),--revoke,)

## make test: starts the servers the suite needs, then runs every test
test: install lint web
	$(IB) infra up
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## make lint: the import layers (pyproject.toml [tool.importlinter], docs/architecture.md)
lint: install
	$(VENV)/bin/lint-imports

## make deadcode: vulture on the production packages and bench/ ([tool.vulture] in
## pyproject.toml; what frameworks use by name is in tests/vulture_whitelist.py). Also run by
## tests/unit/test_dead_code.py.
deadcode: install
	$(VENV)/bin/vulture

test-unit: install
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

## make fuzz: the long schemathesis run (tests/e2e/test_fuzz_api.py) on the suite's own stack:
## every phase, the stateful one (sequences along the document's links) included, at least
## 10,000 requests counted in the gateway's log; fails on any 5xx or schemathesis failure
## (schema violations, undocumented statuses...). The last run: docs/robustness.md "Fuzzing".
FUZZ_EXAMPLES ?= 800
fuzz: install
	$(IB) infra up
	IB_FUZZ_MAX_EXAMPLES=$(FUZZ_EXAMPLES) IB_FUZZ_STATEFUL_STEPS=12 IB_FUZZ_STATEFUL_SECONDS=180 \
		IB_FUZZ_MIN_REQUESTS=10000 \
		$(VENV)/bin/pytest tests/e2e/test_fuzz_api.py -p no:cacheprovider -p no:randomly -s $(PYTEST_ARGS)

## make test-faults: only the fault tests (tests/faults: kill a service, restart private
## RabbitMQ/PostgreSQL/Kafka/ClickHouse servers under load; about 5 minutes). `make test`
## runs them too, with everything else.
test-faults: install
	$(IB) infra up
	$(VENV)/bin/pytest tests/faults -p no:cacheprovider -s $(PYTEST_ARGS)

## make mutate: mutmut ([tool.mutmut] in pyproject.toml) on the auth middleware, the error map,
## pagination, the outbox relay and the consumers' dedupe, in a copy of the tree under
## $(MUTATE_DIR) (the work tree is never mutated); prints what was not killed. MUTANTS='glob'
## picks other mutants (default: those functions; the files hold others, left unchecked);
## `cd $(MUTATE_DIR) && $(abspath $(VENV))/bin/mutmut show NAME` shows one. About half an hour on
## two cores. Scores and the reasons for the survivors: docs/robustness.md "Mutation testing".
MUTATE_DIR ?= var/mutate
MUTANTS ?= 'gateway.*' 'imageboard.*' 'analytics_pipeline.unique_posts.*' \
	'analytics_pipeline.consumer.xǁBatchǁ*' 'analytics_pipeline.consumer.xǁClickHouseSinkǁ*' \
	'analytics_pipeline.consumer.x_write_order*' \
	'services.notifications.dependencies.xǁNotificationsStoreǁhandle_event*' \
	'services.notifications.dependencies.xǁNotificationsStoreǁprune_processed_events*'
mutate: install
	rm -rf $(MUTATE_DIR) && mkdir -p $(MUTATE_DIR)
	rsync -a --exclude .git --exclude .venv --exclude var --exclude __pycache__ ./ $(MUTATE_DIR)/
	mv $(MUTATE_DIR)/analytics-pipeline/analytics_pipeline $(MUTATE_DIR)/analytics_pipeline
	# No pytest plugins from entry points (schemathesis, hypothesis): they double each run's start.
	cd $(MUTATE_DIR) && IB_TEST_INSTANCE=mutate PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 \
		$(abspath $(VENV))/bin/mutmut run --max-children 1 $(MUTANTS)
	cd $(MUTATE_DIR) && $(abspath $(VENV))/bin/mutmut results | grep -v ': not checked$$' || true

## make bench: its own stack instance, seeded; capacity open loop (k6 steps of the mix,
## p99 <= 100 ms) direct and through nginx, then wrk rows + RPC floor (docs/performance.md).
## BENCH_ARGS="--seed-scale 10" (10x data), "--step-seconds 60" etc.; BENCH_PORT picks the port.
bench: install
	$(IB) infra up
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

## make bench-search: post search and cursor pages at 100,000 posts inserted in SQL, through
## the API (bench/search.py; docs/performance.md "Search and cursor pages").
bench-search: install
	$(IB) infra up
	$(VENV)/bin/python -m bench.search $(BENCH_ARGS)

## make bench-stream: 10,000 concurrent SSE connections while posts, comments and likes are
## written at 100/s (bench/stream.py; docs/performance.md "Live updates").
bench-stream: install
	$(IB) infra up
	$(VENV)/bin/python -m bench.stream $(BENCH_ARGS)

## make soak: its own instance (private PostgreSQL, RabbitMQ, Kafka) under k6 at 70% of the
## measured capacity for SOAK_MINUTES, with a service killed, RabbitMQ restarted and Kafka
## down 60 s; reconciles every write, RSS/fds per process; report in var/soak/<date>/
## (docs/robustness.md "Soak"). SOAK_ARGS="--rate 300" etc.
SOAK_MINUTES ?= 20
soak: install
	$(IB) infra up
	SOAK_MINUTES=$(SOAK_MINUTES) $(VENV)/bin/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf var build *.egg-info
