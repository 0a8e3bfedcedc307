# Switchboard. `make run` serves the API with a demo workspace (`make stop` stops its
# PostgreSQL); `make test` runs every test and needs only Go installed (it installs Debian's postgresql, chromium, curl, jq and redis-server when missing; no Node).
# Without DATABASE_URL both start a private PostgreSQL (.ci/postgres) under .data/.
# `make bench` measures the API at scale (bench/README.md).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
BIN      := bin/switchboard
DATA     := .data
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: fuzz bench-go bench-media bench-broadcast bench-cluster help build run stop test test-tools db db-stop openapi openapi-check clients-ts lint spec-lint fmt bench bench-explain bench-reset

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/switchboard
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/switchboard

db: ## start the private PostgreSQL (skipped when DATABASE_URL is set)
	@if [[ -z "$${DATABASE_URL:-}" ]]; then .ci/postgres start; fi

db-stop: ## stop the private PostgreSQL
	.ci/postgres stop

# Secrets for local use are made once and kept in .data/ (git-ignored).
$(DATA)/jwt_secret:
	@mkdir -p $(DATA) && head -c 48 /dev/urandom | base64 -w0 > $@ && chmod 600 $@
$(DATA)/secrets_key:
	@mkdir -p $(DATA) && head -c 32 /dev/urandom | base64 -w0 > $@ && chmod 600 $@

# make run listens on loopback only (it prints an all-scope key): HTTP_ADDR=:8080 make run
# opens it to the network. The server's own default (HTTP_ADDR=:8080) is unchanged.
run: build db $(DATA)/jwt_secret $(DATA)/secrets_key ## migrate, bootstrap a demo workspace once, serve on 127.0.0.1:8080 (HTTP_ADDR)
	@export DATABASE_URL="$${DATABASE_URL:-$$(.ci/postgres url)}"; \
	export HTTP_ADDR="$${HTTP_ADDR:-127.0.0.1:8080}"; \
	export JWT_SECRET="$${JWT_SECRET:-$$(cat $(DATA)/jwt_secret)}"; \
	export SECRETS_KEY="$${SECRETS_KEY:-$$(cat $(DATA)/secrets_key)}"; \
	export CORS_ALLOWED_ORIGINS="$${CORS_ALLOWED_ORIGINS-http://localhost:*,http://127.0.0.1:*}"; \
	$(BIN) migrate up; \
	if [[ ! -s $(DATA)/demo.json ]]; then \
		pass=$$(head -c 18 /dev/urandom | base64 -w0 | tr '+/' 'xy'); \
		$(BIN) bootstrap --workspace "Demo" --email demo@switchboard.local --name "Demo Owner" --password "$$pass" > $(DATA)/demo.tmp; \
		sed "s/}$$/,\"email\":\"demo@switchboard.local\",\"password\":\"$$pass\"}/" $(DATA)/demo.tmp > $(DATA)/demo.json; \
		rm -f $(DATA)/demo.tmp; chmod 600 $(DATA)/demo.json; \
	fi; \
	echo "Demo workspace (kept in $(DATA)/demo.json):"; cat $(DATA)/demo.json; \
	echo $$$$ > $(DATA)/run.pid; \
	exec $(BIN) serve --print-url

# make stop ends a server that make run left running (in the background or another terminal;
# the pid in .data/run.pid counts only while it is still bin/switchboard), then the private
# PostgreSQL, as make db-stop.
stop: ## stop what make run started: its server, if still running, and the private PostgreSQL
	@if [[ -s $(DATA)/run.pid ]]; then \
		pid=$$(cat $(DATA)/run.pid); \
		if [[ "$$(readlink /proc/$$pid/exe 2>/dev/null || true)" == "$(CURDIR)/$(BIN)"* ]]; then \
			echo "stopping switchboard (pid $$pid)"; kill -TERM $$pid; \
			for _ in $$(seq 300); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
		fi; \
		rm -f $(DATA)/run.pid; \
	fi
	@$(MAKE) --no-print-directory db-stop

# make test starts the private PostgreSQL when DATABASE_URL is unset and stops it again when it
# was not running before (a server from make run keeps its database). Tests need Debian's
# chromium (api/browser_test.go drives it headless), curl and jq (cmd/switchboard's README
# test runs README's tour) and redis-server (the shared rate limits' tests start their own,
# pkg/ratelimit/redistest): test-tools installs those missing, as .ci/postgres installs
# postgresql. The api package's tests take about 7 minutes on 2 quiet cores, near go test's
# default 10-minute limit per package: the limit is 30 minutes, so a busy machine is slow, not
# failed.
test: test-tools openapi-check ## run every test against a real PostgreSQL (installs what it lacks; no Node)
	@started=; \
	if [[ -z "$${DATABASE_URL:-}" ]] && ! .ci/postgres status >/dev/null 2>&1; then .ci/postgres start; started=1; fi; \
	trap 'if [[ -n "$$started" ]]; then .ci/postgres stop; fi' EXIT; \
	export TEST_DATABASE_URL="$${DATABASE_URL:-$$(.ci/postgres url postgres)}"; \
	$(GO) vet ./...; \
	test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }; \
	$(GO) test -count=1 -p 2 -timeout 30m ./...; \
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_TEST)

