package matching

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var refit = flag.Bool("refit", false, "refit data/weights.json by EM on the benchmark candidate pairs")

// TestRefitWeights refits the shipped weights without labels: EM on the
// candidate pairs that blocking returns for FEBRL 4 (with SSNs) and
// fake_1000. Run it with -run TestRefitWeights -refit.
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
	pairs := append(candidatePairs(a, b, false), candidatePairs(fake, fake, true)...)
	start := NewConfig(StartTable(), 0.001)
	cfg, st := FitEM(pairs, start)
	t.Logf("EM: %+v prior=%.6f", st, cfg.Prior)
	out := fitted{Prior: cfg.Prior, Fields: cfg.Table,
		Note: "Fitted by TestRefitWeights: unsupervised EM on blocked candidate pairs of FEBRL 4 (with SSN) and fake_1000; no labels used."}
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
