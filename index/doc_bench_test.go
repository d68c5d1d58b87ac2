package index

import (
	"testing"
	"time"

	"github.com/ccpor/ccpor/fixtures"
)

// BenchmarkNewDocument measures building one order's document: the part
// of a rebuild that is this package's own, before Bleve analyses it.
func BenchmarkNewDocument(b *testing.B) {
	orders, _ := fixtures.Generate(3, time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC), 2000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := newDocument(orders[i%len(orders)]); err != nil {
			b.Fatal(err)
		}
	}
}
