package index

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
)

// TestSearchByBirthDate: an officer with only a birth date finds the
// orders of whoever was born that day, written either way round (day and
// month swapped), and with a name also the records that know only the
// year; nobody else.
func TestSearchByBirthDate(t *testing.T) {
	ctx := context.Background()
	ix := tempIndex(t)
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

// TestSearchStoredMatchesBleve: reading hits' stored persons by their
// number in the snapshot (searchStored) gives what Bleve's own search
// gives, the same orders in the same order with the same people, in an
// index of several segments some of whose documents were replaced or
// deleted (their numbers still count in the segments' offsets).
func TestSearchStoredMatchesBleve(t *testing.T) {
	ctx := context.Background()
	ix := tempIndex(t)
	orders, _ := fixtures.Generate(5, time.Now(), 3000)
	seq := int64(0)
	for i := 0; i < len(orders); i += 250 {
		seq++
		if err := ix.Apply(orders[i:min(i+250, len(orders))], nil, seq); err != nil {
			t.Fatal(err)
		}
	}
	var changed []*ccpor.Order
	var deleted []string
	for i := 0; i < len(orders); i += 7 {
		o := *orders[i]
		o.Restrained.Middle = "Amended"
		changed = append(changed, &o)
		if i%5 == 0 {
			deleted = append(deleted, orders[i+1].ID)
		}
	}
	if err := ix.Apply(changed, deleted, seq+1); err != nil {
		t.Fatal(err)
	}
	segs := 0
	if adv, err := ix.bi.Advanced(); err == nil {
		if r, err := adv.Reader(); err == nil {
			segs = len(r.(*scorch.IndexSnapshot).Segments())
			r.Close()
		}
	}
	if segs < 2 {
		t.Fatalf("the index has %d segments: the test needs several", segs)
	}
	compared := 0
	for _, o := range orders[:300] {
		last, first := foldQuery(o.Restrained.Last), foldQuery(o.Restrained.First)
		if len(last) < 3 || first == "" {
			continue
		}
		q := pairClauses([]string{last[:3]}, first[:1])
		const size = 40
		// Scorch merges segments in the background: between the two
		// searches a merge can renumber documents (reordering ties) and
		// drop deleted ones (moving scores). A search that disagrees is
		// asked again; wrong offsets disagree every time.
		var got, wantHits []string
		for try := 0; ; try++ {
			req := bleve.NewSearchRequestOptions(q, size, 0, false)
			req.Fields = []string{fieldPersons}
			want, err := ix.bi.SearchInContext(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got, wantHits = nil, nil
			if err := searchStored(ctx, ix.bi, q, size, func(id, stored string) (bool, error) {
				got = append(got, id+"\n"+stored)
				return true, nil
			}); err != nil {
				t.Fatal(err)
			}
			for _, h := range want.Hits {
				wantHits = append(wantHits, h.ID+"\n"+h.Fields[fieldPersons].(string))
			}
			if slices.Equal(got, wantHits) {
				break
			}
			if try == 9 {
				t.Fatalf("%s %s: searchStored gave %d hits, Bleve %d, or other ones, ten times", last[:3], first[:1], len(got), len(wantHits))
			}
			time.Sleep(200 * time.Millisecond)
		}
		compared += len(got)
	}
	if compared < 1000 {
		t.Fatalf("only %d hits compared", compared)
	}
}
