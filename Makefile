# Switchboard. `make run` serves the API with a demo workspace (`make stop` stops its
# PostgreSQL); `make test` runs every test and needs only Go.
# Without DATABASE_URL both start a private PostgreSQL (.ci/postgres) under .data/.
# `make bench` measures the API at scale (README, "Benchmarks").

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
BIN      := bin/switchboard
DATA     := .data
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: fuzz bench-go help build run stop test test-tools db db-stop openapi openapi-check lint spec-lint fmt bench bench-explain bench-reset

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

# The committed spec is validated strictly by openapi's Go test (kin-openapi, no Node).
test: db test-tools openapi-check ## run every test against a real PostgreSQL (needs only Go)
	@export TEST_DATABASE_URL="$${DATABASE_URL:-$$(.ci/postgres url postgres)}"; \
	$(GO) vet ./...; \
	test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }; \
	$(GO) test -count=1 -p 2 ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_TEST)

# The README test (cmd/switchboard/readme_test.go) runs README's tour, which uses curl and jq:
# Debian's packages are installed when missing, as .ci/postgres installs PostgreSQL.
test-tools:
	@missing=""; for t in curl jq; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [[ -n "$$missing" ]]; then \
		echo "installing Debian's$$missing (README's tour needs them)"; \
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

openapi: ## regenerate openapi/openapi.{json,yaml} from the handlers' annotations
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) tool swag init --quiet --generalInfo server.go --dir api,pkg/resource --output $$tmp --outputTypes json --parseDependencyLevel 0 >/dev/null; \
	$(GO) run ./cmd/specgen -in $$tmp/swagger.json -out openapi

# The committed pair is kept aside in a temporary directory (removed on every exit), compared
# with a fresh generation, and put back when it differs so the check changes nothing.
openapi-check: ## fail when the committed spec differs from a fresh generation
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp openapi/openapi.json openapi/openapi.yaml $$tmp/; \
	$(MAKE) --no-print-directory openapi; \
	if ! cmp -s openapi/openapi.json $$tmp/openapi.json || ! cmp -s openapi/openapi.yaml $$tmp/openapi.yaml; then \
		cp $$tmp/openapi.json $$tmp/openapi.yaml openapi/; \
		echo "openapi/ is stale: run 'make openapi' and commit the result"; exit 1; fi

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

bench-reset: ## drop the bench database and state; the next make bench seeds again
	@$(BENCH_RUN) reset

bench-go: db ## Go benchmarks of rule-checked sends, eligibility and the inbox (req/s, CPU µs per request)
	@export TEST_DATABASE_URL="$${DATABASE_URL:-$$(.ci/postgres url postgres)}"; \
	$(GO) test -run '^$$' -bench . -benchtime 3s ./api/
