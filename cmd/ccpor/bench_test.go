package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store/storetest"
)

// TestImportBench measures the bulk import: CCPOR_BENCH_ORDERS synthetic
// orders (make bench sets 100,000 and 1,000,000) written as NDJSON, then imported
// into a fresh database through the same path as `ccpor import`. Without
// the variable it runs on 2,000 orders so the path never rots. It reports
// orders/s and the peak memory of this process, which also wrote the file.
func TestImportBench(t *testing.T) {
	n := benchSize(t)
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
	t.Logf("import of %d orders (%.0f MB NDJSON): %.1fs wall, peak Go heap %.0f MB",
		n, float64(st.Size())/1e6, elapsed.Seconds(), float64(heap)/1e6)
	record(t, n, "import rate", float64(n)/elapsed.Seconds(), "orders/s")
	record(t, n, "import peak RSS", procStatus(os.Getpid())["VmHWM"], "bytes")
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
