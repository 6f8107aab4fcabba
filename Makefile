# Entry points for developers and CI. The local stack runs without Docker: see
# deploy/local/stack.sh (PostgreSQL cluster on 127.0.0.1:55432, Kafka on 127.0.0.1:9092,
# services on 8000-8005). Pass pytest arguments with: make test ARGS="-k outbox -x"

SHELL := /bin/bash
STACK := bash deploy/local/stack.sh

.PHONY: install infra-up up down purge logs status test isolated lint

## Install missing system packages (PostgreSQL, Java 17, Maven) and cache the Kafka jars.
install:
	$(STACK) install

## Start PostgreSQL and Kafka only, with databases and topics (what the tests need).
infra-up:
	$(STACK) infra-up

## Start everything: infrastructure, the five services, demo data.
up:
	$(STACK) up

## Stop services, Kafka and PostgreSQL (data is kept).
down:
	$(STACK) down

## Stop everything and delete Kafka's data and the PostgreSQL cluster.
purge:
	$(STACK) down --purge

## Follow the service and Kafka logs.
logs:
	$(STACK) logs

## Show what runs.
status:
	$(STACK) status

## Run the test suite against real PostgreSQL and Kafka.
test:
	bash deploy/local/test.sh $(ARGS)

## Each service installed alone (uv sync --package) runs its CLI and unit tests.
isolated:
	bash deploy/local/isolated.sh

## Lint: ruff (pydocstyle, complexity, pylint refactor, naming among its rules), the format,
## mypy over everything, and mypy --strict over shared/ and every service's pure domain/.
lint:
	uv run ruff check . && uv run ruff format --check . && uv run mypy shared/src tools/src services/*/src
	uv run mypy --strict shared/src $(wildcard services/*/src/jobstream/*/domain)
