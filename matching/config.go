package matching

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
)

// Default thresholds on the match probability.
const (
	// DefaultMatch is the probability at or above which a pair is called the
	// same person: an intake is held as a duplicate, a search hit is shown
	// as this person.
	DefaultMatch = 0.9
	// DefaultPossible is the probability at or above which a pair is shown
	// to a clerk or judge for review.
	DefaultPossible = 0.2
	// DefaultAgeTolerance is how many years an age estimate may be off. The
	// CLETS-001 form lets a petitioner estimate the restrained person's age.
	DefaultAgeTolerance = 4
)

// Prob is one outcome level's m-probability (how often the level is seen
// when the records are the same person) and u-probability (when they are
// not), both conditional on the field being present on both records. Its
// weight is log2(M/U) bits.
type Prob struct {
	M float64 `json:"m"`
	U float64 `json:"u"`
	// Source says where the numbers come from: "em" (fitted without labels),
	// "labels" (fitted from labelled pairs), "derived" (from EM match
	// probabilities on degraded copies of the data) or "prior" (the
	// documented starting value, for levels no training data exercised).
	Source string `json:"source,omitempty"`
}

// Weight returns log2(M/U), the evidence the level adds, in bits.
func (p Prob) Weight() float64 { return math.Log2(p.M / p.U) }

// Table holds a Prob for each field and level.
type Table map[string]map[string]Prob

// Config is everything the scorer needs. Build one with DefaultConfig or
// NewConfig; thresholds and AgeTolerance may be changed freely, but a
// changed Table must go through NewConfig again (its weights are cached).
// No package state is read at scoring time.
type Config struct {
	// Table gives the m- and u-probabilities of every field and level.
	Table Table
	// Prior is the probability that two candidate records are the same
	// person before any field is compared.
	Prior float64
	// Match and Possible are the thresholds of Result.Level.
	Match, Possible float64
	// AgeTolerance is how many years an age estimate may be off.
	AgeTolerance int
	// IgnoreRelatives turns off the relative rule (see Result): records
	// sharing a family name and an address but conflicting on first name,
	// birth date, suffix or sex keep the full weight of the shared name and
	// address. It exists to measure the rule; registries should leave it off.
	IgnoreRelatives bool

	w [numFields]map[string]float64 // cached weights, built by compile
}

// weightsJSON is the table fitted by TestRefitWeights (see fit_test.go).
//
//go:embed data/weights.json
var weightsJSON []byte

// fitted is the serialised form of a fitted model.
type fitted struct {
	Prior  float64 `json:"prior"`
	Fields Table   `json:"fields"`
	Note   string  `json:"note,omitempty"`
}

// DefaultConfig returns the fitted weights shipped with the package and the
// default thresholds.
func DefaultConfig() Config {
	var f fitted
	if err := json.Unmarshal(weightsJSON, &f); err != nil {
		panic(fmt.Sprintf("matching: embedded weights.json: %v", err)) // a build fault
	}
	return NewConfig(f.Fields, f.Prior)
}

// NewConfig returns a Config with the given table and prior and the default
// thresholds. Levels missing from t take their starting values.
func NewConfig(t Table, prior float64) Config {
	full := StartTable()
	for f, levels := range t {
		for l, p := range levels {
			if full[f] == nil {
				full[f] = map[string]Prob{}
			}
			full[f][l] = p
		}
	}
	c := Config{Table: full, Prior: prior, Match: DefaultMatch, Possible: DefaultPossible, AgeTolerance: DefaultAgeTolerance}
	c.compile()
	return c
}

// defaultPopulation is the registry size DefaultConfig's prior assumes:
// about a million people named in current and past orders (domain.md §5).
const defaultPopulation = 1_000_000

// WithPopulation returns c with the prior set for comparing records drawn
// from a population of n people, each recorded about once: the chance that
// two records picked at random are the same person is then about 1/n. A
// larger registry needs more evidence for the same verdict.
func (c Config) WithPopulation(n int) Config {
	if n > 1 {
		c.Prior = 1 / float64(n)
	}
	return c
}

