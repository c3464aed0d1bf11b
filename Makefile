# recmesh — see README.md. Every target works from a fresh clone.
GO      ?= go
# Every module of the workspace, read from go.work, so a new service is one `use` line there.
MODULES := $(shell sed -n 's|^[[:space:]]*\./||p' go.work)
BIN     := bin/recmesh
# Tools are cached outside the repo and pinned.
TOOLS   ?= $(HOME)/.cache/recmesh/bin
PROTOC_GEN_GO      := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.6
PROTOC_GEN_GO_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
PROTOC_GEN_VTPROTO := github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto@v0.6.0
# Extra flags for go test, e.g. make test TESTFLAGS=-v
TESTFLAGS ?=

.PHONY: build run dev dev-down test test-unit test-integration test-chaos test-ops test-alerts test-k8s test-compose dashboards lint proto tidy bench bench-serve bench-overload fuzz clean deps deps-down image

build: ## the one binary, bin/recmesh
	$(GO) build -o $(BIN) ./cmd/recmesh

run: build ## embedded mode: every service and the gateway in one process (admin token dev-token unless RECMESH_ADMIN_TOKEN is set)
	RECMESH_ADMIN_TOKEN=$${RECMESH_ADMIN_TOKEN:-dev-token} ./$(BIN) all

dev: ## dev mode: real Consul/Redis/PostgreSQL/Jaeger, each service and the gateway its own process
	scripts/dev.sh up

dev-down: ## stop what `make dev` started
	scripts/dev.sh down

test: lint test-unit test-integration test-chaos test-ops ## what CI runs: unit tests, integration tests against real dependencies, the chaos suite, then the operator surface

test-chaos: ## the dev mode under load while services are killed or paused and Redis, PostgreSQL, Consul stopped (private dependencies)
	scripts/chaos.sh

test-ops: test-alerts test-k8s test-compose ## alert rules, Kubernetes manifests and the compose stack on a real Docker engine

test-alerts: ## promtool: the Prometheus config and alert rules parse, and every alert's unit tests pass
	@P=$$(scripts/deps.sh build >/dev/null && echo $(TOOLS)/promtool); \
	  $$P check config deploy/prometheus/prometheus.yml && \
	  $$P check rules deploy/prometheus/alerts.yml && \
	  $$P test rules deploy/prometheus/alerts_test.yml

test-k8s: ## kustomize build of each overlay, kubeconform -strict against schemas from k8s.io/kubernetes, the policy test
	scripts/k8s-check.sh

test-compose: ## docker-compose.yml run for real on a private Docker engine (offline stand-in images), checked end to end
	scripts/compose-test.sh

dashboards: ## regenerate deploy/grafana/dashboards from their definitions
	cd cmd/recmesh && $(GO) generate ./internal/dashboards

image: ## the recmesh image, recmesh/recmesh:dev (needs the public golang image, or GO_IMAGE=…)
	docker build $(if $(GO_IMAGE),--build-arg GO_IMAGE=$(GO_IMAGE)) -t recmesh/recmesh:dev .

test-unit: ## unit and end-to-end tests of every module, with the race detector
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GO) test -race -count=1 $(TESTFLAGS) ./...); done

# Packages with integration tests. Outside make they skip when their
# RECMESH_* variables are unset; here RECMESH_REQUIRE_DEPS=1 turns a missing
# dependency into a failure.
INTEGRATION_PKGS := ./pkg/registry ./pkg/balancer ./pkg/storeurl ./pkg/listcache/redislists ./services/features/store/... ./services/experiment/... ./cmd/recmesh ./cmd/recmesh/internal/browser
# Test ports, so integration tests can run while `make deps` or `make dev` is up.
TEST_DEPS := REDIS_PORT=26379 PG_PORT=25432 CONSUL_HTTP_PORT=28500 CONSUL_DNS_PORT=28600 \
  CONSUL_SERF_LAN_PORT=28301 CONSUL_SERF_WAN_PORT=28302 CONSUL_SERVER_PORT=28300 JAEGER_UI_PORT=26686 JAEGER_QUERY_GRPC_PORT=26685 \
  OTLP_GRPC_PORT=24317 OTLP_HTTP_PORT=24318 PROMETHEUS_PORT=29090

test-integration: ## tests against real PostgreSQL/Redis/Consul/Jaeger, started on test ports and stopped after
	@set -e; export $(TEST_DEPS) RECMESH_DEPS_DIR=$$(mktemp -d /tmp/recmesh-it-XXXX) RECMESH_REQUIRE_DEPS=1; \
	  trap 'scripts/deps.sh down; rm -rf "$$RECMESH_DEPS_DIR"' EXIT; \
	  scripts/deps.sh up > "$$RECMESH_DEPS_DIR/env"; set -a; . "$$RECMESH_DEPS_DIR/env"; set +a; \
	  for p in $(INTEGRATION_PKGS); do echo "== integration $$p"; $(GO) test -count=1 $(TESTFLAGS) $$p; done

lint: ## gofmt and go vet over every module
	@bad=$$(gofmt -l $(MODULES) | grep -v '\.pb\.go$$' || true); \
	  if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done

proto: ## regenerate proto/recmesh/v1/*.pb.go with pinned plugins (vtprotobuf: generated marshalling for the gRPC codec)
	@command -v protoc >/dev/null || { echo "protoc is missing: apt-get install protobuf-compiler libprotobuf-dev"; exit 1; }
	GOBIN=$(TOOLS) $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(TOOLS) $(GO) install $(PROTOC_GEN_GO_GRPC)
	GOBIN=$(TOOLS) GOFLAGS=-mod=mod $(GO) install $(PROTOC_GEN_VTPROTO)
	cd proto && PATH=$(TOOLS):$$PATH protoc -I . \
	  --go_out=. --go_opt=paths=source_relative \
	  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
	  --go-vtproto_out=. --go-vtproto_opt=paths=source_relative,features=marshal+unmarshal+size recmesh/v1/*.proto

tidy: ## go mod tidy in every module
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && GOWORK=off $(GO) mod tidy); done

bench: ## benchmarks of every module (benchstat-ready)
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchmem -count 6 ./...); done

bench-serve: ## the mesh tax: recmesh bench against the embedded mode, then the dev mode, at 5 to 100 connections, one table with their ratios (BENCH_LEVELS=…, BENCH_FLAGS=…)
	scripts/bench-serve.sh

bench-overload: ## the shedding ladder: recmesh all with shedding on and off at 1×, 2×, 3× load (OVERLOAD_RATES=…, OVERLOAD_ROUNDS=…)
	scripts/bench-overload.sh

fuzz: ## every fuzz target for FUZZTIME (60s) each, with a table of executions and new coverage (FUZZ=pattern picks targets, FUZZPARALLEL=workers)
	scripts/fuzz.sh

deps: ## start Redis, PostgreSQL, Consul and Jaeger on loopback (builds consul/jaeger once)
	scripts/deps.sh up

deps-down: ## stop what `make deps` started
	scripts/deps.sh down

clean:
	rm -rf bin var
