package index

import (
	"context"
	"slices"
	"testing"

	"github.com/ccpor/ccpor"
)

// TestSearchByBirthDate: an officer with only a birth date finds the
// orders of whoever was born that day, written either way round (day and
// month swapped), and with a name also the records that know only the
// year; nobody else.
func TestSearchByBirthDate(t *testing.T) {
	ctx := context.Background()
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	mk := func(id, last string, p ccpor.Person) *ccpor.Order {
		p.First, p.Last = "Dale", last
		return &ccpor.Order{ID: id, Type: ccpor.OrderDV, County: "Kern", IssuedOn: ccpor.NewDate(2026, 3, 2), Restrained: p}
	}
	orders := []*ccpor.Order{
		mk("born", "Hurst", ccpor.Person{DOB: ccpor.NewDate(1984, 3, 11)}),
		mk("swapped", "Hurst", ccpor.Person{DOB: ccpor.NewDate(1984, 11, 3)}),
		mk("year", "Hurst", ccpor.Person{BirthYear: 1984}),
		mk("other", "Hurst", ccpor.Person{DOB: ccpor.NewDate(1984, 3, 12)}),
		mk("elsewhere", "Quill", ccpor.Person{DOB: ccpor.NewDate(1990, 6, 1)}),
	}
	if err := ix.Apply(orders, nil, int64(len(orders))); err != nil {
		t.Fatal(err)
	}
	today := ccpor.NewDate(2026, 3, 2)
	for _, tt := range []struct {
		q    Query
		want []string
	}{
		{Query{DOB: ccpor.NewDate(1984, 3, 11)}, []string{"born", "swapped"}},
		{Query{DOB: ccpor.NewDate(1984, 11, 3)}, []string{"born", "swapped"}},
		{Query{DOB: ccpor.NewDate(1990, 6, 1)}, []string{"elsewhere"}},
		{Query{DOB: ccpor.NewDate(1970, 1, 1)}, nil},
		{Query{Last: "Hurst", DOB: ccpor.NewDate(1984, 3, 11)}, []string{"born", "other", "swapped", "year"}},
	} {
		hits, err := ix.Search(ctx, tt.q, today)
		if err != nil {
			t.Fatal(err)
		}
		if got := hitIDs(hits); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %q, want %q", tt.q, got, tt.want)
		}
	}
}
