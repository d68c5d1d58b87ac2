package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
)

// TestScaleBench measures the registry at CCPOR_BENCH_ORDERS orders (make
// bench sets 1,000,000; without it 2,000, so the path never rots): seeding,
// a full reindex, and the latency of officer searches, duplicate checks
// and intakes through the real HTTP server, as a client on loopback sees
// them. It reports figures; it asserts only that the answers are right.
func TestScaleBench(t *testing.T) {
	n := 2000
	if s := os.Getenv("CCPOR_BENCH_ORDERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	queries := min(500, n/4)
	ctx := context.Background()
	// CCPOR_BENCH_KEEP=DIR keeps the database (named after the size) and
	// the index in DIR between runs, to measure queries again without
	// seeding and indexing a million orders each time.
	keep := os.Getenv("CCPOR_BENCH_KEEP")
	var dbURL, dir string
	if keep == "" {
		dbURL, dir = storetest.MustCreateDatabase(t), t.TempDir()
	} else {
		admin, err := store.Locate(ctx, keep, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if dbURL, err = store.EnsureDatabase(ctx, admin, "ccpor_bench_"+strconv.Itoa(n)); err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(keep, "index-"+strconv.Itoa(n))
	}
	db := mustOpen(t, dbURL)

	var have int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&have); err != nil {
		t.Fatal(err)
	}
	if have < n {
		start := time.Now()
		if _, err := seed(ctx, db, 11, n, nil); err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d orders: %.1fs", n, time.Since(start).Seconds())
	}
	// A kept index is rebuilt when it was built by another version of
	// what goes into the index, or when CCPOR_BENCH_REINDEX is set.
	stamp := dir + ".layout"
	built, _ := os.ReadFile(stamp)
	if _, err := os.Stat(filepath.Join(dir, "current")); keep == "" || err != nil ||
		string(built) != index.Layout || os.Getenv("CCPOR_BENCH_REINDEX") != "" {
		start := time.Now()
		if _, err := index.Rebuild(ctx, dir, db, nil); err != nil {
			t.Fatal(err)
		}
		t.Logf("reindex %d orders: %.1fs", n, time.Since(start).Seconds())
		if keep != "" {
			if err := os.WriteFile(stamp, []byte(index.Layout), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	follower := &index.Follower{Index: ix, Feed: db, Logger: log}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := follower.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	go follower.Run(fctx)
	srv := api.NewServer(log)
	srv.Orders, srv.Documents, srv.Queues, srv.Users, srv.Audit, srv.Keys, srv.Ready = db, db, db, db, db, db, db.Ping
	srv.Index, srv.Follower = ix, follower
	// One client sending back to back measures latency, not the limiter.
	unlimited := api.Rate{PerSecond: 1e6, Burst: 1e6}
	srv.Limits = api.RateLimits{Read: unlimited, Search: unlimited, Write: unlimited, FailedAuth: unlimited}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	token, err := db.CreateUser(ctx, &ccpor.User{Name: "bench", Role: ccpor.RoleJudge})
	if err != nil {
		t.Fatal(err)
	}
	clerkUser := &ccpor.User{Name: "bench clerk", Role: ccpor.RoleClerk}
	clerk, err := db.CreateUser(ctx, clerkUser)
	if err != nil {
		t.Fatal(err)
	}
	// The web pages are measured as a signed-in judge and an admin see
	// them: a session cookie, and the form token on a POST.
	session := func(role ccpor.Role) string {
		name := fmt.Sprintf("bench-%s-%d", role, time.Now().UnixNano())
		if _, _, err := db.AddUser(ctx, &ccpor.User{Name: name, Role: role, Username: name}, ccpor.NewUser{Password: "bench password 123"}); err != nil {
			t.Fatal(err)
		}
		sess, err := db.Login(ctx, name, "bench password 123")
		if err != nil {
			t.Fatal(err)
		}
		return sess.Secret
	}
	judgeSession, adminSession := session(ccpor.RoleJudge), session(ccpor.RoleAdmin)
	page := func(secret, method, path string, form url.Values) time.Duration {
		var body io.Reader
		if form != nil {
			form.Set("csrf", api.FormToken(secret))
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, hs.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(&http.Cookie{Name: "ccpor_session", Value: secret})
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, got)
		}
		return elapsed
	}
	post := func(tok, path string, body []byte, want int) time.Duration {
		req, _ := http.NewRequest("POST", hs.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, got)
		}
		return elapsed
	}

	// Queries are people already in the registry, as a clerk or officer
	// would type them: the generator replays the seeded orders.
	// Only the sampled orders are kept: a million in memory would make the
	// garbage collector part of every measured request.
	rng := rand.New(rand.NewPCG(5, 6))
	want := map[int]bool{}
	for len(want) < queries {
		want[rng.IntN(n)] = true
	}
	var orders []*ccpor.Order
	g := fixtures.New(11, time.Now())
	for i := range n {
		if o, _ := g.Next(); want[i] {
			orders = append(orders, o)
		}
	}
	rng.Shuffle(len(orders), func(i, j int) { orders[i], orders[j] = orders[j], orders[i] })
	runtime.GC()
	var search, dups, conflicts, searchPage, orderPage, queuePage []time.Duration
	for _, o := range orders {
		last := []rune(o.Restrained.Last)
		q, _ := json.Marshal(map[string]any{"last": string(last[:min(4, len(last))]), "first": o.Restrained.First[:1], "status": "any"})
		search = append(search, post(token, "/api/v1/search", q, http.StatusOK))
		b, _ := json.Marshal(o)
		dups = append(dups, post(token, "/api/v1/checks/duplicates", b, http.StatusOK))
		// The order on the bench is a registered one: it finds itself and
		// its case, as a judge's check of a renewal would.
		conflicts = append(conflicts, post(token, "/api/v1/checks/conflicts", b, http.StatusOK))
		searchPage = append(searchPage, page(judgeSession, "POST", "/search",
			url.Values{"last": {string(last[:min(4, len(last))])}, "first": {o.Restrained.First[:1]}, "status": {"any"}}))
		orderPage = append(orderPage, page(judgeSession, "GET", "/orders/"+o.ID, nil))
		if len(queuePage) < 50 {
			queuePage = append(queuePage, page(adminSession, "GET", "/queues?county="+url.QueryEscape(o.County), nil))
		}
	}
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000 }
		t.Logf("%s at %d orders, %d requests: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms",
			name, n, len(d), q(0.5), q(0.95), q(0.99), q(1))
	}
	report("search", search)
	report("duplicate check", dups)
	report("conflict check", conflicts)
	report("search page", searchPage)
	report("order page", orderPage)
	report("work queues page", queuePage)
	var intake []time.Duration
	// A kept database holds the orders entered by earlier runs, which the
	// duplicate guard would rightly refuse: each run enters new ones.
	fresh := fixtures.New(time.Now().UnixNano(), time.Now())
	for len(intake) < min(100, queries) {
		o, _ := fresh.Next()
		if !clerkUser.MaySee(ccpor.AccessOf(o)) {
			continue // juvenile and sealed orders are for other clerks
		}
		// The duplicate guard runs in full, but a generated person who
		// resembles a seeded one must not stop the run: the clerk says why.
		o.ID, o.PreviousOrderID, o.OverrideReason = "", "", "benchmark intake"
		b, _ := json.Marshal(o)
		intake = append(intake, post(clerk, "/api/v1/orders", b, http.StatusCreated))
	}
	report("intake (until searchable)", intake)
}
