package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// ErrDamaged is the error of an index whose files were removed or changed
// under it while it served. Its answers can no longer be trusted: search
// must answer "unavailable" until a rebuild replaces it.
var ErrDamaged = errors.New("search index damaged")

// fileStamp is what a segment file looked like when first seen. Bleve
// never rewrites a segment, so a later change of size or time is damage
// (confirmed by the segment's own checksum before the index is condemned).
type fileStamp struct {
	size int64
	mod  time.Time
}

// Check reports, cheaply enough to run before every search, whether the
// generation in use is still whole: its directory, its root file and
// every segment it reads, unchanged. It returns nil for an index that a
// rebuild replaced (Reload switches to it), and an error wrapping
// ErrDamaged otherwise.
func (ix *Index) Check() error {
	ix.mu.RLock()
	bi, gen := ix.bi, ix.gen
	ix.mu.RUnlock()
	if bi == nil {
		return errClosed
	}
	cur, err := os.Readlink(filepath.Join(ix.dir, currentLink))
	if err != nil {
		return fmt.Errorf("%w: %s has no current generation: %v", ErrDamaged, ix.dir, err)
	}
	if cur != gen {
		return nil
	}
	for _, f := range []string{"index_meta.json", filepath.Join("store", "root.bolt")} {
		if _, err := os.Stat(filepath.Join(ix.dir, gen, f)); err != nil {
			return fmt.Errorf("%w: %v", ErrDamaged, err)
		}
	}
	paths, err := segmentPaths(bi)
	if err != nil {
		return err
	}
	ix.forgetSegments(paths)
	for _, p := range paths {
		if err := ix.checkSegment(p); err != nil {
			// A merge may have replaced the segment since the snapshot was
			// taken, and removed its file: only a file the index still
			// reads counts.
			if again, _ := segmentPaths(bi); !slices.Contains(again, p) {
				continue
			}
			return err
		}
	}
	return nil
}

// forgetSegments drops the stamps of files merged away, so the map holds
// only what the index reads.
func (ix *Index) forgetSegments(paths []string) {
	ix.segMu.Lock()
	defer ix.segMu.Unlock()
	if len(ix.segments) <= len(paths) {
		return
	}
	for p := range ix.segments {
		if !slices.Contains(paths, p) {
			delete(ix.segments, p)
		}
	}
}

func (ix *Index) checkSegment(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: segment %s: %v", ErrDamaged, filepath.Base(path), err)
	}
	now := fileStamp{st.Size(), st.ModTime()}
	ix.segMu.Lock()
	was, ok := ix.segments[path]
	if !ok {
		ix.segments[path] = now
	}
	ix.segMu.Unlock()
	if !ok || was == now {
		return nil
	}
	if err := verifySegment(path); err != nil {
		return fmt.Errorf("%w: segment %s changed after it was written: %v", ErrDamaged, filepath.Base(path), err)
	}
	// Touched but whole (a backup tool, a copy that kept the bytes).
	ix.segMu.Lock()
	ix.segments[path] = now
	ix.segMu.Unlock()
	return nil
}

// verifySegment checks a zap segment file against the CRC-32 that its last
// four bytes hold of everything before them.
func verifySegment(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() < 4 {
		return errors.New("truncated")
	}
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, io.LimitReader(f, st.Size()-4)); err != nil {
		return err
	}
	var want [4]byte
	if _, err := io.ReadFull(f, want[:]); err != nil {
		return err
	}
	if got := h.Sum32(); got != binary.BigEndian.Uint32(want[:]) {
		return fmt.Errorf("checksum %08x, recorded %08x", got, binary.BigEndian.Uint32(want[:]))
	}
	return nil
}

// segmentPaths lists the files of the segments the index reads now.
// Segments not yet written to disk have none.
func segmentPaths(bi bleve.Index) ([]string, error) {
	adv, err := bi.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, nil
	}
	var paths []string
	for _, ss := range snap.Segments() {
		if p, ok := ss.Segment().(interface{ Path() string }); ok && p.Path() != "" {
			paths = append(paths, p.Path())
		}
	}
	return paths, nil
}

// relock takes the directory's lock again when its file was removed with
// the directory: otherwise a second server could lock the new file.
func (ix *Index) relock() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.lock != nil {
		held, err1 := ix.lock.Stat()
		now, err2 := os.Stat(filepath.Join(ix.dir, lockName))
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return nil
		}
	}
	lock, err := lockDir(ix.dir)
	if err != nil {
		return err
	}
	if ix.lock != nil {
		ix.lock.Close()
	}
	ix.lock = lock
	return nil
}
