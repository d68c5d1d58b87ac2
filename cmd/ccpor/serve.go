package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/matching"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/scan"
)

// serveGCPercent is the server's garbage-collector target unless GOGC is
// set. Its live heap is small (16 MiB under load at a million orders; the
// index is memory-mapped, not heap) and every request allocates afresh
// (about a megabyte a search), so at Go's default of collecting at twice
// the live heap a loaded server spent a sixth of its CPU collecting. At
// three times (200), the most searches a 100,000-order registry answered
// under overload rose from about 310-325 a second to 350-375. Yet at 200
// a million-order server still collected 9 times a second at 250
// searches/s; at five times (400) the p99 of that step fell from 202 to
// 98 ms and 300/s went from collapsing (p99 3.8 s) to answered (p99
// 0.3 s), one run each back to back (December 2026). The heap stays under
// 100 MiB.
const serveGCPercent = 400

// collectLessOften sets serveGCPercent, unless the operator set GOGC.
func collectLessOften() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

// ServeCommand runs the API server until interrupted.
type ServeCommand struct {
	Stdout, Stderr io.Writer
	db             dbFlags
	addr           string
	indexDir       string
	demo           int
	limits         api.RateLimits
	secureCookies  bool
	maxDocumentMB  int
	demoScans      int
	ocr            bool
	transmitDir    string
	drain          time.Duration
	debugAddr      string
	// Listening, when set, receives the bound address once the server
	// accepts connections (tests listen on :0).
	Listening chan<- string
}

