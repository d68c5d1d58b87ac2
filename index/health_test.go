package index_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
)

func TestOpenInUse(t *testing.T) {
	dir := t.TempDir()
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = index.Open(dir)
	if !errors.Is(err, index.ErrInUse) || !strings.Contains(err.Error(), dir) {
		t.Errorf("second Open of %s: %v, want ErrInUse naming the directory", dir, err)
	}
	if _, err := index.OpenFresh(dir); !errors.Is(err, index.ErrInUse) {
		t.Errorf("OpenFresh of a directory in use: %v, want ErrInUse", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing took %s: it must not wait for the lock", d)
	}
	ix.Close()
	ix2, err := index.Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	ix2.Close()
}

// largestSegment returns the biggest zap file of the generation in use.
func largestSegment(tb testing.TB, dir string) string {
	tb.Helper()
	gen, err := os.Readlink(filepath.Join(dir, "current"))
	if err != nil {
		tb.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, gen, "store", "*.zap"))
	var best string
	var size int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Size() > size {
			best, size = f, st.Size()
		}
	}
	if best == "" {
		tb.Fatalf("no segment in %s", gen)
	}
	return best
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	db, orders, _ := mustRegistry(t, 300)

	t.Run("Whole", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := index.Rebuild(ctx, dir, db, nil); err != nil {
			t.Fatal(err)
		}
		ix, _ := mustFollow(t, db, dir)
		if err := ix.Check(); err != nil {
			t.Fatalf("fresh index: %v", err)
		}
		// Touched but unchanged: a backup tool may do that.
		seg := largestSegment(t, dir)
		later := time.Now().Add(time.Minute)
		os.Chtimes(seg, later, later)
		if err := ix.Check(); err != nil {
			t.Errorf("segment touched, bytes unchanged: %v", err)
		}
		// New segments from intakes are whole too.
		o := *orders[0]
		o.ID, o.CaseNumber = "00000000-0000-4000-8000-00000000c4ec", o.CaseNumber+"C"
		if err := db.CreateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		f := &index.Follower{Index: ix, Feed: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := f.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ix.Check(); err != nil {
			t.Errorf("after an intake: %v", err)
		}
	})

	t.Run("Corrupted", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := index.Rebuild(ctx, dir, db, nil); err != nil {
			t.Fatal(err)
		}
		ix, _ := mustFollow(t, db, dir)
		if err := ix.Check(); err != nil {
			t.Fatal(err)
		}
		seg := largestSegment(t, dir)
		fh, err := os.OpenFile(seg, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fh.Stat()
		fh.WriteAt([]byte(strings.Repeat("\xa5", 512)), st.Size()/2)
		fh.Close()
		if err := ix.Check(); !errors.Is(err, index.ErrDamaged) {
			t.Errorf("segment overwritten: Check = %v, want ErrDamaged", err)
		}
	})

	t.Run("Deleted", func(t *testing.T) {
		dir := t.TempDir()
		ix, _ := mustFollow(t, db, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := ix.Check(); !errors.Is(err, index.ErrDamaged) {
			t.Errorf("directory removed: Check = %v, want ErrDamaged", err)
		}
	})
}

// TestFollowerRepairs: a follower whose index is damaged under it answers
// "unavailable", rebuilds from the registry, and answers again with every
// order.
func TestFollowerRepairs(t *testing.T) {
	ctx := context.Background()
	db, orders, _ := mustRegistry(t, 300)
	dir := t.TempDir()
	ix, f := mustFollow(t, db, dir)
	if err := f.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { f.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := f.Ready(ctx); ccpor.ErrorCode(err) != ccpor.EUnavailable {
		t.Fatalf("index directory removed: Ready = %v, want unavailable", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for f.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not repaired in 30 s: %v", f.Ready(ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _ := ix.Count(); n != 300 {
		t.Errorf("repaired index holds %d orders, want 300", n)
	}
	hits, err := ix.Candidates(ctx, orders[7].Restrained, orders[7].IssuedOn, index.Filter{}, 50)
	if err != nil || !containsOrder(hits, orders[7].ID) {
		t.Errorf("repaired index does not find an order by its restrained person: %v", err)
	}
	// The lock moved with the directory: a second server is refused.
	if _, err := index.Open(dir); !errors.Is(err, index.ErrInUse) {
		t.Errorf("Open of the repaired directory: %v, want ErrInUse", err)
	}
}

// TestFollowerNotified: a follower that would poll only once an hour sees
// a change committed elsewhere at once, woken by the database.
func TestFollowerNotified(t *testing.T) {
	ctx := context.Background()
	db, orders, _ := mustRegistry(t, 50)
	ix, f := mustFollow(t, db, t.TempDir())
	f.Poll, f.ReloadEvery = time.Hour, time.Hour
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.Run(runCtx)
	go db.ListenChanges(runCtx, f.Nudge, slog.New(slog.NewTextHandler(io.Discard, nil)))
	time.Sleep(200 * time.Millisecond) // listening
	o := *orders[3]
	o.ID, o.CaseNumber = "00000000-0000-4000-8000-0000000a0715", o.CaseNumber+"N"
	if err := db.CreateOrder(ctx, &o); err != nil {
		t.Fatal(err)
	}
	head, _ := db.ChangesHead(ctx)
	start := time.Now()
	if !ix.WaitFor(head, 5*time.Second) {
		t.Fatal("the change was not applied within 5 s of its commit, with polling off: no notification")
	}
	t.Logf("applied %s after commit", time.Since(start))
}
