// Package index is the registry's search index: a Bleve index derived
// from PostgreSQL, following its outbox, that turns a person as typed into
// candidate orders for matching to score. Nothing in it is precious:
// delete the directory and it rebuilds.
package index

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/ccpor/ccpor"
)

// seqKey is the internal key holding the last outbox sequence applied, so
// the position is stored in the index itself and moves with each batch.
var seqKey = []byte("ccpor.outbox.seq")

// layoutKey holds the Layout an index generation was created with.
var layoutKey = []byte("ccpor.layout")

// Layout names what a rebuild puts in the index: the fields and terms of
// a document and how segments are merged. Change it with them, so that a
// kept benchmark index is rebuilt rather than measured in an old layout.
// A change that leaves older generations answering as the new code asks
// need not force every node to rebuild: the dob and dob_sorted fields were
// dropped (2026-12-07) because the d: and ds: keys always held the same
// terms, and an older generation still has those keys.
const Layout = "2026-12-08: the stored people keep height and weight (matching weighs them)"

// currentLink names the generation in use inside the index directory. A
// rebuild writes a new generation beside it and replaces the link with a
// rename, so readers see the old index or the new one, never half of one.
const currentLink = "current"

// lockName is the file in the index directory that the process
// following the outbox holds a lock on. Two followers in one directory
// would each write segments the other does not know of, and Bleve's own
// lock (on root.bolt) waits forever instead of failing.
const lockName = "serve.lock"

// ErrInUse is the error of opening an index directory another server holds.
var ErrInUse = errors.New("index directory in use by another ccpor serve")

// Index is an open Bleve index with its outbox position.
type Index struct {
	dir  string
	lock *os.File

	mu  sync.RWMutex
	bi  bleve.Index
	gen string // generation directory name
	seq int64

	waitMu  sync.Mutex
	waiters []waiter

	// segments holds each segment file as first seen (see Check).
	segMu    sync.Mutex
	segments map[string]fileStamp

	// others holds, as float64 bits, how many other orders FitPrior found
	// naming a restrained person (zero until it has run).
	others atomic.Uint64
}

type waiter struct {
	seq int64
	ch  chan struct{}
}

// Open opens the index in dir, creating an empty one when there is none.
// It fails when the index exists but cannot be read (corrupt): the caller
// should then Rebuild. It fails at once when another Index holds dir, in
// this process or another: give each server its own directory.
func Open(dir string) (*Index, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	ix, err := openLocked(dir, lock)
	if err != nil {
		lock.Close()
	}
	return ix, err
}

func openLocked(dir string, lock *os.File) (*Index, error) {
	ix := &Index{dir: dir, lock: lock, segments: map[string]fileStamp{}}
	gen, err := os.Readlink(filepath.Join(dir, currentLink))
	if errors.Is(err, os.ErrNotExist) {
		gen, err = newGeneration(dir, 0)
		if err != nil {
			return nil, err
		}
		if err := swapCurrent(dir, gen); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if err := ix.open(gen); err != nil {
		return nil, err
	}
	return ix, nil
}

// lockDir creates dir if needed and takes its lock without waiting,
// writing this process's ID into the lock file for the message another
// process gets.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s, by process %s; give each server its own --index-dir", ErrInUse, dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock index directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func (ix *Index) open(gen string) error {
	bi, err := bleve.OpenUsing(filepath.Join(ix.dir, gen), servingConfig)
	if err != nil {
		return fmt.Errorf("open index %s: %w", gen, err)
	}
	seq, err := readSeq(bi)
	if err != nil {
		bi.Close()
		return err
	}
	ix.mu.Lock()
	old := ix.bi
	ix.bi, ix.gen, ix.seq = bi, gen, seq
	ix.mu.Unlock()
	ix.segMu.Lock()
	clear(ix.segments)
	ix.segMu.Unlock()
	if old != nil {
		old.Close()
	}
	ix.notify(seq)
	return nil
}

// OpenFresh starts a new, empty generation in dir and opens it, leaving
// whatever was there (an unreadable index) to be removed once a rebuild
// replaces it.
func OpenFresh(dir string) (*Index, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	gen, err := newGeneration(dir, 0)
	if err == nil {
		err = swapCurrent(dir, gen)
	}
	var ix *Index
	if err == nil {
		ix, err = openLocked(dir, lock)
	}
	if err != nil {
		lock.Close()
	}
	return ix, err
}

// servingConfig is the runtime configuration of the generation in use.
// Each intake adds a small segment, and every query looks each of its
// terms up in every segment: at a million orders, twenty small segments
// doubled search and conflict-check times. So small segments merge two at
// a time as soon as there are two in a tier, while a segment of more than
// half MaxSegmentSize — the one a rebuild writes — is never merged again
// in the background, where rewriting it would cost a minute of both cores.
var servingConfig = map[string]interface{}{
	"scorchMergePlanOptions": map[string]interface{}{
		"MaxSegmentsPerTier": 2, "SegmentsPerMergeTask": 2, "MaxSegmentSize": 200000,
	},
}

// Outdated reports whether the index was built in another Layout than
// this program writes (its fields or analysers changed): it must be
// rebuilt, or searches would miss what only the new layout indexes.
func (ix *Index) Outdated() bool {
	ix.mu.RLock()
	bi := ix.bi
	ix.mu.RUnlock()
	if bi == nil {
		return false
	}
	v, err := bi.GetInternal(layoutKey)
	return err != nil || string(v) != Layout
}