// Run parses flags, opens the database, optionally seeds demo data, and
// serves until ctx ends, then shuts down gracefully.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("serve", "serve [--addr :8080] [--demo N] [flags]", c.Stderr)
	fs.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fs.IntVar(&c.demo, "demo", 0, "when the registry is empty, seed N synthetic demo orders and print a demo token")
	fs.StringVar(&c.indexDir, "index-dir", ".data/index", "directory of the search index (derived data: delete it and it rebuilds)")
	fs.BoolVar(&c.secureCookies, "secure-cookies", false, "mark the session cookie Secure on plain HTTP too: set behind a proxy that terminates TLS")
	fs.IntVar(&c.demoScans, "demo-scans", 100, "with --demo, how many demo orders get a generated scan")
	fs.IntVar(&c.maxDocumentMB, "max-document-mb", api.DefaultMaxDocumentBytes>>20, "largest scanned document accepted, in MB")
	fs.BoolVar(&c.ocr, "ocr", true, "read the words on uploaded scans with tesseract, when installed (false: leave them to other nodes)")
	fs.StringVar(&c.transmitDir, "transmit-dir", "", "send orders to law enforcement as files in this directory, shared with the receiving system and every transmitting node (default: off on this node)")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060; keep it off public interfaces")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "after SIGTERM, serve this long with /readyz answering 503, so that a load balancer stops sending before the listener closes (Ctrl-C stops at once)")
	c.limits = api.DefaultRateLimits
	for _, f := range []struct {
		name, what string
		r          *api.Rate
	}{
		{"rate-read", "reads (GET) per user", &c.limits.Read},
		{"rate-search", "searches and duplicate/conflict checks per user", &c.limits.Search},
		{"rate-write", "writes (intake, lifecycle) per user", &c.limits.Write},
		{"rate-failed-auth", "requests without a valid token per client address", &c.limits.FailedAuth},
	} {
		fs.Func(f.name, fmt.Sprintf("rate of %s, as PER_SECOND/BURST (default %g/%d)", f.what, f.r.PerSecond, f.r.Burst), func(v string) error {
			ps, burst, ok := strings.Cut(v, "/")
			var err error
			if f.r.PerSecond, err = strconv.ParseFloat(ps, 64); err != nil || !ok || f.r.PerSecond <= 0 {
				return errors.New("use PER_SECOND/BURST, e.g. 10/30")
			}
			if f.r.Burst, err = strconv.Atoi(burst); err != nil || f.r.Burst < 1 {
				return errors.New("use PER_SECOND/BURST, e.g. 10/30")
			}
			return nil
		})
	}
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(c.Stderr, nil))
	collectLessOften()
	db, err := c.db.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if c.demo > 0 {
		if err := c.seedDemo(ctx, db, log); err != nil {
			return err
		}
	}

	ix, stale, err := c.openIndex(ctx, db, log)
	if err != nil {
		return err
	}
	defer ix.Close()
	// The background work stops after the server, not with ctx: requests
	// served while draining still need the follower (an intake waits until
	// its order is searchable).
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	follower := &index.Follower{Index: ix, Feed: db, Logger: log}
	if stale {
		// Searches answer 503 until the index has caught up; the rest of
		// the API serves meanwhile.
		follower.RequestRebuild("the index is new or was unreadable")
	}
	followerDone := make(chan struct{})
	go func() { follower.Run(bg); close(followerDone) }()
	// The index closes after the follower has stopped writing to it.
	defer func() { stopBackground(); <-followerDone }()
	// Changes committed through other nodes wake the follower at once;
	// its polling is the fallback when a notification is lost.
	go db.ListenChanges(bg, follower.Nudge, log)

	tools := scan.FindTools()
	if c.ocr && tools.OCR() {
		w := &ocrWorker{db: db, tools: tools, log: log, nudge: follower.Nudge}
		go w.run(bg)
	} else {
		log.Info("OCR off on this node: scans wait for a node that reads them", "tesseract_installed", tools.OCR())
	}
	if !tools.PDF() {
		log.Warn("poppler-utils not installed: PDF uploads are refused and PDF pages cannot be shown")
	}

	if c.transmitDir != "" {
		drop, err := openFileDrop(c.transmitDir)
		if err != nil {
			return err
		}
		t := &transmitter{db: db, transport: drop, log: log}
		go t.run(bg)
		log.Info("law-enforcement transmission on", "dir", c.transmitDir)
	} else {
		log.Info("law-enforcement transmission off on this node: messages wait in the queue for a node with --transmit-dir")
	}

	if c.demo > 0 && c.demoScans > 0 {
		go func() {
			start := time.Now()
			n, err := seedScans(bg, db, c.demoScans, tools.PDF())
			if err != nil && bg.Err() == nil {
				log.Error("demo scans", "err", err)
			} else if n > 0 {
				log.Info("demo scans added", "documents", n, "seconds", time.Since(start).Seconds())
			}
		}()
	}

	// The public statistics are recomputed now and every statsRefresh.
	go refreshStats(bg, db, log)

	srv := api.NewServer(log)
	// The scorer's prior is measured on the registry's own orders once
	// the index is ready, and again every priorRefit.
	go measurePrior(bg, ix, follower.Ready, srv.Match, log)
	srv.Orders, srv.Documents, srv.Queues, srv.Users, srv.Audit, srv.Keys = db, db, db, db, db, db
	srv.Stats = db
	srv.Scan, srv.MaxDocumentBytes = tools, int64(c.maxDocumentMB)<<20
	srv.Ready = db.Ping
	srv.Index, srv.Follower = ix, follower
	srv.Limits = c.limits
	srv.SecureCookies = c.secureCookies
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	// While draining, /readyz tells the load balancer to stop sending;
	// everything else is still served.
	draining := make(chan struct{})
	served := hs.Handler
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-draining:
			// Each answer closes its connection, so that when the
			// listener closes no idle connection is cut under a request
			// the client has just sent on it. (SetKeepAlivesEnabled(false)
			// closes idle connections at once: that very race.)
			w.Header().Set("Connection", "close")
			if r.URL.Path == "/readyz" {
				w.Header().Set("Content-Type", "application/problem+json")
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"type":"urn:ccpor:problem:unavailable","title":"Service Unavailable","status":503,"detail":"Shutting down: send requests to another server.","instance":"/readyz"}`)
				return
			}
		default:
		}
		served.ServeHTTP(w, r)
	})
	if c.debugAddr != "" {
		// Its own listener and mux: the profiler is never reachable
		// through the API's address, and needs no token there.
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		debug := &http.Server{Addr: c.debugAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := debug.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("debug listener", "err", err)
			}
		}()
		defer debug.Close()
		log.Info("profiler listening", "addr", c.debugAddr)
	}
	log.Info("serving", "addr", ln.Addr().String())
	if c.Listening != nil {
		c.Listening <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Only SIGTERM drains: tests and Ctrl-C want the server gone at once.
	// The background work (follower, OCR, transmission) goes on until the
	// server has shut down; it resumes from PostgreSQL on the next start.
	if c.drain > 0 && errors.Is(context.Cause(ctx), errTerminated) {
		log.Info("draining: /readyz answers 503 while requests are still served", "seconds", c.drain.Seconds())
		close(draining)
		select {
		case err := <-errc:
			return err
		case <-time.After(c.drain):
		}
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openIndex opens the search index and says whether it must be rebuilt
// from PostgreSQL: when it was unreadable (a fresh one takes its place), or
// is new while the registry already holds orders (a bulk rebuild is much
// faster than replaying the whole outbox).
func (c *ServeCommand) openIndex(ctx context.Context, db *store.DB, log *slog.Logger) (*index.Index, bool, error) {
	ix, err := index.Open(c.indexDir)
	if errors.Is(err, index.ErrInUse) {
		return nil, false, err
	}
	if err != nil {
		log.Error("search index unreadable; rebuilding it", "dir", c.indexDir, "err", err)
		ix, err = index.OpenFresh(c.indexDir)
		return ix, true, err
	}
	if ix.Outdated() {
		log.Info("search index was built by another version; rebuilding it", "dir", c.indexDir)
		ix.Close()
		ix, err = index.OpenFresh(c.indexDir)
		return ix, true, err
	}
	if n, _ := ix.Count(); n == 0 && ix.Seq() == 0 {
		if head, err := db.ChangesHead(ctx); err == nil && head > 0 {
			log.Info("search index is empty; building it", "dir", c.indexDir)
			return ix, true, nil
		}
	}
	return ix, false, nil
}

// seedDemo fills an empty registry with demo orders and prints a token
// and a request to try, so `make run` is ready to use.
func (c *ServeCommand) seedDemo(ctx context.Context, db *store.DB, log *slog.Logger) error {
	var count int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&count); err != nil {
		return err
	}
	if count == 0 {
		log.Info("seeding demo orders", "orders", c.demo)
		if _, err := seed(ctx, db, 1, c.demo, nil); err != nil {
			return err
		}
	}
	var id, county string
	if err := db.Pool.QueryRow(ctx, `SELECT id::text, county FROM orders ORDER BY created_at, id LIMIT 1`).Scan(&id, &county); err != nil {
		return err
	}
	// The clerk belongs to the first order's county, so that the upload
	// example below is allowed.
	token, err := db.CreateUser(ctx, &ccpor.User{Name: "Demo Clerk", Role: ccpor.RoleClerk, County: county})
	if err != nil {
		return err
	}
	judge, err := db.CreateUser(ctx, &ccpor.User{Name: "Demo Judge", Role: ccpor.RoleJudge, County: county})
	if err != nil {
		return err
	}
	// Sign-in names for the web pages, one per role, with a password made
	// anew each start (a kept registry's demo users get it too).
	password, err := demoPassword()
	if err != nil {
		return err
	}
	for _, u := range []ccpor.User{
		{Name: "Demo Clerk", Role: ccpor.RoleClerk, County: county, Division: ccpor.DivisionFamily, Username: "demo-clerk"},
		{Name: "Demo Judge", Role: ccpor.RoleJudge, County: county, Username: "demo-judge"},
		{Name: "Demo Officer", Role: ccpor.RoleOfficer, Organisation: county + " County Sheriff", Username: "demo-officer"},
		{Name: "Demo Tribal Court", Role: ccpor.RoleTribal, Organisation: "Demo Tribal Court", Username: "demo-tribal"},
	} {
		_, _, err := db.AddUser(ctx, &u, ccpor.NewUser{Password: password})
		if ccpor.ErrorCode(err) == ccpor.EConflict {
			err = db.SetPassword(ctx, u.Username, password)
		}
		if err != nil {
			return err
		}
	}
	host := c.addr
	if strings.HasPrefix(host, ":") {
		host = "localhost" + host
	}
	fmt.Fprintf(c.Stdout, `
