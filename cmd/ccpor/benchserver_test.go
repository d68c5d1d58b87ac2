package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchClient is the benchmarks' single client: a server that stops
// answering fails the run with a message instead of stalling it until
// go test's timeout.
var benchClient = &http.Client{Timeout: 2 * time.Minute}

// serverChild is the benchmarks' server: `ccpor serve` in a process of its
// own (startServeProcess), so that its RSS, open files and goroutines are
// the server's, not mixed with the load generator's.
type serverChild struct {
	URL string
	*child
}

// startServer starts the server child on the database at url with the
// index in dir (which no other process may have open) and returns once it
// listens; it is stopped when the test ends.
func startServer(t testing.TB, url, dir string) *serverChild {
	t.Helper()
	// No drain at the end: nothing balances load onto it.
	args := []string{"--drain", "0"}
	// CCPOR_BENCH_PPROF=127.0.0.1:6060 lets one profile the server while
	// it is measured (go tool pprof http://ADDR/debug/pprof/profile).
	if addr := os.Getenv("CCPOR_BENCH_PPROF"); addr != "" {
		args = append(args, "--debug-addr", addr)
	}
	c, base := startServeProcess(t, url, dir, nil, args...)
	s := &serverChild{URL: base, child: c}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop ends the child with SIGTERM, as a service manager would, and
// fails the test if it does not shut down cleanly.
func (s *serverChild) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if ps := s.wait(time.Minute); ps == nil {
		s.cmd.Process.Kill()
		t.Errorf("server child did not stop within a minute\n%s", s.tail())
	} else if s.err != nil {
		t.Errorf("server child: %v\n%s", s.err, s.tail())
	}
}

// tail is the end of the child's log, for failures.
func (s *serverChild) tail() string { return tail(s.stderr.String(), 4000) }

// WaitSearchable waits until the child's search answers (it answers 503
// while its index catches up with the outbox) and it has measured its
// match prior (index.FitPrior, seconds of CPU at a million orders), so
// that what is measured next is the server at rest, scoring as it will.
func (s *serverChild) WaitSearchable(t testing.TB, token string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, body := s.post(t, token, "/api/v1/search", []byte(`{"last":"ga","status":"any"}`))
		if code == http.StatusOK {
			rec, err := s.logged("match prior measured", time.Until(deadline))
			if err != nil {
				t.Fatalf("server child: %v\n%s", err, s.tail())
			}
			t.Logf("server child measured its match prior in %.1f s: %.2f other orders a person, prior %.3g", rec["seconds"], rec["others_per_person"], rec["prior"])
			return
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("search on the server child: %d %s\n%s", code, body, s.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *serverChild) post(t testing.TB, token, path string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := benchClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, got
}

// procStatus returns the child's /proc status fields in bytes (VmRSS,
// VmHWM, RssAnon, RssFile, ...).
func (s *serverChild) procStatus() map[string]float64 { return procStatus(s.cmd.Process.Pid) }

// procStatus returns the size fields of a process's /proc status in
// bytes; none when it cannot be read.
func procStatus(pid int) map[string]float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil
	}
	m := map[string]float64{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if f := strings.Fields(v); ok && len(f) == 2 && f[1] == "kB" {
			n, _ := strconv.ParseFloat(f[0], 64)
			m[k] = n * 1024
		}
	}
	return m
}

// openFiles counts the child's open file descriptors.
func (s *serverChild) openFiles() int {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	return len(fds)
}

// metrics reads the Go runtime figures the child publishes on /metrics.
func (s *serverChild) metrics(t testing.TB, names ...string) map[string]float64 {
	t.Helper()
	resp, err := benchClient.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		for _, want := range names {
			if ok && name == want {
				m[name], _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	return m
}

// indexBytes is the size on disk of the index generation in use in dir.
func indexBytes(t testing.TB, dir string) int64 {
	t.Helper()
	gen, err := filepath.EvalSymlinks(filepath.Join(dir, "current"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	err = filepath.WalkDir(gen, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
