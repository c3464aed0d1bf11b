# recmesh — see README.md. Every target works from a fresh clone.
GO      ?= go
MODULES := proto pkg services/features services/recall services/filter services/ranking services/experiment gateway cmd/recmesh
BIN     := bin/recmesh
# Tools are cached outside the repo and pinned.
TOOLS   ?= $(HOME)/.cache/recmesh/bin
PROTOC_GEN_GO      := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.6
PROTOC_GEN_GO_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
# Extra flags for go test, e.g. make test TESTFLAGS=-v
TESTFLAGS ?=

.PHONY: build run test test-unit lint proto tidy bench clean deps deps-down

build: ## the one binary, bin/recmesh
	$(GO) build -o $(BIN) ./cmd/recmesh

run: build ## embedded mode: every service and the gateway in one process
	./$(BIN) all

test: lint test-unit ## what CI runs

test-unit: ## unit and end-to-end tests of every module, with the race detector
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GO) test -race -count=1 $(TESTFLAGS) ./...); done

lint: ## gofmt and go vet over every module
	@bad=$$(gofmt -l $(MODULES) | grep -v '\.pb\.go$$' || true); \
	  if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done

proto: ## regenerate proto/recmesh/v1/*.pb.go with pinned plugins
	@command -v protoc >/dev/null || { echo "protoc is missing: apt-get install protobuf-compiler libprotobuf-dev"; exit 1; }
	GOBIN=$(TOOLS) $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(TOOLS) $(GO) install $(PROTOC_GEN_GO_GRPC)
	cd proto && PATH=$(TOOLS):$$PATH protoc -I . \
	  --go_out=. --go_opt=paths=source_relative \
	  --go-grpc_out=. --go-grpc_opt=paths=source_relative recmesh/v1/*.proto

tidy: ## go mod tidy in every module
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && GOWORK=off $(GO) mod tidy); done

bench: ## benchmarks of every module (benchstat-ready)
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchmem -count 6 ./...); done

deps: ## start Redis, PostgreSQL, Consul and Jaeger on loopback (builds consul/jaeger once)
	scripts/deps.sh up

deps-down: ## stop what `make deps` started
	scripts/deps.sh down

clean:
	rm -rf bin var
