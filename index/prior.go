package index

import (
	"context"
	"fmt"
	"math"

	"github.com/blevesearch/bleve/v2"
	"github.com/ccpor/ccpor/matching"
)

// The scorer's prior is the chance that two records picked at random name
// one person. Without more knowledge it is 1/n for n orders: each person's
// record has about one other. But people recur in a registry of
// protective orders (a temporary order and the order after hearing, a
// criminal and a family court order for one incident, a new petitioner
// against the same respondent), and how often is a property of each
// registry. At three records a person the true prior is twice 1/n; scored
// with 1/n, a record and its third copy need a bit more evidence than they
// should, and fake_1000 (about three records a person) lost five points
// of recall at match to it, none of precision. So the prior is measured
// on the registry's own candidate pairs (FitPrior), keeping the fitted
// table: only the mixing weight is estimated, which is well determined
// where a full refit by EM on one registry's pairs was not (tried on the
// fixtures, it took households for people).
//
// The measurement is only as right as the table. Where the table's
// birth-date weights fit the data it is close (fake_1000: 3.66 others a
// person measured, 4.06 true). The generated California orders have far
// cleaner birth dates than the benchmarks the table learnt from, so a
// namesake with a different birth date looks to the table like a person
// with a mis-keyed one, and the more namesakes a registry holds the more
// it counts: 1.10 others measured at 10,000 orders (0.92 true), 1.68 at
// 100,000 (1.00), 2.64 at a million (1.02). At 100,000 that moved the
// fixtures from precision 0.974 and recall 0.893 to 0.928 and 0.925 (F1
// 0.932 to 0.926): more of the same person found, at more false matches
// for a clerk to dismiss, the trade this registry makes (a missed match
// is the costlier mistake). Better birth-date weights for the registry's
// own population would fix both.

// priorProbes is how many orders' restrained persons FitPrior looks up.
// It needs enough expected matches to pin the mixing weight, not a share
// of the registry: two thousand look-ups take a few seconds at a million
// orders.
const priorProbes = 2000

// priorMinOrders is the smallest registry FitPrior fits: below it a
// sample is the whole registry and a handful of namesakes would decide.
const priorMinOrders = 200

// maxRepeats bounds the records per person FitPrior may conclude: more
// than that is a fit gone wrong (a registry of copies), not a population.
const maxRepeats = 50

// PriorFit reports a FitPrior.
type PriorFit struct {
	Orders int // orders in the index
	Probes int // restrained persons looked up
	Pairs  int // candidate pairs scored
	// Others is the fitted number of other orders naming a restrained
	// person, on average; Calibrate uses it when it is above one.
	Others float64
}

// FitPrior measures how many other orders name each restrained person, from
// the candidate pairs of a sample of the registry's own orders, and makes
// Calibrate use it. The sample is the orders with the lowest IDs, which
// are random UUIDs: every node of one registry draws the same sample and
// fits the same prior. Below priorMinOrders orders it does nothing.
//
// It never lowers the prior below 1/n: a registry where people seldom
// recur would otherwise ask more evidence for every match than the model
// was tuned with, and a missed match is the costlier mistake.
func (ix *Index) FitPrior(ctx context.Context, cfg matching.Config) (PriorFit, error) {
	n, err := ix.Count()
	if err != nil {
		return PriorFit{}, err
	}
	fit := PriorFit{Orders: int(n)}
	if n < priorMinOrders {
		return fit, nil
	}
	ix.mu.RLock()
	bi := ix.bi
	ix.mu.RUnlock()
	if bi == nil {
		return fit, errClosed
	}
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), priorProbes, 0, false)
	req.Fields = []string{fieldPersons}
	req.SortBy([]string{"_id"})
	res, err := bi.SearchInContext(ctx, req)
	if err != nil {
		return fit, fmt.Errorf("sample index: %w", err)
	}
	f := matching.NewPriorFitter(cfg.WithPopulation(int(n)))
	for _, h := range res.Hits {
		s, _ := h.Fields[fieldPersons].(string)
		var sd storedDoc
		if err := decodeStoredDoc(s, &sd); err != nil {
			return fit, fmt.Errorf("index document %s: %w", h.ID, err)
		}
		for _, sp := range sd.Persons {
			if sp.Role != RoleRestrained {
				continue
			}
			fit.Probes++
			probe := matching.Prepare(sp.Person, sd.IssuedOn)
			hits, err := ix.Candidates(ctx, sp.Person, sd.IssuedOn, Filter{}, CandidateCap)
			if err != nil {
				return fit, err
			}
			for _, c := range hits {
				if c.OrderID == h.ID {
					continue
				}
				for _, cp := range c.Persons {
					if cp.Role == RoleRestrained {
						f.Add(probe, matching.Prepare(cp.Person, c.IssuedOn))
					}
				}
			}
		}
	}
	fit.Pairs = f.Pairs()
	if fit.Probes == 0 {
		return fit, nil
	}
	others := float64(n - 1)
	fit.Others = min(f.Prior(float64(fit.Probes)*others)*others, maxRepeats)
	ix.others.Store(math.Float64bits(fit.Others))
	return fit, nil
}

// Calibrate sets the scorer's prior for this registry: two records picked
// at random from n orders are one person about once in n, or as often as
// FitPrior measured when that is more. A larger registry asks for more
// evidence before it says "match".
func (ix *Index) Calibrate(cfg matching.Config) matching.Config {
	n, err := ix.Count()
	if err != nil || n <= 1 {
		return cfg
	}
	c := cfg.WithPopulation(int(n))
	if others := math.Float64frombits(ix.others.Load()); others > 1 {
		c.Prior = min(others/float64(n), 0.5)
	}
	return c
}
