package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// statsOrder returns an order of county and type issued on issued and in
// effect through expires (none when zero), ready for InsertOrders.
func statsOrder(tb testing.TB, county string, typ ccpor.OrderType, issued, expires ccpor.Date) *ccpor.Order {
	tb.Helper()
	o := mustOrder(tb, fmt.Sprintf("ST%06d", rand.IntN(1e6)))
	o.ID = uuid.NewString()
	o.County, o.Type, o.IssuedOn, o.ExpiresAt = county, typ, issued, expires
	o.Permanent = expires.IsZero()
	return o
}

// mustInsert stores orders as a bulk import does.
func mustInsert(tb testing.TB, db *store.DB, orders ...*ccpor.Order) {
	tb.Helper()
	if _, err := db.InsertOrders(context.Background(), orders, "import", "test"); err != nil {
		tb.Fatal(err)
	}
}

func mustRefresh(tb testing.TB, db *store.DB) {
	tb.Helper()
	if ok, err := db.RefreshStats(context.Background()); err != nil || !ok {
		tb.Fatalf("RefreshStats = %v, %v", ok, err)
	}
}

func mustStats(tb testing.TB, db *store.DB, q store.StatsQuery) *store.Stats {
	tb.Helper()
	st, err := db.OrderStats(context.Background(), q)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func month(y int, m time.Month) ccpor.Date { return ccpor.NewDate(y, m, 1) }

func counts(ns ...int) []store.Count {
	out := make([]store.Count, len(ns))
	for i, n := range ns {
		out[i] = store.Count(n)
	}
	return out
}

// series returns the series of typ ("" for the total).
func series(tb testing.TB, st *store.Stats, typ ccpor.OrderType) store.StatsSeries {
	tb.Helper()
	if typ == "" {
		if st.Total == nil {
			tb.Fatal("no total")
		}
		return *st.Total
	}
	for _, s := range st.Series {
		if s.Type == typ {
			return s
		}
	}
	tb.Fatalf("no %s series in %+v", typ, st.Series)
	return store.StatsSeries{}
}

// TestStats builds the view from orders and reads it back: orders in
// effect at each month's end and issued in it, by county and type;
// sealed orders not counted, juvenile orders statewide only, one case
// counted once.
func TestStats(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	d := ccpor.NewDate
	var orders []*ccpor.Order
	// Ten in effect January to March (the last day of March is their
	// last), six from February on, one of those terminated in April.
	for range 10 {
		orders = append(orders, statsOrder(t, "Los Angeles", ccpor.OrderDV, d(2025, 1, 10), d(2025, 3, 31)))
	}
	for i := range 6 {
		o := statsOrder(t, "Los Angeles", ccpor.OrderDV, d(2025, 2, 5), d(2027, 2, 5))
		if i == 0 {
			o.Terminated = &ccpor.Termination{On: d(2025, 4, 15), Reason: "dismissed"}
		}
		orders = append(orders, o)
	}
	// A renewal ends its predecessor's count when it is issued, though the
	// old order's dates run to June: the case counts once.
	old := statsOrder(t, "Los Angeles", ccpor.OrderDV, d(2024, 6, 1), d(2025, 6, 30))
	renewal := statsOrder(t, "Los Angeles", ccpor.OrderDV, d(2025, 4, 20), ccpor.Date{})
	renewal.PreviousOrderID = old.ID
	// Seven sealed orders: not counted at all.
	for range 7 {
		o := statsOrder(t, "Los Angeles", ccpor.OrderDV, d(2025, 1, 15), d(2027, 1, 15))
		o.Sealed = true
		orders = append(orders, o)
	}
	// Six juvenile orders of Alameda: statewide only.
	for range 6 {
		orders = append(orders, statsOrder(t, "Alameda", ccpor.OrderJV, d(2025, 2, 1), d(2028, 2, 1)))
	}
	// Five civil harassment orders of Alameda, from March.
	for range 5 {
		orders = append(orders, statsOrder(t, "Alameda", ccpor.OrderCH, d(2025, 3, 3), d(2030, 3, 3)))
	}
	mustInsert(t, db, append(orders, old, renewal)...)

	q := store.StatsQuery{From: month(2025, 1), To: month(2025, 5)}
	t.Run("BeforeRefresh", func(t *testing.T) {
		if st := mustStats(t, db, q); len(st.Months) != 0 {
			t.Errorf("before a refresh, months = %v, want none: the view was built empty", st.Months)
		}
	})
	mustRefresh(t, db)

	t.Run("Statewide", func(t *testing.T) {
		st := mustStats(t, db, q)
		if got, want := len(st.Months), 5; got != want || st.Months[0] != month(2025, 1) {
			t.Fatalf("months = %v, want 2025-01 to 2025-05", st.Months)
		}
		var types []ccpor.OrderType
		for _, s := range st.Series {
			types = append(types, s.Type)
		}
		if diff := cmp.Diff(ccpor.OrderTypes, types); diff != "" {
			t.Errorf("statewide series (-want +got):\n%s", diff)
		}
		dv := series(t, st, ccpor.OrderDV)
		// Jan 10+old, Feb +6, Mar same, Apr: the ten expired, one
		// terminated, the old order replaced by its renewal; May same.
		// The seven sealed orders are in none of them.
		if diff := cmp.Diff(counts(11, 17, 17, 6, 6), dv.Active); diff != "" {
			t.Errorf("DV in effect (-want +got):\n%s", diff)
		}
		// The renewal alone in April: withheld.
		if diff := cmp.Diff([]store.Count{10, 6, 0, store.Suppressed, 0}, dv.Issued); diff != "" {
			t.Errorf("DV issued (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(counts(0, 6, 6, 6, 6), series(t, st, ccpor.OrderJV).Active); diff != "" {
			t.Errorf("JV statewide (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(counts(11, 23, 28, 17, 17), series(t, st, "").Active); diff != "" {
			t.Errorf("total in effect (-want +got):\n%s", diff)
		}
	})
	t.Run("County", func(t *testing.T) {
		st := mustStats(t, db, store.StatsQuery{County: "Alameda", From: q.From, To: q.To})
		for _, s := range st.Series {
			if s.Type == ccpor.OrderJV {
				t.Errorf("a county's statistics have a JV series: juvenile orders are counted statewide only")
			}
		}
		if diff := cmp.Diff(counts(0, 0, 5, 5, 5), series(t, st, ccpor.OrderCH).Active); diff != "" {
			t.Errorf("Alameda CH (-want +got):\n%s", diff)
		}
		// The county's total leaves the juvenile orders out.
		if diff := cmp.Diff(counts(0, 0, 5, 5, 5), series(t, st, "").Active); diff != "" {
			t.Errorf("Alameda total (-want +got):\n%s", diff)
		}
		la := mustStats(t, db, store.StatsQuery{County: "Los Angeles", Type: ccpor.OrderDV, From: q.From, To: q.To})
		if len(la.Series) != 1 || la.Total != nil {
			t.Fatalf("one type asked: series %+v, total %+v", la.Series, la.Total)
		}
		if diff := cmp.Diff(counts(11, 17, 17, 6, 6), la.Series[0].Active); diff != "" {
			t.Errorf("Los Angeles DV (-want +got):\n%s", diff)
		}
	})
	t.Run("Range", func(t *testing.T) {
		// No months before the first order: zeros there would read as
		// "none", not "not yet recorded".
		st := mustStats(t, db, store.StatsQuery{From: month(2020, 1), To: month(2024, 7)})
		if got, want := st.Months, []ccpor.Date{month(2024, 6), month(2024, 7)}; !slices.Equal(got, want) {
			t.Errorf("months = %v, want %v", got, want)
		}
		// The month under way is not published, nor any after it.
		today := ccpor.DateOf(time.Now())
		thisMonth := month(today.Year(), today.Month())
		mustInsert(t, db, statsOrder(t, "Fresno", ccpor.OrderDV, today, today.AddYears(1)))
		mustRefresh(t, db)
		st = mustStats(t, db, store.StatsQuery{To: thisMonth.AddYears(1)})
		if n := len(st.Months); n != store.DefaultStatsMonths || st.Months[n-1] != addMonth(thisMonth, -1) {
			t.Errorf("default months = %v, want the %d before %s", st.Months, store.DefaultStatsMonths, thisMonth)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, tc := range map[string]struct {
			q     store.StatsQuery
			field string
		}{
			"UnknownCounty":  {store.StatsQuery{County: "Atlantis"}, "county"},
			"UnknownType":    {store.StatsQuery{Type: "XX"}, "type"},
			"JuvenileCounty": {store.StatsQuery{County: "Alameda", Type: ccpor.OrderJV}, "type"},
			"Backwards":      {store.StatsQuery{From: month(2025, 5), To: month(2025, 1)}, "from"},
			"NotAMonth":      {store.StatsQuery{From: d(2025, 5, 2)}, "from"},
			"TooLong":        {store.StatsQuery{From: month(2014, 1), To: month(2025, 1)}, "from"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := db.OrderStats(ctx, tc.q)
				var e *ccpor.Error
				if ccpor.ErrorCode(err) != ccpor.EInvalid || !errors.As(err, &e) || len(e.Problems) == 0 || e.Problems[0].Field != tc.field {
					t.Errorf("OrderStats(%+v) = %v, want EInvalid naming %s", tc.q, err, tc.field)
				}
			})
		}
	})
}

func addMonth(d ccpor.Date, n int) ccpor.Date {
	return ccpor.NewDate(d.Year(), d.Month()+time.Month(n), 1)
}

// TestStatsRefresh: a refresh shows new orders; one node refreshes at a
// time, and another finds the lock taken and leaves it.
func TestStatsRefresh(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	q := store.StatsQuery{County: "Kern", Type: ccpor.OrderWV, From: month(2025, 1), To: month(2025, 1)}
	for range 5 {
		mustInsert(t, db, statsOrder(t, "Kern", ccpor.OrderWV, ccpor.NewDate(2025, 1, 2), ccpor.NewDate(2026, 1, 2)))
	}
	mustRefresh(t, db)
	if got := mustStats(t, db, q).Series[0].Active; !slices.Equal(got, counts(5)) {
		t.Fatalf("Kern WV = %v, want 5", got)
	}
	before := mustStats(t, db, q).AsOf
	mustInsert(t, db, statsOrder(t, "Kern", ccpor.OrderWV, ccpor.NewDate(2025, 1, 3), ccpor.NewDate(2026, 1, 3)))
	if got := mustStats(t, db, q).Series[0].Active; !slices.Equal(got, counts(5)) {
		t.Errorf("before the refresh Kern WV = %v, want still 5", got)
	}
	mustRefresh(t, db)
	st := mustStats(t, db, q)
	if got := st.Series[0].Active; !slices.Equal(got, counts(6)) {
		t.Errorf("after the refresh Kern WV = %v, want 6", got)
	}
	if !st.AsOf.After(before) {
		t.Errorf("as of %v, not after %v", st.AsOf, before)
	}

	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// The key of store.statsLock: another node refreshing.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, 0x63_63_70_6f_72_04); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.RefreshStats(ctx); err != nil || ok {
		t.Errorf("with another node refreshing: RefreshStats = %v, %v; want false, nil", ok, err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, 0x63_63_70_6f_72_04); err != nil {
		t.Fatal(err)
	}
}

// TestStatsSuppression: no count from 1 to 4 is published, and no sum the
// published counts make (a county's total of its types, the state's count
// of a type over the counties, the state's total) has exactly one count
// withheld, which the total less the others would give away. The orders
// are random, with many small counts, in a few counties.
func TestStatsSuppression(t *testing.T) {
	db := mustDB(t)
	r := rand.New(rand.NewPCG(2265, 3))
	counties := []string{"Alpine", "Sierra", "Modoc", "Mono", "Inyo", "Trinity"}
	var orders []*ccpor.Order
	for _, c := range counties {
		for _, typ := range ccpor.OrderTypes {
			for range r.IntN(12) {
				day := ccpor.NewDate(2025, time.Month(1+r.IntN(3)), 1+r.IntN(28))
				orders = append(orders, statsOrder(t, c, typ, day, day.AddDays(30+r.IntN(120))))
			}
		}
	}
	// Alpine: two DV orders, nothing else.
	for range 2 {
		orders = append(orders, statsOrder(t, "Alpine", ccpor.OrderDV, ccpor.NewDate(2025, 6, 2), ccpor.NewDate(2026, 6, 2)))
	}
	mustInsert(t, db, orders...)
	mustRefresh(t, db)

	from, to := month(2025, 1), month(2025, 6)
	state := mustStats(t, db, store.StatsQuery{From: from, To: to})
	byCounty := map[string]*store.Stats{}
	for _, c := range ccpor.Counties {
		byCounty[c] = mustStats(t, db, store.StatsQuery{County: c, From: from, To: to})
	}
	if got := series(t, byCounty["Alpine"], ccpor.OrderDV).Issued[5]; got.Shown() {
		t.Errorf("Alpine's two DV orders of June published as %d", got)
	}
	withheld := 0
	for i, m := range state.Months {
		for _, measure := range []struct {
			name string
			of   func(store.StatsSeries) []store.Count
		}{
			{"active", func(s store.StatsSeries) []store.Count { return s.Active }},
			{"issued", func(s store.StatsSeries) []store.Count { return s.Issued }},
		} {
			at := func(st *store.Stats, typ ccpor.OrderType) store.Count { return measure.of(series(t, st, typ))[i] }
			check := func(what string, total store.Count, parts []store.Count) {
				t.Helper()
				n := 0
				for _, c := range append(parts, total) {
					if c.Shown() && c > 0 && c < store.SuppressBelow {
						t.Errorf("%s %s %s: %d published", m, measure.name, what, c)
					}
					if !c.Shown() {
						n++
					}
				}
				withheld += n
				if n == 1 {
					t.Errorf("%s %s %s: one count withheld of %d and %v: the others give it away", m, measure.name, what, total, parts)
				}
			}
			for _, c := range ccpor.Counties {
				var parts []store.Count
				for _, s := range byCounty[c].Series {
					parts = append(parts, measure.of(s)[i])
				}
				check(c+" total", at(byCounty[c], ""), parts)
			}
			var stateParts, countyTotals []store.Count
			for _, s := range state.Series {
				stateParts = append(stateParts, measure.of(s)[i])
				if s.Type == ccpor.OrderJV {
					continue
				}
				var parts []store.Count
				for _, c := range ccpor.Counties {
					parts = append(parts, at(byCounty[c], s.Type))
				}
				check("state "+string(s.Type), at(state, s.Type), parts)
			}
			check("state total by type", at(state, ""), stateParts)
			for _, c := range ccpor.Counties {
				countyTotals = append(countyTotals, at(byCounty[c], ""))
			}
			check("state total by county", at(state, ""), append(countyTotals, at(state, ccpor.OrderJV)))
		}
	}
	if withheld == 0 {
		t.Error("nothing withheld: the test's data has no small counts")
	}
}
