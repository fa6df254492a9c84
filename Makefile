# restate-sdk-go: `make run` shows real invocations, `make test` runs everything.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
GOFLAGS ?=
FUZZTIME ?= 60s
CHECKS ?= 1000
BENCH ?= .
COUNT ?= 1
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.6.1
# Conformance configurations `make test` runs (the full matrix is `make conformance`).
TEST_CONFORMANCE := default:bidi default:request-response v7:bidi always-suspending:bidi three-nodes:bidi
CONFORMANCE_CONFIGS ?= default,v7,three-nodes,three-nodes-always-suspending,always-suspending,single-partition,lazy-state,lazy-state-always-suspending,persisted-timers
CONFORMANCE_MODES ?= bidi,request-response

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## download Go modules and install restate-server 1.7.12 from npm into .cache/
	$(GO) mod download
	cd internal/wirecheck && $(GO) mod download
	cd examples/lambda && $(GO) mod download
	cd examples/tracing && $(GO) mod download
	cd restatevet && $(GO) mod download
	$(GO) run ./internal/restateserver/cmd/restate-install

.PHONY: test
test: deps lint-fast unit seeded-bug wirecheck conformance-ci failover ## unit, property and end-to-end tests against the real restate-server

.PHONY: unit
unit: ## go test -race ./... (includes property tests and e2e tests that start restate-server)
	$(GO) test $(GOFLAGS) -race -count=1 -timeout 15m ./...
	$(GO) test $(GOFLAGS) -count=1 -run '^TestParkedInvocationStack$$' ./h2c/  # measures frame sizes: not under -race
	cd examples/lambda && $(GO) test -race -count=1 ./...
	cd examples/tracing && $(GO) test -race -count=1 ./...
	@echo "== restatetest.StartServer's tests, against a real restate-server"
	RESTATE_E2E_BACKEND=restate-server $(GO) test -race -count=1 -run '^TestStartServer' ./restatetest/
	@echo "== the examples' end-to-end tests again, against restatetest instead of restate-server"
	RESTATE_E2E_BACKEND=restatetest $(GO) test -race -count=1 ./examples/...

.PHONY: run
run: ## start restate-server and every example, show real invocations, then wait for your curl commands (Ctrl-C stops)
	@# Built, then run (not go run, which exits 1 on Ctrl-C however its child ends).
	$(GO) build -o bin/examples-run ./examples/cmd/run
	@bin/examples-run

.PHONY: examples
examples: ## end-to-end tests of the examples and the ingress client against restate-server
	$(GO) test $(GOFLAGS) -race -count=1 ./examples/... ./ingress/...
	cd examples/tracing && $(GO) test -race -count=1 ./...

.PHONY: wirecheck
wirecheck: ## cross-check wire/ against the reference protobuf implementation
	cd internal/wirecheck && $(GO) test -count=1 ./...

.PHONY: test-services
test-services: ## build the conformance test-services into bin/test-services
	$(GO) build -o bin/test-services ./conformance/cmd/test-services

bin/conformance: $(shell find conformance internal -name '*.go')
	$(GO) build -o bin/conformance ./conformance/cmd/conformance

