package index

import (
	"context"
	"log/slog"
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
	// MaxLag is how many changes the index may be behind and still answer.
	MaxLag int64

	nudge chan struct{}
	once  sync.Once
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
		if f.Poll == 0 {
			f.Poll = 250 * time.Millisecond
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

// Run applies changes until ctx ends. Errors are logged and retried: the
// position in the index means nothing is lost across failures or restarts.
func (f *Follower) Run(ctx context.Context) {
	f.init()
	reload := time.NewTicker(2 * time.Second)
	defer reload.Stop()
	for {
		n, err := f.Step(ctx)
		if err != nil && ctx.Err() == nil {
			f.Logger.Error("index follower", "err", err)
		}
		if n > 0 && err == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-f.nudge:
		case <-time.After(f.Poll):
		case <-reload.C:
			if switched, err := f.Index.Reload(); err != nil {
				f.Logger.Error("index reload", "err", err)
			} else if switched {
				f.Logger.Info("index generation switched", "seq", f.Index.Seq())
			}
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
