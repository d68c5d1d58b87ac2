package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store/storetest"
)

// TestImportBench measures the bulk import: CCPOR_BENCH_ORDERS synthetic
// orders (make bench sets 1,000,000) written as NDJSON, then imported
// into a fresh database through the same path as `ccpor import`. Without
// the variable it runs on 2,000 orders so the path never rots. It reports
// orders/s, wall time and the peak memory of this process.
func TestImportBench(t *testing.T) {
	n := 2000
	if s := os.Getenv("CCPOR_BENCH_ORDERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("CCPOR_BENCH_ORDERS=%q: %v", s, err)
		}
	}
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "orders.ndjson")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	g := fixtures.New(42, time.Now())
	for range n {
		o, _ := g.Next()
		if err := enc.Encode(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()

	db := mustOpen(t, storetest.MustCreateDatabase(t))
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	runtime.GC()
	peak := startHeapWatch()
	start := time.Now()
	stats, err := importOrders(ctx, db, in, importOptions{Batch: 2000, Source: "bench", Report: os.Stderr, Now: time.Now()})
	elapsed := time.Since(start)
	heap := peak()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Inserted != n || stats.Bad != 0 {
		t.Fatalf("imported %+v, want %d added and none bad", stats, n)
	}
	t.Logf("import of %d orders (%.0f MB NDJSON): %.1fs wall, %.0f orders/s, peak Go heap %.0f MB, peak RSS %s",
		n, float64(st.Size())/1e6, elapsed.Seconds(), float64(n)/elapsed.Seconds(), float64(heap)/1e6, peakRSS())
}

// startHeapWatch samples the Go heap until the returned function is
// called, which returns the largest value seen.
func startHeapWatch() func() uint64 {
	stop := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var peak uint64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-result }
}

// peakRSS is the process's high-water resident set (Linux VmHWM).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
