package matching

import (
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

var refit = flag.Bool("refit", false, "refit data/weights.json by EM on the benchmark candidate pairs")

// randomPairs draws n record pairs uniformly: from a×b, or from distinct
// pairs of a when b is nil. The seed is fixed so a refit is repeatable.
func randomPairs(a, b []benchRecord, n int, seed uint64) [][2]*Record {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([][2]*Record, 0, n)
	for len(out) < n {
		i := rng.IntN(len(a))
		if b == nil {
			j := rng.IntN(len(a))
			if i != j {
				out = append(out, [2]*Record{a[i].rec, a[j].rec})
			}
			continue
		}
		out = append(out, [2]*Record{a[i].rec, b[rng.IntN(len(b))].rec})
	}
	return out
}

// TestRefitWeights refits the shipped weights without labels: m by EM on
// the candidate pairs that blocking returns for FEBRL 4 (with SSNs) and
// fake_1000, u from random pairs of the same data. Run it with
// -run TestRefitWeights -refit.
func TestRefitWeights(t *testing.T) {
	if !*refit {
		t.Skip("run with -refit to rewrite data/weights.json")
	}
	dir := benchDir(t)
	a, b, err := febrlSets(dir, EvalOptions{WithIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	fake, err := loadFake1000(filepath.Join(dir, "fake_1000.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Each data set has its own error process: FitEM weighs them alike.
	cands := [][][2]*Record{candidatePairs(a, b, false), candidatePairs(fake, fake, true)}
	random := append(randomPairs(a, b, 1_000_000, 1), randomPairs(fake, nil, 1_000_000, 2)...)
	start := NewConfig(StartTable(), 0.001)
	cfg, st := FitEM(cands, random, start)
	cfg = cfg.WithPopulation(defaultPopulation)
	t.Logf("EM: %+v prior=%.3g", st, cfg.Prior)
	out := fitted{Prior: cfg.Prior, Fields: cfg.Table,
		Note: "Fitted by TestRefitWeights without labels: m by EM on blocked candidate pairs of FEBRL 4 (with SSN) and fake_1000 (weighted alike), u from 2,000,000 random pairs of the same files; prior for a registry of defaultPopulation people."}
	js, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("data", "weights.json"), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		for _, l := range Levels[f] {
			p := cfg.Table[f][l]
			t.Logf("%-7s %-10s m=%.5f u=%.6f w=%6.2f %s", f, l, p.M, p.U, p.Weight(), p.Source)
		}
	}
}
