package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStartLocalCluster starts a real throwaway cluster, as Locate does on
// a machine where no server answers, and connects to it.
func TestStartLocalCluster(t *testing.T) {
	ctx := context.Background()
	parent, err := os.MkdirTemp("", "ccpor-pg-")
	if err != nil {
		t.Fatal(err)
	}
	// The server may run as another user, who must reach the directory.
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(parent)
	dir, port := filepath.Join(parent, "pg"), 5499
	if err := startLocalCluster(ctx, dir, port); err != nil {
		t.Fatal(err)
	}
	defer func() {
		bin, _ := postgresBinDir()
		args := []string{filepath.Join(bin, "pg_ctl"), "-D", dir, "-m", "immediate", "stop"}
		if os.Geteuid() == 0 {
			args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
		}
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Errorf("stop cluster: %v\n%s", err, out)
		}
	}()
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if !canConnect(ctx, url) {
		t.Fatalf("cannot connect to the started cluster at %s", url)
	}
	dbURL, err := EnsureDatabase(ctx, url, "ccpor")
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}
