package main

import (
	"context"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/matching"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/baseline"
)

// compareInProcess times our officer search and duplicate check against
// the PostgreSQL-only baseline (store/baseline) on the same registry and
// the same queries, both called in this process without HTTP, so that
// like is compared with like: our side is the index's candidates ranked
// by the matcher, as the API does before it pages and audits; the
// baseline's is its SQL search, ranked in SQL.
func compareInProcess(t *testing.T, n int, db *store.DB, ix *index.Index, orders []*ccpor.Order) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	if err := baseline.Install(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	record(t, n, "baseline install", time.Since(start).Seconds(), "s")

	cfg := matching.DefaultConfig()
	today := ccpor.DateOf(time.Now())
	var ours, theirs, oursDup, theirsDup []time.Duration
	for _, o := range orders {
		last, first := searchTerms(o)
		q := index.Query{Last: last, First: first}
		start := time.Now()
		hits, err := ix.Search(ctx, q, today)
		if err != nil {
			t.Fatal(err)
		}
		if len(index.Rank(q, hits, ix.Calibrate(cfg))) == 0 {
			t.Fatalf("our search for %q %q found nothing, not even order %s", last, first, o.ID)
		}
		ours = append(ours, time.Since(start))

		start = time.Now()
		ids, err := baseline.Search(ctx, db.Pool, baseline.Query{Last: last, First: first, Limit: index.SearchCap})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			t.Fatalf("the baseline's search for %q %q found nothing, not even order %s", last, first, o.ID)
		}
		theirs = append(theirs, time.Since(start))

		proposed := *o // the same order entered again, people and all
		proposed.ID = ""
		start = time.Now()
		if _, err := ix.Duplicates(ctx, &proposed, cfg); err != nil {
			t.Fatal(err)
		}
		oursDup = append(oursDup, time.Since(start))

		start = time.Now()
		if _, err := baseline.Search(ctx, db.Pool, baseline.Query{Last: o.Restrained.Last, First: o.Restrained.First, DOB: o.Restrained.DOB.String(), Limit: index.CandidateCap}); err != nil {
			t.Fatal(err)
		}
		theirsDup = append(theirsDup, time.Since(start))
	}
	recordLatencies(t, n, "search in-process", ours)
	recordLatencies(t, n, "baseline search", theirs)
	recordLatencies(t, n, "duplicate check in-process", oursDup)
	recordLatencies(t, n, "baseline duplicate check", theirsDup)
}
