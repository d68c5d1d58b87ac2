package matching_test

import (
	"os"
	"sort"
	"testing"
	"time"

	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/matching"
)

// fixtureRecord is a restrained person of a generated order with its truth.
type fixtureRecord struct {
	id, variant string
	rec         *matching.Record
}

// fixtureStats scores every candidate pair among the restrained persons of
// the first n generated orders, as the duplicate check would.
type fixtureStats struct {
	truePairs, found, predicted, tp int
	missedBy                        map[string]int // false negatives by variant
	relatives, relativesMatched     int
}

func evaluateFixtures(tb testing.TB, n int, cfg matching.Config) fixtureStats {
	tb.Helper()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	g := fixtures.New(1, now)
	var recs []fixtureRecord
	size := map[string]int{}
	for range n {
		o, truth := g.Next()
		recs = append(recs, fixtureRecord{truth.Restrained, truth.Variant, matching.Prepare(o.Restrained, o.IssuedOn).WithParties(matching.Others(o, 0))})
		size[truth.Restrained]++
	}
	st := fixtureStats{missedBy: map[string]int{}}
	for _, k := range size {
		st.truePairs += k * (k - 1) / 2
	}
	neg := map[[2]string]bool{}
	for _, h := range g.HardNegatives() {
		neg[[2]string{h.A, h.B}], neg[[2]string{h.B, h.A}] = true, true
	}
	index := map[string][]int{}
	for i, r := range recs {
		for _, k := range matching.KeysAt(r.rec.Person, r.rec.AsOf) {
			index[k] = append(index[k], i)
		}
	}
	for i, r := range recs {
		cands := map[int]bool{}
		for _, k := range matching.KeysAt(r.rec.Person, r.rec.AsOf) {
			for _, j := range index[k] {
				if j > i {
					cands[j] = true
				}
			}
		}
		for j := range cands {
			same := recs[j].id == r.id
			res := matching.CompareRecords(r.rec, recs[j].rec, cfg)
			match := res.Level == matching.LevelMatch
			if same {
				st.found++
			}
			if match {
				st.predicted++
			}
			switch {
			case same && match:
				st.tp++
			case same:
				st.missedBy[r.variant+" ~ "+recs[j].variant]++
			}
			if neg[[2]string{r.id, recs[j].id}] {
				st.relatives++
				if match {
					st.relativesMatched++
					tb.Logf("relatives matched: %s | %s: %.3f %v", r.rec.Person.FullName(), recs[j].rec.Person.FullName(), res.Score, res.Explanation)
				}
			}
		}
	}
	return st
}

// TestFixtures measures matching on the project's synthetic California
// orders, which carry nicknames, double surnames, accents, swapped names,
// ages instead of birth dates, and look-alike relatives. Its figures are
// not used to fit anything.
func TestFixtures(t *testing.T) {
	n := 1000
	if os.Getenv("CCPOR_BENCH_FULL") == "1" {
		n = 5000
	}
	cfg := matching.DefaultConfig().WithPopulation(n)
	st := evaluateFixtures(t, n, cfg)
	p := float64(st.tp) / float64(max(st.predicted, 1))
	r := float64(st.tp) / float64(max(st.truePairs, 1))
	t.Logf("orders=%d true pairs=%d candidates hold %d; predicted=%d TP=%d P=%.4f R=%.4f F1=%.4f; relatives compared=%d matched=%d",
		n, st.truePairs, st.found, st.predicted, st.tp, p, r, 2*p*r/max(p+r, 1e-9), st.relatives, st.relativesMatched)
	type kv struct {
		k string
		v int
	}
	var miss []kv
	for k, v := range st.missedBy {
		miss = append(miss, kv{k, v})
	}
	sort.Slice(miss, func(i, j int) bool { return miss[i].v > miss[j].v })
	for _, m := range miss[:min(12, len(miss))] {
		t.Logf("missed %4d  %s", m.v, m.k)
	}
	if st.relativesMatched > 0 {
		t.Errorf("%d of %d look-alike relative pairs scored as a match", st.relativesMatched, st.relatives)
	}
	if p < 0.95 {
		t.Errorf("precision %.4f, want at least 0.95", p)
	}
}

// TestAssessIsCompare: ranking scores with Assess and explains only what
// it shows with CompareRecords; the two must never disagree on a score,
// or the order of a result list would not be the order of its scores.
func TestAssessIsCompare(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	g := fixtures.New(3, now)
	var recs []*matching.Record
	for range 400 {
		o, _ := g.Next()
		recs = append(recs, matching.Prepare(o.Restrained, o.IssuedOn).WithParties(matching.Others(o, 0)))
	}
	cfg := matching.DefaultConfig().WithPopulation(1000000)
	levels, parties := map[string]int{}, map[string]int{}
	for i, a := range recs {
		for _, b := range recs[:i] {
			want, got := matching.CompareRecords(a, b, cfg), matching.Assess(a, b, cfg)
			if got.Score != want.Score || got.Level != want.Level || got.Weight != want.Weight {
				t.Fatalf("%s / %s: Assess %+v, CompareRecords %v %s %v", a.Person.FullName(), b.Person.FullName(),
					got, want.Score, want.Level, want.Weight)
			}
			if got.Explanation != nil {
				t.Fatalf("Assess explained: %v", got.Explanation)
			}
			levels[want.Level]++
			for _, p := range want.Explanation {
				if p.Field == matching.FieldParty {
					parties[p.Outcome]++
				}
			}
		}
	}
	// The pairs must reach every level, and both party outcomes that
	// unrelated orders give (shared and different; apart needs orders
	// naming each other's people), or the test compares little.
	if levels[matching.LevelMatch] == 0 || levels[matching.LevelPossible] == 0 || levels[""] == 0 {
		t.Fatalf("levels reached: %v", levels)
	}
	for _, o := range []string{matching.Shared, matching.Different} {
		if parties[o] == 0 {
			t.Fatalf("party outcomes reached: %v", parties)
		}
	}
}
