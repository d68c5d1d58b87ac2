package baseline_test

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/baseline"
	"github.com/ccpor/ccpor/store/storetest"
)

var now = time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC)

func mustInstall(tb testing.TB, db *store.DB) {
	tb.Helper()
	if err := baseline.Install(context.Background(), db.Pool); err != nil {
		tb.Fatal(err)
	}
}

func mustSearch(tb testing.TB, db *store.DB, q baseline.Query) []string {
	tb.Helper()
	ids, err := baseline.Search(context.Background(), db.Pool, q)
	if err != nil {
		tb.Fatalf("search %+v: %v", q, err)
	}
	return ids
}

func peopleRows(tb testing.TB, db *store.DB) int {
	tb.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM baseline_people`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

var plain = regexp.MustCompile(`^[A-Z][a-z]{6,}$`)

// typo swaps two letters inside the name, a slip trigrams must survive.
func typo(s string) string {
	r := []rune(s)
	r[3], r[4] = r[4], r[3]
	return string(r)
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpenDB(t)
	orders, _ := fixtures.Generate(5, now, 600)
	if _, err := db.InsertOrders(ctx, orders, "seed", "test"); err != nil {
		t.Fatal(err)
	}
	mustInstall(t, db)
	persons := 0
	for _, o := range orders {
		persons += 1 + len(o.Protected)
	}
	if n := peopleRows(t, db); n < persons {
		t.Fatalf("%d people rows, want at least %d (one per person, more for aliases)", n, persons)
	}

	var o *ccpor.Order
	for _, c := range orders {
		r := c.Restrained
		if plain.MatchString(r.Last) && r.First != "" && !r.DOB.IsZero() && typo(r.Last) != r.Last {
			o = c
			break
		}
	}
	if o == nil {
		t.Fatal("no order with a plain surname and a birth date among the fixtures")
	}
	r := o.Restrained
	t.Logf("probe: %s %s, born %s, order %s", r.First, r.Last, r.DOB, o.ID)

	for _, tc := range []struct {
		name string
		q    baseline.Query
	}{
		{"typo in last name", baseline.Query{Last: typo(r.Last), First: r.First}},
		{"typo in last name, upper case, no first", baseline.Query{Last: typo(r.Last)}},
		{"partial last name and initial", baseline.Query{Last: r.Last[:3], First: r.First[:1]}},
		{"two letters and initial", baseline.Query{Last: r.Last[:2], First: r.First[:1], Limit: baseline.MaxLimit}},
		{"date of birth alone", baseline.Query{DOB: r.DOB.String()}},
		{"names swapped", baseline.Query{Last: r.First, First: r.Last}},
		{"typo and birth date", baseline.Query{Last: typo(r.Last), First: r.First, DOB: r.DOB.String()}},
	} {
		if ids := mustSearch(t, db, tc.q); !slices.Contains(ids, o.ID) {
			t.Errorf("%s (%+v): order %s not among %d candidates", tc.name, tc.q, o.ID, len(ids))
		}
	}
	if ids := mustSearch(t, db, baseline.Query{Last: r.Last, First: r.First, DOB: r.DOB.String()}); len(ids) == 0 || ids[0] != o.ID {
		t.Errorf("exact name and birth date: order %s not first in %v", o.ID, ids)
	}

	// A protected person is found as well.
	var prot *ccpor.Order
	for _, c := range orders {
		if len(c.Protected) > 0 && plain.MatchString(c.Protected[0].Last) && !c.Protected[0].Confidential {
			prot = c
			break
		}
	}
	if prot != nil {
		p := prot.Protected[0]
		if ids := mustSearch(t, db, baseline.Query{Last: p.Last, First: p.First}); !slices.Contains(ids, prot.ID) {
			t.Errorf("protected person %s %s: order %s not found", p.First, p.Last, prot.ID)
		}
	}

	if ids := mustSearch(t, db, baseline.Query{Last: "Zqxwvjkb", First: "Yfplorth"}); len(ids) != 0 {
		t.Errorf("an unrelated name found %d orders: %v", len(ids), ids)
	}
	if ids := mustSearch(t, db, baseline.Query{Last: "Zqxwvjkb", First: "Yfplorth", DOB: "1901-02-03"}); len(ids) != 0 {
		t.Errorf("an unrelated name and birth date found %d orders", len(ids))
	}

	// Limits: default, cap, and nothing to search by.
	if ids := mustSearch(t, db, baseline.Query{Last: r.Last[:2]}); len(ids) > baseline.DefaultLimit {
		t.Errorf("default limit: %d ids", len(ids))
	}
	if ids := mustSearch(t, db, baseline.Query{Last: r.Last[:2], Limit: 1 << 30}); len(ids) > baseline.MaxLimit {
		t.Errorf("capped limit: %d ids", len(ids))
	}
	for _, q := range []baseline.Query{{}, {Last: "a"}, {First: "j"}, {Last: "%", First: "_"}} {
		if ids := mustSearch(t, db, q); len(ids) != 0 {
			t.Errorf("%+v has nothing to search by, found %d", q, len(ids))
		}
	}
	if _, err := baseline.Search(ctx, db.Pool, baseline.Query{Last: r.Last, DOB: "1980-13-40"}); err == nil {
		t.Error("a malformed birth date was accepted")
	}

	// Typed text is data, never SQL, and wildcards are letters' absence.
	for _, last := range []string{`x'); DROP TABLE orders; --`, `%`, `_%_%`, `\`, `' OR 1=1 --`} {
		ids := mustSearch(t, db, baseline.Query{Last: last, First: "a"})
		if len(ids) > 1 {
			t.Errorf("last name %q found %d orders", last, len(ids))
		}
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != len(orders) {
		t.Fatalf("orders after hostile searches: %d, %v", n, err)
	}
}

func TestInstallTwiceAndCatchUp(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpenDB(t)
	orders, _ := fixtures.Generate(7, now, 400)
	if _, err := db.InsertOrders(ctx, orders[:300], "seed", "test"); err != nil {
		t.Fatal(err)
	}
	mustInstall(t, db)
	before := peopleRows(t, db)
	start := time.Now()
	mustInstall(t, db)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("installing again, up to date, took %v", d)
	}
	if n := peopleRows(t, db); n != before {
		t.Errorf("installing again changed the table: %d rows, was %d", n, before)
	}

	// New orders and a changed order are picked up from the outbox.
	if _, err := db.InsertOrders(ctx, orders[300:], "seed", "test"); err != nil {
		t.Fatal(err)
	}
	changed, err := db.FindOrderByID(ctx, orders[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	oldLast := changed.Restrained.Last
	changed.Restrained.Last = "Quagmirewitz"
	if err := db.UpdateOrder(ctx, changed, "modify", "test"); err != nil {
		t.Fatal(err)
	}
	mustInstall(t, db)
	caughtUp := peopleRows(t, db)
	if ids := mustSearch(t, db, baseline.Query{Last: "Quagmirewitz"}); !slices.Contains(ids, changed.ID) {
		t.Errorf("the changed name is not found: %v", ids)
	}
	if ids := mustSearch(t, db, baseline.Query{Last: oldLast, First: changed.Restrained.First, Limit: baseline.MaxLimit}); slices.Contains(ids, changed.ID) &&
		!hasPerson(changed, oldLast) {
		t.Errorf("the old name %s still finds order %s", oldLast, changed.ID)
	}
	last := orders[len(orders)-1]
	if ids := mustSearch(t, db, baseline.Query{Last: last.Restrained.Last, First: last.Restrained.First, Limit: baseline.MaxLimit}); !slices.Contains(ids, last.ID) {
		t.Errorf("an order added after install is not found")
	}

	// Catching up gives the rows a rebuild gives.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM baseline_state`); err != nil {
		t.Fatal(err)
	}
	mustInstall(t, db)
	if n := peopleRows(t, db); n != caughtUp {
		t.Errorf("rebuilt: %d rows, caught up: %d", n, caughtUp)
	}
}

// hasPerson reports whether a protected person of o still bears the name.
func hasPerson(o *ccpor.Order, last string) bool {
	for _, p := range o.Protected {
		if p.Last == last {
			return true
		}
	}
	return false
}