.PHONY: conformance-ci
conformance-ci: test-services bin/conformance
	@fail=0; for cm in $(TEST_CONFORMANCE); do \
		echo "== conformance $$cm"; \
		bin/conformance -config $${cm%%:*} -mode $${cm##*:} -services-bin bin/test-services || fail=1; \
	done; exit $$fail

.PHONY: conformance
conformance: test-services bin/conformance ## the conformance suite in every configuration and mode
	bin/conformance -config $(CONFORMANCE_CONFIGS) -mode $(CONFORMANCE_MODES) -services-bin bin/test-services

.PHONY: failover
failover: ## kill cluster nodes under a few hundred in-flight invocations (build tag restate_failover, a few minutes)
	$(GO) test $(GOFLAGS) -race -count=1 -timeout 10m -tags restate_failover -run '^TestClusterFailover$$' -v ./internal/restateserver/

.PHONY: lint-fast
lint-fast:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@# Every module's go.mod and go.sum must be tidy: a missing go.sum line
	@# only shows on a fresh machine, with an empty module cache.
	@for d in . internal/wirecheck examples/lambda examples/tracing restatevet restatevet/analyzer/testdata restatevet/analyzer/testdata/dotless; do \
		(cd $$d && $(GO) mod tidy -diff >/dev/null) || { echo "go.mod/go.sum of $$d not tidy: run (cd $$d && go mod tidy)"; exit 1; }; \
	done
	$(GO) vet ./...
	cd examples/lambda && $(GO) vet ./...
	cd examples/tracing && $(GO) vet ./...
	@$(MAKE) --no-print-directory layering
	@$(MAKE) --no-print-directory vet-determinism

.PHONY: vet-determinism
vet-determinism: ## build restatevet from its module, test it, and run it over examples/ and conformance/
	cd restatevet && $(GO) vet ./... && $(GO) build -o ../bin/restatevet ./cmd/restatevet
	@# The analyzer's own tests load the SDK and its dependencies from source
	@# (about 600 MB); the limit turns a regression into a failure, not a swap storm.
	cd restatevet && GOMEMLIMIT=1GiB $(GO) test -count=1 -timeout 10m ./...
	bin/restatevet ./examples/... ./conformance/...
	cd examples/lambda && ../../bin/restatevet ./...
	cd examples/tracing && ../../bin/restatevet ./...

.PHONY: lint
lint: lint-fast ## gofmt, go vet, staticcheck, dependency direction
	$(GO) run $(STATICCHECK) ./...

.PHONY: layering
layering: ## fail on an upward import: wire <- replay <- restate <- h2c/lambda/props
	@m=github.com/qcodr/restate-sdk-go; fail=0; \
	imports() { $(GO) list -f '{{join .Imports "\n"}}' $$1 | grep "^$$m" || true; }; \
	for i in $$(imports ./wire); do echo "wire imports $$i"; fail=1; done; \
	for i in $$(imports ./replay); do [ "$$i" = "$$m/wire" ] || { echo "replay imports $$i"; fail=1; }; done; \
	for i in $$(imports .); do case "$$i" in $$m/h2c*|$$m/lambda*|$$m/props*|$$m/examples*|$$m/restatetest*) echo "restate imports $$i"; fail=1;; esac; done; \
	exit $$fail

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 60s)
	@for pkg in ./wire ./replay ./props ./internal/endpoint ./h2c ./lambda; do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime=5s $$pkg; \
		done; \
	done

.PHONY: props
props: ## property tests with CHECKS checks each (default 1000)
	$(GO) test -count=1 -run 'Prop|Property|StateMachine' ./props/... -rapid.checks=$(CHECKS)
	$(GO) test -count=1 -run 'TestResolveFlatMatchesTree' ./replay/ -rapid.checks=$(CHECKS)
	$(GO) test -count=1 -run 'TestRoundTrip|TestStreamRoundTrip' ./wire/ -rapid.checks=$(CHECKS)

.PHONY: seeded-bug
seeded-bug: ## the property tests catch a deliberate engine bug (build tag restate_seeded_bug)
	$(GO) test -race -count=1 -tags restate_seeded_bug -run '^TestSeededBug' ./props/

.PHONY: bench
bench: ## Go micro-benchmarks (BENCH=regex, COUNT=n)
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count=$(COUNT) ./...

.PHONY: bench-compare
bench-compare: ## side by side with sdk-go and the transport floor (bench/ module); writes BENCHMARKS.md (BENCH_COMPARE_FLAGS=...)
	cd bench && $(GO) build -o bin/ ./cmd/...
	cd bench && RESTATE_CACHE_DIR=$(CURDIR)/.cache/restate bin/benchcompare -bin bin -out ../BENCHMARKS.md -raw bench-compare.txt $(BENCH_COMPARE_FLAGS)
