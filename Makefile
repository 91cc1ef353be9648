# Operator and developer entry points; each wraps the `imageboard` console script.
VENV ?= .venv
PYTHON ?= python3
IB := $(VENV)/bin/imageboard
PYTEST_ARGS ?=

.PHONY: install run up down status infra migrate admin lint deadcode test test-unit test-faults bench soak clean

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## make run: everything in the foreground; Ctrl-C stops it all
run: install
	$(IB) run

## make up / make down: the same in the background (logs and pids in var/)
up: install
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
test: install lint
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

## make test-faults: only the fault tests (tests/faults: kill a service, restart private
## RabbitMQ/PostgreSQL/Kafka/ClickHouse servers under load; about 5 minutes). `make test`
## runs them too, with everything else.
test-faults: install
	$(IB) infra up
	$(VENV)/bin/pytest tests/faults -p no:cacheprovider -s $(PYTEST_ARGS)

## make bench: its own stack instance, seeded through the API, wrk scenarios + RPC floor
## (docs/performance.md). BENCH_ARGS="--duration 30" etc.; BENCH_PORT picks the port.
bench: install
	$(IB) infra up
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

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