// compile caches the weights of the table.
func (c *Config) compile() {
	for i, f := range fields {
		c.w[i] = map[string]float64{}
		for l, p := range c.Table[f] {
			c.w[i][l] = p.Weight()
		}
	}
}

// weight returns the bits of one field's outcome; Missing and unknown
// levels weigh zero.
func (c *Config) weight(i int, level string) float64 {
	if c.w[i] == nil {
		if c.Table == nil {
			return 0
		}
		c.compile()
	}
	return c.w[i][level]
}

func (c *Config) priorBits() float64 {
	p := min(max(c.Prior, 1e-12), 1-1e-12)
	return logit(p)
}

// StartTable returns the starting m- and u-probabilities: where EM starts,
// and the values used for levels that no training data exercised (sex,
// race, height, weight, suffixes). They are judgement, stated so that they
// can be argued with: m from how often clerks and petitioners get a field
// wrong, u from how often unrelated candidates agree by chance.
func StartTable() Table {
	t := Table{}
	set := func(field string, mu ...float64) {
		t[field] = map[string]Prob{}
		for i, l := range Levels[field] {
			t[field][l] = Prob{M: mu[2*i], U: mu[2*i+1], Source: "prior"}
		}
	}
	// A nickname against a misspelt full name is two changes at once,
	// rarer for one person than either (m), and a loose test (u): set by
	// judgement, about one bit; what it mostly does is keep the names
	// from counting as different.
	set(FieldGiven, .80, .05, .04, .005, .04, .01, .06, .02, .02, .02, .02, .01, .01, .005, .005, .0025, .01, .88)
	// Middle names are compared only when both records give one. Two
	// different middle names are rare for one person (a form has one box
	// for it) and usual for two people of one first and family name; a
	// shared common middle name (Michael, Marie) is weaker evidence than a
	// shared first name.
	set(FieldMiddle, .6, .08, .05, .02, .3, .15, .05, .75)
	set(FieldFamily, .85, .02, .02, .002, .04, .01, .06, .02, .02, .02, .01, .93)
	set(FieldOrder, .97, .99, .03, .01)
	// A suffix on one side only is common for the same person (Jr is often
	// dropped) and for a father and son alike; Jr against Sr almost never
	// is one person.
	set(FieldSuffix, .55, .2, .445, .6, .005, .2)
	// Full dates and coarse information (a year, an age) are separate
	// contexts: the first ten levels sum to one, and so do the last three.
	// Random dates are one year digit and a month apart about one time in
	// 25 (a year from about 14 of 60, a day from 62 of 365).
	set(FieldBirth, .85, .002, .01, .0005, .06, .005, .02, .002, .03, .05, .005, .003, .005, .017, .005, .04, .01, .46, .005, .42,
		.85, .03, .13, .15, .02, .82)
	set(FieldSex, .98, .5, .02, .5)
	set(FieldRace, .9, .35, .05, .1, .05, .55)
	set(FieldHeight, .8, .25, .15, .25, .05, .5)
	set(FieldWeight, .6, .2, .3, .3, .1, .5)
	set(FieldID, .9, .0001, .05, .0005, .05, .9994)
	set(FieldStreet, .8, .001, .1, .001, .03, .01, .07, .988)
	set(FieldLine2, .7, .01, .1, .005, .2, .985)
	set(FieldCity, .8, .02, .1, .01, .1, .97)
	set(FieldZip, .85, .02, .05, .01, .1, .97)
	set(FieldState, .9, .4, .1, .6)
	// Orders against one person often name the same protected person (a
	// renewal, the criminal court's order beside the family court's);
	// orders against two people almost never do. An order naming both
	// people as two is all but proof of two people: it happens to one
	// person only through a clerk's error.
	set(FieldParty, .5, .001, .49999, .998, .00001, .001)
	return t
}
