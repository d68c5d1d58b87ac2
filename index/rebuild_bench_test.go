package index_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/store"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkIndexOrders measures indexing throughput: one op indexes the
// generated orders of benchIndex (CCPOR_BENCH_INDEX_ORDERS, 20,000 by
// default) into a fresh index.
func BenchmarkIndexOrders(b *testing.B) {
	for range b.N {
		benchIndex(b)
	}
}

// BenchmarkRebuild measures index.Rebuild, the path of `ccpor reindex`:
// one op rebuilds CCPOR_BENCH_INDEX_ORDERS generated orders (20,000 by
// default) from a feed that decodes each from JSON, as the store does, so
// the decoding the rebuild competes with is counted.
func BenchmarkRebuild(b *testing.B) {
	n := 20000
	if s := os.Getenv("CCPOR_BENCH_INDEX_ORDERS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	orders, _ := fixtures.Generate(8, now, n)
	// The store streams orders by ID, so each batch's IDs are past those
	// of the segments already written, which skip looking them up.
	slices.SortFunc(orders, func(a, b *ccpor.Order) int { return strings.Compare(a.ID, b.ID) })
	feed := &jsonFeed{docs: make([][]byte, len(orders))}
	for i, o := range orders {
		feed.docs[i], _ = json.Marshal(o)
	}
	orders = nil
	b.ResetTimer()
	for range b.N {
		dir := b.TempDir()
		got, err := index.Rebuild(context.Background(), dir, feed, nil)
		if err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("rebuilt %d orders, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}

// jsonFeed is a change feed over orders kept as JSON.
type jsonFeed struct{ docs [][]byte }

func (f *jsonFeed) ChangesSince(context.Context, int64, int) ([]ccpor.Change, error) {
	return nil, nil
}

func (f *jsonFeed) ChangesHead(context.Context) (int64, error) { return int64(len(f.docs)), nil }

func (f *jsonFeed) FindOrdersByIDs(context.Context, []string) ([]*ccpor.Order, error) {
	return nil, nil
}

func (f *jsonFeed) EachOrder(ctx context.Context, fn func(*ccpor.Order) error) error {
	for _, d := range f.docs {
		var o ccpor.Order
		if err := json.Unmarshal(d, &o); err != nil {
			return err
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
	return nil
}

// TestRebuildFromDatabase times a rebuild from a seeded database, such as
// one made by `ccpor seed --orders 1000000`: CCPOR_REBUILD_DB_URL names
// it and CCPOR_REBUILD_DIR the directory to build in (left in place). The
// database is only read: the connection is read-only and no migration
// runs.
func TestRebuildFromDatabase(t *testing.T) {
	url, dir := os.Getenv("CCPOR_REBUILD_DB_URL"), os.Getenv("CCPOR_REBUILD_DIR")
	if url == "" || dir == "" {
		t.Skip("CCPOR_REBUILD_DB_URL and CCPOR_REBUILD_DIR not set")
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &store.DB{Pool: pool, Now: time.Now}
	start := time.Now()
	n, err := index.Rebuild(ctx, dir, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	status, _ := os.ReadFile("/proc/self/status")
	var peak string
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			peak = strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	t.Logf("rebuilt %d orders in %s (%.0f orders/s), peak RSS %s", n, took.Round(time.Millisecond), float64(n)/took.Seconds(), peak)
}

// TestRebuildLeavesNoMergedAway: a rebuild of several batches writes a
// segment per batch and merges them into one; the generation it swaps in
// must hold that one, not the merged-away files beside it (which Scorch
// would only delete when the index is next opened), and must still open
// with every order.
func TestRebuildLeavesNoMergedAway(t *testing.T) {
	orders, _ := fixtures.Generate(8, now, 8000)
	feed := &jsonFeed{docs: make([][]byte, len(orders))}
	for i, o := range orders {
		feed.docs[i], _ = json.Marshal(o)
	}
	dir := t.TempDir()
	n, err := index.Rebuild(context.Background(), dir, feed, nil)
	if err != nil || n != len(orders) {
		t.Fatalf("rebuild: %d, %v", n, err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "current", "store", "*.zap"))
	if len(segs) != 1 {
		t.Errorf("rebuilt generation holds %d segment files, want 1: %v", len(segs), segs)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if c, err := ix.Count(); err != nil || c != uint64(len(orders)) {
		t.Errorf("rebuilt index counts %d orders (%v), want %d", c, err, len(orders))
	}
	if err := ix.Check(); err != nil {
		t.Errorf("rebuilt index: %v", err)
	}
}
