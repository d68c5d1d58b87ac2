package matching

import (
	"runtime"
	"sort"
	"sync"
)

// tallyEval is one worker's share of an evaluation.
type tallyEval struct {
	candidates, found, predicted, tp, top10, withTruth int
}

// evaluate indexes index, queries it with every query record and scores
// the candidates. With dedupe, index and queries are the same slice and
// each unordered pair is counted once.
func evaluate(name string, index, queries []benchRecord, dedupe bool, opt EvalOptions, cfg Config) Report {
	if cfg.w[0] == nil {
		cfg.compile()
	}
	if opt.CalibratePrior {
		all := float64(len(index)) * float64(len(queries))
		if dedupe {
			all = float64(len(index)) * float64(len(index)-1) / 2
		}
		cfg = FitPrior(candidatePairs(index, queries, dedupe), all, cfg)
	}
	bl := newBlocker(index)
	size := map[string]int{}
	for _, r := range index {
		size[r.cluster]++
	}
	rep := Report{Dataset: name, Prior: cfg.Prior, Queries: len(queries), Indexed: len(index)}
	for _, q := range queries {
		n := size[q.cluster]
		if dedupe {
			n-- // itself; each pair is seen from both ends, halved below
		}
		rep.TruePairs += n
	}
	if dedupe {
		rep.TruePairs /= 2
	}

	workers := runtime.GOMAXPROCS(0)
	parts := make([]tallyEval, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &parts[w]
			seen := make([]bool, len(index))
			type hit struct {
				i     int
				score float64
			}
			for qi := w; qi < len(queries); qi += workers {
				q := queries[qi]
				var hits []hit
				for _, c := range bl.candidates(q.rec, seen) {
					if dedupe && c == qi {
						continue
					}
					s := score(q.rec, index[c].rec, &cfg)
					hits = append(hits, hit{c, s})
					if dedupe && c < qi {
						continue // counted from the other end
					}
					t.candidates++
					same := index[c].cluster == q.cluster
					if same {
						t.found++
					}
					if s >= cfg.Match {
						t.predicted++
						if same {
							t.tp++
						}
					}
				}
				truth := size[q.cluster]
				if dedupe {
					truth--
				}
				if truth == 0 {
					continue
				}
				t.withTruth++
				sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
				for k := 0; k < len(hits) && k < 10; k++ {
					if index[hits[k].i].cluster == q.cluster {
						t.top10++
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	var all tallyEval
	for _, p := range parts {
		all.candidates += p.candidates
		all.found += p.found
		all.predicted += p.predicted
		all.tp += p.tp
		all.top10 += p.top10
		all.withTruth += p.withTruth
	}
	rep.Candidates, rep.Predicted, rep.TruePositives = all.candidates, all.predicted, all.tp
	rep.finish(all.found, all.top10, all.withTruth)
	return rep
}

// candidatePairs returns every (query, candidate) pair blocking produces,
// without labels, for unsupervised fitting.
func candidatePairs(index, queries []benchRecord, dedupe bool) [][2]*Record {
	bl := newBlocker(index)
	seen := make([]bool, len(index))
	var out [][2]*Record
	for qi, q := range queries {
		for _, c := range bl.candidates(q.rec, seen) {
			if dedupe && c <= qi {
				continue
			}
			out = append(out, [2]*Record{q.rec, index[c].rec})
		}
	}
	return out
}
