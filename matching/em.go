package matching

import "math"

// EMStats reports how an EM fit went.
type EMStats struct {
	Pairs      int     // candidate pairs compared
	Patterns   int     // distinct outcome vectors
	Iterations int     // EM iterations run
	Matches    float64 // expected number of matching pairs (unweighted)
}

// Source is one data set for FitEM.
type Source struct {
	Name string
	// Candidates are the record pairs blocking returns: what EM learns
	// the m-probabilities from.
	Candidates [][2]*Record
	// Random are record pairs drawn at random from the same data: nearly
	// all are different people, so their outcome frequencies are the
	// u-probabilities. May be empty.
	Random [][2]*Record
	// Fallback marks a source whose matches inform only the levels that
	// no other source can show (data generated to exercise descriptors,
	// suffixes, double surnames and middle names that the others lack).
	// Its candidates still take part in EM and its random pairs in u.
	Fallback bool
}

// FitEM estimates every field's m-probabilities from unlabelled candidate
// pairs with the expectation-maximisation algorithm for the Fellegi-Sunter
// mixture, starting from start. No labels are used.
//
// Sources have their own error processes and blocking. Each keeps its own
// u-probabilities during EM (how often candidates agree by chance depends
// on the data and the blocking) and all share one share of matches, so a
// source whose own mixture is poorly identified cannot claim most of its
// candidates (a fallback source keeps its own). The m-probability of a level is the average of the sources'
// estimates, each source's candidates counting as much as the largest
// source's, over the sources that can show the level at all: data without
// double surnames say nothing about how often a true match drops one.
//
// When sources carry Random pairs, the returned u-probabilities are their
// outcome frequencies (averaged over sources), which do not depend on how
// candidates are generated, and the returned Prior is start's: the caller
// sets it to the chance that two random records match (WithPopulation,
// FitPrior). Otherwise the returned table holds the first source's
// u-probabilities and Prior is the chance that one of its candidates is
// the same person, tying the model to that blocking.
func FitEM(sources []Source, start Config) (Config, EMStats) {
	type count struct {
		pat pattern
		n   float64
	}
	var st EMStats
	largest := 0
	for _, src := range sources {
		if !src.Fallback {
			largest = max(largest, len(src.Candidates))
		}
	}
	counts := make([][]count, len(sources))
	cfgs := make([]Config, len(sources))
	random := make([]map[pattern]float64, len(sources))
	seen := map[pattern]bool{}
	for s, src := range sources {
		for k, n := range patterns(src.Candidates, &start) {
			counts[s] = append(counts[s], count{k, n})
			seen[k] = true
		}
		random[s] = patterns(src.Random, &start)
		cfgs[s] = start
		st.Pairs += len(src.Candidates)
	}
	st.Patterns = len(seen)
	if st.Pairs == 0 {
		return start, st
	}
	// Which levels each source can show: seen among its random pairs or
	// its candidates.
	shows := make([]*tally, len(sources))
	for s := range sources {
		shows[s] = newTally()
		for k, n := range random[s] {
			shows[s].add(k, n, n)
		}
		for _, c := range counts[s] {
			shows[s].add(c.pat, c.n, c.n)
		}
	}
	var shared *tally
	prior := start.Prior
	fb := make([]float64, len(sources))
	weight := make([]float64, len(sources))
	for s, src := range sources {
		weight[s] = float64(largest) / float64(max(len(src.Candidates), 1))
	}
	for st.Iterations = 1; st.Iterations <= 500; st.Iterations++ {
		own := make([]*tally, len(sources))
		var matches, total float64
		st.Matches = 0
		for s := range sources {
			t := newTally()
			var m float64
			for _, c := range counts[s] {
				r := cfgs[s].posterior(c.pat)
				t.add(c.pat, c.n*r, c.n*(1-r))
				m += c.n * r
			}
			own[s] = t
			st.Matches += m
			if sources[s].Fallback {
				// A fallback source keeps its own share of matches.
				fb[s] = min(max(m/float64(len(sources[s].Candidates)), 1e-9), 0.5)
				continue
			}
			scale := float64(largest) / float64(max(len(sources[s].Candidates), 1))
			matches += m * scale
			total += float64(len(sources[s].Candidates)) * scale
		}
		shared = averageM(own, shows, sources, weight, st.Matches)
		next := min(max(matches/total, 1e-9), 0.5)
		done := math.Abs(next-prior) < 1e-6*next
		prior = next
		for s := range sources {
			p := prior
			if sources[s].Fallback {
				p = fb[s]
			}
			cfgs[s] = withTable(cfgs[s], shared.withU(own[s]).table(start.Table, "em"), p)
		}
		if done {
			break
		}
	}
	var rs []*tally
	var sampled float64
	for s := range sources {
		if len(random[s]) == 0 {
			continue
		}
		sampled += float64(len(sources[s].Random))
		// A random sample holds a few true matches too; each pair counts
		// toward u only as far as the fitted model thinks it is a
		// non-match.
		r := newTally()
		for k, n := range random[s] {
			r.add(k, 0, n*(1-cfgs[s].posterior(k)))
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return cfgs[0], st
	}
	return withTable(start, shared.withU(averageU(rs, sampled/float64(len(rs)))).table(start.Table, "em"), start.Prior), st
}

// posterior is the match probability of one outcome pattern.
func (c *Config) posterior(k pattern) float64 {
	w := c.priorBits()
	for i, l := range k.out {
		w += c.weight(i, l)
	}
	return posterior(w)
}

// averageM pools the sources' match-side distributions level by level,
// over the sources that show the level, where a primary source shows it by
// expecting enough matches at it and a fallback source stands in only for
// levels no primary source shows among its matches. Each source's candidates count as much as the largest
// source's (weight[s] scales its counts), so a source weighs by its share
// of expected matches among equally weighted candidates. The result is
// scaled to nominal pairs so that smoothing sees counts of a sensible
// size; raw evidence counts are summed.
func averageM(own, shows []*tally, sources []Source, weight []float64, nominal float64) *tally {
	out := newTally()
	for i := range numFields {
		for _, l := range Levels[fields[i]] {
			primary := false
			for s := range own {
				primary = primary || (!sources[s].Fallback && own[s].raw[i][l] >= minEvidence)
			}
			var sum, norm float64
			for s, t := range own {
				out.raw[i][l] += t.raw[i][l]
				if shows[s].m[i][l] < minEvidence || (primary && sources[s].Fallback) || (!primary && !sources[s].Fallback) {
					continue
				}
				if tot := total(t.m[i]); tot > 0 {
					sum += weight[s] * t.m[i][l]
					norm += weight[s] * tot
				}
			}
			if norm > 0 {
				out.m[i][l] = nominal * sum / norm
			}
		}
	}
	out.yrM = averageDist(own, nominal, func(t *tally) map[string]float64 { return t.yrM })
	out.agM = averageDist(own, nominal, func(t *tally) map[string]float64 { return t.agM })
	out.inM = averageDist(own, nominal, func(t *tally) map[string]float64 { return t.inM })
	return out
}

// averageU averages the sources' non-match distributions field by field,
// over the sources that have the field at all, scaled to nominal pairs.
func averageU(rs []*tally, nominal float64) *tally {
	out := newTally()
	for i := range numFields {
		n := 0
		for _, r := range rs {
			if tot := total(r.u[i]); tot > 0 {
				for l, x := range r.u[i] {
					out.u[i][l] += x / tot
				}
				n++
			}
		}
		for l := range out.u[i] {
			out.u[i][l] *= nominal / float64(n)
		}
	}
	out.yrU = averageDist(rs, nominal, func(t *tally) map[string]float64 { return t.yrU })
	out.agU = averageDist(rs, nominal, func(t *tally) map[string]float64 { return t.agU })
	out.inU = averageDist(rs, nominal, func(t *tally) map[string]float64 { return t.inU })
	return out
}

// averageDist averages one derived distribution over the tallies that have it.
func averageDist(ts []*tally, nominal float64, get func(*tally) map[string]float64) map[string]float64 {
	out := map[string]float64{}
	n := 0
	for _, t := range ts {
		d := get(t)
		if tot := total(d); tot > 0 {
			for l, x := range d {
				out[l] += x / tot
			}
			n++
		}
	}
	for l := range out {
		out[l] *= nominal / float64(n)
	}
	return out
}

func total(m map[string]float64) float64 {
	var t float64
	for _, x := range m {
		t += x
	}
	return t
}

// FitPrior re-estimates only the prior of cfg, keeping its table, from the
// candidate pairs of a data set of total record pairs in all: the prior is
// the chance that two random records are the same person, so it is the
// expected number of matches among all pairs divided by total. Pairs that
// blocking did not return are taken to hold no matches, and the expected
// matches among candidates depend on the prior itself, so the estimate is
// iterated to a fixed point (EM for the mixing weight alone). No labels are
// used. It suits a table whose u-probabilities come from random pairs.
func FitPrior(candidates [][2]*Record, total float64, cfg Config) Config {
	evidence := map[float64]float64{}
	for k, n := range patterns(candidates, &cfg) {
		var w float64
		for i, l := range k.out {
			w += cfg.weight(i, l)
		}
		evidence[w] += n
	}
	cfg.Prior = fixedPrior(evidence, total, cfg.Prior)
	return cfg
}

// fixedPrior iterates the prior to the fixed point at which the expected
// number of matches among the candidates, each weighing its evidence
// (bits, prior excluded) against the prior, is prior × total.
func fixedPrior(evidence map[float64]float64, total, prior float64) float64 {
	prior = min(max(prior, 1e-12), 0.5)
	for range 500 {
		lp := math.Log2(prior / (1 - prior))
		var matches float64
		for w, n := range evidence {
			matches += n * posterior(lp+w)
		}
		next := min(max(matches/total, 1e-12), 0.5)
		done := math.Abs(next-prior) < 1e-6*next
		prior = next
		if done {
			break
		}
	}
	return prior
}

// PriorFitter is FitPrior for a sample too large to hold: a registry's
// own candidate pairs, added as they are looked up. It keeps each pair's
// evidence as the scorer sums it (relative rule and nested places
// included), to a hundredth of a bit, not the records.
type PriorFitter struct {
	cfg      Config
	evidence map[float64]float64
	pairs    int
}

// NewPriorFitter returns a PriorFitter scoring with cfg's table, starting
// from cfg's prior.
func NewPriorFitter(cfg Config) *PriorFitter {
	if cfg.w[0] == nil {
		cfg.compile()
	}
	return &PriorFitter{cfg: cfg, evidence: map[float64]float64{}}
}

// Add counts one candidate pair.
func (f *PriorFitter) Add(a, b *Record) {
	f.evidence[round2(bits(a, b, &f.cfg)-f.cfg.priorBits())]++
	f.pairs++
}

// Pairs returns how many pairs were added.
func (f *PriorFitter) Pairs() int { return f.pairs }

// Prior returns the chance that two records picked at random are one
// person, given that the pairs added are all the candidates among total
// record pairs (the rest are taken to hold no matches).
func (f *PriorFitter) Prior(total float64) float64 {
	if total <= 0 {
		return f.cfg.Prior
	}
	return fixedPrior(f.evidence, total, f.cfg.Prior)
}
