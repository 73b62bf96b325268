# One entry point for people and CI. Each target installs what it is missing, so a fresh clone works.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYSPARKPLUG_VENV := .venv-pysparkplug
NODE_PEERS := interop/node_modules/.installed

.PHONY: help venv mosquitto peers demo test test-fast bench lint proto clean

help:
	@echo "make demo   - run the demo (broker, simulated plant, bridge, Odoo sandbox, live view)"
	@echo "make test   - install what is missing and run the whole test suite"
	@echo "make bench  - run the benchmarks, write bench/results.json"
	@echo "make lint   - ruff and mypy"
	@echo "make proto  - regenerate sparkplug/proto/sparkplug_b_pb2.py from the .proto"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# Mosquitto is a system daemon: take Debian's package when it is not on the machine yet.
mosquitto:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
	  echo "installing mosquitto with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients >/dev/null; }

# Third-party Sparkplug peers for the interop tests: Tahu's npm packages and pysparkplug, which pins
# paho-mqtt<2 and so lives in a venv of its own.
$(NODE_PEERS): interop/package.json
	@if command -v npm >/dev/null 2>&1; then \
	  (cd interop && npm install --no-audit --no-fund --loglevel=error) && touch $(NODE_PEERS); \
	else echo "npm not found: Tahu interop tests will be skipped"; fi

$(PYSPARKPLUG_VENV)/.installed:
	@test -x $(PYSPARKPLUG_VENV)/bin/python || $(PY) -m venv $(PYSPARKPLUG_VENV)
	$(PYSPARKPLUG_VENV)/bin/python -m pip install -q 'pysparkplug==0.6.1'
	@touch $@

peers: $(NODE_PEERS) $(PYSPARKPLUG_VENV)/.installed

test: venv mosquitto peers
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: venv mosquitto
	$(BIN)/python -m pytest -q -x -m "not interop"

bench: venv mosquitto peers
	$(BIN)/python -m bench

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

proto: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m grpc_tools.protoc -Isparkplug/proto --python_out=sparkplug/proto \
	  --mypy_out=sparkplug/proto sparkplug/proto/sparkplug_b.proto

demo: venv mosquitto
	$(BIN)/uns demo

clean:
	rm -rf $(VENV) $(PYSPARKPLUG_VENV) interop/node_modules .pytest_cache .mypy_cache .ruff_cache
