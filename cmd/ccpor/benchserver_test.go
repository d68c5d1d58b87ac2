package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The scale and soak benchmarks run the server in a child process — this
// test binary re-executed as `ccpor serve` — so that its RSS, open files
// and goroutines are the server's own, not mixed with the load
// generator's.
const (
	childDBEnv    = "CCPOR_BENCH_CHILD_DB"
	childIndexEnv = "CCPOR_BENCH_CHILD_INDEX"
	childAddrLine = "ccpor-bench-listening "
)

// TestBenchServerChild is the server child of the benchmarks; run on its
// own it does nothing.
func TestBenchServerChild(t *testing.T) {
	url := os.Getenv(childDBEnv)
	if url == "" {
		t.Skip("the benchmarks' server child: runs only when they start it")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	listening := make(chan string, 1)
	go func() {
		fmt.Printf("%s%s\n", childAddrLine, <-listening)
	}()
	cmd := &ServeCommand{Stdout: io.Discard, Stderr: os.Stderr, Listening: listening}
	cmd.db.url = url
	// One client per limiter key: the limits would measure themselves.
	unlimited := "1000000/1000000"
	if err := cmd.Run(ctx, []string{"--addr", "127.0.0.1:0", "--index-dir", os.Getenv(childIndexEnv),
		"--rate-read", unlimited, "--rate-search", unlimited, "--rate-write", unlimited, "--rate-failed-auth", unlimited}); err != nil {
		t.Fatal(err)
	}
}

// benchClient is the benchmarks' single client: a server that stops
// answering fails the run with a message instead of stalling it until
// go test's timeout.
var benchClient = &http.Client{Timeout: 2 * time.Minute}

// serverChild is a running `ccpor serve` child.
type serverChild struct {
	URL  string
	cmd  *exec.Cmd
	logf string
	done chan error
}

// startServer starts the server child on the database at url with the
// index in dir (which no other process may have open) and returns once it
// listens; it is stopped when the test ends.
func startServer(t testing.TB, url, dir string) *serverChild {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := &serverChild{logf: filepath.Join(t.TempDir(), "serve.log"), done: make(chan error, 1)}
	logFile, err := os.Create(s.logf)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(exe, "-test.run=^TestBenchServerChild$", "-test.timeout=0")
	s.cmd.Env = append(os.Environ(), childDBEnv+"="+url, childIndexEnv+"="+dir)
	s.cmd.Stderr = logFile
	// A parent killed by go test's timeout runs no cleanup: the child must
	// not outlive it, serving and holding the index.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), childAddrLine); ok {
				addr <- a
			}
		}
	}()
	go func() { s.done <- s.cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() { s.Stop(t) })
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case err := <-s.done:
		s.done <- err
		t.Fatalf("server child exited: %v\n%s", err, s.tail())
	case <-time.After(2 * time.Minute):
		t.Fatalf("server child did not listen\n%s", s.tail())
	}
	return s
}

// Stop ends the child with SIGTERM, as a service manager would, and
// fails the test if it does not shut down cleanly.
func (s *serverChild) Stop(t testing.TB) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server child: %v\n%s", err, s.tail())
		}
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		t.Errorf("server child did not stop within a minute\n%s", s.tail())
	}
}

// tail is the end of the child's log, for failures.
func (s *serverChild) tail() string {
	b, _ := os.ReadFile(s.logf)
	return string(b[max(0, len(b)-4000):])
}

// WaitSearchable waits until the child's search answers (it answers 503
// while its index catches up with the outbox).
func (s *serverChild) WaitSearchable(t testing.TB, token string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, body := s.post(t, token, "/api/v1/search", []byte(`{"last":"ga","status":"any"}`))
		if code == http.StatusOK {
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
func (s *serverChild) procStatus() map[string]float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
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