ccpor demo: %d orders in the registry; the first %d get a generated scan, read by OCR in the background.

Web pages: http://%s/ — sign in as demo-clerk, demo-judge, demo-officer or demo-tribal
with the password %s (made anew at each start).

Demo tokens, a clerk and a judge of %s County (make more with: bin/ccpor user add --name NAME --role judge):

  export TOKEN=%s JUDGE=%s
  curl -s -H "Authorization: Bearer $TOKEN" http://%s/api/v1/orders/%s
  curl -s -H "Authorization: Bearer $TOKEN" http://%s/api/v1/search -d '{"last": "garc", "first": "m"}'
  curl -s -H "Authorization: Bearer $TOKEN" http://%s/api/v1/orders/%s/documents -F file=@scan.pdf
  curl -s -H "Authorization: Bearer $JUDGE" http://%s/api/v1/search/text -d '{"text": "firearms"}'

`, max(count, c.demo), c.demoScans, host, password, county, token, judge, host, id, host, host, id, host)
	return nil
}

// demoPassword makes a password for the demo users: random, long enough
// for the registry's rule, easy to copy.
func demoPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "demo-" + base64.RawURLEncoding.EncodeToString(b), nil
}

// statsRefresh is how often serve recomputes the public statistics: only
// complete months are published, so a refresh catches orders entered
// late and the turn of the month.
const statsRefresh = 15 * time.Minute

// priorRefit is how often serve measures again how often people recur in
// the registry (index.FitPrior): it moves as slowly as the registry grows.
const priorRefit = time.Hour

// measurePrior runs index.FitPrior when the index first answers and every
// priorRefit after, until ctx ends. Until then, and when a run fails, the
// scorer keeps 1/n. Each node measures its own index; the sample is the
// same on every node (see FitPrior).
func measurePrior(ctx context.Context, ix *index.Index, ready func(context.Context) error, cfg matching.Config, log *slog.Logger) {
	wait := 5 * time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if ready(ctx) != nil {
			wait = 5 * time.Second
			continue
		}
		start := time.Now()
		fit, err := ix.FitPrior(ctx, cfg)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("measuring the match prior", "err", err)
			}
			wait = time.Minute
			continue
		}
		log.Info("match prior measured", "orders", fit.Orders, "probes", fit.Probes, "pairs", fit.Pairs,
			"others_per_person", fit.Others, "prior", ix.Calibrate(cfg).Prior, "seconds", time.Since(start).Seconds())
		wait = priorRefit
	}
}

// refreshStats recomputes the public statistics (store.RefreshStats) at
// start and every statsRefresh until ctx ends. Every node runs it; when
// another node is refreshing, this one lets it.
func refreshStats(ctx context.Context, db *store.DB, log *slog.Logger) {
	t := time.NewTicker(statsRefresh)
	defer t.Stop()
	for {
		start := time.Now()
		if ok, err := db.RefreshStats(ctx); err != nil && ctx.Err() == nil {
			log.Error("statistics refresh", "err", err)
		} else if ok {
			log.Info("statistics refreshed", "seconds", time.Since(start).Seconds())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
