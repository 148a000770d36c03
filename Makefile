# Makefile for orderapi. `make help` lists the targets.
#
# Targets that need PostgreSQL get it from scripts/devdb.sh, which uses the
# server at $DATABASE_URL (default 127.0.0.1:5432) or starts one.

GO ?= go

# Every target builds and tests with the toolchain go.mod names, whichever go
# is installed: on a machine that has an older one (or GOTOOLCHAIN=local in
# its go.env), the go command fetches this one from the module proxy on first
# use (about 76 MB, kept in the module cache). go1.27.3 fixes the standard
# library vulnerabilities that `make vulncheck` finds in go1.26.8.
export GOTOOLCHAIN := go1.27.3

.DEFAULT_GOAL := help
.PHONY: help run build test test-race test-faults fuzz lint vulncheck tidy-check migrate openapi-check openapi-lint asyncapi-lint swagger-ui bench bench-scale bench-go devdb-stop docker clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# Authentication is on, in development mode: the service accepts the
# tokens `go run ./cmd/orderapi token` prints (see the README).
run: ## serve locally against the dev database, development authentication on
	DATABASE_URL="$$(scripts/devdb.sh url)" && export DATABASE_URL && \
		ORDERAPI_AUTH="$${ORDERAPI_AUTH:-dev}" $(GO) run ./cmd/orderapi serve

build: ## build a static binary into bin/orderapi
	CGO_ENABLED=0 $(GO) build -o bin/orderapi ./cmd/orderapi

# An empty TEST_DATABASE_URL means: ask devdb.sh for a server. The `&&`
# chain stops when devdb.sh fails, instead of testing without a database.
# The tests that run Node.js programs (the OIDC provider, the browser test
# of /docs in Chromium) install their locked npm packages themselves.
test: ## run all tests against a real PostgreSQL
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(scripts/devdb.sh url postgres)}" && export TEST_DATABASE_URL && \
		$(GO) test -count=1 ./...

test-race: ## run all tests with the race detector
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(scripts/devdb.sh url postgres)}" && export TEST_DATABASE_URL && \
		$(GO) test -count=1 -race ./...

# The crash test runs a PostgreSQL cluster of its own (initdb into a
# temporary folder, its own port), so that it can kill it; it needs the
# PostgreSQL binaries, not a server.
test-faults: ## kill the service, the database, the relay and NATS under load; check nothing is lost or doubled
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "test-faults: no PostgreSQL binaries under /usr/lib/postgresql/*/bin; install them: apt-get install -y postgresql" >&2; exit 1; }
	@command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || { \
		echo "test-faults: no nats-server; install it: apt-get install -y nats-server" >&2; exit 1; }
	$(GO) test -tags faults -count=1 -v -timeout 5m ./internal/faults

# go test -fuzz takes one target per run, so each is run in turn, for
# FUZZTIME (a duration, or Nx for N inputs). New crashers land in the
# package's testdata/fuzz/<target>/, where plain `make test` replays them.
FUZZTIME ?= 30s
FUZZ_TARGETS = \
	./internal/domain/order:FuzzParseAmount \
	./internal/adapters/timetext:FuzzParse \
	./internal/adapters/postgres/eventstore:FuzzWhatTheDomainAcceptsRoundTrips \
	./internal/adapters/postgres/codec:FuzzMetadataShapeAgreesWithFields \
	./internal/adapters/httpapi:FuzzDecodeCreate \
	./internal/adapters/httpapi:FuzzDecodeAddItem \
	./internal/adapters/httpapi:FuzzDecodePlace \
	./internal/adapters/httpapi:FuzzDecodeShip \
	./internal/adapters/httpapi:FuzzDecodeDeliver \
	./internal/adapters/httpapi:FuzzDecodeCancel \
	./internal/adapters/httpapi:FuzzParseUUID \
	./internal/adapters/httpapi:FuzzCursor \
	./internal/adapters/httpapi:FuzzCursorRoundTrip \
	./internal/adapters/httpapi:FuzzQueryParams \
	./internal/adapters/httpapi:FuzzServer

