package index_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
)

var now = time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC)

// mustRegistry fills a fresh database with n generated orders and returns
// it with the orders and their ground truth.
func mustRegistry(tb testing.TB, n int) (*store.DB, []*ccpor.Order, []fixtures.Truth) {
	tb.Helper()
	db := storetest.MustOpenDB(tb)
	orders, truth := fixtures.Generate(3, now, n)
	if _, err := db.InsertOrders(context.Background(), orders, "seed", "test"); err != nil {
		tb.Fatal(err)
	}
	return db, orders, truth
}

func mustFollow(tb testing.TB, db *store.DB, dir string) (*index.Index, *index.Follower) {
	tb.Helper()
	ix, err := index.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	f := &index.Follower{Index: ix, Feed: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := f.CatchUp(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return ix, f
}

func TestFollower(t *testing.T) {
	ctx := context.Background()
	db, orders, _ := mustRegistry(t, 500)
	dir := t.TempDir()
	ix, f := mustFollow(t, db, dir)
	parent := t
	head, _ := db.ChangesHead(ctx)
	if n, _ := ix.Count(); n != 500 || ix.Seq() != head {
		t.Fatalf("after catching up: %d orders at seq %d, want 500 at %d", n, ix.Seq(), head)
	}
	if err := f.Ready(ctx); err != nil {
		t.Errorf("caught-up index not ready: %v", err)
	}

	t.Run("RestartResumes", func(t *testing.T) {
		ix.Close()
		// A change committed while the node was down is applied on restart.
		o := *orders[0]
		o.ID = "00000000-0000-4000-8000-00000000beef"
		o.CaseNumber += "B" // another order, not the same one again
		if err := db.CreateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		ix2, f2 := mustFollow(parent, db, dir)
		if n, _ := ix2.Count(); n != 501 {
			t.Errorf("after restart %d orders, want 501", n)
		}
		hits, err := ix2.Candidates(ctx, o.Restrained, o.IssuedOn, index.Filter{}, 50)
		if err != nil {
			t.Fatal(err)
		}
		if !containsOrder(hits, o.ID) {
			t.Errorf("the order written while down is not a candidate for its own restrained person")
		}
		ix, f = ix2, f2
	})

	t.Run("NotReadyWhenBehind", func(t *testing.T) {
		f.MaxLag = 1
		for _, id := range []string{"00000000-0000-4000-8000-00000000cafe", "00000000-0000-4000-8000-00000000f00d"} {
			o := *orders[1]
			o.ID, o.CaseNumber = id, o.CaseNumber+id[len(id)-4:]
			if err := db.CreateOrder(ctx, &o); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(250 * time.Millisecond) // past the cached head
		if err := f.Ready(ctx); ccpor.ErrorCode(err) != ccpor.EUnavailable {
			t.Errorf("index behind the outbox: Ready = %v, want unavailable", err)
		}
		if _, err := f.Step(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
		if err := f.Ready(ctx); err != nil {
			t.Errorf("caught up again: Ready = %v", err)
		}
	})

	t.Run("RebuildSwapsIn", func(t *testing.T) {
		n, err := index.Rebuild(ctx, dir, db, nil)
		if err != nil || n != 503 {
			t.Fatalf("rebuild: %d, %v; want 503", n, err)
		}
		switched, err := ix.Reload()
		if err != nil || !switched {
			t.Fatalf("reload: %v, %v", switched, err)
		}
		if c, _ := ix.Count(); c != 503 {
			t.Errorf("rebuilt index has %d orders, want 503", c)
		}
		gens, _ := filepath.Glob(filepath.Join(dir, "gen-*"))
		if len(gens) != 1 {
			t.Errorf("%d generations left, want 1: %v", len(gens), gens)
		}
	})
}

func TestOpenCorrupt(t *testing.T) {
	dir := t.TempDir()
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	gen, _ := os.Readlink(filepath.Join(dir, "current"))
	if err := os.WriteFile(filepath.Join(dir, gen, "index_meta.json"), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := index.Open(dir); err == nil {
		t.Error("a corrupt index opened without error")
	}
}

// TestPairCompleteness measures candidate generation alone on the
// generator's ground truth: for every restrained person, the other orders
// restraining the same (synthetic) person must be among the candidates.
func TestPairCompleteness(t *testing.T) {
	ctx := context.Background()
	db, orders, truth := mustRegistry(t, 3000)
	ix, _ := mustFollow(t, db, t.TempDir())
	byPerson := map[string][]string{}
	for i, tr := range truth {
		byPerson[tr.Restrained] = append(byPerson[tr.Restrained], orders[i].ID)
	}
	pairs, found := 0, 0
	for i, o := range orders {
		hits, err := ix.Candidates(ctx, o.Restrained, o.IssuedOn, index.Filter{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range byPerson[truth[i].Restrained] {
			if id == o.ID {
				continue
			}
			pairs++
			if containsOrder(hits, id) {
				found++
			} else if testing.Verbose() {
				t.Logf("missed: %s (%s) -> %s", o.Restrained.FullName(), truth[i].Variant, id)
			}
		}
	}
	pc := float64(found) / float64(pairs)
	t.Logf("pair completeness on %d orders: %d/%d = %.4f", len(orders), found, pairs, pc)
	if pairs < 100 || pc < 0.99 {
		t.Errorf("pair completeness %.4f over %d pairs, want ≥ 0.99", pc, pairs)
	}
}

func containsOrder(hits []index.Hit, id string) bool {
	for _, h := range hits {
		if h.OrderID == id {
			return true
		}
	}
	return false
}
