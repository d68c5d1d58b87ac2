package index

import (
	"context"
	"fmt"
	"path/filepath"
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
var buildConfig = map[string]interface{}{
	"scorchMergePlanOptions": map[string]interface{}{"MaxSegmentsPerTier": 40, "SegmentsPerMergeTask": 40},
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
	head, err := feed.ChangesHead(ctx)
	if err != nil {
		return 0, err
	}
	gen, err := newGeneration(dir, 0)
	if err != nil {
		return 0, err
	}
	bi, err := bleve.OpenUsing(filepath.Join(dir, gen), buildConfig)
	if err != nil {
		return 0, err
	}
	closed := false
	defer func() {
		if !closed {
			bi.Close()
		}
	}()

	// Mapping a document happens as it joins a batch, on the caller's
	// goroutine; two writers keep both cores busy.
	batches := make(chan []*ccpor.Order, 2)
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
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
	if err := bi.SetInternal(seqKey, []byte(strconv.FormatInt(head, 10))); err != nil {
		return n, err
	}
	if err := mergeAll(ctx, bi); err != nil {
		return n, fmt.Errorf("rebuild index: merge: %w", err)
	}
	if progress != nil {
		progress(n)
	}
	closed = true
	if err := bi.Close(); err != nil {
		return n, err
	}
	return n, swapCurrent(dir, gen)
}
