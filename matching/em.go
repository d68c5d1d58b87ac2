package matching

import "math"

// EMStats reports how an EM fit went.
type EMStats struct {
	Pairs      int     // candidate pairs compared
	Patterns   int     // distinct outcome vectors
	Iterations int     // EM iterations run
	Matches    float64 // expected number of matching pairs (unweighted)
}

// FitEM estimates every field's m-probabilities from unlabelled candidate
// pairs (what blocking returns) with the expectation-maximisation algorithm
// for the Fellegi-Sunter mixture, starting from start. No labels are used.
//
// Candidates may come from several sources (data sets with their own
// error processes and blocking). The m-probabilities are shared, each
// source weighted to count as much as the largest so that none drowns the
// others; each source keeps its own u-probabilities, since how often
// candidates agree by chance depends on the data and the blocking.
//
// With random empty, the returned table holds the first source's
// u-probabilities and Prior is the chance that one of its candidates is
// the same person: the model is then tied to that blocking. With random, a
// sample of record pairs drawn at random from the same data, the
// u-probabilities are instead the outcome frequencies among those pairs
// (nearly all are different people), which do not depend on how candidates
// are generated; the returned Prior is then start's, and the caller sets it
// to the chance that two random records match (see WithPopulation and
// FitPrior).
func FitEM(sources [][][2]*Record, random [][2]*Record, start Config) (Config, EMStats) {
	type count struct {
		pat pattern
		n   float64
	}
	var st EMStats
	largest := 0
	for _, src := range sources {
		largest = max(largest, len(src))
	}
	counts := make([][]count, len(sources))
	cfgs := make([]Config, len(sources))
	seen := map[pattern]bool{}
	for s, src := range sources {
		for k, n := range patterns(src, &start) {
			counts[s] = append(counts[s], count{k, n})
			seen[k] = true
		}
		cfgs[s] = start
		st.Pairs += len(src)
	}
	st.Patterns = len(seen)
	if st.Pairs == 0 {
		return start, st
	}
	// One share of matches for all sources, weighted like the m side: a
	// source whose own mixture is poorly identified (many near-duplicates
	// that are not matches) cannot then claim most of its candidates.
	var shared *tally
	prior := start.Prior
	for st.Iterations = 1; st.Iterations <= 500; st.Iterations++ {
		shared = newTally()
		own := make([]*tally, len(sources))
		var matches, total float64
		st.Matches = 0
		for s := range sources {
			t := newTally()
			var m float64
			for _, c := range counts[s] {
				w := cfgs[s].priorBits()
				for i, l := range c.pat.out {
					w += cfgs[s].weight(i, l)
				}
				r := posterior(w)
				t.add(c.pat, c.n*r, c.n*(1-r))
				m += c.n * r
			}
			scale := float64(largest) / float64(len(sources[s]))
			shared.mergeM(t, scale)
			own[s] = t
			matches += m * scale
			total += float64(len(sources[s])) * scale
			st.Matches += m
		}
		next := min(max(matches/total, 1e-9), 0.5)
		done := math.Abs(next-prior) < 1e-6*next
		prior = next
		for s := range sources {
			cfgs[s] = withTable(cfgs[s], shared.withU(own[s]).table(start.Table, "em"), prior)
		}
		if done {
			break
		}
	}
	if len(random) == 0 {
		return cfgs[0], st
	}
	// A random sample holds a few true matches too; each pair counts
	// toward u only as far as the model fitted on the first source thinks
	// it is a non-match.
	r := newTally()
	for k, n := range patterns(random, &start) {
		w := cfgs[0].priorBits()
		for i, l := range k.out {
			w += cfgs[0].weight(i, l)
		}
		r.add(k, 0, n*(1-posterior(w)))
	}
	return withTable(start, shared.withU(r).table(start.Table, "em"), start.Prior), st
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
	counts := patterns(candidates, &cfg)
	out := cfg
	for range 500 {
		var matches float64
		lp := out.priorBits()
		for k, n := range counts {
			w := lp
			for i, l := range k.out {
				w += out.weight(i, l)
			}
			matches += n * posterior(w)
		}
		prior := min(max(matches/total, 1e-12), 0.5)
		done := math.Abs(prior-out.Prior) < 1e-6*prior
		out.Prior = prior
		if done {
			break
		}
	}
	return out
}
