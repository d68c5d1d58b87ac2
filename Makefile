# ccpor: `make run` starts the registry with demo data, `make test` checks it.
GO       ?= go
BIN      := bin/ccpor
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Import benchmark size for `make bench` (BENCH_ORDERS=1000000 for the full figure).
BENCH_ORDERS ?= 1000000

.PHONY: build run test lint bench clean

build:
	$(GO) build -o $(BIN) ./cmd/ccpor

# Finds or starts PostgreSQL, migrates, seeds 20,000 demo orders once,
# prints a demo token and serves on :8080.
run: build
	$(BIN) serve --addr :8080 --demo 20000

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Heavy measurements: Go benchmarks, matching quality on ../shared/bench,
# and a bulk import of BENCH_ORDERS synthetic orders. Writes bench-report.txt.
bench: build
	@echo "ccpor benchmark report, $$(date -u +%FT%TZ), $$(nproc) cores" > bench-report.txt
	CCPOR_BENCH_FULL=1 $(GO) test -run 'Quality' -bench . -benchmem -timeout 60m ./... 2>&1 | tee -a bench-report.txt
	CCPOR_BENCH_ORDERS=$(BENCH_ORDERS) $(GO) test -run '^TestImportBench$$' -v -timeout 60m ./cmd/ccpor 2>&1 | tee -a bench-report.txt
	@echo "report written to bench-report.txt"

clean:
	rm -rf bin bench-report.txt
