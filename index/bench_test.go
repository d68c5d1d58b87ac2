package index_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/matching"
)

// benchIndex builds an index of CCPOR_BENCH_INDEX_ORDERS generated orders
// (20,000 by default) straight from the generator, without a database.
func benchIndex(b *testing.B) (*index.Index, []*ccpor.Order) {
	b.Helper()
	n := 20000
	if s := os.Getenv("CCPOR_BENCH_INDEX_ORDERS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ix, err := index.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	orders, _ := fixtures.Generate(8, now, n)
	for i := 0; i < len(orders); i += 2000 {
		if err := ix.Apply(orders[i:min(i+2000, len(orders))], nil, int64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
	return ix, orders
}

func BenchmarkSearch(b *testing.B) {
	ix, orders := benchIndex(b)
	ctx, cfg, today := context.Background(), matching.DefaultConfig(), ccpor.DateOf(time.Now())
	b.ResetTimer()
	for i := range b.N {
		o := orders[(i*7919)%len(orders)]
		last := []rune(o.Restrained.Last)
		q := index.Query{Last: string(last[:min(4, len(last))]), First: o.Restrained.First[:1]}
		hits, err := ix.Search(ctx, q, today)
		if err != nil {
			b.Fatal(err)
		}
		index.Rank(q, hits, cfg)
	}
}

// BenchmarkDuplicates times the duplicate check of an order entered again:
// "order" as the API runs it, the protected people weighed too, and
// "restrained" with the proposed order's protected people left out, which
// is what weighing them costs.
func BenchmarkDuplicates(b *testing.B) {
	ix, orders := benchIndex(b)
	ctx, cfg := context.Background(), matching.DefaultConfig()
	for _, parties := range []bool{true, false} {
		name := "order"
		if !parties {
			name = "restrained"
		}
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				proposed := *orders[(i*7919)%len(orders)]
				proposed.ID = ""
				if !parties {
					proposed.Protected = nil
				}
				if _, err := ix.Duplicates(ctx, &proposed, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSearchParts times an officer search's two halves, the index's
// candidates and their ranking, one core each (run with -cpu 1 to read
// them as CPU an answer). CCPOR_BENCH_INDEX_DIR names a built index, a
// kept make bench one of a million orders, to measure at that size.
func BenchmarkSearchParts(b *testing.B) {
	var ix *index.Index
	var orders []*ccpor.Order
	if dir := os.Getenv("CCPOR_BENCH_INDEX_DIR"); dir != "" {
		var err error
		if ix, err = index.Open(dir); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ix.Close() })
		orders, _ = fixtures.Generate(11, now, 5000)
	} else {
		ix, orders = benchIndex(b)
	}
	ctx, cfg, today := context.Background(), matching.DefaultConfig(), ccpor.DateOf(time.Now())
	query := func(i int) index.Query {
		o := orders[(i*7919)%len(orders)]
		last := []rune(o.Restrained.Last)
		return index.Query{Last: string(last[:min(4, len(last))]), First: string([]rune(o.Restrained.First)[:1])}
	}
	b.Run("search", func(b *testing.B) {
		for i := range b.N {
			if _, err := ix.Search(ctx, query(i), today); err != nil {
				b.Fatal(err)
			}
		}
	})
	const kept = 200
	hits := make([][]index.Hit, kept)
	for i := range hits {
		var err error
		if hits[i], err = ix.Search(ctx, query(i), today); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("rank", func(b *testing.B) {
		for i := range b.N {
			index.Rank(query(i%kept), hits[i%kept], cfg)
		}
	})
}
