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
	var probes []*matching.Record
	for _, p := range persons {
		probes = append(probes, matching.Prepare(p, asOf))
	}
	// Each person's candidates are fetched and screened on their own
	// goroutine: screening (preparing and weighing every candidate's
	// people) costs more than the query, and a check has two or three
	// people to spread over the cores. An order found through two people
	// is screened twice; the merge below keeps it once.
	type answer struct {
		hits      []Hit
		related   []bool
		truncated bool
		err       error
	}
	answers := make([]answer, len(persons))
	var wg sync.WaitGroup
	for i, p := range persons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := ix.Candidates(ctx, p, asOf, f, CandidateCap)
			a := answer{hits: h, related: make([]bool, len(h)), err: err}
			capped := len(h) >= CandidateCap
			for k, hit := range h {
				recs := make([]*matching.Record, len(hit.Persons))
				for j, hp := range hit.Persons {
					recs[j] = matching.Prepare(hp.Person, hit.IssuedOn)
				}
				// Cheap first: the person whose keys found the order
				// against its people; everyone against everyone only when
				// it may take two of them to tell.
				related, maybe := matching.Resembles(probes[i], recs, cfg)
				a.related[k] = related || (maybe && len(probes) > 1 && matching.Linked(probes, recs, cfg))
				if a.related[k] && capped && k >= len(h)-tailBand {
					a.truncated = true
				}
			}
			answers[i] = a
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, a := range answers {
		if a.err != nil {
			return nil, false, a.err
		}
		truncated = truncated || a.truncated
		for k, h := range a.hits {
			if a.related[k] && !seen[h.OrderID] {
				seen[h.OrderID] = true
				hits = append(hits, h)
			}
		}
	}
	return hits, truncated, nil
}
