# ccpor: `make run` starts the registry with demo data, `make test` checks it.
SHELL    := /bin/bash
# A failing benchmark run must fail `make bench`, not vanish into a pipe.
.SHELLFLAGS := -o pipefail -c
GO       ?= go
BIN      := bin/ccpor
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Registry sizes for the import, scale and soak runs of `make bench`; a
# quick run: make bench BENCH_ORDERS=20000.
BENCH_ORDERS ?= 100000 1000000
# Officer-search load steps (requests/s, each held BENCH_STEP): the report
# gives the highest rate whose p99 stays within 100 ms.
BENCH_RATES ?= 100,200,300,400,600
BENCH_STEP ?= 10s
# The soak runs at the largest size only: its length, its mixed rate
# (requests/s) and how often the server's memory, goroutines and open
# files are sampled.
BENCH_SOAK ?= 10m
BENCH_SOAK_RATE ?= 50
BENCH_SOAK_EVERY ?= 5s
# Orders written straight to PostgreSQL to time commit to searchable.
BENCH_VISIBLE ?= 100
# The benchmark registries (database ccpor_bench_<n> and its index) are
# kept here between runs: seeding a million orders takes longer than
# measuring them. The index is rebuilt, and timed, every run.
BENCH_KEEP ?= .data/bench
# The raw figures and log lines BENCHMARKS.md is written from.
BENCH_OUT := .data/bench-results

# Each fuzzer as package:FuzzName. Their seed corpora (testdata/fuzz/) run
# with every `go test`; `make fuzz` looks for new inputs, FUZZTIME each.
FUZZERS := .:FuzzParseDate .:FuzzParseOrder ./matching:FuzzFold ./matching:FuzzParseName \
	./cmd/ccpor:FuzzImportLine ./api:FuzzSearchRequest ./store/scan:FuzzInspect .:FuzzParseNIEM
FUZZTIME ?= 10s
# make test fuzzes each target for a number of inputs, not a time: Go 1.26's
# fuzzing coordinator can fail a clean run with "context deadline exceeded"
# when a duration ends while a worker is busy (go.dev/issue/75804, fixed in
# Go 1.27), which made `make test` fail now and then with nothing found.
TEST_FUZZTIME ?= 20000x

.PHONY: build run test lint bench clean fuzz deps test-deps

build:
	$(GO) build -o $(BIN) ./cmd/ccpor

# Finds or starts PostgreSQL, migrates, seeds 20,000 demo orders once,
# prints a demo token and serves on :8080.
run: build deps
	$(BIN) serve --addr :8080 --demo 20000

test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

# One fuzzer at a time: go test -fuzz takes one package and one target.
# The first run builds instrumented copies of every dependency (minutes on
# two cores); later runs reuse them from the build cache. A failing input
# is written to the package's testdata/fuzz/ to be committed with its fix.
fuzz:
	@set -e; for f in $(FUZZERS); do \
		echo "fuzz $$f for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${f#*:}$$" -fuzztime $(FUZZTIME) $${f%%:*} 2>&1 | grep -v '^fuzz: elapsed'; \
	done

