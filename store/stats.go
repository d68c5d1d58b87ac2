package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/jackc/pgx/v5"
)

// Public statistics: counts of orders by month, county and type, read
// from the materialised view order_stats (migration 0011) and published
// to anyone. 18 USC 2265(d)(3) forbids publishing what is likely to
// reveal a protected party's identity or location, and a small count in a
// small county can: so a count from 1 to SuppressBelow-1 is withheld, and
// so is, where needed, a second count of the same row or column, so that
// a withheld count cannot be worked out by subtracting the others from a
// published total (complementary suppression, as statistical agencies
// do). Sealed orders are not counted at all, juvenile orders statewide
// only (see the migration), and only complete months are published: a
// count of the month under way, read every few minutes, would tell when
// an order was issued.

// SuppressBelow is the smallest count published: counts from 1 to
// SuppressBelow-1 are withheld (0 is published).
const SuppressBelow = 5

// Ranges of months a query may ask for.
const (
	// DefaultStatsMonths is how many months a query without a range
	// gets: the last ones complete.
	DefaultStatsMonths = 24
	// MaxStatsMonths caps a query's range: each month is suppressed as a
	// whole table of every county and type.
	MaxStatsMonths = 120
)

// statsLock is the advisory lock key held while the view is refreshed,
// so that one node refreshes at a time.
const statsLock = 0x63_63_70_6f_72_04 // "ccpor" 4; each lock of store/ has its own number

// Count is a published count, or Suppressed.
type Count int

// Suppressed stands for a count withheld.
const Suppressed Count = -1

// Shown reports whether the count is published.
func (c Count) Shown() bool { return c >= 0 }

// MarshalJSON writes the count, or null when it is withheld.
func (c Count) MarshalJSON() ([]byte, error) {
	if !c.Shown() {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, int64(c), 10), nil
}

// StatsQuery selects published statistics.
type StatsQuery struct {
	// County is one of ccpor.Counties, or "" for the whole state.
	County string
	// Type is one order type, or "" for each.
	Type ccpor.OrderType
	// From and To are the first and last months, each as its first day;
	// zero To is the last complete month, zero From DefaultStatsMonths
	// before To.
	From, To ccpor.Date
}

// Stats are published counts of orders, month by month.
type Stats struct {
	// AsOf is when the counts were taken: the view's last refresh.
	AsOf   time.Time
	County string
	Type   ccpor.OrderType
	// Months are the months counted, each as its first day, oldest
	// first: those of the query's range that are complete and hold data.
	Months []ccpor.Date
	// Series has one entry per type (ccpor.OrderTypes' order; no JV for
	// a county), each with one count per month.
	Series []StatsSeries
	// Total counts the orders of every type of Series together; nil when
	// the query names a type.
	Total *StatsSeries
}

// StatsSeries are one type's counts, one per month of Stats.Months.
type StatsSeries struct {
	Type ccpor.OrderType // "" for Stats.Total
	// Active are the orders in effect at the end of each month.
	Active []Count
	// Issued are the orders issued in each month.
	Issued []Count
}

// countyTypes are the types counted by county: every one but juvenile
// orders, counted statewide only (WIC 827).
var countyTypes = slices.DeleteFunc(slices.Clone(ccpor.OrderTypes), func(t ccpor.OrderType) bool { return t == ccpor.OrderJV })

