package index

import (
	"context"
	"slices"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/matching"
)

// Duplicates returns the orders whose restrained person may be o's (an
// order as entered, not yet registered or registered as o.ID, which is
// left out), scored by matching, at the possible level or above, best
// first. The other people of o and of each candidate are weighed too: an
// order for the same protected person is likelier the same restrained
// person. It is the duplicate check of the API and of the quality
// benchmark alike.
func (ix *Index) Duplicates(ctx context.Context, o *ccpor.Order, cfg matching.Config) ([]Match, error) {
	hits, err := ix.Candidates(ctx, o.Restrained, o.IssuedOn, Filter{}, CandidateCap)
	if err != nil {
		return nil, err
	}
	return scoreRestrained(o, hits, ix.Calibrate(cfg)), nil
}

// scoreRestrained scores the restrained person of every hit against o's
// and keeps those at the possible level or above, best first.
func scoreRestrained(o *ccpor.Order, hits []Hit, cfg matching.Config) []Match {
	probe := matching.Prepare(o.Restrained, o.IssuedOn).WithParties(matching.Others(o, 0))
	c := &cfg
	var matches []Match
	for _, h := range hits {
		if h.OrderID == o.ID {
			continue
		}
		for k, hp := range h.Persons {
			if hp.Role != RoleRestrained {
				continue
			}
			rec := matching.Prepare(hp.Person, h.IssuedOn).WithParties(h.others(k))
			if r := matching.Assess(probe, rec, cfg); r.Level != "" {
				matches = append(matches, Match{OrderID: h.OrderID, Person: hp, Result: r, Access: h.Access, probe: probe, rec: rec, cfg: c})
			}
		}
	}
	slices.SortStableFunc(matches, byScore)
	return matches
}

// others returns the people of the hit but its k-th.
func (h *Hit) others(k int) []ccpor.Person {
	out := make([]ccpor.Person, 0, len(h.Persons)-1)
	for i, p := range h.Persons {
		if i != k {
			out = append(out, p.Person)
		}
	}
	return out
}

func byScore(a, b Match) int {
	switch {
	case a.Result.Score > b.Result.Score:
		return -1
	case a.Result.Score < b.Result.Score:
		return 1
	}
	return 0
}
