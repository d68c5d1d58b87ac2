package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the fault tests run ccpor as a separate process: the test
// binary, started again with CCPOR_TEST_MAIN=1, is the ccpor binary. A
// process of its own can be killed, signalled, and locked out of an index
// directory by another, none of which an in-process Run shows.
func TestMain(m *testing.M) {
	if os.Getenv("CCPOR_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is ccpor running as a process of its own.
type child struct {
	cmd    *exec.Cmd
	stderr *lineWatch
	stdout bytes.Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's, once done
}

// startChild runs `ccpor args...` with DATABASE_URL=url and the extra
// environment, and kills it when the test ends if it is still running.
func startChild(tb testing.TB, url string, env []string, args ...string) *child {
	tb.Helper()
	c := &child{stderr: &lineWatch{}, done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], args...)
	c.cmd.Env = append(os.Environ(), "CCPOR_TEST_MAIN=1", "DATABASE_URL="+url)
	c.cmd.Env = append(c.cmd.Env, env...)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, c.stderr
	// A parent killed by go test's timeout runs no cleanup: the child must
	// not outlive it, serving and holding an index.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	tb.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
		if tb.Failed() {
			tb.Logf("ccpor %s stderr (last 4 KB):\n%s", args[0], tail(c.stderr.String(), 4096))
		}
	})
	return c
}

// wait waits up to timeout for the process to exit and returns its state,
// or nil when it is still running.
func (c *child) wait(timeout time.Duration) *os.ProcessState {
	select {
	case <-c.done:
		return c.cmd.ProcessState
	case <-time.After(timeout):
		return nil
	}
}

// killedBy reports whether the process ended by the signal sig.
func killedBy(ps *os.ProcessState, sig syscall.Signal) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// serveArgs are the flags of a child `ccpor serve` on a free port with its
// index in dir: OCR is off (it would only compete for the two cores) and
// the rate limits are out of the way, as in MustServe.
func serveArgs(dir string, extra ...string) []string {
	return append([]string{"serve", "--addr", "127.0.0.1:0", "--index-dir", dir, "--ocr=false",
		"--rate-read", "100000/100000", "--rate-search", "100000/100000", "--rate-write", "100000/100000"}, extra...)
}

// startServeProcess runs `ccpor serve` as a child and returns it with its
// base URL once it listens.
func startServeProcess(tb testing.TB, url, dir string, env []string, extra ...string) (*child, string) {
	tb.Helper()
	c := startChild(tb, url, env, serveArgs(dir, extra...)...)
	addr, err := c.listening(60 * time.Second)
	if err != nil {
		tb.Fatalf("serve: %v\n%s", err, tail(c.stderr.String(), 4096))
	}
	return c, "http://" + addr
}

// listening waits for serve's "serving" log line and returns its address.
func (c *child) listening(timeout time.Duration) (string, error) {
	rec, err := c.logged("serving", timeout)
	if err != nil {
		return "", err
	}
	addr, _ := rec["addr"].(string)
	if addr == "" {
		return "", errors.New(`"serving" logged without an address`)
	}
	return addr, nil
}

// logged waits for serve's first JSON log line with message msg and
// returns it.
func (c *child) logged(msg string, timeout time.Duration) (map[string]any, error) {
	deadline := time.After(timeout)
	for {
		// Taken before reading, so a line written meanwhile still wakes us.
		more := c.stderr.changed()
		for _, l := range c.stderr.Lines() {
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == msg {
				return rec, nil
			}
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("exited before logging %q: %v", msg, c.err)
		case <-deadline:
			return nil, fmt.Errorf("%q not logged within %s", msg, timeout)
		case <-more:
		}
	}
}

// lineWatch keeps what a child writes to stderr and tells waiters when
// more arrives.
type lineWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.wake != nil {
		close(w.wake)
		w.wake = nil
	}
	return len(p), nil
}

func (w *lineWatch) changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wake == nil {
		w.wake = make(chan struct{})
	}
	return w.wake
}

func (w *lineWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Lines are the complete lines written so far.
func (w *lineWatch) Lines() []string {
	s := w.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n")
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
