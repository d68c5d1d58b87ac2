package index

import (
	"context"
	"sync"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/matching"
)

// Related returns the orders in which any of persons (the people of a
// proposed order issued on asOf) may appear, in any role: each person's
// candidates are fetched on their own keys and kept only when
// matching.Linked links one of the order's people to one of persons.
// truncated reports that some person's candidates hit the cap while the
// weakest of them (the tail of Candidates' ranking by shared keys) were
// still related: there may be more beyond the cap, so the answer must not
// claim to be exhaustive. A capped list whose tail is all strangers is the
// common case for a common name and says nothing of the sort.
// tailBand is how many of a capped candidate list's weakest entries are
// watched for related orders.
const tailBand = 10

func (ix *Index) Related(ctx context.Context, persons []ccpor.Person, asOf ccpor.Date, f Filter, cfg matching.Config) (hits []Hit, truncated bool, err error) {
	cfg = ix.Calibrate(cfg)
	type answer struct {
		hits []Hit
		err  error
	}
	answers := make([]answer, len(persons))
	var wg sync.WaitGroup
	for i, p := range persons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := ix.Candidates(ctx, p, asOf, f, CandidateCap)
			answers[i] = answer{h, err}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	var probes []*matching.Record
	for _, p := range persons {
		probes = append(probes, matching.Prepare(p, asOf))
	}
	for i, a := range answers {
		if a.err != nil {
			return nil, false, a.err
		}
		capped := len(a.hits) >= CandidateCap
		for k, h := range a.hits {
			if capped && k >= len(a.hits)-tailBand && seen[h.OrderID] {
				truncated = true
			}
			if seen[h.OrderID] {
				continue
			}
			recs := make([]*matching.Record, len(h.Persons))
			for j, hp := range h.Persons {
				recs[j] = matching.Prepare(hp.Person, h.IssuedOn)
			}
			// Cheap first: the person whose keys found the order against
			// its people; everyone against everyone only when it may
			// take two of them to tell.
			related, maybe := matching.Resembles(probes[i], recs, cfg)
			if related || (maybe && len(probes) > 1 && matching.Linked(probes, recs, cfg)) {
				seen[h.OrderID] = true
				hits = append(hits, h)
				if capped && k >= len(a.hits)-tailBand {
					truncated = true
				}
			}
		}
	}
	return hits, truncated, nil
}
