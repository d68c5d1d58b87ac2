package matching

import (
	"math"
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

// Others returns the people of o other than the one in slot (numbered as
// in Slots): the parties a Record of that person is given (WithParties).
func Others(o *ccpor.Order, slot int) []ccpor.Person {
	ps := Slots(o)
	return append(ps[:slot:slot], ps[slot+1:]...)
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
	best, cfg := pairUp(probe, recs, &state)
	if best == nil {
		return nil
	}
	var links []Link
	for e, p := range best {
		if p < 0 {
			continue
		}
		// Only the links kept are explained: explanations cost more
		// than the comparisons.
		if r := CompareRecords(probe[p], recs[e], cfg); r.Level != "" {
			links = append(links, Link{Proposed: p, Existing: e, Result: r})
		}
	}
	slices.SortStableFunc(links, func(a, b Link) int { return -cmpFloat(a.Result.Score, b.Result.Score) })
	return links
}

// Linked reports whether LinkPeople would link anyone, without explaining:
// the index's filter of candidate orders.
func Linked(probe, recs []*Record, state Config) bool {
	best, _ := pairUp(probe, recs, &state)
	return best != nil
}

// Resembles says, cheaply, whether one person resembles anyone in recs: at
// LevelPossible or above with the state-wide prior (the order is related),
// or at LevelMatch only with the circle's prior (it may be, if another of
// its people matches too: ask Linked).
func Resembles(probe *Record, recs []*Record, state Config) (related, maybe bool) {
	circle := state.WithPopulation(CirclePopulation)
	for _, r := range recs {
		e := weigh(probe, r, &state)
		if e.level(&state) != "" {
			return true, true
		}
		if e.level(&circle) == LevelMatch {
			maybe = true
		}
	}
	return false, maybe
}

// pairUp pairs each existing person with the proposed person they
// resemble most (best[e], or -1 when below LevelPossible) and returns the
// configuration the order is to be scored with (state, or the circle when
// the order is anchored). best is nil when nobody is linked.
func pairUp(probe, recs []*Record, state *Config) (best []int, cfg Config) {
	circle := state.WithPopulation(CirclePopulation)
	best = make([]int, len(recs))
	found := make([]evidence, len(recs))
	for e, r := range recs {
		best[e], found[e] = -1, evidence{w: math.Inf(-1), full: math.Inf(-1)}
		for p, q := range probe {
			if ev := weigh(q, r, state); ev.w > found[e].w {
				best[e], found[e] = p, ev
			}
		}
	}
	anchored, matched := false, []int{}
	for e, ev := range found {
		if ev.level(state) == LevelMatch {
			anchored = true
		}
		if ev.level(&circle) == LevelMatch && !slices.Contains(matched, best[e]) {
			matched = append(matched, best[e])
		}
	}
	cfg = *state
	if anchored || len(matched) >= 2 {
		cfg = circle
	}
	linked := false
	for e, ev := range found {
		if ev.level(&cfg) == "" {
			best[e] = -1
		} else {
			linked = true
		}
	}
	if !linked {
		return nil, cfg
	}
	return best, cfg
}

// evidence is what weigh finds: the bits that two records are one person,
// prior excluded, and so that the level can be decided under any prior,
// the bits without the relative adjustment when hold may keep the pair in
// sight (full equals w otherwise).
type evidence struct{ w, full float64 }

// weigh is the evidence that a and b are one person, without an
// explanation.
func weigh(a, b *Record, cfg *Config) evidence {
	c := compareRecords(a, b, cfg)
	per, rel := c.total(cfg)
	var w float64
	for _, x := range per {
		w += x
	}
	e := evidence{w: w + rel, full: w + rel}
	if cfg.holdable(&c, rel) {
		e.full = w
	}
	return e
}

// level is the level of the evidence under cfg's prior, as CompareRecords
// gives it: a pair the relative rule takes from match for one conflict is
// held at possible (see hold).
func (e evidence) level(cfg *Config) string {
	return cfg.levelOf(cfg.held(e.w+cfg.priorBits(), e.full+cfg.priorBits()))
}

// levelOf is the level of a total weight (prior included).
func (cfg *Config) levelOf(w float64) string {
	switch p := posterior(w); {
	case p >= cfg.Match:
		return LevelMatch
	case p >= cfg.Possible:
		return LevelPossible
	}
	return ""
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
