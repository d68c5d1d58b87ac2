package index_test

import (
	"testing"
)

// BenchmarkIndexOrders measures indexing throughput: one op indexes the
// generated orders of benchIndex (CCPOR_BENCH_INDEX_ORDERS, 20,000 by
// default) into a fresh index.
func BenchmarkIndexOrders(b *testing.B) {
	for range b.N {
		benchIndex(b)
	}
}
