package index

import (
	"context"
	"slices"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/matching"
)

// Duplicates returns the orders whose restrained person may be p (a
// person as entered on an order issued on asOf), scored by matching, at
// the possible level or above, best first. exclude is an order ID to leave
// out (the order itself). It is the duplicate check of the API and of the
// quality benchmark alike.
func (ix *Index) Duplicates(ctx context.Context, p ccpor.Person, asOf ccpor.Date, exclude string, cfg matching.Config) ([]Match, error) {
	hits, err := ix.Candidates(ctx, p, asOf, Filter{}, CandidateCap)
	if err != nil {
		return nil, err
	}
	return scoreRestrained(p, asOf, hits, exclude, ix.Calibrate(cfg)), nil
}

// scoreRestrained scores the restrained person of every hit against p and
// keeps those at the possible level or above, best first.
func scoreRestrained(p ccpor.Person, asOf ccpor.Date, hits []Hit, exclude string, cfg matching.Config) []Match {
	probe := matching.Prepare(p, asOf)
	c := &cfg
	var matches []Match
	for _, h := range hits {
		if h.OrderID == exclude {
			continue
		}
		for _, hp := range h.Persons {
			if hp.Role != RoleRestrained {
				continue
			}
			rec := matching.Prepare(hp.Person, h.IssuedOn)
			if r := matching.Assess(probe, rec, cfg); r.Level != "" {
				matches = append(matches, Match{OrderID: h.OrderID, Person: hp, Result: r, Access: h.Access, probe: probe, rec: rec, cfg: c})
			}
		}
	}
	slices.SortStableFunc(matches, byScore)
	return matches
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
