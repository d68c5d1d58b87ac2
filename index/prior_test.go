package index

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/matching"
)

// TestFitPrior: a registry where each person has three orders gets a
// prior near three times 1/n; one where everyone is named once keeps 1/n,
// as does one too small to measure.
func TestFitPrior(t *testing.T) {
	ctx, cfg := context.Background(), matching.DefaultConfig()
	g := fixtures.New(8, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	seen := map[string]bool{}
	var people []*ccpor.Order
	for len(people) < 300 {
		o, truth := g.Next()
		if !seen[truth.Restrained] {
			seen[truth.Restrained] = true
			people = append(people, o)
		}
	}
	registry := func(people []*ccpor.Order, copies int) *Index {
		ix := tempIndex(t)
		var orders []*ccpor.Order
		for i, p := range people {
			for c := range copies {
				o := *p
				o.ID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i*copies+c, i)
				orders = append(orders, &o)
			}
		}
		if err := ix.Apply(orders, nil, 1); err != nil {
			t.Fatal(err)
		}
		return ix
	}
	check := func(name string, ix *Index, wantOthers float64) {
		t.Helper()
		fit, err := ix.FitPrior(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		n := float64(fit.Orders)
		got := ix.Calibrate(cfg).Prior
		t.Logf("%s: %+v, prior %.3g", name, fit, got)
		if wantOthers <= 1 {
			if fit.Others > 1 || math.Abs(got-1/n) > 1e-12 {
				t.Errorf("%s: %.2f others a person, prior %.3g; want 1/n = %.3g", name, fit.Others, got, 1/n)
			}
			return
		}
		if math.Abs(fit.Others-wantOthers) > 0.25*wantOthers || math.Abs(got-fit.Others/n) > 1e-12 {
			t.Errorf("%s: %.2f others a person, prior %.3g; want about %.1f and %.3g", name, fit.Others, got, wantOthers, wantOthers/n)
		}
	}
	check("three orders a person", registry(people[:100], 3), 2)
	check("one order a person", registry(people, 1), 0)
	small := registry(people[:50], 3)
	check("too small to measure", small, 0)
	if fit, _ := small.FitPrior(ctx, cfg); fit.Probes != 0 {
		t.Errorf("a registry of %d orders was sampled (%d probes); want none below %d", fit.Orders, fit.Probes, priorMinOrders)
	}
}
