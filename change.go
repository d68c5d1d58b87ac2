package ccpor

import "context"

// Change is one entry of the outbox: order OrderID changed, and Seq orders
// the changes in commit order.
type Change struct {
	Seq     int64
	OrderID string
}

// ChangeFeed is what a search index follows to stay true to the system of
// record.
type ChangeFeed interface {
	// ChangesSince returns up to limit changes after seq, in order.
	ChangesSince(ctx context.Context, seq int64, limit int) ([]Change, error)
	// ChangesHead returns the last change's sequence number, 0 when none.
	ChangesHead(ctx context.Context) (int64, error)
	// FindOrdersByIDs returns the current versions of the orders that
	// exist among ids, in no particular order.
	FindOrdersByIDs(ctx context.Context, ids []string) ([]*Order, error)
	// EachOrder calls fn with every order's current version.
	EachOrder(ctx context.Context, fn func(*Order) error) error
}