fuzz: ## run every fuzz target in turn for FUZZTIME each (default 30s)
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(scripts/devdb.sh url postgres)}" && export TEST_DATABASE_URL && \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# gofmt is the toolchain's own: its layout changes between Go releases.
lint: ## gofmt, go vet and staticcheck (pinned in go.mod)
	@unformatted=$$("$$($(GO) env GOROOT)/bin/gofmt" -l .) && [ -z "$$unformatted" ] || { \
		echo "lint: not formatted by $(GOTOOLCHAIN)'s gofmt (run: $(GO) fmt ./...):" >&2; echo "$$unformatted" >&2; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# The public vulnerability database need not be reachable: govulncheck reads
# one built here, by indexdb, from the reports that the golang.org/x/vulndb
# module carries (its data/osv folder). Both are pinned: govulncheck by the
# tool line in go.mod, the reports by VULNDB_VERSION. indexdb runs with
# `go run module@version`, outside go.mod, so vulndb's many requirements stay
# out of it. The database is built once per version, under bin/.
VULNDB_VERSION = v0.0.0-20261105234957-e22db6528018
VULNDB = bin/vulndb/$(VULNDB_VERSION)

vulncheck: $(VULNDB)/index/db.json ## fail on a known vulnerability that the code reaches (govulncheck, offline)
	$(GO) tool govulncheck -db "file://$(CURDIR)/$(VULNDB)" ./...

$(VULNDB)/index/db.json:
	rm -rf "$(VULNDB).tmp"
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) \
		-vulns "$$($(GO) env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION)/data/osv" -out "$(VULNDB).tmp"
	rm -rf "$(VULNDB)" && mv "$(VULNDB).tmp" "$(VULNDB)"

tidy-check: ## fail if go mod tidy would change go.mod or go.sum
	$(GO) mod tidy -diff

migrate: ## apply pending migrations to the dev database
	DATABASE_URL="$$(scripts/devdb.sh url)" && export DATABASE_URL && $(GO) run ./cmd/orderapi migrate

openapi-check: ## check the API against api/openapi.yaml
	$(GO) test -count=1 -run 'OpenAPI' ./...

# Redocly CLI, pinned in api/lint/package-lock.json, with its recommended
# rules (api/lint/redocly.yaml): any error fails, warnings are shown.
openapi-lint: ## lint api/openapi.yaml with Redocly's recommended rules (needs Node.js and npm)
	cd api/lint && npm ci --no-audit --no-fund --silent && npx --no-install redocly lint --config redocly.yaml ../openapi.yaml

# The AsyncAPI CLI sends no analytics: CI=true and a settings file that
# disables them (it would otherwise create one in $HOME, enabled); nor
# does it look for a newer version, nor its scarf dependency report the
# install. It validates the document alone, with no network.
asyncapi-lint: ## validate api/asyncapi.yaml with the AsyncAPI CLI (needs Node.js and npm)
	cd api/asyncapi && SCARF_ANALYTICS=false npm ci --no-audit --no-fund --silent && \
		CI=true ASYNCAPI_METRICS_CONFIG_PATH="$$PWD/analytics.json" ASYNCAPI_SKIP_NEW_VERSION_CHECK=true \
		npx --no-install asyncapi validate ../asyncapi.yaml

# Swagger UI for /docs is committed under internal/adapters/webui/docs/
# swagger-ui and embedded in the binary, so building needs no Node.js; this
# vendors it again at the version pinned in internal/adapters/webui/vendor.
swagger-ui: ## vendor the pinned Swagger UI for /docs (needs Node.js and npm)
	scripts/swagger-ui.sh

# The benchmark starts the production binary on fresh databases of the
# server devdb.sh finds, and drops them at the end; BENCH_* tune it (see
# cmd/orderbench/main.go and docs/performance.md).
bench: ## measure the service against PostgreSQL's own floor (~6 min); writes bench-results.json
	CGO_ENABLED=0 $(GO) build -o bin/orderapi ./cmd/orderapi
	DATABASE_URL="$${DATABASE_URL:-$$(scripts/devdb.sh url postgres)}" && export DATABASE_URL && \
		BENCH_SERVER=bin/orderapi $(GO) run ./cmd/orderbench

# bench-scale seeds a large store (BENCH_SCALE_EVENTS events over
# BENCH_SCALE_ORDERS orders) and a small one with the bulk loader, and
# measures requests on both, then reads, rebuilds and verifies the large
# one whole. It says how much disk it needs before it seeds, and refuses
# when the database server's disk has less free. See docs/performance.md,
# "At ten million events".
BENCH_SCALE_EVENTS ?= 10000000
BENCH_SCALE_ORDERS ?= 1000000

bench-scale: ## measure at 10M events against a small store (~30 min, ~15 GiB of disk); writes bench-scale-results.json
	CGO_ENABLED=0 $(GO) build -o bin/orderapi ./cmd/orderapi
	DATABASE_URL="$${DATABASE_URL:-$$(scripts/devdb.sh url postgres)}" && export DATABASE_URL && \
		BENCH_SERVER=bin/orderapi BENCH_SCALE_EVENTS=$(BENCH_SCALE_EVENTS) BENCH_SCALE_ORDERS=$(BENCH_SCALE_ORDERS) \
		$(GO) run ./cmd/orderbench scale

bench-go: ## run the Go micro-benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

devdb-stop: ## stop the dev database if devdb.sh started one
	scripts/devdb.sh stop

docker: ## build the container image orderapi
	docker build -t orderapi .

clean: ## remove build output
	rm -rf bin/ coverage.out coverage.html
