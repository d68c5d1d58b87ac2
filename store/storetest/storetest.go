// Package storetest gives each test its own freshly migrated database,
// cloned from a template so that a test costs one CREATE DATABASE, not a
// migration run.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccpor/ccpor/store"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

var (
	once     sync.Once
	adminURL string
	template string
	setupErr error
)

// MustOpenDB returns a new, migrated, empty database for this test only,
// dropped when the test ends. The server is found as store.Locate finds it
// (DATABASE_URL, the local server, or a throwaway cluster); when none can
// be had the test fails with the reason — it is never silently skipped.
func MustOpenDB(tb testing.TB) *store.DB {
	tb.Helper()
	ctx := context.Background()
	url := MustCreateDatabase(tb)
	db, err := store.Open(ctx, url)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}

// MustCreateDatabase returns the URL of a new migrated database for this
// test, dropped when the test ends.
func MustCreateDatabase(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	once.Do(func() { setupErr = setup(ctx) })
	if setupErr != nil {
		tb.Fatalf("test database server: %v", setupErr)
	}
	name := "ccpor_test_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		tb.Fatalf("connect to test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	url, err := store.WithDatabase(adminURL, name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			tb.Errorf("drop test database: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database: %v", err)
		}
	})
	return url
}

// setup finds the server and makes the template database for the current
// migrations. The template's name carries a hash of the migrations, so a
// changed schema gets a new template and parallel test binaries share one.
func setup(ctx context.Context) error {
	var err error
	adminURL, err = store.Locate(ctx, dataDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	template = "ccpor_template_" + migrationsHash()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// Test binaries of several packages start at once; one makes the
	// template while the others wait on this lock.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7263637072)`); err != nil {
		return err
	}
	defer conn.Exec(ctx, `SELECT pg_advisory_unlock(7263637072)`)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := template + "_building"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return err
	}
	url, err := store.WithDatabase(adminURL, building)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	db.Close()
	// Renaming last means a template only ever exists fully migrated.
	_, err = conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+template)
	return err
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(store.Migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(store.Migrations, path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// dataDir is the repository's .data directory, where a throwaway cluster
// lives when no server runs.
func dataDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", ".data")
}

// Now is a fixed instant for tests that need one.
var Now = time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC)
