package api

import (
	"context"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store/storetest"
)

// TestSummaryOfSummary: a result list reads orders through
// FindOrderSummaries, which returns only some of an order's fields; what
// summarize makes of them must be what it makes of the whole order, for
// every kind of order (terminated, permanent, expired, served or not,
// with a middle name and suffix), and the summary must not carry the
// people's details.
func TestSummaryOfSummary(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpenDB(t)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	orders, _ := fixtures.Generate(3, now, 300)
	orders[0].Terminated = &ccpor.Termination{On: ccpor.DateOf(now).AddDays(-3), Reason: "vacated"}
	orders[1].Terminated = &ccpor.Termination{On: ccpor.DateOf(now).AddDays(30)}
	orders[2].Permanent, orders[2].ExpiresAt = true, ccpor.Date{}
	orders[3].Restrained.Middle, orders[3].Restrained.Suffix = "Ángel", "Jr"
	if _, err := db.InsertOrders(ctx, orders, "import", "test"); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	full, err := db.FindOrdersByIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := db.FindOrderSummaries(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != len(orders) || len(full) != len(orders) {
		t.Fatalf("%d summaries and %d orders of %d", len(sums), len(full), len(orders))
	}
	byID := map[string]*ccpor.Order{}
	for _, o := range full {
		byID[o.ID] = o
	}
	statuses := map[ccpor.Status]int{}
	for _, s := range sums {
		o := byID[s.ID]
		if o == nil {
			t.Fatalf("summary of %s, which is not an order asked for", s.ID)
		}
		got, want := summarize(s, now), summarize(o, now)
		if got != want {
			t.Fatalf("order %s:\nsummary gives %+v\norder gives   %+v", s.ID, got, want)
		}
		statuses[want.Status]++
		if !s.Restrained.DOB.IsZero() || s.Restrained.Address != nil || len(s.Protected) > 0 || s.Notes != "" {
			t.Fatalf("summary of %s carries more than a result list shows: %+v", s.ID, s)
		}
	}
	if statuses[ccpor.StatusActive] == 0 || statuses[ccpor.StatusExpired] == 0 || statuses[ccpor.StatusTerminated] == 0 {
		t.Fatalf("statuses compared: %v; want each kind", statuses)
	}
}
