package matching

import (
	"math"
	"slices"

	"github.com/ccpor/ccpor"
)

// Pair is two person records labelled as the same person or not, for
// supervised fitting (the fixtures generator produces them).
type Pair struct {
	A, B ccpor.Person
	Same bool
}

// smoothing is the number of pseudo-observations, spread by the starting
// table, added to each field's counts so that rare levels keep sensible
// values.
const smoothing = 10

// pattern is one pair's outcomes, plus the outcomes the birth-date field
// would have had if one side knew only the year (yr) or an age (age).
type pattern struct {
	out          [numFields]string
	yr, age, ini string
}

// patterns compares every pair once and counts identical outcome vectors.
func patterns(pairs [][2]*Record, cfg *Config) map[pattern]float64 {
	counts := map[pattern]float64{}
	for _, p := range pairs {
		counts[patternOf(p[0], p[1], cfg)]++
	}
	return counts
}

// ageRef is the date on which the fitting pretends an age was estimated,
// to learn how an age agrees with a full birth date.
var ageRef = ccpor.NewDate(2024, 1, 1)

func patternOf(a, b *Record, cfg *Config) pattern {
	// The parties are compared for every pair, hopeless or not: their
	// u-probabilities are learnt from random pairs.
	c := comparePeople(a, b, cfg)
	c.out[iParty] = compareParties(a, b, cfg.sum(c.total(cfg)), cfg)
	k := pattern{out: c.out}
	if na, nb := c.names(a, b); len(na.given) > 1 && len(nb.given) > 1 {
		// Had one side written only an initial, would it have agreed?
		k.ini = Different
		if na.given[0] == nb.given[0] {
			k.ini = Initial
		}
	}
	if !a.birth.dob.IsZero() && !b.birth.dob.IsZero() {
		k.yr = compareBirth(birth{year: a.birth.year}, b.birth, cfg.AgeTolerance)
		if age, ok := a.Person.AgeOn(ageRef); ok && age > 0 {
			k.age = compareBirth(birthOf(ccpor.Person{Age: age}, ageRef), b.birth, cfg.AgeTolerance)
		}
	}
	return k
}

// tally accumulates weighted level counts for the m (match) and u side.
type tally struct {
	m, u [numFields]map[string]float64
	// raw counts expected matches without the weights that balance
	// sources, to judge whether a level has enough evidence.
	raw                          [numFields]map[string]float64
	yrM, yrU, agM, agU, inM, inU map[string]float64
}

func newTally() *tally {
	t := &tally{yrM: map[string]float64{}, yrU: map[string]float64{}, agM: map[string]float64{}, agU: map[string]float64{},
		inM: map[string]float64{}, inU: map[string]float64{}}
	for i := range numFields {
		t.m[i], t.u[i], t.raw[i] = map[string]float64{}, map[string]float64{}, map[string]float64{}
	}
	return t
}

func (t *tally) add(k pattern, wm, wu float64) { t.addRaw(k, wm, wu, wm) }

func (t *tally) addRaw(k pattern, wm, wu, raw float64) {
	for i, l := range k.out {
		if l != Missing {
			t.m[i][l] += wm
			t.u[i][l] += wu
			t.raw[i][l] += raw
		}
	}
	if k.yr != "" {
		t.yrM[k.yr] += wm
		t.yrU[k.yr] += wu
	}
	if k.age != "" {
		t.agM[k.age] += wm
		t.agU[k.age] += wu
	}
	if k.ini != "" {
		t.inM[k.ini] += wm
		t.inU[k.ini] += wu
	}
}

// table turns counts into probabilities, smoothed toward start. Fields with
// no observations keep their starting values.
// withU returns a tally with t's match side and o's non-match side.
func (t *tally) withU(o *tally) *tally {
	c := *t
	c.u, c.yrU, c.agU, c.inU = o.u, o.yrU, o.agU, o.inU
	return &c
}

