package index

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/ccpor/ccpor"
)

// rebuildBatch is how many orders go into one Bleve batch when rebuilding.
// Larger batches made fewer segments but no faster a build, and tripled
// its memory.
const rebuildBatch = 2500

// buildConfig is the runtime configuration of a generation being built.
// Scorch's default tiers merge ten segments at a time, so at a million
// orders each is written again at three or four tiers; forty at a time
// writes it once or twice before mergeAll. Not merging at all was slower
// still: every batch checks its IDs against every segment, so the cost of
// a batch grows with their number. It is not stored in the index: the
// generation opened for serving merges as usual.
//
// A batch is not waited on until it is on disk (unsafe_batch), so a
// writer does not sit out the persister's fsyncs. A generation is of no
// use until Rebuild swaps it in, so a crash loses nothing that was not
// going to be rebuilt; Rebuild waits for the last batch to be written
// (see persisted) before merging.
var buildConfig = map[string]interface{}{
	"scorchMergePlanOptions": map[string]interface{}{"MaxSegmentsPerTier": 40, "SegmentsPerMergeTask": 40},
	"unsafe_batch":           true,
	"asyncErrorCallbackName": buildErrorsName,
}

// buildErrorsName names the callback through which Scorch reports a
// failure to write or merge a generation being built, which no Batch
// call returns once batches are unsafe.
const buildErrorsName = "ccpor_rebuild"

// buildErrors holds, by generation directory, the channel on which its
// Rebuild hears of such a failure.
var buildErrors sync.Map

func init() {
	scorch.RegistryAsyncErrorCallbacks[buildErrorsName] = func(err error, path string) {
		for _, p := range []string{path, filepath.Dir(path)} {
			if ch, ok := buildErrors.Load(p); ok {
				select {
				case ch.(chan error) <- err:
				default: // the first failure is enough
				}
				return
			}
		}
	}
}

// persisted records the outbox position in a last batch and waits until
// it is on disk. Scorch writes snapshots in order, so every batch before
// it is too: mergeAll merges only segments that are on disk.
func persisted(ctx context.Context, bi bleve.Index, head int64, failed <-chan error) error {
	b := bi.NewBatch()
	b.SetInternal(seqKey, []byte(strconv.FormatInt(head, 10)))
	done := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { done <- err })
	if err := bi.Batch(b); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case err := <-failed:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// While a rebuild runs the garbage collector lets the heap grow to five
// times what is live, up to rebuildHeadroom more than the process used
// before it. Each batch allocates its documents, analyses and segment
// anew while only a few batches stay live: at the default of twice, the
// collector took a quarter of the build.
const (
	rebuildGCPercent = 400
	rebuildHeadroom  = 1 << 30
)

// collectLess sets the collector for a rebuild and returns what puts it
// back. An operator's GOGC above it, or off, and GOMEMLIMIT are kept.
func collectLess() (restore func()) {
	var restores []func()
	if prev := debug.SetGCPercent(rebuildGCPercent); prev < 0 || prev > rebuildGCPercent {
		debug.SetGCPercent(prev)
	} else {
		restores = append(restores, func() { debug.SetGCPercent(prev) })
	}
	if prev := debug.SetMemoryLimit(-1); prev == math.MaxInt64 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		debug.SetMemoryLimit(int64(m.Sys-m.HeapReleased) + rebuildHeadroom)
		restores = append(restores, func() { debug.SetMemoryLimit(prev) })
	}
	return func() {
		for _, r := range restores {
			r()
		}
	}
}

