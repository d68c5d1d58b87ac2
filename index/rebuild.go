package index

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/ccpor/ccpor"
)

// rebuildBatch is how many orders go into one Bleve batch when rebuilding.
const rebuildBatch = 2500

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
	bi, err := bleve.Open(filepath.Join(dir, gen))
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
	if progress != nil {
		progress(n)
	}
	closed = true
	if err := bi.Close(); err != nil {
		return n, err
	}
	return n, swapCurrent(dir, gen)
}