// RefreshStats recomputes the statistics from the orders, without
// keeping readers waiting (REFRESH ... CONCURRENTLY). When another node
// is refreshing them it returns false at once.
func (db *DB) RefreshStats(ctx context.Context) (bool, error) {
	refreshed := false
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, statsLock).Scan(&refreshed); err != nil || !refreshed {
			return err
		}
		if _, err := tx.Exec(ctx, `REFRESH MATERIALIZED VIEW CONCURRENTLY order_stats`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE order_stats_refresh SET refreshed_at = now()`)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("refresh statistics: %w", err)
	}
	return refreshed, nil
}

// OrderStats returns the published statistics q selects, small counts
// suppressed. It returns EInvalid, naming the fields, for an unknown
// county or type, juvenile orders of a county, a range that ends before
// it starts or is longer than MaxStatsMonths.
func (db *DB) OrderStats(ctx context.Context, q StatsQuery) (*Stats, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	st := &Stats{County: q.County, Type: q.Type}
	var cells []statsRow
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var first *time.Time
		if err := tx.QueryRow(ctx, `
			SELECT r.refreshed_at, (SELECT min(month) FROM order_stats)
			FROM order_stats_refresh r`).Scan(&st.AsOf, &first); err != nil {
			return err
		}
		// The month of the refresh is under way: the last published
		// month is the one before.
		asOf := ccpor.DateOf(st.AsOf)
		last := addMonths(ccpor.NewDate(asOf.Year(), asOf.Month(), 1), -1)
		from, to := q.From, q.To
		if to.IsZero() || to.After(last) {
			to = last
		}
		if from.IsZero() {
			from = addMonths(to, 1-DefaultStatsMonths)
		}
		if !addMonths(from, MaxStatsMonths).After(to) {
			return &ccpor.Error{Code: ccpor.EInvalid, Message: "The statistics query is not valid.", Problems: []ccpor.FieldProblem{
				{Field: "from", Detail: fmt.Sprintf("at most %d months before to (or the last complete month)", MaxStatsMonths-1)}}}
		}
		if first == nil {
			return nil // nothing counted yet
		}
		// No months before the first order: zeros there would read as
		// "none", not "not yet recorded".
		if f := ccpor.NewDate(first.Year(), first.Month(), 1); from.Before(f) {
			from = f
		}
		for m := from; !m.After(to); m = addMonths(m, 1) {
			st.Months = append(st.Months, m)
		}
		if len(st.Months) == 0 {
			return nil
		}
		rows, err := tx.Query(ctx, `
			SELECT month, county, type, active, issued FROM order_stats
			WHERE month BETWEEN $1 AND $2`, from.Time(), to.Time())
		if err != nil {
			return err
		}
		cells, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (statsRow, error) {
			var r statsRow
			var month time.Time
			err := row.Scan(&month, &r.county, &r.typ, &r.active, &r.issued)
			r.month = ccpor.NewDate(month.Year(), month.Month(), 1)
			return r, err
		})
		return err
	})
	if ccpor.ErrorCode(err) == ccpor.EInvalid {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("statistics: %w", err)
	}
	st.publish(cells)
	return st, nil
}

func (q StatsQuery) validate() error {
	bad := &ccpor.Error{Code: ccpor.EInvalid, Message: "The statistics query is not valid."}
	if q.County != "" && !slices.Contains(ccpor.Counties, q.County) {
		bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "county", Detail: "a California county, e.g. Los Angeles"})
	}
	if q.Type != "" && !slices.Contains(ccpor.OrderTypes, q.Type) {
		bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "type", Detail: "an order type: DV, CPO, CH, EA, JV, SV, WV or EPO"})
	}
	if q.Type == ccpor.OrderJV && q.County != "" {
		bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "type",
			Detail: "juvenile orders are counted statewide only (WIC 827): leave out the county"})
	}
	for _, m := range []struct {
		field string
		d     ccpor.Date
	}{{"from", q.From}, {"to", q.To}} {
		if !m.d.IsZero() && m.d.Day() != 1 {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: m.field, Detail: "a month, as its first day"})
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "from", Detail: "a month no later than to"})
	}
	if len(bad.Problems) > 0 {
		return bad
	}
	return nil
}

// statsRow is a row of order_stats.
type statsRow struct {
	month          ccpor.Date
	county         string
	typ            ccpor.OrderType
	active, issued int
}

// publish fills in the series of the query from the rows of its months,
// each month suppressed as a whole.
func (st *Stats) publish(rows []statsRow) {
	byMonth := map[ccpor.Date][]statsRow{}
	for _, r := range rows {
		byMonth[r.month] = append(byMonth[r.month], r)
	}
	types := ccpor.OrderTypes
	if st.County != "" {
		types = countyTypes
	}
	if st.Type != "" {
		types = []ccpor.OrderType{st.Type}
	}
	st.Series = make([]StatsSeries, len(types))
	for i, t := range types {
		st.Series[i].Type = t
	}
	if st.Type == "" {
		st.Total = &StatsSeries{}
	}
	rels := statsRelations()
	for _, m := range st.Months {
		active, issued := statsTables(byMonth[m])
		activeHidden, issuedHidden := suppress(active, rels), suppress(issued, rels)
		shown := func(cells statsTable, hidden map[statsCell]bool, c statsCell) Count {
			if hidden[c] {
				return Suppressed
			}
			return Count(cells[c])
		}
		for i, t := range types {
			c := statsCell{st.County, t}
			st.Series[i].Active = append(st.Series[i].Active, shown(active, activeHidden, c))
			st.Series[i].Issued = append(st.Series[i].Issued, shown(issued, issuedHidden, c))
		}
		if st.Total != nil {
			c := statsCell{st.County, ""}
			st.Total.Active = append(st.Total.Active, shown(active, activeHidden, c))
			st.Total.Issued = append(st.Total.Issued, shown(issued, issuedHidden, c))
		}
	}
}

// statsCell names one count a month publishes: the orders of a county
// ("" for the state) and of a type ("" for every type together).
type statsCell struct {
	county string
	typ    ccpor.OrderType
}

// statsTable is one month's counts of one measure, every cell that may be
// published: by county and type, each county's total, the state's by
// type and in all.
type statsTable map[statsCell]int

// statsTables builds a month's tables of orders in effect and issued. A
// row of no county (juvenile orders) or of one not in ccpor.Counties (an
// order imported with a misspelt county) counts in the state's figures
// only.
func statsTables(rows []statsRow) (active, issued statsTable) {
	active, issued = statsTable{}, statsTable{}
	for _, r := range rows {
		county := r.county
		if !slices.Contains(ccpor.Counties, county) || r.typ == ccpor.OrderJV {
			county = ""
		}
		for _, c := range []statsCell{{"", r.typ}, {"", ""}} {
			active[c] += r.active
			issued[c] += r.issued
		}
		if county != "" {
			for _, c := range []statsCell{{county, r.typ}, {county, ""}} {
				active[c] += r.active
				issued[c] += r.issued
			}
		}
	}
	return active, issued
}

// statsRelation is one sum the published counts make: total is the sum
// of parts.
type statsRelation struct {
	total statsCell
	parts []statsCell
}

// statsRelations lists every sum a month's table makes: each county's
// total of its types, the state's count of each type over the counties,
// and the state's total over the types and over the counties (with the
// juvenile orders, counted statewide only).
func statsRelations() []statsRelation {
	var rels []statsRelation
	for _, c := range ccpor.Counties {
		r := statsRelation{total: statsCell{c, ""}}
		for _, t := range countyTypes {
			r.parts = append(r.parts, statsCell{c, t})
		}
		rels = append(rels, r)
	}
	for _, t := range countyTypes {
		r := statsRelation{total: statsCell{"", t}}
		for _, c := range ccpor.Counties {
			r.parts = append(r.parts, statsCell{c, t})
		}
		rels = append(rels, r)
	}
	byType := statsRelation{total: statsCell{"", ""}}
	for _, t := range ccpor.OrderTypes {
		byType.parts = append(byType.parts, statsCell{"", t})
	}
	byCounty := statsRelation{total: statsCell{"", ""}, parts: []statsCell{{"", ccpor.OrderJV}}}
	for _, c := range ccpor.Counties {
		byCounty.parts = append(byCounty.parts, statsCell{c, ""})
	}
	return append(rels, byType, byCounty)
}

// suppress returns the cells of t to withhold: every count from 1 to
// SuppressBelow-1 (primary suppression), and then, in every sum with
// exactly one count withheld, the smallest other count that is not zero,
// until no sum has exactly one (complementary suppression): otherwise
// the total less the published parts would give the withheld count
// away. The choice depends on the month's whole table and never on the
// query, so one count is shown or withheld alike whoever asks for it.
// This is the usual heuristic, not a proof: it defeats subtraction
// within one sum, but several sums solved together (linear programming
// over the table) can still narrow a withheld count to a range.
func suppress(t statsTable, rels []statsRelation) map[statsCell]bool {
	hidden := map[statsCell]bool{}
	for c, n := range t {
		if n > 0 && n < SuppressBelow {
			hidden[c] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, r := range rels {
			n := 0
			if hidden[r.total] {
				n++
			}
			for _, p := range r.parts {
				if hidden[p] {
					n++
				}
			}
			if n != 1 {
				continue
			}
			// Parts first: a total is never smaller than its parts, and
			// withholding one hides less.
			var pick statsCell
			best := 0
			for _, c := range append(r.parts[:len(r.parts):len(r.parts)], r.total) {
				if v := t[c]; !hidden[c] && v > 0 && (best == 0 || v < best) {
					pick, best = c, v
				}
			}
			if best > 0 {
				hidden[pick] = true
				changed = true
			}
		}
	}
	return hidden
}

// addMonths returns the first day of the month n months after d's.
func addMonths(d ccpor.Date, n int) ccpor.Date {
	return ccpor.NewDate(d.Year(), d.Month()+time.Month(n), 1)
}
