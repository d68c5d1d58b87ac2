package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/google/go-cmp/cmp"
)

func mustUser(tb testing.TB, db *store.DB, name string) int64 {
	tb.Helper()
	u := ccpor.User{Name: name, Role: ccpor.RoleClerk}
	if _, err := db.CreateUser(context.Background(), &u); err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

func mustClaim(tb testing.TB, db *store.DB, user int64, key, fp string) *store.IdempotencyClaim {
	tb.Helper()
	c, err := db.ClaimIdempotencyKey(context.Background(), user, key, []byte(fp))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	t.Run("ReplayAfterComplete", func(t *testing.T) {
		db := mustDB(t)
		u := mustUser(t, db, "Clerk")
		first := mustClaim(t, db, u, "k1", "A")
		if first.State != store.IdempotencyNew {
			t.Fatalf("first claim state = %d, want new", first.State)
		}
		if got := mustClaim(t, db, u, "k1", "A"); got.State != store.IdempotencyBusy {
			t.Errorf("claim while in progress: state = %d, want busy", got.State)
		}
		want := store.IdempotentResponse{Status: 201, Header: map[string]string{"Location": "/x"}, Body: []byte(`{"id":"x"}`)}
		if err := db.CompleteIdempotencyKey(ctx, u, "k1", first.Claim, want); err != nil {
			t.Fatal(err)
		}
		got := mustClaim(t, db, u, "k1", "A")
		if got.State != store.IdempotencyDone {
			t.Fatalf("state = %d, want done", got.State)
		}
		if diff := cmp.Diff(want, *got.Response); diff != "" {
			t.Errorf("replayed answer differs (-kept +replayed):\n%s", diff)
		}
	})
	t.Run("ErrMismatch", func(t *testing.T) {
		db := mustDB(t)
		u := mustUser(t, db, "Clerk")
		mustClaim(t, db, u, "k1", "A")
		if got := mustClaim(t, db, u, "k1", "B"); got.State != store.IdempotencyMismatch {
			t.Errorf("state = %d, want mismatch", got.State)
		}
	})
	t.Run("KeysArePerUser", func(t *testing.T) {
		db := mustDB(t)
		a, b := mustUser(t, db, "Clerk A"), mustUser(t, db, "Clerk B")
		mustClaim(t, db, a, "k1", "A")
		if got := mustClaim(t, db, b, "k1", "B"); got.State != store.IdempotencyNew {
			t.Errorf("another user's key: state = %d, want new", got.State)
		}
	})
	t.Run("ReleaseLetsRetryWork", func(t *testing.T) {
		db := mustDB(t)
		u := mustUser(t, db, "Clerk")
		c := mustClaim(t, db, u, "k1", "A")
		if err := db.ReleaseIdempotencyKey(ctx, u, "k1", c.Claim); err != nil {
			t.Fatal(err)
		}
		if got := mustClaim(t, db, u, "k1", "A"); got.State != store.IdempotencyNew {
			t.Errorf("after release: state = %d, want new", got.State)
		}
	})
	t.Run("AbandonedClaimTakenOver", func(t *testing.T) {
		db := mustDB(t)
		u := mustUser(t, db, "Clerk")
		old := mustClaim(t, db, u, "k1", "A")
		db.Now = func() time.Time { return now.Add(store.IdempotencyLease + time.Second) }
		taken := mustClaim(t, db, u, "k1", "A")
		if taken.State != store.IdempotencyNew || taken.Claim == old.Claim {
			t.Fatalf("abandoned claim: %+v, want a new claim", taken)
		}
		// The dead holder's late answer must not overwrite the new one.
		if err := db.CompleteIdempotencyKey(ctx, u, "k1", old.Claim, store.IdempotentResponse{Status: 201}); err == nil {
			t.Error("the lost claim completed the key")
		}
	})
	t.Run("ExpiresAfterTTL", func(t *testing.T) {
		db := mustDB(t)
		u := mustUser(t, db, "Clerk")
		c := mustClaim(t, db, u, "k1", "A")
		if err := db.CompleteIdempotencyKey(ctx, u, "k1", c.Claim, store.IdempotentResponse{Status: 201}); err != nil {
			t.Fatal(err)
		}
		db.Now = func() time.Time { return now.Add(store.IdempotencyTTL - time.Minute) }
		if got := mustClaim(t, db, u, "k1", "B"); got.State != store.IdempotencyMismatch {
			t.Errorf("within a day: state = %d, want mismatch", got.State)
		}
		db.Now = func() time.Time { return now.Add(store.IdempotencyTTL + time.Minute) }
		if got := mustClaim(t, db, u, "k1", "B"); got.State != store.IdempotencyNew {
			t.Errorf("after a day: state = %d, want new", got.State)
		}
	})
	t.Run("ConcurrentClaimsOneWins", func(t *testing.T) {
		db := mustDB(t)
		u := mustUser(t, db, "Clerk")
		const n = 8
		states := make([]store.IdempotencyState, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c, err := db.ClaimIdempotencyKey(ctx, u, "k1", []byte("A"))
				if err != nil {
					t.Error(err)
					return
				}
				states[i] = c.State
			})
		}
		wg.Wait()
		var won int
		for _, s := range states {
			if s == store.IdempotencyNew {
				won++
			} else if s != store.IdempotencyBusy {
				t.Errorf("state %d, want new or busy", s)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d simultaneous claims won, want 1", won, n)
		}
	})
}

func TestFindOrderVersion(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	o := mustOrder(t, "25FL001234")
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	changed := *o
	changed.Terms.StayAwayYards = 300
	if err := db.UpdateOrder(ctx, &changed, "modify", "hearing on 2026-02-20"); err != nil {
		t.Fatal(err)
	}
	v1, err := db.FindOrderVersion(ctx, o.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v1.Terms.StayAwayYards, 100; got != want {
		t.Errorf("version 1 stay-away = %d, want %d", got, want)
	}
	if got, want := len(v1.History), 1; got != want {
		t.Errorf("version 1 history has %d entries, want %d", got, want)
	}
	v2, err := db.FindOrderVersion(ctx, o.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Terms.StayAwayYards != 300 || len(v2.History) != 2 || v2.History[1].Reason != "hearing on 2026-02-20" {
		t.Errorf("version 2 = %+v", v2)
	}
	for _, v := range []int{0, 3} {
		if _, err := db.FindOrderVersion(ctx, o.ID, v); ccpor.ErrorCode(err) != ccpor.ENotFound {
			t.Errorf("version %d: err = %v, want not found", v, err)
		}
	}
}
