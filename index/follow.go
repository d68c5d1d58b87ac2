package index

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccpor/ccpor"
)

// Follower keeps an Index true to the system of record by applying the
// outbox in order, in batches.
type Follower struct {
	Index  *Index
	Feed   ccpor.ChangeFeed
	Logger *slog.Logger
	// Poll is how often the outbox is read when nothing nudges; changes
	// written by other nodes arrive within it.
	Poll time.Duration
	// ReloadEvery is how often the follower looks for a generation that
	// a rebuild swapped in, and checks the index for damage.
	ReloadEvery time.Duration
	// MaxLag is how many changes the index may be behind and still answer.
	MaxLag int64

	nudge chan struct{}
	once  sync.Once
	// rebuild asks Run to rebuild the index from the feed; rebuilding
	// holds why while it runs, and search answers "unavailable" meanwhile.
	rebuild    chan struct{}
	rebuilding atomic.Pointer[string]
	// caughtUp is set once the follower has read the outbox to its end:
	// until then a lag within MaxLag could still be a whole registry
	// missing from a new index.
	caughtUp atomic.Bool

	mu      sync.Mutex
	head    int64
	headAt  time.Time
	headErr error
}

const followBatch = 2000

func (f *Follower) init() {
	f.once.Do(func() {
		f.nudge = make(chan struct{}, 1)
		f.rebuild = make(chan struct{}, 1)
		if f.Poll == 0 {
			f.Poll = 250 * time.Millisecond
		}
		if f.ReloadEvery == 0 {
			f.ReloadEvery = 2 * time.Second
		}
		if f.MaxLag == 0 {
			f.MaxLag = 1000
		}
	})
}

// Nudge asks the follower to read the outbox now: this node just wrote.
func (f *Follower) Nudge() {
	f.init()
	select {
	case f.nudge <- struct{}{}:
	default:
	}
}

// RequestRebuild asks Run to rebuild the index from the feed, for why:
// it is new while the registry is not (a bulk build is much faster than
// replaying the outbox), or damaged. Searches answer "unavailable" until
// the new generation is in use.
func (f *Follower) RequestRebuild(why string) {
	f.init()
	if f.rebuilding.CompareAndSwap(nil, &why) {
		f.caughtUp.Store(false)
	}
	select {
	case f.rebuild <- struct{}{}:
	default:
	}
}

// Run applies changes until ctx ends. Errors are logged and retried: the
// position in the index means nothing is lost across failures or restarts.
func (f *Follower) Run(ctx context.Context) {
	f.init()
	reload := time.NewTicker(f.ReloadEvery)
	defer reload.Stop()
	for {
		if f.rebuilding.Load() != nil {
			f.rebuildNow(ctx)
		}
		n, err := f.Step(ctx)
		if err != nil && ctx.Err() == nil {
			f.Logger.Error("index follower", "err", err)
			if err := f.Index.Check(); errors.Is(err, ErrDamaged) {
				f.RequestRebuild(err.Error())
			}
		}
		if n > 0 && err == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-f.nudge:
		case <-f.rebuild:
		case <-time.After(f.Poll):
		case <-reload.C:
			if switched, err := f.Index.Reload(); err != nil {
				f.Logger.Error("index reload", "err", err)
			} else if switched {
				f.Logger.Info("index generation switched", "seq", f.Index.Seq())
			}
			if err := f.Index.Check(); errors.Is(err, ErrDamaged) {
				f.RequestRebuild(err.Error())
			}
		}
	}
}

// rebuildNow builds a new generation from the feed and switches to it,
// retrying until it succeeds or ctx ends.
func (f *Follower) rebuildNow(ctx context.Context) {
	for wait := time.Second; ctx.Err() == nil; wait = min(2*wait, time.Minute) {
		f.Logger.Warn("rebuilding the search index; searches answer 503 until it is done", "why", *f.rebuilding.Load(), "dir", f.Index.Dir())
		start := time.Now()
		// The directory itself may be what was lost.
		err := os.MkdirAll(f.Index.Dir(), 0o755)
		var n int
		if err == nil {
			n, err = Rebuild(ctx, f.Index.Dir(), f.Feed, nil)
		}
		if err == nil {
			_, err = f.Index.Reload()
		}
		if err == nil {
			f.Logger.Info("search index built", "orders", n, "seconds", time.Since(start).Seconds(), "seq", f.Index.Seq())
			f.rebuilding.Store(nil)
			return
		}
		f.Logger.Error("search index rebuild failed; trying again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// Step applies the next batch of changes and returns how many it applied.
func (f *Follower) Step(ctx context.Context) (int, error) {
	changes, err := f.Feed.ChangesSince(ctx, f.Index.Seq(), followBatch)
	if err != nil {
		return 0, err
	}
	if len(changes) == 0 {
		f.caughtUp.Store(true)
		return 0, nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, c := range changes {
		if !seen[c.OrderID] {
			seen[c.OrderID] = true
			ids = append(ids, c.OrderID)
		}
	}
	orders, err := f.Feed.FindOrdersByIDs(ctx, ids)
	if err != nil {
		return 0, err
	}
	for _, o := range orders {
		delete(seen, o.ID)
	}
	var deleted []string
	for id := range seen {
		deleted = append(deleted, id)
	}
	ccpor.Failpoint("index-apply")
	if err := f.Index.Apply(orders, deleted, changes[len(changes)-1].Seq); err != nil {
		return 0, err
	}
	return len(changes), nil
}

// CatchUp applies changes until none are left.
func (f *Follower) CatchUp(ctx context.Context) error {
	for {
		n, err := f.Step(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// Ready returns nil when the index can answer: open, and no more than
// MaxLag changes behind the outbox. Otherwise an EUnavailable error, for
// an empty answer from a stale index would read as "no orders found".
func (f *Follower) Ready(ctx context.Context) error {
	f.init()
	f.mu.Lock()
	if time.Since(f.headAt) > 200*time.Millisecond {
		f.head, f.headErr = f.Feed.ChangesHead(ctx)
		f.headAt = time.Now()
	}
	head, headErr := f.head, f.headErr
	f.mu.Unlock()
	if headErr != nil {
		return ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: the registry database does not answer.")
	}
	if f.rebuilding.Load() != nil {
		return ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: the index is being rebuilt from the registry; try again shortly.")
	}
	if err := f.Index.Check(); errors.Is(err, ErrDamaged) {
		f.Logger.Error("search index damaged", "err", err)
		f.RequestRebuild(err.Error())
		return ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: the index was damaged and is being rebuilt from the registry; try again shortly.")
	}
	if _, err := f.Index.Count(); err != nil {
		return ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: the index is not open.")
	}
	if !f.caughtUp.Load() {
		return ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: the index is being built; try again shortly.")
	}
	if lag := head - f.Index.Seq(); lag > f.MaxLag {
		return ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: the index is %d changes behind the registry and catching up; try again shortly.", lag)
	}
	return nil
}

// Sync waits, up to timeout, until every change committed before the call
// is searchable, and reports whether it is. An intake calls it so that
// the clerk who entered an order finds it at once.
func (f *Follower) Sync(ctx context.Context, timeout time.Duration) bool {
	head, err := f.Feed.ChangesHead(ctx)
	if err != nil {
		return false
	}
	f.Nudge()
	return f.Index.WaitFor(head, timeout)
}