TEST_TOOLS := chromium curl jq redis-server

test-tools: ## install Debian's chromium, curl, jq and redis-server for the tests when missing
	@missing=""; for t in $(TEST_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [[ -n "$$missing" ]]; then \
		echo "installing Debian's$$missing (the browser, README and rate limit tests need them)" >&2; \
		export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq$$missing; \
	fi

# Native Go fuzz targets (package:target), each with its seed corpus in the package's
# testdata/fuzz/<target>/. Plain go test runs the seeds; `make test` fuzzes each target for
# FUZZTIME_TEST, `make fuzz` for FUZZTIME. go test -fuzz takes one package and one target at
# a time. What a fuzzer finds is written to testdata/fuzz/<target>/ and fails the run: commit
# it with the fix, as a seed.
FUZZ_TARGETS := \
	./api:FuzzBind \
	./pkg/dispatch:FuzzWebhookEvent \
	./pkg/provider/whatsapp:FuzzParse \
	./pkg/provider/messenger:FuzzParse \
	./pkg/provider/telegram:FuzzParse \
	./pkg/provider/twilio:FuzzParse \
	./pkg/provider/viber:FuzzParse \
	./pkg/provider/line:FuzzParse \
	./pkg/provider/smtp:FuzzParse \
	./pkg/provider/webhook:FuzzVerify
FUZZTIME      ?= 60s
FUZZTIME_TEST ?= 2s

# Go 1.26's fuzz coordinator may end a run with a bare "context deadline exceeded" and no
# failing input when -fuzztime expires on a loaded machine (go.dev/issue/75804, fixed in Go
# 1.27): that alone is reported and skipped; a failing input written to testdata fails.
fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; log=$$(mktemp); \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		if $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg > $$log 2>&1; then \
			rm -f $$log; \
		elif grep -q '^    context deadline exceeded$$' $$log && [[ -z "$$(git status --porcelain -- $$pkg/testdata/fuzz/$$name)" ]]; then \
			echo "  coordinator deadline race (go.dev/issue/75804), no failing input: not a finding"; rm -f $$log; \
		else \
			cat $$log; rm -f $$log; exit 1; \
		fi; \
	done

# The Go client (openapi/client, oapi-codegen pinned as a tool in go.mod) is generated from the
# spec and committed; its settings are openapi/client/oapi-codegen.yaml.
openapi: ## regenerate openapi/openapi.{json,yaml} from the handlers' annotations, and the Go client
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) tool swag init --quiet --generalInfo server.go --dir api,pkg/resource --output $$tmp --outputTypes json --parseDependencyLevel 0 >/dev/null; \
	$(GO) run ./cmd/specgen -in $$tmp/swagger.json -out openapi -examples openapi/examples; \
	cd openapi/client && $(GO) tool oapi-codegen -config oapi-codegen.yaml ../openapi.json

# The files on disk are kept aside in a temporary directory, compared with a fresh generation,
# and put back on every exit (a failed generation too) so the check changes nothing.
OPENAPI_GENERATED := openapi/openapi.json openapi/openapi.yaml openapi/client/client.gen.go

openapi-check: ## fail when the committed spec or Go client differs from a fresh generation
	@tmp=$$(mktemp -d); \
	trap 'for f in $(OPENAPI_GENERATED); do cmp -s "$$tmp/$$f" $$f || cp "$$tmp/$$f" $$f; done; rm -rf "$$tmp"' EXIT; \
	for f in $(OPENAPI_GENERATED); do mkdir -p "$$tmp/$$(dirname $$f)"; cp $$f "$$tmp/$$f"; done; \
	$(MAKE) --no-print-directory openapi; \
	stale=; for f in $(OPENAPI_GENERATED); do cmp -s "$$tmp/$$f" $$f || stale="$$stale $$f"; done; \
	if [[ -n "$$stale" ]]; then echo "stale:$$stale; run 'make openapi' and commit the result"; exit 1; fi

lint: ## gofmt, go vet and the strict spec validation (the Go checks of make test)
	test -z "$$(gofmt -l .)"
	$(GO) vet ./...
	$(GO) test -count=1 ./openapi/

# Redocly's opinions (recommended rules, openapi/redocly.yaml) beyond the validation that
# make test does in Go (openapi/openapi_test.go). Optional: it needs Node and downloads the
# pinned @redocly/cli through npx, so make test does not run it.
REDOCLY := @redocly/cli@2.77.0

