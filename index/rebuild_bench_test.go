package index_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/index"
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