// mergeAll merges every segment of a finished build into one: a query then
// looks each term up once, not once per segment. The tasks are as wide as
// the build has segments, so each order is written once more, not once
// per tier.
func mergeAll(ctx context.Context, bi bleve.Index) error {
	adv, err := bi.Advanced()
	if err != nil {
		return err
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	opts := mergeplan.SingleSegmentMergePlanOptions
	opts.SegmentsPerMergeTask = 1 << 16
	return s.ForceMerge(ctx, &opts)
}

// Rebuild builds a new generation of the index in dir from every order in
// the feed, then makes it current with an atomic rename; an open Index
// picks it up on Reload. Changes committed while it runs are replayed by
// the follower from the position recorded at the start. progress, when
// not nil, is called with the number of orders indexed so far.
func Rebuild(ctx context.Context, dir string, feed ccpor.ChangeFeed, progress func(n int)) (int, error) {
	defer collectLess()()
	head, err := feed.ChangesHead(ctx)
	if err != nil {
		return 0, err
	}
	gen, err := newGeneration(dir, 0)
	if err != nil {
		return 0, err
	}
	path := filepath.Join(dir, gen)
	failed := make(chan error, 1)
	buildErrors.Store(path, failed)
	defer buildErrors.Delete(path)
	bi, err := bleve.OpenUsing(path, buildConfig)
	if err != nil {
		return 0, err
	}
	closed := false
	defer func() {
		if !closed {
			bi.Close()
		}
	}()

	// Each writer maps its batch and builds its segment on its own; one
	// more writer than cores keeps every core busy while a writer waits
	// for its segment to be introduced or for the feed.
	writers := runtime.GOMAXPROCS(0) + 1
	batches := make(chan []*ccpor.Order, 2)
	errc := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for orders := range batches {
				b := bi.NewBatch()
				for _, o := range orders {
					d, err := newDocument(o)
					if err == nil {
						err = b.Index(o.ID, d)
					}
					if err != nil {
						errc <- fmt.Errorf("index order %s: %w", o.ID, err)
						return
					}
				}
				if err := bi.Batch(b); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	n := 0
	batch := make([]*ccpor.Order, 0, rebuildBatch)
	err = feed.EachOrder(ctx, func(o *ccpor.Order) error {
		batch = append(batch, o)
		if len(batch) < rebuildBatch {
			return nil
		}
		select {
		case batches <- batch:
		case err := <-errc:
			return err
		}
		n += len(batch)
		batch = make([]*ccpor.Order, 0, rebuildBatch)
		if progress != nil {
			progress(n)
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		select {
		case batches <- batch:
			n += len(batch)
		case err = <-errc:
		}
	}
	close(batches)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err != nil {
		return n, fmt.Errorf("rebuild index: %w", err)
	}
	if err := persisted(ctx, bi, head, failed); err != nil {
		return n, fmt.Errorf("rebuild index: %w", err)
	}
	if err := mergeAll(ctx, bi); err != nil {
		return n, fmt.Errorf("rebuild index: merge: %w", err)
	}
	// The merged segment is written, but the snapshot that reads it only
	// when the persister gets to it, which Close does not wait for: the
	// generation then opened on its pre-merge segments. A second
	// persisted batch comes after the merge, so its snapshot has it.
	if err := persisted(ctx, bi, head, failed); err != nil {
		return n, fmt.Errorf("rebuild index: %w", err)
	}
	if progress != nil {
		progress(n)
	}
	closed = true
	if err := bi.Close(); err != nil {
		return n, err
	}
	if err := dropMergedAway(path); err != nil {
		return n, fmt.Errorf("rebuild index: %w", err)
	}
	return n, swapCurrent(dir, gen)
}

// dropMergedAway removes the segment files of a closed generation that
// its last snapshot no longer reads. Scorch deletes the files of segments
// merged away only when it next opens an index, so a rebuilt generation
// kept its pre-merge segments, more than twice the index on disk, until
// a server opened it; what the generation reads is what opening it says.
// It is opened read-only, so that no merge starts while it is asked.
func dropMergedAway(path string) error {
	bi, err := bleve.OpenUsing(path, map[string]interface{}{"read_only": true})
	if err != nil {
		return err
	}
	live, err := segmentPaths(bi)
	if cerr := bi.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if len(live) == 0 {
		return nil // a generation of no orders, or a reader that cannot tell
	}
	keep := make([]string, len(live))
	for i, f := range live {
		keep[i] = filepath.Base(f)
	}
	files, err := filepath.Glob(filepath.Join(path, "store", "*.zap"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if !slices.Contains(keep, filepath.Base(f)) {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}
