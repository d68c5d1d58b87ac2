package api

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/store/storetest"
)

// TestSummaryOfSummary: a result list reads orders through
// FindOrderSummaries, which returns only some of an order's fields; what
// summarize makes of them must be what it makes of the whole order, for
// every kind of order (terminated, permanent, expired, served or not,
// with a middle name and suffix); who may see it must be what the order
// says (sealed, a confidential minor); and the summary must not carry the
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
	orders[4].Sealed = true
	orders[5].Protected[0].Minor, orders[5].Protected[0].Confidential = true, true
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
	restricted := 0
	for _, sm := range sums {
		s := sm.Order
		o := byID[s.ID]
		if o == nil {
			t.Fatalf("summary of %s, which is not an order asked for", s.ID)
		}
		got, want := summarize(s, now), summarize(o, now)
		if got != want {
			t.Fatalf("order %s:\nsummary gives %+v\norder gives   %+v", s.ID, got, want)
		}
		statuses[want.Status]++
		if !reflect.DeepEqual(sm.Access, ccpor.AccessOf(o)) {
			t.Fatalf("order %s: access %+v, the order says %+v", s.ID, sm.Access, ccpor.AccessOf(o))
		}
		if sm.Access.Sealed || len(sm.Access.ConfidentialMinors) > 0 {
			restricted++
		}
		if !s.Restrained.DOB.IsZero() || s.Restrained.Address != nil || len(s.Protected) > 0 || s.Notes != "" {
			t.Fatalf("summary of %s carries more than a result list shows: %+v", s.ID, s)
		}
	}
	if statuses[ccpor.StatusActive] == 0 || statuses[ccpor.StatusExpired] == 0 || statuses[ccpor.StatusTerminated] == 0 {
		t.Fatalf("statuses compared: %v; want each kind", statuses)
	}
	if restricted < 2 {
		t.Fatalf("%d sealed or confidential orders compared", restricted)
	}
}

// TestShownDecidedOnRecord: a search counts and pages on who may see an
// order as the index last saw it, but what it shows is decided on the
// system of record: an order sealed a moment ago, which the index still
// has as open, is not shown to an officer, nor a confidential minor's
// order as that minor's match.
func TestShownDecidedOnRecord(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpenDB(t)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	orders, _ := fixtures.Generate(4, now, 3)
	orders[0].Sealed = true
	orders[1].Protected[0].Minor, orders[1].Protected[0].Confidential = true, true
	if _, err := db.InsertOrders(ctx, orders, "import", "test"); err != nil {
		t.Fatal(err)
	}
	s := &Server{Orders: db, Now: func() time.Time { return now }}
	officer := &ccpor.User{Name: "officer", Role: ccpor.RoleOfficer}
	// The index's view: nothing sealed, nobody confidential.
	matches := []index.Match{
		{OrderID: orders[0].ID, Person: index.Person{Role: index.RoleRestrained}},
		{OrderID: orders[1].ID, Person: index.Person{Role: index.RoleProtected, Index: 0}},
		{OrderID: orders[2].ID, Person: index.Person{Role: index.RoleRestrained}},
	}
	if got := visibleMatches(ccpor.NewContextWithUser(ctx, officer), matches); len(got) != 3 {
		t.Fatalf("the index's view keeps %d of 3", len(got))
	}
	cands, err := s.candidates(ccpor.NewContextWithUser(ctx, officer), matches)
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != 1 || cands[0].OrderID != orders[2].ID {
		t.Fatalf("shown: %+v; want only the open order", cands)
	}
	judge := &ccpor.User{Name: "judge", Role: ccpor.RoleJudge, County: orders[0].County}
	if cands, err = s.candidates(ccpor.NewContextWithUser(ctx, judge), matches); err != nil || len(cands) != 3 {
		t.Fatalf("the sealing court's judge is shown %d of 3 (%v)", len(cands), err)
	}
}
