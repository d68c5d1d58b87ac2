package scan

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunLimits(t *testing.T) {
	ctx := context.Background()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	t.Run("AddressSpace", func(t *testing.T) {
		res, err := run(ctx, 5*time.Second, sh, "-c", "ulimit -v")
		if err != nil || res.err != nil {
			t.Fatalf("run: %v, %v", err, res.err)
		}
		if got, want := strings.TrimSpace(string(res.stdout)), strconv.Itoa(memoryLimitKB); got != want {
			t.Errorf("ulimit -v = %q, want %q", got, want)
		}
	})
	t.Run("Environment", func(t *testing.T) {
		t.Setenv("DATABASE_URL", "postgres://secret")
		res, err := run(ctx, 5*time.Second, sh, "-c", "env")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(res.stdout, []byte("OMP_THREAD_LIMIT=1")) || bytes.Contains(res.stdout, []byte("secret")) {
			t.Errorf("the tool's environment is\n%s", res.stdout)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		start := time.Now()
		_, err := run(ctx, 100*time.Millisecond, sh, "-c", "sleep 10")
		if !errors.Is(err, errTimedOut) {
			t.Errorf("run = %v, want errTimedOut", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("run took %v", d)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := run(ctx, time.Minute, sh, "-c", "sleep 10"); !errors.Is(err, context.Canceled) {
			t.Errorf("run = %v, want context.Canceled", err)
		}
	})
	t.Run("FailedExitIsResult", func(t *testing.T) {
		res, err := run(ctx, 5*time.Second, sh, "-c", "echo oops >&2; exit 3")
		if err != nil || res.err == nil || string(res.stderr) != "oops\n" {
			t.Errorf("run = %+v, %v", res, err)
		}
	})
	t.Run("OutputCapped", func(t *testing.T) {
		c := &capped{max: 4}
		c.Write([]byte("abc"))
		c.Write([]byte("def"))
		if c.String() != "abcd" || !c.overflow {
			t.Errorf("capped = %q, overflow %v", c.String(), c.overflow)
		}
	})
}
