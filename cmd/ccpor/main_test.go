package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// MustServe runs `ccpor serve` on :0 against the database at url until the
// test ends, and returns its base URL.
func MustServe(tb testing.TB, url string) string {
	tb.Helper()
	return MustServeIndex(tb, url, tb.TempDir())
}

// MustServeIndex is MustServe with the search index in dir.
func MustServeIndex(tb testing.TB, url, dir string) string {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	cmd := &ServeCommand{Stdout: io.Discard, Stderr: io.Discard, Listening: listening}
	cmd.db.url = url
	done := make(chan error, 1)
	go func() {
		done <- cmd.Run(ctx, []string{"--addr", "127.0.0.1:0", "--index-dir", dir,
			// The tests read a registry back as fast as they can: the limits
			// are the rate limiter's tests' business, not theirs.
			"--rate-read", "100000/100000", "--rate-search", "100000/100000", "--rate-write", "100000/100000"})
	}()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	select {
	case addr := <-listening:
		return "http://" + addr
	case err := <-done:
		tb.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		tb.Fatal("serve did not start")
	}
	return ""
}

// MustUser runs `ccpor user add` and returns the token from its last line.
func MustUser(tb testing.TB, url string, role ccpor.Role) string {
	tb.Helper()
	var out, errOut bytes.Buffer
	cmd := &UserCommand{Stdout: &out, Stderr: &errOut}
	ctx := context.Background()
	// user add opens the database from flags; point it at url.
	t := withDatabaseURL(tb, url)
	defer t()
	if err := cmd.Run(ctx, []string{"add", "--name", "Test " + string(role), "--role", string(role)}); err != nil {
		tb.Fatalf("user add: %v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

func withDatabaseURL(tb testing.TB, url string) func() {
	old, had := os.LookupEnv("DATABASE_URL")
	os.Setenv("DATABASE_URL", url)
	return func() {
		if had {
			os.Setenv("DATABASE_URL", old)
		} else {
			os.Unsetenv("DATABASE_URL")
		}
	}
}

func mustGet(tb testing.TB, base, token, path string) []byte {
	tb.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

func mustOpen(tb testing.TB, url string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(db.Close)
	return db
}

func orderIDs(tb testing.TB, db *store.DB) []string {
	tb.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT id::text FROM orders ORDER BY id`)
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestRoundTrip seeds demo orders, exports each through GET, imports the
// export into a second registry and checks that GET there answers the same
// JSON (apart from the history, which records the import).
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	srcURL, dstURL := storetest.MustCreateDatabase(t), storetest.MustCreateDatabase(t)
	src := mustOpen(t, srcURL)
	if _, err := seed(ctx, src, 7, 400, nil); err != nil {
		t.Fatal(err)
	}
	srcBase := MustServe(t, srcURL)
	srcToken := MustUser(t, srcURL, ccpor.RoleJudge)

	ids := orderIDs(t, src)
	if len(ids) != 400 {
		t.Fatalf("seeded %d orders, want 400", len(ids))
	}
	var export bytes.Buffer
	exported := map[string][]byte{}
	for _, id := range ids {
		body := mustGet(t, srcBase, srcToken, "/api/v1/orders/"+id)
		exported[id] = body
		export.Write(body)
		export.WriteByte('\n')
	}
	file := filepath.Join(t.TempDir(), "export.ndjson")
	if err := os.WriteFile(file, export.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	imp := &ImportCommand{Stdout: &out, Stderr: &errOut}
	imp.db.url = dstURL
	if err := imp.Run(ctx, []string{file}); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	if got, want := out.String(), "400 lines: 400 orders added, 0 already present, 0 bad\n"; got != want {
		t.Errorf("import said %q, want %q", got, want)
	}

	dstBase := MustServe(t, dstURL)
	dstToken := MustUser(t, dstURL, ccpor.RoleJudge)
	for _, id := range ids {
		got := withoutHistory(t, mustGet(t, dstBase, dstToken, "/api/v1/orders/"+id))
		want := withoutHistory(t, exported[id])
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("order %s changed on its way through import (-exported +imported):\n%s", id, diff)
		}
	}
}

func withoutHistory(tb testing.TB, body []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatal(err)
	}
	delete(m, "history")
	return m
}

// TestImport feeds a file of good and bad lines: every good line is kept,
// every bad one named with its number, and a re-run adds nothing.
func TestImport(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	good := func(caseNo string) string {
		return fmt.Sprintf(`{"type":"CH","phase":"after_hearing","county":"Kern","case_number":%q,"issued_on":"2025-01-10","expires_at":"2028-01-10",`+
			`"restrained":{"first":"Dana","last":"Whitfield"},"protected":[{"first":"Lee","last":"Ortiz"}],"terms":{"conduct":true,"stay_away_yards":50}}`, caseNo)
	}
	lines := []string{
		good("BCV-25-100001"),             // 1
		`{"type":"CH", "county": "Kern",`, // 2: broken JSON
		strings.Replace(good("BCV-25-100003"), "2025-01-10", "2023-02-29", 1), // 3: impossible date
		"", // 4: blank, ignored
		strings.Replace(good("BCV-25-100005"), `"CH"`, `"XX"`, 1), // 5: unknown type
		`{"notes":"` + strings.Repeat("A", 10<<20) + `"}`,         // 6: 10 MB line
		good("BCV-25-100007"),      // 7
		good("BCV-25-100008")[:20], // 8: truncated
		`{"id":"00000000-0000-4000-8000-000000000009",` + good("BCV-25-100009")[1:],                         // 9: given id
		strings.Replace(good("BCV-25-100010"), `"expires_at":"2028-01-10"`, `"expires_at":"2024-01-10"`, 1), // 10: expiry before issue
		good("BCV-25-100011"), // 11, no newline at the end
	}
	file := filepath.Join(t.TempDir(), "orders.ndjson")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() (string, string, error) {
		var out, errOut bytes.Buffer
		imp := &ImportCommand{Stdout: &out, Stderr: &errOut}
		imp.db.url = url
		err := imp.Run(ctx, []string{"--batch", "3", file})
		return out.String(), errOut.String(), err
	}
	stdout, stderr, err := run()
	var exit exitError
	if !errors.As(err, &exit) || exit != 2 {
		t.Errorf("import with bad lines: %v, want exit status 2", err)
	}
	if got, want := stdout, "10 lines: 4 orders added, 0 already present, 6 bad\n"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	for _, want := range []string{"line 2: ", "line 3: ", "line 5: ", "line 6: longer than", "line 8: ", "line 10: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("report does not name %q:\n%s", want, stderr)
		}
	}
	for _, wrong := range []string{"line 1:", "line 4:", "line 7:", "line 9:", "line 11:"} {
		if strings.Contains(stderr, wrong) {
			t.Errorf("report names a good line %q:\n%s", wrong, stderr)
		}
	}
	if !strings.Contains(stderr, "2023-02-29") || !strings.Contains(stderr, `"XX"`) {
		t.Errorf("report does not say why:\n%s", stderr)
	}
	db := mustOpen(t, url)
	if _, err := db.FindOrderByID(ctx, "00000000-0000-4000-8000-000000000009"); err != nil {
		t.Errorf("the line's own id was not kept: %v", err)
	}
	var versions, outbox int
	db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM order_versions), (SELECT count(*) FROM outbox)`).Scan(&versions, &outbox)
	if versions != 4 || outbox != 4 {
		t.Errorf("%d versions and %d outbox entries, want 4 each: something half-written", versions, outbox)
	}
	// The planner was told what the import wrote (ANALYZE sets the row
	// estimates; a table never analysed has none).
	var planned float64
	db.Pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'orders'::regclass`).Scan(&planned)
	if planned != 4 {
		t.Errorf("the planner estimates %v orders after the import, want 4: not analysed", planned)
	}

	stdout, _, _ = run()
	if got, want := stdout, "10 lines: 0 orders added, 4 already present, 6 bad\n"; got != want {
		t.Errorf("re-run summary %q, want %q", got, want)
	}
	if ids := orderIDs(t, db); len(ids) != 4 {
		t.Errorf("after a re-run %d orders, want 4", len(ids))
	}
}

func TestUserAdd(t *testing.T) {
	url := storetest.MustCreateDatabase(t)
	token := MustUser(t, url, ccpor.RoleOfficer)
	if !strings.HasPrefix(token, "ccpor_") {
		t.Fatalf("last line %q is not a token", token)
	}
	u, err := mustOpen(t, url).Authenticate(context.Background(), token)
	if err != nil || u.Role != ccpor.RoleOfficer {
		t.Errorf("token authenticates %+v, %v", u, err)
	}
}

// TestServeCorruptIndex starts the server on an unreadable index: the API
// answers at once, search says 503 until the index is rebuilt from
// PostgreSQL, then finds the orders.
func TestServeCorruptIndex(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	if _, err := seed(ctx, mustOpen(t, url), 3, 300, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "gen-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "gen-1", "index_meta.json"), []byte("{not json"), 0o600)
	if err := os.Symlink("gen-1", filepath.Join(dir, "current")); err != nil {
		t.Fatal(err)
	}
	base := MustServeIndex(t, url, dir)
	token := MustUser(t, url, ccpor.RoleOfficer)
	mustSearchRebuilt(t, base, token)
	if _, err := os.Stat(filepath.Join(dir, "gen-1")); !os.IsNotExist(err) {
		t.Errorf("the corrupt generation was left behind: %v", err)
	}
}

// mustSearchRebuilt searches for "ga" until the node's index is rebuilt:
// every answer meanwhile must be 503, never an empty list, and the first
// 200 must find orders.
func mustSearchRebuilt(t *testing.T, base, token string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest("POST", base+"/api/v1/search", strings.NewReader(`{"last": "ga"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if !bytes.Contains(body, []byte(`"order_id"`)) {
				t.Errorf("rebuilt index found nothing for \"ga\": %s", body)
			}
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("search while rebuilding: %d %s, want 503", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatal("the index was not rebuilt within a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
