package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/matching"
)

// The quality benchmark: labelled record-linkage data (../shared/bench)
// loaded as orders into a real index and queried through Duplicates, the
// duplicate check's own path. `make test` runs it on slices so it never
// rots; CCPOR_BENCH_FULL=1 (make bench) runs every record and reports.

func benchDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("CCPOR_BENCH_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "shared", "bench")
	if _, err := os.Stat(d); err != nil {
		tb.Fatalf("benchmark data not found at %s (set CCPOR_BENCH_DIR): %v", d, err)
	}
	return d
}

func full() bool { return os.Getenv("CCPOR_BENCH_FULL") != "" }

// pick returns small in a normal test run and large in a full one.
func pick(small, large float64) float64 {
	if full() {
		return large
	}
	return small
}

type benchRec struct {
	id, truth string
	p         ccpor.Person
}

// loadFEBRL and loadFake1000 read the records as matching.LoadFEBRL and
// LoadFake1000 do, each as the restrained person of an order.
func loadFEBRL(tb testing.TB, name string, withIDs bool) []benchRec {
	recs, err := matching.LoadFEBRL(filepath.Join(benchDir(tb), name), withIDs)
	return benchRecs(tb, "", recs, err)
}

func loadFake1000(tb testing.TB) []benchRec {
	recs, err := matching.LoadFake1000(filepath.Join(benchDir(tb), "fake_1000.csv"))
	return benchRecs(tb, "f", recs, err)
}

func benchRecs(tb testing.TB, prefix string, recs []matching.BenchRecord, err error) []benchRec {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]benchRec, len(recs))
	for i, r := range recs {
		out[i] = benchRec{id: prefix + r.ID, truth: r.Cluster, p: r.Person}
	}
	return out
}

var benchIssued = ccpor.NewDate(2024, time.January, 15)

// indexRecords builds an index holding each record as the restrained
// person of one order.
func indexRecords(tb testing.TB, recs []benchRec) *Index {
	tb.Helper()
	ix, err := Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	orders := make([]*ccpor.Order, len(recs))
	for i, r := range recs {
		orders[i] = &ccpor.Order{ID: r.id, Type: ccpor.OrderDV, IssuedOn: benchIssued, Restrained: r.p}
	}
	for i := 0; i < len(orders); i += 5000 {
		if err := ix.Apply(orders[i:min(i+5000, len(orders))], nil, int64(i+1)); err != nil {
			tb.Fatal(err)
		}
	}
	fitPrior(tb, ix)
	return ix
}

