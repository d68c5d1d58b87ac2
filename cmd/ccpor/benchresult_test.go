package main

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// benchResult is one figure of a benchmark run, as a line of the file
// named by CCPOR_BENCH_RESULTS: cmd/benchreport turns the lines of a
// `make bench` run into BENCHMARKS.md, so the figures are never copied by
// hand from a log.
type benchResult struct {
	Size  int     `json:"size"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Text  string  `json:"text,omitempty"` // for figures that are not numbers (versions)
	// Fields are the parts of a figure that is a row of a table (a load
	// step, a soak metric).
	Fields map[string]float64 `json:"fields,omitempty"`
}

var benchResultsMu sync.Mutex

// record logs a figure and, under make bench, appends it to the results
// file. Without CCPOR_BENCH_RESULTS it only logs, so `make test` runs the
// same code.
func record(t testing.TB, size int, name string, value float64, unit string) {
	t.Helper()
	t.Logf("%s at %d orders: %s %s", name, size, strconv.FormatFloat(value, 'f', -1, 64), unit)
	appendResult(t, benchResult{Size: size, Name: name, Value: value, Unit: unit})
}

// recordText is record for a figure that is text.
func recordText(t testing.TB, size int, name, text string) {
	t.Helper()
	t.Logf("%s at %d orders: %s", name, size, text)
	appendResult(t, benchResult{Size: size, Name: name, Text: text})
}

// recordRow is record for a figure with parts, such as a load step.
func recordRow(t testing.TB, size int, name string, value float64, unit string, fields map[string]float64) {
	t.Helper()
	t.Logf("%s at %d orders: %s %s %v", name, size, strconv.FormatFloat(value, 'f', -1, 64), unit, fields)
	appendResult(t, benchResult{Size: size, Name: name, Value: value, Unit: unit, Fields: fields})
}

func appendResult(t testing.TB, r benchResult) {
	t.Helper()
	file := os.Getenv("CCPOR_BENCH_RESULTS")
	if file == "" {
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	benchResultsMu.Lock()
	defer benchResultsMu.Unlock()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}

// recordLatencies records the p50, p95 and p99 of d (sorted in place)
// under name, in milliseconds, and logs max too.
func recordLatencies(t testing.TB, size int, name string, d []time.Duration) {
	t.Helper()
	if len(d) == 0 {
		t.Fatalf("%s: no samples", name)
	}
	slices.Sort(d)
	for _, p := range []struct {
		suffix string
		q      float64
	}{{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}} {
		record(t, size, name+" "+p.suffix, ms(quantile(d, p.q)), "ms")
	}
	t.Logf("%s at %d orders: %d samples, max %.1f ms", name, size, len(d), ms(d[len(d)-1]))
}

// quantile is the nearest-rank quantile of sorted d.
func quantile(d []time.Duration, q float64) time.Duration {
	return d[int(q*float64(len(d)-1)+0.5)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchSize is CCPOR_BENCH_ORDERS, 2,000 by default so that `make test`
// runs every benchmark path on a small registry and it never rots.
func benchSize(t testing.TB) int {
	t.Helper()
	n := 2000
	if s := os.Getenv("CCPOR_BENCH_ORDERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("CCPOR_BENCH_ORDERS=%q: %v", s, err)
		}
	}
	return n
}

// benchDuration reads a duration from env, or returns def.
func benchDuration(t testing.TB, env string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(env)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", env, s, err)
	}
	return d
}

// benchInt reads an integer from env, or returns def.
func benchInt(t testing.TB, env string, def int) int {
	t.Helper()
	s := os.Getenv(env)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", env, s, err)
	}
	return n
}