func (t *tally) table(start Table, source string) Table {
	out := Table{}
	for i, f := range fields {
		out[f] = map[string]Prob{}
		var nm, nu float64
		for _, l := range Levels[f] {
			nm += t.m[i][l]
			nu += t.u[i][l]
		}
		for _, l := range Levels[f] {
			p := start[f][l]
			if nm+nu >= 1 {
				p = Prob{
					M:      (t.m[i][l] + smoothing*p.M) / (nm + smoothing),
					U:      (t.u[i][l] + smoothing*p.U) / (nu + smoothing),
					Source: source,
				}
			}
			out[f][l] = p
		}
	}
	// Birth years and ages are rarely all a training set has; their levels
	// are learnt from what the full dates would have said if degraded.
	derive := func(field string, cm, cu map[string]float64, levels ...string) {
		var nm, nu float64
		for _, l := range levels {
			nm, nu = nm+cm[l], nu+cu[l]
		}
		if nm+nu < 1 {
			return
		}
		for _, l := range levels {
			p := start[field][l]
			out[field][l] = Prob{M: (cm[l] + smoothing*p.M) / (nm + smoothing),
				U: (cu[l] + smoothing*p.U) / (nu + smoothing), Source: "derived"}
		}
	}
	derive(FieldBirth, t.yrM, t.yrU, SameYr, AgeBand, FarOff)
	sy := out[FieldBirth][SameYr]
	derive(FieldBirth, t.agM, t.agU, AgeBand, FarOff)
	out[FieldBirth][SameYr] = sy
	// Likewise an initial: how often first letters agree among matches and
	// non-matches. Only the Initial level is kept from this context.
	gd := out[FieldGiven][Different]
	derive(FieldGiven, t.inM, t.inU, Initial, Different)
	out[FieldGiven][Different] = gd
	for i, f := range fields {
		for _, l := range Levels[f] {
			// Too few expected matches at this level to estimate how often
			// a true match shows it: a training set without nicknames
			// would otherwise teach that a nickname is evidence against.
			p := out[f][l]
			if p.Source != source {
				continue
			}
			if t.raw[i][l] < minEvidence {
				p = Prob{M: start[f][l].M, U: p.U, Source: source + ", m from prior"}
			}
			if t.u[i][l] < minEvidence {
				// Too rare among non-matches to count: use the 95% upper
				// bound of a rate never or hardly seen ("rule of three"),
				// which errs toward a smaller weight.
				var n float64
				for _, x := range t.u[i] {
					n += x
				}
				p = Prob{M: p.M, U: max(t.u[i][l], 3) / (n + smoothing), Source: p.Source + ", u bounded"}
			}
			out[f][l] = p
		}
	}
	// A first name equal to the other's middle name, or a surname inside
	// the other's double surname, is one token agreeing: by chance it
	// happens about as often as a whole first or family name agreeing.
	// Training data seldom have middle names or double surnames, so that
	// chance is taken from the exact level.
	for _, x := range [][2]string{{FieldGiven, Middle}, {FieldFamily, Compound}} {
		if p, e := out[x[0]][x[1]], out[x[0]][Exact]; e.Source != "prior" {
			p.U, p.Source = e.U, p.Source+", u as exact"
			out[x[0]][x[1]] = p
		}
	}
	monotone(out)
	return out
}

// minEvidence is the expected number of matching pairs a level needs for
// its m-probability to be estimated rather than taken from the start.
const minEvidence = 20

// monotone keeps every partial-agreement level between its field's full
// agreement and its disagreement: a typo can never weigh more than an
// exact match, nor a nickname less than a different name, whatever a thin
// corner of the training data says.
func monotone(t Table) {
	clamp := func(f, l, top, bottom string) {
		p, hi, lo := t[f][l], t[f][top].Weight(), t[f][bottom].Weight()
		w := min(max(p.Weight(), lo), hi)
		if w != p.Weight() {
			p.M = p.U * math.Exp2(w)
			p.Source += ", clamped"
			t[f][l] = p
		}
	}
	for _, f := range fields {
		levels := Levels[f]
		if !slices.Contains(levels, Different) {
			continue
		}
		for _, l := range levels[1:] {
			switch {
			case l == Different || l == FarOff:
			case f == FieldBirth && (l == SameYr || l == AgeBand):
				clamp(f, l, levels[0], FarOff)
			default:
				clamp(f, l, levels[0], Different)
			}
		}
	}
}

// Fit estimates every field's m- and u-probabilities and the prior by
// counting outcomes in labelled pairs, smoothed toward the starting table
// of start. Levels that no pair exercised keep start's values.
func Fit(pairs []Pair, start Config) Config {
	t := newTally()
	same := 0.0
	for _, p := range pairs {
		k := patternOf(Prepare(p.A, ccpor.Date{}), Prepare(p.B, ccpor.Date{}), &start)
		if p.Same {
			t.add(k, 1, 0)
			same++
		} else {
			t.add(k, 0, 1)
		}
	}
	prior := start.Prior
	if len(pairs) > 0 {
		prior = (same + 1) / (float64(len(pairs)) + 2)
	}
	return withTable(start, t.table(start.Table, "labels"), prior)
}

// withTable returns cfg with a new table and prior, keeping thresholds.
func withTable(cfg Config, t Table, prior float64) Config {
	n := NewConfig(t, prior)
	n.Match, n.Possible, n.AgeTolerance = cfg.Match, cfg.Possible, cfg.AgeTolerance
	return n
}