// fitPrior measures the registry's prior, as serve does once it is up.
func fitPrior(tb testing.TB, ix *Index) {
	tb.Helper()
	fit, err := ix.FitPrior(context.Background(), matching.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("prior fitted on %d of %d orders (%d candidate pairs): %.2f other orders a person", fit.Probes, fit.Orders, fit.Pairs, fit.Others)
}

// quality holds the figures of one run.
type quality struct {
	name                      string
	queries, truePairs        int
	candPairs, truthInCands   int
	predicted, truePositives  int
	inTop10, queriesWithTruth int
	// shown counts the true pairs a clerk is shown: at possible or above.
	shown int
}

func (q quality) String() string {
	p, r := ratio(q.truePositives, q.predicted), ratio(q.truePositives, q.truePairs)
	s := fmt.Sprintf("%s: %d queries, %d true pairs; pair completeness %.4f; at match: precision %.4f recall %.4f F1 %.4f",
		q.name, q.queries, q.truePairs, ratio(q.truthInCands, q.truePairs), p, r, 2*p*r/max(p+r, 1e-9))
	s += fmt.Sprintf("; shown (possible or above): recall %.4f", ratio(q.shown, q.truePairs))
	if q.queriesWithTruth > 0 {
		s += fmt.Sprintf("; recall@10 %.4f; %d candidates per query", ratio(q.inTop10, q.queriesWithTruth), q.candPairs/max(q.queries, 1))
	}
	return s
}

func (q quality) f1() float64 {
	p, r := ratio(q.truePositives, q.predicted), ratio(q.truePositives, q.truePairs)
	return 2 * p * r / max(p+r, 1e-9)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// evaluateLinkage runs the FEBRL protocol: every query has at most one
// true record among the indexed ones.
func evaluateLinkage(tb testing.TB, name string, indexed, queries []benchRec, cfg matching.Config) quality {
	ctx := context.Background()
	ix := indexRecords(tb, indexed)
	truthOf := map[string]string{}
	for _, r := range indexed {
		truthOf[r.id] = r.truth
	}
	q := quality{name: name, queries: len(queries)}
	for _, r := range queries {
		hasTruth := false
		for _, x := range indexed {
			if x.truth == r.truth {
				hasTruth = true
				break
			}
		}
		if hasTruth {
			q.truePairs++
			q.queriesWithTruth++
		}
		hits, err := ix.Candidates(ctx, r.p, benchIssued, Filter{}, CandidateCap)
		if err != nil {
			tb.Fatal(err)
		}
		q.candPairs += len(hits)
		for _, h := range hits {
			if truthOf[h.OrderID] == r.truth {
				q.truthInCands++
			}
		}
		for _, m := range scoreRestrained(&ccpor.Order{Restrained: r.p, IssuedOn: benchIssued}, hits, ix.Calibrate(cfg)) {
			if truthOf[m.OrderID] == r.truth {
				q.shown++
			}
		}
		ranked := rankAll(r.p, hits, ix.Calibrate(cfg))
		for i, m := range ranked {
			if i < 10 && truthOf[m.OrderID] == r.truth {
				q.inTop10++
			}
			if m.Result.Level == matching.LevelMatch {
				q.predicted++
				if truthOf[m.OrderID] == r.truth {
					q.truePositives++
				}
			}
		}
	}
	return q
}

// rankAll scores every hit's restrained person, below the possible level
// too, best first: recall@10 looks past the thresholds.
func rankAll(p ccpor.Person, hits []Hit, cfg matching.Config) []Match {
	cfg.Possible = 0
	ms := scoreRestrained(&ccpor.Order{Restrained: p, IssuedOn: benchIssued}, hits, cfg)
	return ms
}

func TestQualityFEBRL(t *testing.T) {
	a, b := loadFEBRL(t, "febrl4a.csv", false), loadFEBRL(t, "febrl4b.csv", false)
	aID, bID := loadFEBRL(t, "febrl4a.csv", true), loadFEBRL(t, "febrl4b.csv", true)
	if !full() {
		// The first 400 originals, queried with their duplicates and 100
		// records whose original is not indexed.
		keep := map[string]bool{}
		for _, r := range a[:400] {
			keep[r.truth] = true
		}
		var qs, qsID []benchRec
		others := 0
		for i, r := range b {
			if keep[r.truth] || others < 100 {
				if !keep[r.truth] {
					others++
				}
				qs, qsID = append(qs, r), append(qsID, bID[i])
			}
		}
		a, b, aID, bID = a[:400], qs, aID[:400], qsID
	}
	without := evaluateLinkage(t, "FEBRL 4 without identifiers", a, b, matching.DefaultConfig())
	t.Log(without)
	with := evaluateLinkage(t, "FEBRL 4 with identifiers", aID, bID, matching.DefaultConfig())
	t.Log(with)
	// FEBRL makes most of its hardest duplicates by replacing a first name
	// or a birth date outright, which leaves a record that looks like a
	// twin or a parent of the same name at the same address: what the
	// relative rule holds below match, as the registry must (a father is
	// not his son). Measured without the rule too, so the cost of that
	// choice on this data is in the report, not guessed at.
	noRel := matching.DefaultConfig()
	noRel.IgnoreRelatives = true
	relOff := evaluateLinkage(t, "FEBRL 4 without identifiers, relative rule off (not the registry's setting)", a, b, noRel)
	t.Log(relOff)
	if relOff.f1() < without.f1() {
		t.Errorf("turning the relative rule off lowered F1 (%.4f < %.4f): the rule is costing nothing on FEBRL, so the note is wrong", relOff.f1(), without.f1())
	}
	if got := ratio(without.truthInCands, without.truePairs); got < 0.999 {
		t.Errorf("pair completeness %.4f, want ≥ 0.999", got)
	}
	// Floors against regression, below what each size measures today
	// (subset 0.972, full 0.954); the targets are in the README's note.
	if got, floor := without.f1(), pick(0.965, 0.95); got < floor {
		t.Errorf("F1 %.4f, want ≥ %.2f", got, floor)
	}
	// What the rule holds below match it holds at possible, where a clerk
	// sees it (matching.Config.hold): subset 0.995, full 0.991 today,
	// 0.968 and 0.917 when the rule hid them.
	if got, floor := ratio(without.shown, without.truePairs), pick(0.99, 0.985); got < floor {
		t.Errorf("recall at possible or above %.4f, want ≥ %.3f", got, floor)
	}
}

func TestQualityFake1000(t *testing.T) {
	ctx, cfg := context.Background(), matching.DefaultConfig()
	recs := loadFake1000(t)
	if !full() {
		recs = recs[:300]
	}
	ix := indexRecords(t, recs)
	truthOf := map[string]string{}
	clusters := map[string]int{}
	for _, r := range recs {
		truthOf[r.id] = r.truth
		clusters[r.truth]++
	}
	q := quality{name: "fake_1000", queries: len(recs)}
	for _, n := range clusters {
		q.truePairs += n * (n - 1) / 2
	}
	predicted, shown := map[[2]string]bool{}, map[[2]string]bool{}
	found := map[[2]string]bool{}
	for _, r := range recs {
		hits, err := ix.Candidates(ctx, r.p, benchIssued, Filter{}, CandidateCap)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.OrderID != r.id && truthOf[h.OrderID] == r.truth {
				found[pairOf(r.id, h.OrderID)] = true
			}
		}
		for _, m := range scoreRestrained(&ccpor.Order{ID: r.id, Restrained: r.p, IssuedOn: benchIssued}, hits, ix.Calibrate(cfg)) {
			if truthOf[m.OrderID] == r.truth {
				shown[pairOf(r.id, m.OrderID)] = true
			}
			if m.Result.Level == matching.LevelMatch {
				predicted[pairOf(r.id, m.OrderID)] = true
			}
		}
	}
	q.truthInCands, q.predicted, q.shown = len(found), len(predicted), len(shown)
	for pr := range predicted {
		if truthOf[pr[0]] == truthOf[pr[1]] {
			q.truePositives++
		}
	}
	t.Log(q)
	// Floors against regression; the targets are reported by make bench.
	// Subset 0.879, full 0.856 today (0.871 and 0.840 before birth dates
	// a month apart and a year digit off had levels of their own).
	if got, floor := q.f1(), pick(0.87, 0.85); got < floor {
		t.Errorf("F1 %.4f, want ≥ %.2f", got, floor)
	}
}

// TestQualityFixtures measures on the generator's own ground truth: every
// order's restrained person queried against the rest, pairs of orders
// naming one synthetic person counted, and relatives (father and son,
// siblings, twins) that must stay below match.
func TestQualityFixtures(t *testing.T) {
	n := 2000
	if full() {
		n = 10000
	}
	ctx, cfg := context.Background(), matching.DefaultConfig()
	g := fixtures.New(21, time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC))
	orders := make([]*ccpor.Order, n)
	truth := map[string]string{}
	byPerson := map[string]int{}
	for i := range orders {
		o, tr := g.Next()
		orders[i] = o
		truth[o.ID] = tr.Restrained
		byPerson[tr.Restrained]++
	}
	relatives := map[[2]string]string{}
	for _, h := range g.HardNegatives() {
		relatives[pairOf(h.A, h.B)] = h.Kind
	}
	ix := tempIndex(t)
	if err := ix.Apply(orders, nil, 1); err != nil {
		t.Fatal(err)
	}
	fitPrior(t, ix)
	q := quality{name: "fixtures", queries: n}
	for _, c := range byPerson {
		q.truePairs += c * (c - 1) / 2
	}
	predicted, found := map[[2]string]bool{}, map[[2]string]bool{}
	shown := map[[2]string]bool{}
	relativesMatched, relativesShown := 0, 0
	for _, o := range orders {
		hits, err := ix.Candidates(ctx, o.Restrained, o.IssuedOn, Filter{}, CandidateCap)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.OrderID != o.ID && truth[h.OrderID] == truth[o.ID] {
				found[pairOf(o.ID, h.OrderID)] = true
			}
		}
		for _, m := range scoreRestrained(o, hits, ix.Calibrate(cfg)) {
			pr := pairOf(o.ID, m.OrderID)
			if !shown[pr] {
				shown[pr] = true
				if truth[pr[0]] == truth[pr[1]] {
					q.shown++
				}
				if _, ok := relatives[pairOf(truth[o.ID], truth[m.OrderID])]; ok {
					relativesShown++
				}
			}
			if m.Result.Level != matching.LevelMatch {
				continue
			}
			if !predicted[pr] {
				predicted[pr] = true
				if _, ok := relatives[pairOf(truth[o.ID], truth[m.OrderID])]; ok {
					relativesMatched++
				}
			}
		}
	}
	q.truthInCands, q.predicted = len(found), len(predicted)
	for pr := range predicted {
		if truth[pr[0]] == truth[pr[1]] {
			q.truePositives++
		}
	}
	t.Log(q)
	t.Logf("fixtures: %d order pairs of relatives (different people sharing a surname and a home) scored as a match, %d shown as possible", relativesMatched, relativesShown)
	// 2,000 orders 0.996, 10,000 orders 0.985 today; relatives never.
	if got, floor := q.f1(), pick(0.99, 0.98); got < floor {
		t.Errorf("F1 %.4f, want ≥ %.2f", got, floor)
	}
	if relativesMatched > 0 {
		t.Errorf("%d pairs of relatives scored as the same person", relativesMatched)
	}
}

func pairOf(a, b string) [2]string {
	p := []string{a, b}
	slices.Sort(p)
	return [2]string{p[0], p[1]}
}