spec-lint: ## optional: lint openapi/openapi.yaml with Redocly's recommended rules (needs Node/npx)
	cd openapi && npx --yes $(REDOCLY) lint --config redocly.yaml openapi.yaml

# TypeScript types for frontends: openapi-typescript writes .data/clients-ts/openapi.d.ts from
# the committed spec, and tsc --strict compiles openapi/client/ts/check.ts against it (the
# module name "switchboard-openapi" maps to that file), which fails unless an Event narrowed on
# its type has the right data. Optional: it needs Node and downloads the pinned packages through
# npx, so make test does not run it. typescript stays on 5.x, openapi-typescript's peer range.
OPENAPI_TS := openapi-typescript@7.13.0
TYPESCRIPT := typescript@5.9.3

clients-ts: ## optional: generate TypeScript types into .data/clients-ts and type-check them (needs Node/npx)
	@out=$(DATA)/clients-ts; rm -rf $$out; mkdir -p $$out; \
	npx --yes $(OPENAPI_TS) openapi/openapi.json --output $$out/openapi.d.ts; \
	printf '%s\n' '{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2022",' \
		'"module": "esnext", "moduleResolution": "bundler", "types": [],' \
		'"paths": {"switchboard-openapi": ["./openapi.d.ts"]}},' \
		'"files": ["$(CURDIR)/openapi/client/ts/check.ts"]}' > $$out/tsconfig.json; \
	npx --yes -p $(TYPESCRIPT) tsc --project $$out/tsconfig.json --strict --noEmit && \
	echo "$$out/openapi.d.ts: Event narrows by type (openapi/client/ts/check.ts compiles)"

fmt: ## format the code
	gofmt -w .

# The benchmark uses its own database (switchboard_bench on the private PostgreSQL unless
# BENCH_DATABASE_URL names another), never DATABASE_URL: it drops and reseeds it at will.
BENCH_RUN = if [[ -z "$${BENCH_DATABASE_URL:-}" ]]; then .ci/postgres start; fi; \
	export BENCH_DATABASE_URL="$${BENCH_DATABASE_URL:-$$(.ci/postgres url switchboard_bench)}"; \
	$(GO) build -o bin/bench ./bench; bin/bench

bench: build ## seed once (kept in .data/bench), measure the API against raw SQL, write bench/results/
	@$(BENCH_RUN) run

bench-explain: build ## write EXPLAIN (ANALYZE, BUFFERS) of every read scenario to bench/results/
	@$(BENCH_RUN) explain

bench-broadcast: build ## a broadcast's send rate against single sends, and the inbox's p99 during it, to bench/results/
	@$(BENCH_RUN) broadcast

# Its own small database (switchboard_bench_cluster unless BENCH_CLUSTER_DATABASE_URL names
# another), seeded once and kept in .data/bench-cluster, never make bench's. HAProxy is
# Debian's package, installed here when missing (bench/cluster.go says why not nginx); the
# run exits non-zero when the fault run lost or repeated a write, a delivery or an event.
bench-cluster: build ## 3 serve + 2 worker processes behind HAProxy against one process, then kill -9 of one of each: losses (0) to bench/results/
	@if ! command -v haproxy >/dev/null && [[ ! -x /usr/sbin/haproxy ]]; then \
		echo "installing Debian's haproxy (make bench-cluster puts it in front of the serve processes)" >&2; \
		export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq haproxy; \
	fi; \
	if [[ -z "$${BENCH_CLUSTER_DATABASE_URL:-}" ]]; then .ci/postgres start; fi; \
	export BENCH_CLUSTER_DATABASE_URL="$${BENCH_CLUSTER_DATABASE_URL:-$$(.ci/postgres url switchboard_bench_cluster)}"; \
	$(GO) build -o bin/bench ./bench; bin/bench cluster

bench-reset: ## drop the bench database and state; the next make bench seeds again
	@$(BENCH_RUN) reset

bench-go: db ## Go benchmarks of rule-checked sends, eligibility and the inbox (req/s, CPU µs per request)
	@export TEST_DATABASE_URL="$${DATABASE_URL:-$$(.ci/postgres url postgres)}"; \
	$(GO) test -run '^$$' -bench . -benchtime 3s ./api/

# A built `switchboard serve` takes a 25 MiB upload and serves it back, whole and as a range:
# its peak RSS growth must stay under 10 MiB (issue 15), or the benchmark fails.
bench-media: db ## the server's memory growth moving a 25 MiB media file (streamed: under 10 MiB)
	@export TEST_DATABASE_URL="$${DATABASE_URL:-$$(.ci/postgres url postgres)}"; \
	$(GO) test -run '^$$' -bench BenchmarkMediaMemory -benchtime 3x ./cmd/switchboard/