// Close closes the index and lets another process open its directory.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var err error
	if ix.bi != nil {
		err = ix.bi.Close()
		ix.bi = nil
	}
	if ix.lock != nil {
		ix.lock.Close()
		ix.lock = nil
	}
	return err
}

// Dir returns the index directory.
func (ix *Index) Dir() string { return ix.dir }

// Seq returns the last outbox sequence number applied.
func (ix *Index) Seq() int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.seq
}

// Count returns how many orders the index holds.
func (ix *Index) Count() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.bi == nil {
		return 0, errClosed
	}
	return ix.bi.DocCount()
}

var errClosed = ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: the index is not open.")

// Apply indexes the orders, removes the deleted IDs and records seq, in
// one Bleve batch: a crash leaves the index at the old position or the new
// one, and replaying from the old is harmless because indexing an order
// again replaces it.
func (ix *Index) Apply(orders []*ccpor.Order, deleted []string, seq int64) error {
	ix.mu.RLock()
	bi := ix.bi
	ix.mu.RUnlock()
	if bi == nil {
		return errClosed
	}
	if err := applyBatch(bi, orders, deleted, seq); err != nil {
		return err
	}
	ix.mu.Lock()
	if ix.bi == bi && seq > ix.seq {
		ix.seq = seq
	}
	ix.mu.Unlock()
	ix.notify(seq)
	return nil
}

func applyBatch(bi bleve.Index, orders []*ccpor.Order, deleted []string, seq int64) error {
	b := bi.NewBatch()
	for _, o := range orders {
		d, err := newDocument(o)
		if err != nil {
			return fmt.Errorf("index order %s: %w", o.ID, err)
		}
		if err := b.Index(o.ID, d); err != nil {
			return fmt.Errorf("index order %s: %w", o.ID, err)
		}
	}
	for _, id := range deleted {
		b.Delete(id)
	}
	b.SetInternal(seqKey, []byte(strconv.FormatInt(seq, 10)))
	return bi.Batch(b)
}

// WaitFor blocks until the index has applied seq or the timeout passes,
// and reports whether it has. An intake calls it so that the clerk who
// entered an order finds it at once.
func (ix *Index) WaitFor(seq int64, timeout time.Duration) bool {
	if ix.Seq() >= seq {
		return true
	}
	ch := make(chan struct{})
	ix.waitMu.Lock()
	ix.waiters = append(ix.waiters, waiter{seq, ch})
	ix.waitMu.Unlock()
	if ix.Seq() >= seq { // applied between the check and the registration
		return true
	}
	select {
	case <-ch:
		return true
	case <-time.After(timeout):
		return ix.Seq() >= seq
	}
}

func (ix *Index) notify(seq int64) {
	ix.waitMu.Lock()
	defer ix.waitMu.Unlock()
	kept := ix.waiters[:0]
	for _, w := range ix.waiters {
		if w.seq <= seq {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	ix.waiters = kept
}

func readSeq(bi bleve.Index) (int64, error) {
	v, err := bi.GetInternal(seqKey)
	if err != nil {
		return 0, fmt.Errorf("read index position: %w", err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	seq, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("index position %q: %w", v, err)
	}
	return seq, nil
}

// newGeneration creates an empty index directory in dir at position seq
// and returns its name.
func newGeneration(dir string, seq int64) (string, error) {
	gen := fmt.Sprintf("gen-%d", time.Now().UnixNano())
	bi, err := bleve.New(filepath.Join(dir, gen), newMapping())
	if err != nil {
		return "", fmt.Errorf("create index: %w", err)
	}
	if err := bi.SetInternal(seqKey, []byte(strconv.FormatInt(seq, 10))); err != nil {
		bi.Close()
		return "", err
	}
	if err := bi.SetInternal(layoutKey, []byte(Layout)); err != nil {
		bi.Close()
		return "", err
	}
	return gen, bi.Close()
}

// swapCurrent points the current link at gen atomically.
func swapCurrent(dir, gen string) error {
	tmp := filepath.Join(dir, currentLink+".tmp")
	os.Remove(tmp)
	if err := os.Symlink(gen, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, currentLink))
}

// Reload switches to the current generation if a rebuild replaced it, and
// removes generations no longer in use. It reports whether it switched.
func (ix *Index) Reload() (bool, error) {
	gen, err := os.Readlink(filepath.Join(ix.dir, currentLink))
	if err != nil {
		return false, err
	}
	ix.mu.RLock()
	same := gen == ix.gen
	ix.mu.RUnlock()
	if same {
		return false, nil
	}
	if err := ix.open(gen); err != nil {
		return false, err
	}
	removeStale(ix.dir, gen)
	return true, ix.relock()
}

// removeStale deletes generations older than keep. Newer ones may be a
// rebuild in progress in another process.
func removeStale(dir, keep string) {
	k := genTime(keep)
	old, _ := filepath.Glob(filepath.Join(dir, "gen-*"))
	for _, g := range old {
		if t := genTime(filepath.Base(g)); t > 0 && t < k {
			os.RemoveAll(g)
		}
	}
}

func genTime(gen string) int64 {
	t, _ := strconv.ParseInt(strings.TrimPrefix(gen, "gen-"), 10, 64)
	return t
}
