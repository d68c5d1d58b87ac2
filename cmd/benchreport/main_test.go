package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The figures below are shaped as cmd/ccpor's benchmark tests write them;
// the report must carry each into its place with the right verdict.
const sample = `{"size":1000000,"name":"cores","value":2}
{"size":1000000,"name":"memory","value":25276502016,"unit":"bytes"}
{"size":1000000,"name":"go version","value":0,"text":"go1.26.8"}
{"size":1000000,"name":"postgresql version","value":0,"text":"15.20"}
{"size":1000000,"name":"import rate","value":6123.4,"unit":"orders/s"}
{"size":1000000,"name":"reindex","value":412,"unit":"s"}
{"size":1000000,"name":"index size","value":1610612736,"unit":"bytes"}
{"size":1000000,"name":"search p50","value":4.1,"unit":"ms"}
{"size":1000000,"name":"search p95","value":9.9,"unit":"ms"}
{"size":1000000,"name":"search p99","value":21.5,"unit":"ms"}
{"size":1000000,"name":"search in-process p99","value":8,"unit":"ms"}
{"size":1000000,"name":"baseline search p99","value":40,"unit":"ms"}
{"size":1000000,"name":"search load step","value":300,"unit":"req/s","fields":{"achieved":299.7,"requests":3000,"errors":0,"p50_ms":6,"p99_ms":55}}
{"size":1000000,"name":"search load step","value":400,"unit":"req/s","fields":{"achieved":350.2,"requests":4000,"errors":3,"p50_ms":60,"p99_ms":900}}
{"size":1000000,"name":"search sustained","value":300,"unit":"req/s"}
{"size":1000000,"name":"server RSS peak","value":3221225472,"unit":"bytes"}
{"size":1000000,"name":"soak duration","value":600,"unit":"s"}
{"size":1000000,"name":"soak rate","value":50,"unit":"req/s"}
{"size":1000000,"name":"soak search","value":40,"unit":"req/s","fields":{"requests":24000,"errors":0,"p50_ms":5,"p99_ms":30}}
{"size":1000000,"name":"soak goroutines","value":40,"fields":{"first":20,"warm":30,"last":40,"max":41,"flat":0,"samples":121}}
{"size":100000,"name":"search p99","value":5,"unit":"ms"}
`

func TestRender(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results.jsonl")
	if err := os.WriteFile(results, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := readResults(results)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"quality_test.go:289: baseline: FEBRL 4 full, candidate limit 100: ...; PC ratio ours/baseline 1.0085, p99 ratio baseline/ours 3.10"}
	var buf bytes.Buffer
	render(&buf, input{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), results: rs,
		quality: append([]string{"eval_test.go:80: FEBRL F1 0.99"}, base...), baseline: base})
	out := buf.String()
	for _, want := range []string{
		"on 2026-12-01 12:00 UTC",
		"Machine: 2 cores, 23.54 GiB memory, Go 1.26.8, PostgreSQL 15.20.",
		"Registry sizes: 100,000 and 1,000,000 orders",
		"| Officer search p99 ≤ 50 ms, single client | 21.5 ms | met |",
		"| ≥ 300 searches/s sustained at p99 ≤ 100 ms | 300 req/s (highest step held) | met |",
		"| Reindex ≤ 5 min | 6.9 min | **missed** |",
		"| Bulk import ≥ 5,000 orders/s | 6,123 orders/s | met |",
		"| Server RSS ≤ 2 GiB | peak 3.00 GiB | **missed** |",
		"| Search p99 ahead of the baseline (in-process, same queries) | ours 8.0 ms, baseline 40.0 ms (baseline/ours 5.00×) | met |",
		"| Duplicate check p99 ahead of the baseline (in-process, same queries) | – | not measured |",
		"| Ahead of the baseline in pair completeness (FEBRL) | ours/baseline 1.0085 | met |",
		"| Officer search, single client (HTTP) | – | 4.1 / 9.9 / 21.5 ms |",
		"| 400 req/s | 350 req/s | 4,000 | 60.0 ms | 900.0 ms | 3 | no |",
		"Highest rate held: **300 req/s**.",
		"1,000,000 orders, 10.0 min at 50 req/s",
		"| Goroutines | 20 | 30 | 40 | 41 | 121 | **no** |",
		"eval_test.go:80: FEBRL F1 0.99",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The baseline's lines appear once, in their own section.
	if strings.Count(out, "PC ratio ours/baseline 1.0085") != 1 {
		t.Errorf("the baseline's lines are not shown exactly once:\n%s", out)
	}
	if t.Failed() {
		t.Logf("report:\n%s", out)
	}
}
