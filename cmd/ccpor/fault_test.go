package main

// The faults a registry must survive (issue 8), each reproduced: the
// database restarted under load, the process killed between the commit
// and the index update, the index damaged while serving, a second server
// on one index directory, SIGTERM under load, and an import killed
// halfway. Several run ccpor as a child process (process_test.go), since
// a crash or a signal has to hit a process of its own.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
	"github.com/google/uuid"
)

// faultOrder is an intake of its own case and people, so that no two are
// duplicates or likely duplicates of each other: names are drawn at random
// from syllables, which no nickname table or phonetic code relates.
type faultOrder struct {
	caseNumber  string
	first, last string
	body        []byte
}

var syllables = []string{"ka", "lo", "mi", "ra", "ten", "vo", "shi", "du", "bel", "nor", "gal", "pre", "quin", "zar", "fet", "hu"}

func randomName(r *mrand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func newFaultOrder(r *mrand.Rand, caseNumber string) faultOrder {
	today := time.Now().UTC()
	f := faultOrder{caseNumber: caseNumber, first: randomName(r, 2), last: randomName(r, 4)}
	dob := time.Date(1950+r.IntN(50), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	pdob := time.Date(1950+r.IntN(50), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	f.body = fmt.Appendf(nil, `{"type":"CH","phase":"after_hearing","county":"Kern","case_number":%q,`+
		`"issued_on":%q,"expires_at":%q,`+
		`"restrained":{"first":%q,"last":%q,"dob":%q},"protected":[{"first":%q,"last":%q,"dob":%q}],`+
		`"terms":{"conduct":true,"stay_away_yards":50}}`,
		caseNumber, today.AddDate(0, 0, -20).Format(time.DateOnly), today.AddDate(2, 0, 0).Format(time.DateOnly),
		f.first, f.last, dob.Format(time.DateOnly), randomName(r, 2), randomName(r, 3), pdob.Format(time.DateOnly))
	return f
}

// faultClient is one test's HTTP client: its own connections, with a
// timeout so that a hung server fails the test instead of stalling it.
func faultClient(tb testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// answer is what one request got: a status and body, or no answer.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func send(client *http.Client, method, url, token, key string, body []byte) answer {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return answer{err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// acknowledged is the order an intake's answer says exists: the new order
// (201, first or replayed), or the one it duplicates (409
// duplicate_order, which a retry gets when the first attempt's commit
// was lost with its answer). Empty for any other answer.
func acknowledged(a answer) string {
	var v struct {
		ID              string `json:"id"`
		Type            string `json:"type"`
		ExistingOrderID string `json:"existing_order_id"`
	}
	if a.err != nil || json.Unmarshal(a.body, &v) != nil {
		return ""
	}
	switch {
	case a.status == http.StatusCreated:
		return v.ID
	case a.status == http.StatusConflict && v.Type == "urn:ccpor:problem:duplicate_order":
		return v.ExistingOrderID
	}
	return ""
}

// retryable says whether a client should send the same request again: no
// answer, a server error, or "in progress; retry" (409 with Retry-After).
func retryable(a answer) bool {
	return a.err != nil || a.status >= 500 || (a.status == http.StatusConflict && a.header.Get("Retry-After") != "")
}

// searchIDs runs an officer search and returns the status and the orders
// found.
func searchIDs(client *http.Client, base, token, first, last string) (answer, []string) {
	a := send(client, "POST", base+"/api/v1/search", token, "", fmt.Appendf(nil, `{"last":%q,"first":%q}`, last, first))
	if a.err != nil || a.status != http.StatusOK {
		return a, nil
	}
	var v struct {
		Hits []struct {
			OrderID string `json:"order_id"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil {
		a.err = fmt.Errorf("search answer: %w", err)
		return a, nil
	}
	var ids []string
	for _, h := range v.Hits {
		ids = append(ids, h.OrderID)
	}
	return a, ids
}

// waitReady polls /readyz until it answers 200.
func waitReady(tb testing.TB, client *http.Client, base string, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		a := send(client, "GET", base+"/readyz", "", "", nil)
		if a.err == nil && a.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("/readyz did not answer 200 within %s: last %d %s %v", timeout, a.status, a.body, a.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func countWhere(tb testing.TB, db *store.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestFaultPostgresRestart restarts PostgreSQL while 20 clerks enter
// orders, each retrying its request with the same Idempotency-Key until
// it gets an answer: every acknowledged order is in the registry exactly
// once, none is missing, and the server is ready again on its own.
func TestFaultPostgresRestart(t *testing.T) {
	const clients, perClient = 20, 8
	cluster := storetest.StartCluster(t)
	url := cluster.CreateDatabase("ccpor")
	base := MustServe(t, url)
	token := MustUser(t, url, ccpor.RoleClerk)
	client := faultClient(t)
	waitReady(t, client, base, 30*time.Second)

	type intake struct {
		faultOrder
		key      string
		ack      string // the order the answer names
		final    answer
		attempts int
	}
	r := mrand.New(mrand.NewPCG(1, 2))
	intakes := make([][]*intake, clients)
	for c := range intakes {
		for i := range perClient {
			intakes[c] = append(intakes[c], &intake{
				faultOrder: newFaultOrder(r, fmt.Sprintf("BCV-26-%03d%03d", c, i)),
				key:        uuid.NewString(),
			})
		}
	}

	// internal counts 500s: a database out of reach is 503 + Retry-After.
	var acks, retries, internal atomic.Int64
	var restartedAt atomic.Int64 // acks counted when the server came back
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		// Restart once the load is well under way.
		for acks.Load() < clients*perClient/4 {
			time.Sleep(10 * time.Millisecond)
		}
		cluster.Restart(500 * time.Millisecond)
		restartedAt.Store(acks.Load())
	}()
	deadline := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, in := range intakes[c] {
				for {
					in.attempts++
					a := send(client, "POST", base+"/api/v1/orders", token, in.key, in.body)
					if !retryable(a) || time.Now().After(deadline) {
						in.final, in.ack = a, acknowledged(a)
						break
					}
					retries.Add(1)
					if a.status == http.StatusInternalServerError {
						internal.Add(1)
					}
					time.Sleep(100 * time.Millisecond)
				}
				acks.Add(1)
			}
		}()
	}
	wg.Wait()
	<-restarted
	if restartedAt.Load() == clients*perClient {
		t.Fatal("every intake was answered before PostgreSQL came back: the restart was not under load")
	}
	t.Logf("%d intakes, %d retried attempts; PostgreSQL was back after %d answers", clients*perClient, retries.Load(), restartedAt.Load())
	if retries.Load() == 0 {
		t.Error("no request failed: the restart went unnoticed, so this proved nothing")
	}
	if n := internal.Load(); n > 0 {
		t.Errorf("%d answers were 500 while PostgreSQL restarted, want 503 (unavailable, retry)", n)
	}

	// Ready again, without anyone's help.
	waitReady(t, client, base, 30*time.Second)

	db := mustOpen(t, url)
	seen := map[string]string{}
	for _, list := range intakes {
		for _, in := range list {
			if in.ack == "" {
				t.Errorf("intake %s (%d attempts) never acknowledged: %d %s %v", in.caseNumber, in.attempts, in.final.status, in.final.body, in.final.err)
				continue
			}
			if other, ok := seen[in.ack]; ok {
				t.Errorf("intakes %s and %s acknowledged as the same order %s", other, in.caseNumber, in.ack)
			}
			seen[in.ack] = in.caseNumber
			if n := countWhere(t, db, `SELECT count(*) FROM orders WHERE id = $1`, in.ack); n != 1 {
				t.Errorf("acknowledged order %s (case %s) is in the registry %d times", in.ack, in.caseNumber, n)
			}
			var ids []string
			rows, err := db.Pool.Query(context.Background(), `SELECT id::text FROM orders WHERE case_number = $1`, in.caseNumber)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				rows.Scan(&id)
				ids = append(ids, id)
			}
			if rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			if len(ids) != 1 || ids[0] != in.ack {
				t.Errorf("case %s: orders %v in the registry, want exactly the acknowledged %s", in.caseNumber, ids, in.ack)
			}
		}
	}
	if n := countWhere(t, db, `SELECT count(*) FROM orders`); n != clients*perClient {
		t.Errorf("%d orders in the registry, want %d", n, clients*perClient)
	}
}

// TestFaultKilledBeforeIndexApply kills the server (SIGKILL) after an
// intake is committed and before the index sees it: the clerk gets no
// answer; started again on the same index directory the server makes the
// order searchable, and the clerk's retry with the same Idempotency-Key
// does not enter it twice.
func TestFaultKilledBeforeIndexApply(t *testing.T) {
	url := storetest.MustCreateDatabase(t)
	clerk := MustUser(t, url, ccpor.RoleClerk)
	officer := MustUser(t, url, ccpor.RoleOfficer)
	dir := t.TempDir()
	client := faultClient(t)

	// The registry is empty, so the first change the follower applies is
	// the intake's: the failpoint cannot fire during the initial catch-up.
	first, base := startServeProcess(t, url, dir, []string{"CCPOR_FAILPOINT=index-apply"})
	waitReady(t, client, base, 30*time.Second)
	o := newFaultOrder(mrand.New(mrand.NewPCG(3, 4)), "BCV-26-900001")
	key := uuid.NewString()
	a := send(client, "POST", base+"/api/v1/orders", clerk, key, o.body)
	if a.err == nil {
		t.Fatalf("intake answered %d %s: the process should have died before answering", a.status, a.body)
	}
	ps := first.wait(10 * time.Second)
	if ps == nil {
		t.Fatal("the server is still running after the failpoint")
	}
	if !killedBy(ps, syscall.SIGKILL) {
		t.Fatalf("the server ended with %v, want killed by SIGKILL at the failpoint", ps)
	}

	db := mustOpen(t, url)
	var id string
	if err := db.Pool.QueryRow(context.Background(), `SELECT id::text FROM orders WHERE case_number = $1`, o.caseNumber).Scan(&id); err != nil {
		t.Fatalf("the committed intake is not in the registry: %v", err)
	}

	_, base = startServeProcess(t, url, dir, nil)
	deadline := time.Now().Add(60 * time.Second)
	for {
		a, ids := searchIDs(client, base, officer, o.first, o.last)
		if a.err != nil || (a.status != http.StatusOK && a.status != http.StatusServiceUnavailable) {
			t.Fatalf("search after the restart: %d %s %v", a.status, a.body, a.err)
		}
		if slices.Contains(ids, id) {
			break
		}
		if a.status == http.StatusOK {
			t.Fatalf("search answered 200 without the order %s: %s", id, a.body)
		}
		if time.Now().After(deadline) {
			t.Fatal("the order was not searchable within a minute of the restart")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The dead server's claim on the key stands until its lease ends: the
	// retry is told to wait, and nothing is entered.
	a = send(client, "POST", base+"/api/v1/orders", clerk, key, o.body)
	if a.err != nil || a.status != http.StatusConflict || a.header.Get("Retry-After") == "" {
		t.Errorf("retry within the lease: %d %s %v, want 409 with Retry-After", a.status, a.body, a.err)
	}
	// Once the lease is over the retry does the work again, and the
	// duplicate guard names the order the first attempt entered.
	if _, err := db.Pool.Exec(context.Background(), `UPDATE idempotency_keys SET claimed_at = claimed_at - $1::interval`,
		(store.IdempotencyLease + time.Minute).String()); err != nil {
		t.Fatal(err)
	}
	a = send(client, "POST", base+"/api/v1/orders", clerk, key, o.body)
	if got := acknowledged(a); a.status != http.StatusConflict || got != id {
		t.Errorf("retry after the lease: %d %s %v, want 409 duplicate_order naming %s", a.status, a.body, a.err, id)
	}
	if n := countWhere(t, db, `SELECT count(*) FROM orders WHERE case_number = $1`, o.caseNumber); n != 1 {
		t.Errorf("%d orders of case %s, want 1", n, o.caseNumber)
	}
	if n := countWhere(t, db, `SELECT count(*) FROM orders`); n != 1 {
		t.Errorf("%d orders in the registry, want 1", n)
	}
}

// TestFaultIndexDamaged damages the index under a running server: its
// directory deleted, or a segment overwritten. Search answers 503 or the
// right orders — never a 200 without them — and within a minute the
// index is rebuilt and finds them, and an order entered afterwards too.
func TestFaultIndexDamaged(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	// Enough orders for the index to hold real segments.
	if _, err := seed(ctx, db, 5, 500, nil); err != nil {
		t.Fatal(err)
	}
	r := mrand.New(mrand.NewPCG(5, 6))
	var expected []faultOrder
	for i := range 3 {
		o := newFaultOrder(r, fmt.Sprintf("BCV-26-800%03d", i))
		insertOrder(t, db, &o)
		expected = append(expected, o)
	}
	officer := MustUser(t, url, ccpor.RoleOfficer)
	client := faultClient(t)

	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string) (gen string)
	}{
		{"deleted", func(t *testing.T, dir string) string {
			gen := currentGeneration(t, dir)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			return gen
		}},
		{"corrupted", func(t *testing.T, dir string) string {
			gen := currentGeneration(t, dir)
			// Scorch persists segments in the background: wait for one.
			var largest string
			var size int64
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				largest, size = largestSegment(filepath.Join(dir, gen))
				if size >= 8<<10 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no segment of 8 KB or more in %s", gen)
				}
			}
			f, err := os.OpenFile(largest, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			junk := make([]byte, 4<<10)
			rand.Read(junk)
			if _, err := f.WriteAt(junk, size/2-2<<10); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			return gen
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, base := startServeProcess(t, url, dir, nil)
			foundAll := func() (answer, bool) {
				for _, o := range expected {
					a, ids := searchIDs(client, base, officer, o.first, o.last)
					if a.err != nil || a.status != http.StatusOK {
						return a, false
					}
					if !slices.Contains(ids, orderIDOf(t, db, o.caseNumber)) {
						return a, false
					}
				}
				return answer{status: http.StatusOK}, true
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				if _, ok := foundAll(); ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the index was not built within a minute")
				}
				time.Sleep(50 * time.Millisecond)
			}

			damaged := tc.damage(t, dir)
			start := time.Now()
			later := newFaultOrder(r, fmt.Sprintf("BCV-26-8009%02d", len(tc.name)))
			insertOrder(t, db, &later)
			var unavailable int
			deadline = time.Now().Add(60 * time.Second)
			for {
				a, ok := foundAll()
				switch {
				case a.err != nil:
					t.Fatalf("search after the damage got no answer: %v", a.err)
				case a.status == http.StatusServiceUnavailable:
					if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
						t.Fatalf("503 as %q, want application/problem+json", ct)
					}
					unavailable++
				case !ok:
					t.Fatalf("search answered %d without the orders it must find: %s", a.status, a.body)
				}
				if ok && generationReplaced(dir, damaged) {
					la, ids := searchIDs(client, base, officer, later.first, later.last)
					if la.status == http.StatusOK && slices.Contains(ids, orderIDOf(t, db, later.caseNumber)) {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("the index was not rebuilt within a minute of the damage (current generation %q, damaged %q)",
						readLinkOrEmpty(dir), damaged)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("rebuilt in %.1fs; %d searches answered 503 meanwhile", time.Since(start).Seconds(), unavailable)
		})
	}
}

// largestSegment finds the largest Bleve segment file (*.zap) under dir.
func largestSegment(dir string) (path string, size int64) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".zap") {
			if info, err := d.Info(); err == nil && info.Size() > size {
				path, size = p, info.Size()
			}
		}
		return nil
	})
	return path, size
}

// insertOrder writes o into the registry as an import would, bypassing
// the API (which may not be answering).
func insertOrder(tb testing.TB, db *store.DB, o *faultOrder) {
	tb.Helper()
	parsed, err := parseLine(o.body, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.InsertOrders(context.Background(), []*ccpor.Order{parsed}, "create", "fault test"); err != nil {
		tb.Fatal(err)
	}
}

func orderIDOf(tb testing.TB, db *store.DB, caseNumber string) string {
	tb.Helper()
	var id string
	if err := db.Pool.QueryRow(context.Background(), `SELECT id::text FROM orders WHERE case_number = $1`, caseNumber).Scan(&id); err != nil {
		tb.Fatalf("order of case %s: %v", caseNumber, err)
	}
	return id
}

func currentGeneration(tb testing.TB, dir string) string {
	tb.Helper()
	gen, err := os.Readlink(filepath.Join(dir, "current"))
	if err != nil {
		tb.Fatalf("index directory without a current generation: %v", err)
	}
	return filepath.Base(gen)
}

func readLinkOrEmpty(dir string) string {
	gen, _ := os.Readlink(filepath.Join(dir, "current"))
	return gen
}

// generationReplaced reports whether the index directory holds a current
// generation again, other than the damaged one, with its files in place.
func generationReplaced(dir, damaged string) bool {
	gen := filepath.Base(readLinkOrEmpty(dir))
	if gen == "." || gen == "" || gen == damaged {
		return false
	}
	entries, err := os.ReadDir(filepath.Join(dir, gen))
	return err == nil && len(entries) > 0
}

// TestFaultSecondServer starts a second server on the index directory of
// a running one: it refuses at once, saying the directory is in use.
func TestFaultSecondServer(t *testing.T) {
	url := storetest.MustCreateDatabase(t)
	dir := t.TempDir()
	client := faultClient(t)
	_, base := startServeProcess(t, url, dir, nil)
	waitReady(t, client, base, 30*time.Second)

	second := startChild(t, url, nil, serveArgs(dir)...)
	ps := second.wait(10 * time.Second)
	if ps == nil {
		t.Fatal("the second server is still running after 10 s on an index directory in use")
	}
	if ps.Success() {
		t.Errorf("the second server exited 0, want a failure")
	}
	msg := second.stderr.String()
	if !strings.Contains(msg, "in use") || !strings.Contains(msg, dir) {
		t.Errorf("the second server's message does not say that %s is in use:\n%s", dir, msg)
	}
	// The first one serves on, undisturbed.
	waitReady(t, client, base, 5*time.Second)
}

// TestFaultSIGTERMUnderLoad sends SIGTERM to a server that clients are
// searching and entering orders on: /readyz turns 503 for the drain
// period while requests are still served, every request sent before the
// listener closed is answered and none with a server error, and the
// process exits 0 within its drain and shutdown time. Connections refused
// once the listener is closed are expected, and counted apart.
func TestFaultSIGTERMUnderLoad(t *testing.T) {
	const searchers, clerks = 12, 2
	const drain = 1500 * time.Millisecond
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	if _, err := seed(ctx, db, 9, 300, nil); err != nil {
		t.Fatal(err)
	}
	r := mrand.New(mrand.NewPCG(7, 8))
	known := newFaultOrder(r, "BCV-26-700000")
	insertOrder(t, db, &known)
	officer := MustUser(t, url, ccpor.RoleOfficer)
	clerk := MustUser(t, url, ccpor.RoleClerk)
	proc, base := startServeProcess(t, url, t.TempDir(), nil, "--drain", drain.String())
	client := faultClient(t)
	waitReady(t, client, base, 30*time.Second)

	type result struct {
		start, end time.Time
		a          answer
		what       string
	}
	var mu sync.Mutex
	var results []result
	record := func(start time.Time, a answer, what string) {
		mu.Lock()
		results = append(results, result{start, time.Now(), a, what})
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range searchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				a, ids := searchIDs(client, base, officer, known.first, known.last)
				if a.status == http.StatusOK && len(ids) == 0 {
					a.err = errors.New("search answered 200 without the order it must find")
				}
				record(start, a, "search")
				if a.err != nil {
					time.Sleep(20 * time.Millisecond) // refused: the server is going
				}
			}
		}()
	}
	var seq atomic.Int64
	for range clerks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				o := newFaultOrder(mrand.New(mrand.NewPCG(uint64(seq.Add(1)), 9)), fmt.Sprintf("BCV-26-71%04d", seq.Load()))
				start := time.Now()
				a := send(client, "POST", base+"/api/v1/orders", clerk, uuid.NewString(), o.body)
				record(start, a, "intake")
				if a.err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	// A load balancer's health check.
	var drainSeen atomic.Bool
	var sigAt time.Time
	sigSent := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-sigSent
		for {
			select {
			case <-stop:
				return
			default:
			}
			a := send(client, "GET", base+"/readyz", "", "", nil)
			if a.err == nil && a.status == http.StatusServiceUnavailable {
				drainSeen.Store(true)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	time.Sleep(time.Second)
	sigAt = time.Now()
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	close(sigSent)
	ps := proc.wait(drain + 15*time.Second)
	exitAt := time.Now()
	close(stop)
	wg.Wait()
	if ps == nil {
		t.Fatalf("still running %s after SIGTERM", time.Since(sigAt))
	}
	if !ps.Success() {
		t.Errorf("exit after SIGTERM: %v, want status 0", ps)
	}
	if d := exitAt.Sub(sigAt); d < drain {
		t.Errorf("exited %s after SIGTERM, before its %s drain", d, drain)
	}
	if !drainSeen.Load() {
		t.Error("/readyz never answered 503 after SIGTERM: a load balancer would keep sending")
	}

	// The listener stays open for the drain: anything sent before then
	// (with a margin for the scheduler) must have been answered.
	answeredBy := sigAt.Add(drain - 300*time.Millisecond)
	var ok, refused, dropped, duringDrain int
	for _, res := range results {
		switch {
		case res.a.err == nil && res.a.status < 500:
			ok++
			if res.start.After(sigAt) {
				duringDrain++
			}
			if res.what == "search" && res.a.status != http.StatusOK {
				t.Errorf("search started %s after SIGTERM: %d %s", res.start.Sub(sigAt), res.a.status, res.a.body)
			}
			if res.what == "intake" && res.a.status != http.StatusCreated {
				t.Errorf("intake started %s after SIGTERM: %d %s", res.start.Sub(sigAt), res.a.status, res.a.body)
			}
		case res.a.err == nil:
			t.Errorf("%s started %s after SIGTERM answered %d: %s", res.what, res.start.Sub(sigAt), res.a.status, res.a.body)
		case res.start.Before(answeredBy):
			t.Errorf("%s started %s after SIGTERM got no answer: %v", res.what, res.start.Sub(sigAt), res.a.err)
		case errors.Is(res.a.err, syscall.ECONNREFUSED):
			refused++
		default:
			dropped++
		}
	}
	t.Logf("%d requests answered (%d sent after SIGTERM), %d refused after the listener closed, %d dropped at the close; exit %s after SIGTERM",
		ok, duringDrain, refused, dropped, exitAt.Sub(sigAt).Round(time.Millisecond))
	if duringDrain == 0 {
		t.Error("no request was served after SIGTERM: the drain served nothing")
	}
	if dropped > searchers+clerks {
		t.Errorf("%d requests dropped without an answer as the listener closed; at most one per client expected", dropped)
	}
}

// TestFaultImportKilled kills an import (SIGKILL) halfway and runs it
// again: every line's order is in the registry once, with its one
// version and outbox entry, and the second run says what it found.
func TestFaultImportKilled(t *testing.T) {
	const n = 20000
	url := storetest.MustCreateDatabase(t)
	file := filepath.Join(t.TempDir(), "orders.ndjson")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	g := fixtures.New(11, time.Now())
	want := map[string]bool{}
	for range n {
		o, _ := g.Next()
		if err := enc.Encode(o); err != nil {
			t.Fatal(err)
		}
		want[o.ID] = true
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if len(want) != n {
		t.Fatalf("the generator made %d distinct IDs in %d orders", len(want), n)
	}
	db := mustOpen(t, url)

	// Small batches, so that the kill falls between commits and within one.
	first := startChild(t, url, nil, "import", "--batch", "500", file)
	var atKill int
	for {
		if ps := first.wait(0); ps != nil {
			t.Fatalf("the import finished (%v) before it could be killed: %s", ps, first.stdout.String())
		}
		atKill = countWhere(t, db, `SELECT count(*) FROM orders`)
		if atKill >= n/4 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	ps := first.wait(10 * time.Second)
	if ps == nil || !killedBy(ps, syscall.SIGKILL) {
		t.Fatalf("the first import ended with %v, want killed by SIGKILL", ps)
	}
	kept := countWhere(t, db, `SELECT count(*) FROM orders`)
	if kept == n {
		t.Fatal("the first import had finished when it was killed")
	}

	second := startChild(t, url, nil, "import", "--batch", "500", file)
	if ps := second.wait(90 * time.Second); ps == nil || !ps.Success() {
		t.Fatalf("the second import: %v\n%s", ps, tail(second.stderr.String(), 2048))
	}
	if got, wantOut := second.stdout.String(), fmt.Sprintf("%d lines: %d orders added, %d already present, 0 bad\n", n, n-kept, kept); got != wantOut {
		t.Errorf("second import said %q, want %q", got, wantOut)
	}
	t.Logf("killed with %d of %d orders in (%d counted just before the kill)", kept, n, atKill)

	ids := orderIDs(t, db)
	if len(ids) != n {
		t.Errorf("%d orders after the re-run, want %d", len(ids), n)
	}
	counted := map[string]int{}
	for _, id := range ids {
		counted[id]++
	}
	for id, k := range counted {
		if k != 1 {
			t.Errorf("order %s is in the registry %d times", id, k)
		}
		if !want[id] {
			t.Errorf("order %s is not in the file", id)
		}
	}
	for id := range want {
		if counted[id] == 0 {
			t.Errorf("order %s of the file is missing", id)
		}
	}
	if v, o := countWhere(t, db, `SELECT count(*) FROM order_versions`), countWhere(t, db, `SELECT count(*) FROM outbox`); v != n || o != n {
		t.Errorf("%d versions and %d outbox entries for %d orders: a batch was half-written", v, o, n)
	}
}
