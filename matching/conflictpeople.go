package matching

import (
	"slices"

	"github.com/ccpor/ccpor"
)

// CirclePopulation is how many people the scorer assumes an order's other
// people are drawn from once one of its people is known to be a person of
// the proposed order. Two orders against one man are not two draws from
// the state: the "Maria López" protected by both is most likely one woman,
// though her name alone would prove nothing among a million records.
const CirclePopulation = 20

// Link says that a person of an existing order may be a person of the
// proposed order. Persons are numbered as in Slots: 0 is the restrained
// person, 1+j is Protected[j].
type Link struct {
	Proposed int    `json:"proposed"`
	Existing int    `json:"existing"`
	Result   Result `json:"result"`
}

// Slots returns an order's people: the restrained person first, then each
// protected person.
func Slots(o *ccpor.Order) []ccpor.Person {
	ps := make([]ccpor.Person, 0, 1+len(o.Protected))
	ps = append(ps, o.Restrained)
	for _, p := range o.Protected {
		ps = append(ps, p.Person)
	}
	return ps
}

// Bench is what a conflict check looks at: the order on the bench, the
// existing orders that may involve its people, and who is who across them.
type Bench struct {
	Proposed *ccpor.Order
	Existing []*ccpor.Order
	// Links[k] holds, for each person of Existing[k] who may be a person of
	// the proposed order, the best such link, best first. Only links at
	// LevelMatch count as the same person for the conflict rules.
	Links [][]Link
	// Today decides which orders are in effect.
	Today ccpor.Date
}

// NewBench compares every person of every existing order with every person
// of the proposed order. state scores people drawn from the whole
// registry; once an order shares a person with the proposed one, its other
// people are scored again against a prior of CirclePopulation.
func NewBench(proposed *ccpor.Order, existing []*ccpor.Order, today ccpor.Date, state Config) *Bench {
	b := &Bench{Proposed: proposed, Existing: existing, Links: make([][]Link, len(existing)), Today: today}
	var probe []*Record
	for _, p := range Slots(proposed) {
		probe = append(probe, Prepare(p, proposed.IssuedOn))
	}
	for k, o := range existing {
		var recs []*Record
		for _, p := range Slots(o) {
			recs = append(recs, Prepare(p, o.IssuedOn))
		}
		b.Links[k] = LinkPeople(probe, recs, state)
	}
	return b
}

// LinkPeople links the people of an existing order (recs) to those of a
// proposed one (probe), keeping links at LevelPossible or above, best
// first. An order is anchored to the proposed one when one of its people
// matches at the state-wide prior, or when two of its people each match a
// different proposed person at the circle's prior (two names that agree
// together are evidence neither is alone); its people are then scored
// against the circle's prior.
func LinkPeople(probe, recs []*Record, state Config) []Link {
	circle := state.WithPopulation(CirclePopulation)
	best := bestLinks(probe, recs, state)
	if !slices.ContainsFunc(best, isMatch) {
		if c := bestLinks(probe, recs, circle); distinctMatches(c) >= 2 {
			best = c
		}
	} else {
		best = bestLinks(probe, recs, circle)
	}
	var links []Link
	for _, l := range best {
		if l.Result.Level != "" {
			links = append(links, l)
		}
	}
	slices.SortStableFunc(links, func(a, b Link) int { return -cmpFloat(a.Result.Score, b.Result.Score) })
	return links
}

func isMatch(l Link) bool { return l.Result.Level == LevelMatch }

// distinctMatches counts the proposed people matched by links.
func distinctMatches(links []Link) int {
	var seen []int
	for _, l := range links {
		if isMatch(l) && !slices.Contains(seen, l.Proposed) {
			seen = append(seen, l.Proposed)
		}
	}
	return len(seen)
}

// bestLinks pairs each existing person with the proposed person they
// resemble most.
func bestLinks(probe, recs []*Record, cfg Config) []Link {
	out := make([]Link, 0, len(recs))
	for e, r := range recs {
		var best Link
		for p, q := range probe {
			res := CompareRecords(q, r, cfg)
			if p == 0 || res.Score > best.Result.Score {
				best = Link{Proposed: p, Existing: e, Result: res}
			}
		}
		out = append(out, best)
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Related reports whether Existing[k] may involve a person of the proposed
// order at all (a link at LevelPossible or above).
func (b *Bench) Related(k int) bool { return len(b.Links[k]) > 0 }

// who maps a person of Existing[k] to the proposed person they are, or -1.
func (b *Bench) who(k, e int) int {
	for _, l := range b.Links[k] {
		if l.Existing == e && l.Result.Level == LevelMatch {
			return l.Proposed
		}
	}
	return -1
}

// Relations says how Existing[k] touches the proposed order's people, from
// links at LevelMatch, the most telling first: "restrained" (it restrains
// the same person), "reversed" (it restrains a person the proposed order
// protects, or protects the person it restrains), "protected" (it protects
// one of the same people).
func (b *Bench) Relations(k int) []string {
	var rel []string
	o := b.Existing[k]
	if b.who(k, 0) == 0 {
		rel = append(rel, "restrained")
	}
	reversed := b.who(k, 0) > 0
	for j := range o.Protected {
		if b.who(k, 1+j) == 0 {
			reversed = true
		}
	}
	if reversed {
		rel = append(rel, "reversed")
	}
	for j := range o.Protected {
		if p := b.who(k, 1+j); p > 0 {
			rel = append(rel, "protected")
			break
		}
	}
	return rel
}
