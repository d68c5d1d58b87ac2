package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// LocalPort is where a throwaway cluster started by Locate listens, next to
// the usual 5432 so the two never collide.
const LocalPort = 5433

// Locate finds a PostgreSQL server to administer (create databases on) and
// returns a URL to its maintenance database. In order: the server in
// DATABASE_URL; the local server on 127.0.0.1:5432 as user postgres or
// root; a throwaway cluster under dataDir, started from the installed
// PostgreSQL binaries if it is not running. When none works the error says
// what to do.
func Locate(ctx context.Context, dataDir string, log *slog.Logger) (string, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u, nil
	}
	for _, u := range []string{
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"postgres://root@127.0.0.1:5432/postgres?sslmode=disable",
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgres://root@127.0.0.1:5432/test?sslmode=disable",
	} {
		if canConnect(ctx, u) {
			return u, nil
		}
	}
	u := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", LocalPort)
	if canConnect(ctx, u) {
		return u, nil
	}
	log.Info("no PostgreSQL answers on 127.0.0.1:5432; starting a throwaway cluster", "dir", filepath.Join(dataDir, "pg"), "port", LocalPort)
	if err := startLocalCluster(ctx, filepath.Join(dataDir, "pg"), LocalPort); err != nil {
		return "", fmt.Errorf("%w\nNo PostgreSQL server found. Either set DATABASE_URL=postgres://user@host:port/db, "+
			"start the local server (pg_ctlcluster 15 main start), or install PostgreSQL (apt-get install postgresql) "+
			"so ccpor can start its own cluster", err)
	}
	if !canConnect(ctx, u) {
		return "", fmt.Errorf("started a cluster in %s but cannot connect to %s", dataDir, u)
	}
	return u, nil
}

// EnsureDatabase creates the database name on the server at adminURL when
// it does not exist, and returns a URL to it. A DATABASE_URL given by the
// user is returned as it is: it names the database already.
func EnsureDatabase(ctx context.Context, adminURL, name string) (string, error) {
	if os.Getenv("DATABASE_URL") == adminURL {
		return adminURL, nil
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil && !isDuplicateDatabase(err) {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return WithDatabase(adminURL, name)
}

// WithDatabase returns the URL with its database replaced by name.
func WithDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func canConnect(ctx context.Context, u string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return false
	}
	conn.Close(ctx)
	return true
}

// StartCluster initialises (once) and starts a cluster in dir listening on
// 127.0.0.1:port, as Locate does for its throwaway cluster; tests that
// restart their own server use it (storetest.StartCluster).
func StartCluster(ctx context.Context, dir string, port int) error {
	return startLocalCluster(ctx, dir, port)
}

// PostgresBinDir is the directory of the installed initdb and pg_ctl.
func PostgresBinDir() (string, error) { return postgresBinDir() }

// startLocalCluster initialises (once) and starts a cluster in dir. Run as
// root, it runs the server as the postgres user, since PostgreSQL refuses
// to run as root.
func startLocalCluster(ctx context.Context, dir string, port int) error {
	bin, err := postgresBinDir()
	if err != nil {
		return err
	}
	var asUser []string
	var uid, gid int = -1, -1
	if os.Geteuid() == 0 {
		pu, err := user.Lookup("postgres")
		if err != nil {
			return errors.New("running as root and there is no postgres user to run the server as")
		}
		uid, _ = strconv.Atoi(pu.Uid)
		gid, _ = strconv.Atoi(pu.Gid)
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	// The parent stays traversable: the server runs as postgres.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	run := func(args ...string) error {
		args = append(asUser, args...)
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", filepath.Base(args[len(asUser)]), err, out)
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		if err := run(filepath.Join(bin, "initdb"), "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off", port)
	return run(filepath.Join(bin, "pg_ctl"), "-D", dir, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "start")
}

// postgresBinDir finds initdb and pg_ctl: on PATH, else the newest
// /usr/lib/postgresql/N/bin.
func postgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
}

func isDuplicateDatabase(err error) bool {
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == "42P04"
}
