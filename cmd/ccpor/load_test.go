package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// searchTarget is the p99 an officer search must hold for a load step to
// count as sustained.
const searchTarget = 100 * time.Millisecond

// searchLoad finds the officer-search rate the server child sustains: it
// sends the searches at each rate of CCPOR_BENCH_RATES (requests/s,
// comma-separated) for CCPOR_BENCH_STEP each; a step holds when its p99
// is within searchTarget and nothing failed, and the sustained rate is the
// highest step that held. One step missing can be a blip on a shared
// machine, so it stops after two in a row. The load generator runs on the
// same cores as the server and PostgreSQL, as everything on this machine
// does.
func searchLoad(t *testing.T, n int, child *serverChild, token string, bodies [][]byte) {
	t.Helper()
	step := benchDuration(t, "CCPOR_BENCH_STEP", time.Second)
	rates := os.Getenv("CCPOR_BENCH_RATES")
	if rates == "" {
		rates = "20,40"
	}
	var next atomic.Uint64
	hdr := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	targets := func(tg *vegeta.Target) error {
		*tg = vegeta.Target{Method: "POST", URL: child.URL + "/api/v1/search",
			Body: bodies[(next.Add(1)-1)%uint64(len(bodies))], Header: hdr}
		return nil
	}
	// The client's connections are opened before the first step, as a
	// client pool's would be.
	attack(targets, 10, time.Second, 0, nil)
	sustained, missed := 0.0, 0
	for _, s := range strings.Split(rates, ",") {
		rate, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || rate <= 0 {
			t.Fatalf("CCPOR_BENCH_RATES=%q: want requests/s separated by commas", rates)
		}
		m, failed := attack(targets, rate, step, 0, nil)
		p99 := m.Latencies.P99
		recordRow(t, n, "search load step", float64(rate), "req/s", map[string]float64{
			"achieved": m.Throughput, "requests": float64(m.Requests), "errors": float64(failed),
			"p50_ms": ms(m.Latencies.P50), "p99_ms": ms(p99)})
		if p99 > searchTarget || failed > 0 {
			if missed++; missed == 2 {
				break
			}
			continue
		}
		missed = 0
		sustained = max(sustained, float64(rate))
	}
	record(t, n, "search sustained", sustained, "req/s")
}

// attack sends targets at rate requests/s for d and returns the metrics
// of all the answers and how many failed (a transport error or a status
// other than 2xx); each result also goes to each, when not nil. idle caps
// the connections kept open between requests; 0 keeps vegeta's default
// (all of them).
func attack(targets vegeta.Targeter, rate int, d time.Duration, idle int, each func(*vegeta.Result)) (*vegeta.Metrics, int) {
	opts := []func(*vegeta.Attacker){vegeta.Timeout(10 * time.Second), vegeta.MaxBody(0)}
	if idle > 0 {
		opts = append(opts, vegeta.Connections(idle))
	}
	a := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	failed := 0
	for r := range a.Attack(targets, vegeta.Rate{Freq: rate, Per: time.Second}, d, "load") {
		m.Add(r)
		if r.Error != "" || r.Code < 200 || r.Code > 299 {
			failed++
		}
		if each != nil {
			each(r)
		}
	}
	m.Close()
	return &m, failed
}

// searchableDelay measures the delay from commit to searchable: orders
// written straight to PostgreSQL (as another node or a bulk load would,
// without nudging this server's follower), then looked for by officer
// searches every millisecond until one finds them. It measures the
// follower's notification or poll path; its resolution is one search.
// CCPOR_BENCH_VISIBLE sets how many orders (5 by default).
func searchableDelay(t *testing.T, n int, db *store.DB, child *serverChild, token string, judge *ccpor.User) {
	t.Helper()
	ctx := context.Background()
	g := fixtures.New(time.Now().UnixNano()+1, time.Now())
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var delays []time.Duration
	for samples := benchInt(t, "CCPOR_BENCH_VISIBLE", 5); len(delays) < samples; {
		o, _ := g.Next()
		// A birth date makes the order the first hit for its person: at
		// a million orders a common name alone has more namesakes than a
		// page holds.
		if !judge.MaySee(ccpor.AccessOf(o)) || o.Restrained.DOB.IsZero() {
			continue
		}
		o.ID, o.PreviousOrderID = "", ""
		// Writes at random moments, so that they fall anywhere in the
		// follower's poll interval rather than just after its last read.
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		committed := time.Now()
		q := map[string]any{"last": o.Restrained.Last, "first": o.Restrained.First, "dob": o.Restrained.DOB, "status": "any", "per_page": 50}
		body, _ := json.Marshal(q)
		for {
			code, got := child.post(t, token, "/api/v1/search", body)
			if code != http.StatusOK {
				t.Fatalf("search: %d %s", code, got)
			}
			if bytes.Contains(got, []byte(o.ID)) {
				break
			}
			if time.Since(committed) > time.Minute {
				t.Fatalf("order %s committed a minute ago is not searchable", o.ID)
			}
			time.Sleep(time.Millisecond)
		}
		delays = append(delays, time.Since(committed))
	}
	recordLatencies(t, n, "commit to searchable", delays)
}