# The programs scanned documents need, from Debian: poppler-utils checks
# PDFs and renders their pages, tesseract-ocr reads the words on scans.
# Installed when missing and run as root (CI, a fresh machine); otherwise
# says what to install. Without them PDF uploads are refused and OCR is off.
DOC_TOOLS := pdfinfo:poppler-utils pdftoppm:poppler-utils pdfdetach:poppler-utils tesseract:tesseract-ocr
# The browser tests of the web pages (api/ui_browser_test.go) drive Chromium,
# from Debian, and check each page with axe-core, from npm at the version
# locked in api/testdata/axe. Without them those tests are skipped, or fail
# when CI is set.
TEST_TOOLS := chromium:chromium
AXE_DIR := api/testdata/axe
# install_missing installs, as root with apt-get, the Debian packages of
# the commands in $(1) (command:package pairs) that are missing, or says
# what $(2) needs.
define install_missing
	@missing=""; for t in $(1); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	if [ -n "$${missing// }" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
		else \
			echo "not installed: $$missing- $(2) need them: sudo apt-get install $$missing"; \
		fi; \
	fi
endef

deps:
	$(call install_missing,$(DOC_TOOLS),PDF checks and OCR)

# What the tests need beyond deps: Chromium and axe-core for the browser
# tests. `make run` does without them.
test-deps: deps
	$(call install_missing,$(TEST_TOOLS),the browser tests)
	@if [ ! -f $(AXE_DIR)/node_modules/axe-core/axe.min.js ] || [ $(AXE_DIR)/package-lock.json -nt $(AXE_DIR)/node_modules/.package-lock.json ]; then \
		if command -v npm >/dev/null; then \
			echo "installing axe-core in $(AXE_DIR)"; \
			npm ci --prefix $(AXE_DIR) --no-audit --no-fund --loglevel=error >/dev/null || exit 1; \
		else \
			echo "not installed: axe-core - the browser tests need it: install npm, then make test-deps"; \
		fi; \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Heavy measurements, written to BENCHMARKS.md and printed: Go benchmarks
# and matching quality on ../shared/bench and the fixtures' ground truth
# (with the PostgreSQL-only baseline's pair completeness, its `baseline:`
# lines), then at each of BENCH_ORDERS a bulk import, the scale run
# (reindex, index size, latencies for one client and in-process against
# the baseline, searches under load, commit to searchable, intake, the
# server child's RSS) and, at the largest, the soak. Each test appends its
# figures to $(BENCH_OUT)/results.jsonl; cmd/benchreport renders them.
bench: build
	@mkdir -p $(BENCH_OUT) && rm -f $(BENCH_OUT)/*
	CCPOR_BENCH_FULL=1 $(GO) test -run 'Quality' -v -bench . -benchmem -timeout 60m ./... 2>&1 | grep -E '^(Benchmark|ok|FAIL|---|PASS)|quality_test|eval_test' | tee $(BENCH_OUT)/quality.txt
	grep 'baseline:' $(BENCH_OUT)/quality.txt > $(BENCH_OUT)/baseline.txt || true
	@set -e; for n in $(BENCH_ORDERS); do \
		tests='Import|Scale'; if [ $$n = $(lastword $(BENCH_ORDERS)) ]; then tests='Import|Scale|Soak'; fi; \
		echo "== $$n orders: $$tests"; \
		CCPOR_BENCH_ORDERS=$$n CCPOR_BENCH_KEEP=$(abspath $(BENCH_KEEP)) CCPOR_BENCH_REINDEX=1 \
		CCPOR_BENCH_RESULTS=$(abspath $(BENCH_OUT))/results.jsonl \
		CCPOR_BENCH_RATES=$(BENCH_RATES) CCPOR_BENCH_STEP=$(BENCH_STEP) CCPOR_BENCH_VISIBLE=$(BENCH_VISIBLE) \
		CCPOR_SOAK=$(BENCH_SOAK) CCPOR_SOAK_RATE=$(BENCH_SOAK_RATE) CCPOR_SOAK_EVERY=$(BENCH_SOAK_EVERY) \
		$(GO) test -count=1 -run "^Test($$tests)Bench$$" -v -timeout 3h ./cmd/ccpor 2>&1 | grep -v '^import:\|^seed:\|^reindex:' | tee -a $(BENCH_OUT)/scale.txt; \
	done
	$(GO) run ./cmd/benchreport -results $(BENCH_OUT)/results.jsonl -quality $(BENCH_OUT)/quality.txt -baseline $(BENCH_OUT)/baseline.txt -out BENCHMARKS.md
	@cat BENCHMARKS.md

clean:
	rm -rf bin .data/bench-results
