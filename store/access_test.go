package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
)

// TestFindOrderAccess: the access columns written with an order, by each
// way one is written, say what its document says.
func TestFindOrderAccess(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	plain := mustOrder(t, "25FL000001")
	sealed := mustOrder(t, "25FL000002")
	sealed.Sealed = true
	minors := mustOrder(t, "25FL000003")
	minors.Protected = append(minors.Protected,
		ccpor.Party{Person: ccpor.Person{First: "Luz", Last: "García"}, Minor: true, Confidential: true},
		ccpor.Party{Person: ccpor.Person{First: "Sol", Last: "García"}, Minor: true},
		ccpor.Party{Person: ccpor.Person{First: "Mar", Last: "García"}, Minor: true, Confidential: true})
	registered := mustOrder(t, "25FL000004")
	registered.Sealed, registered.Registration = true, &ccpor.Registration{Kind: ccpor.RegisteredTribal, Jurisdiction: "Hoopa Valley Tribe"}
	for _, o := range []*ccpor.Order{plain, sealed} {
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	minors.ID, registered.ID = uuid.NewString(), uuid.NewString()
	if _, err := db.InsertOrders(ctx, []*ccpor.Order{minors, registered}, "import", "test"); err != nil {
		t.Fatal(err)
	}
	check := func(orders ...*ccpor.Order) {
		t.Helper()
		var ids []string
		for _, o := range orders {
			ids = append(ids, o.ID)
		}
		got, err := db.FindOrderAccess(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range orders {
			if diff := cmp.Diff(ccpor.AccessOf(o), got[o.ID], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("order %s access (-document +columns):\n%s", o.CaseNumber, diff)
			}
		}
	}
	check(plain, sealed, minors, registered)
	// Sealed later, and a minor's identity no longer confidential.
	plain.Sealed = true
	if err := db.UpdateOrder(ctx, plain, "modify", "sealed by the court"); err != nil {
		t.Fatal(err)
	}
	plain.Version++
	minors.Version = 1
	minors.Protected[1].Confidential = false
	if err := db.UpdateOrder(ctx, minors, "modify", "no longer confidential"); err != nil {
		t.Fatal(err)
	}
	check(plain, sealed, minors, registered)
}

// TestFindOrderAccessUnknown: an ID that names no order, or is not a UUID
// at all, is absent from the answer, not an error.
func TestFindOrderAccessUnknown(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	o := mustOrder(t, "25FL000009")
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindOrderAccess(ctx, []string{o.ID, uuid.NewString(), "not-a-uuid"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got[o.ID]; !ok || len(got) != 1 {
		t.Errorf("access of %v", got)
	}
	orders, err := db.FindOrdersByIDs(ctx, []string{"not-a-uuid", o.ID})
	if err != nil || len(orders) != 1 || orders[0].ID != o.ID {
		t.Errorf("orders %v, %v", orders, err)
	}
}

// BenchmarkFindOrderAccess asks the access columns of 120 orders, what an
// officer search asked of its candidates until the index carried who may
// see each (the web UI's lists still ask it).
func BenchmarkFindOrderAccess(b *testing.B) {
	ctx := context.Background()
	db := mustDB(b)
	ids := createOrders(b, db, 120)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		got, err := db.FindOrderAccess(ctx, ids)
		if err != nil || len(got) != len(ids) {
			b.Fatal(err, len(got))
		}
	}
}

// BenchmarkFindOrders: a page of twenty search results read whole and as
// summaries (what the result list shows).
func BenchmarkFindOrders(b *testing.B) {
	ctx := context.Background()
	db := mustDB(b)
	ids := createOrders(b, db, 20)
	for _, c := range []struct {
		name string
		find func() (int, error)
	}{
		{"whole", func() (int, error) { o, err := db.FindOrdersByIDs(ctx, ids); return len(o), err }},
		{"summaries", func() (int, error) { o, err := db.FindOrderSummaries(ctx, ids); return len(o), err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				got, err := c.find()
				if err != nil || got != len(ids) {
					b.Fatal(err, got)
				}
			}
		})
	}
}

// createOrders stores n orders and returns their IDs.
func createOrders(b *testing.B, db *store.DB, n int) []string {
	b.Helper()
	var ids []string
	for i := range n {
		o := mustOrder(b, fmt.Sprintf("25FL%06d", i+1))
		o.ID = uuid.NewString()
		if err := db.CreateOrder(context.Background(), o); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	return ids
}
