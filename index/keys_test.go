package index

import (
	"context"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/ccpor/ccpor"
)

// TestFuzzyClauses: an fx key meets the spellings of a name one slip
// away (a letter added, dropped, changed, or two swapped) under the same
// initial, and nothing two slips away or under another initial.
func TestFuzzyClauses(t *testing.T) {
	ix := tempIndex(t)
	var orders []*ccpor.Order
	for id, name := range map[string][2]string{
		"exact": {"Maria", "Garcia"}, "changed": {"Maria", "Garsia"}, "swapped": {"Maria", "Gracia"},
		"added": {"Maria", "Garcias"}, "dropped": {"Maria", "Garca"}, "swapped-end": {"Maria", "Garcai"},
		"two-slips": {"Maria", "Gxrxia"}, "other-initial": {"Nora", "Garcia"}, "other-name": {"Maria", "Lopez"},
	} {
		orders = append(orders, &ccpor.Order{ID: id, Type: ccpor.OrderDV, County: "Kern", IssuedOn: ccpor.NewDate(2026, 3, 2),
			Restrained: ccpor.Person{First: name[0], Last: name[1]}})
	}
	if err := ix.Apply(orders, nil, int64(len(orders))); err != nil {
		t.Fatal(err)
	}
	hits, err := ix.run(context.Background(), bleve.NewDisjunctionQuery(fuzzyClauses("fx:m|garcia")...), Filter{}, 20)
	if err != nil {
		t.Fatal(err)
	}
	got := hitIDs(hits)
	want := []string{"added", "changed", "dropped", "exact", "swapped", "swapped-end"}
	if !slices.Equal(got, want) {
		t.Errorf("fx:m|garcia found %q, want %q", got, want)
	}
}

// hitIDs returns the order IDs of hits, sorted.
func hitIDs(hits []Hit) []string {
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.OrderID)
	}
	slices.Sort(ids)
	return ids
}

// tempIndex opens an empty index in a directory of the test's, closed
// when the test ends.
func tempIndex(tb testing.TB) *Index {
	tb.Helper()
	ix, err := Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	return ix
}
