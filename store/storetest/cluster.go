package storetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccpor/ccpor/store"
	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL server of one test's own, for tests that stop or
// restart the database under load: the shared server must never be
// restarted, since every other test binary uses it.
type Cluster struct {
	// Dir is the data directory; Port the TCP port on 127.0.0.1.
	Dir  string
	Port int
	// URL is the maintenance database "postgres", as user postgres.
	URL string

	tb testing.TB
}

// StartCluster initialises a cluster in a temporary directory, starts it
// on a free port, and stops it when the test ends. The test is skipped
// only when the PostgreSQL server binaries are not installed.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if _, err := store.PostgresBinDir(); err != nil {
		tb.Skipf("no PostgreSQL server binaries to start a cluster of the test's own: %v", err)
	}
	// Run as root, the server runs as postgres, which must reach the data
	// directory through the test's temporary directories (made 0700).
	tmp := tb.TempDir()
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		if err := os.Chmod(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	c := &Cluster{Dir: filepath.Join(tmp, "pg"), Port: freePort(tb), tb: tb}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
	// Registered after TempDir's own clean-up, so it runs before the
	// directory is removed under a running server.
	tb.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(c.Dir, "postmaster.pid")); err == nil {
			_ = c.pgctl("stop", "-m", "immediate")
		}
	})
	c.Start()
	return c
}

// Start starts the server (initialising the cluster the first time) and
// returns once it accepts connections.
func (c *Cluster) Start() {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := store.StartCluster(ctx, c.Dir, c.Port); err != nil {
		c.tb.Fatalf("start cluster: %v", err)
	}
}

// Stop stops the server the way an administrator's restart does: fast
// mode, which ends every session and rolls back open transactions.
func (c *Cluster) Stop() {
	c.tb.Helper()
	if err := c.pgctl("stop", "-m", "fast"); err != nil {
		c.tb.Fatalf("stop cluster: %v", err)
	}
}

// Restart stops the server, leaves it down for down, and starts it again
// on the same port.
func (c *Cluster) Restart(down time.Duration) {
	c.tb.Helper()
	c.Stop()
	time.Sleep(down)
	c.Start()
}

// CreateDatabase creates a database on the cluster, migrates it and
// returns its URL.
func (c *Cluster) CreateDatabase(name string) string {
	c.tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		c.tb.Fatalf("create database: %v", err)
	}
	url, err := store.WithDatabase(c.URL, name)
	if err != nil {
		c.tb.Fatal(err)
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		c.tb.Fatalf("migrate %s: %v", name, err)
	}
	db.Close()
	return url
}

// pgctl runs pg_ctl on the cluster, as the postgres user when run as root
// (the server refuses to run as root).
func (c *Cluster) pgctl(args ...string) error {
	bin, err := store.PostgresBinDir()
	if err != nil {
		return err
	}
	argv := append([]string{filepath.Join(bin, "pg_ctl"), "-D", c.Dir, "-w"}, args...)
	if os.Geteuid() == 0 {
		argv = append([]string{"runuser", "-u", "postgres", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %v: %w\n%s", args, err, out)
	}
	return nil
}

// freePort is a TCP port nothing listens on at the moment.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
