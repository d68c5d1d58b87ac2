package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
	"github.com/google/go-cmp/cmp"
)

var now = time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC)

// mustOrder returns a valid, prepared DV order after hearing.
func mustOrder(tb testing.TB, caseNumber string) *ccpor.Order {
	tb.Helper()
	o := &ccpor.Order{
		Type: ccpor.OrderDV, Phase: ccpor.PhaseAfterHearing, County: "Alameda",
		CaseNumber: caseNumber, IssuedOn: ccpor.NewDate(2025, time.June, 3),
		Restrained: ccpor.Person{First: "Roberto", Last: "García López", DOB: ccpor.NewDate(1984, time.May, 7), Sex: "M", Race: "H"},
		Protected:  []ccpor.Party{{Person: ccpor.Person{First: "Ana", Last: "García"}, Relationship: "spouse"}},
		Terms:      ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, Firearms: true},
	}
	if err := o.Prepare(now); err != nil {
		tb.Fatal(err)
	}
	return o
}

func mustDB(tb testing.TB) *store.DB {
	db := storetest.MustOpenDB(tb)
	db.Now = func() time.Time { return now }
	return db
}

func TestOrder(t *testing.T) {
	ctx := context.Background()
	t.Run("CreateAndFind", func(t *testing.T) {
		db := mustDB(t)
		o := mustOrder(t, "25FL001234")
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindOrderByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *o
		want.Warnings = nil
		if diff := cmp.Diff(jsonOf(t, &want), jsonOf(t, got)); diff != "" {
			t.Errorf("found order differs (-created +found):\n%s", diff)
		}
		if got, want := got.Status, ccpor.StatusActive; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if got, want := len(got.History), 1; got != want {
			t.Fatalf("history has %d entries, want %d", got, want)
		}
	})
	t.Run("ErrIDTaken", func(t *testing.T) {
		db := mustDB(t)
		o := mustOrder(t, "25FL001234")
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		again := mustOrder(t, "25FL009999")
		again.ID = o.ID
		if err := db.CreateOrder(ctx, again); ccpor.ErrorCode(err) != ccpor.EConflict {
			t.Errorf("create with a taken id: %v, want conflict", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db := mustDB(t)
		for _, id := range []string{"7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11", "not-a-uuid", ""} {
			if _, err := db.FindOrderByID(ctx, id); ccpor.ErrorCode(err) != ccpor.ENotFound {
				t.Errorf("find %q: %v, want not found", id, err)
			}
		}
	})
	t.Run("UpdateKeepsHistory", func(t *testing.T) {
		db := mustDB(t)
		o := mustOrder(t, "25FL001234")
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		stale := *o
		o.Terminated = &ccpor.Termination{On: ccpor.NewDate(2026, time.January, 5), Reason: "dismissed at the petitioner's request"}
		if err := db.UpdateOrder(ctx, o, "terminate", "petitioner asked"); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindOrderByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || got.Status != ccpor.StatusTerminated || len(got.History) != 2 || got.History[1].Action != "terminate" {
			t.Errorf("after terminate: version %d, status %s, history %+v", got.Version, got.Status, got.History)
		}
		// A change made from version 1 after version 2 exists is refused.
		stale.Notes = "late edit"
		if err := db.UpdateOrder(ctx, &stale, "modify", ""); ccpor.ErrorCode(err) != ccpor.EConflict {
			t.Errorf("stale update: %v, want conflict", err)
		}
		if got, _ := db.FindOrderByID(ctx, o.ID); got.Notes != "" || got.Version != 2 {
			t.Errorf("stale update changed the order: %+v", got)
		}
	})
	t.Run("Outbox", func(t *testing.T) {
		db := mustDB(t)
		a, b := mustOrder(t, "A1"), mustOrder(t, "B2")
		for _, o := range []*ccpor.Order{a, b} {
			if err := db.CreateOrder(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		entries, err := db.ChangesSince(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].OrderID != a.ID || entries[1].OrderID != b.ID || entries[0].Seq >= entries[1].Seq {
			t.Errorf("outbox = %+v, want a then b", entries)
		}
		if rest, _ := db.ChangesSince(ctx, entries[1].Seq, 10); len(rest) != 0 {
			t.Errorf("outbox after the last = %+v, want none", rest)
		}
	})
}

func TestInsertOrders(t *testing.T) {
	ctx := context.Background()
	t.Run("IdempotentByID", func(t *testing.T) {
		db := mustDB(t)
		orders := []*ccpor.Order{mustOrder(t, "1"), mustOrder(t, "2"), mustOrder(t, "3")}
		for i, o := range orders {
			o.ID = []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"}[i]
		}
		n, err := db.InsertOrders(ctx, orders, "import", "test")
		if err != nil || n != 3 {
			t.Fatalf("first insert: %d, %v; want 3", n, err)
		}
		// The same batch again, plus a duplicate within the batch.
		n, err = db.InsertOrders(ctx, append(orders, orders[0]), "import", "test")
		if err != nil || n != 0 {
			t.Fatalf("second insert: %d, %v; want 0", n, err)
		}
		head, _ := db.ChangesHead(ctx)
		if entries, _ := db.ChangesSince(ctx, 0, 100); len(entries) != 3 || head != entries[2].Seq {
			t.Errorf("outbox has %d entries, want 3", len(entries))
		}
		got, err := db.FindOrderByID(ctx, orders[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CaseNumber != "2" || got.History[0].Action != "import" {
			t.Errorf("imported order = %+v", got)
		}
	})
}

func TestCaseKey(t *testing.T) {
	for in, want := range map[string]string{"23-fl-01234": "23FL01234", " BA 123456 ": "BA123456", "": ""} {
		if got := store.CaseKey(in); got != want {
			t.Errorf("CaseKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUser(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	t.Run("OK", func(t *testing.T) {
		u := &ccpor.User{Name: "Clerk Kent", Role: ccpor.RoleClerk, County: "san diego"}
		token, err := db.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Role != ccpor.RoleClerk || got.County != "San Diego" {
			t.Errorf("authenticated %+v, want %+v", got, u)
		}
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		if _, err := db.Authenticate(ctx, "ccpor_nope"); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Errorf("bad token: %v, want unauthorized", err)
		}
	})
	t.Run("ErrBadRole", func(t *testing.T) {
		if _, err := db.CreateUser(ctx, &ccpor.User{Name: "x", Role: "sheriff"}); ccpor.ErrorCode(err) != ccpor.EInvalid {
			t.Errorf("bad role: %v, want invalid", err)
		}
	})
}

func jsonOf(tb testing.TB, o *ccpor.Order) map[string]any {
	tb.Helper()
	c := *o
	c.History = nil
	b, err := json.Marshal(&c)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}
