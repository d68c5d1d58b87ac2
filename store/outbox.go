package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// outboxLock serialises the tail of writing transactions. Held from the
// outbox insert to commit, it makes sequence numbers become visible in
// order, so a follower that has read up to N can never later find N-1.
const outboxLock = 0x63_63_70_6f_72_02 // "ccpor" 2

// appendOutbox records that the orders changed, as the last step of the
// transaction tx.
func appendOutbox(ctx context.Context, tx pgx.Tx, ids ...string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, outboxLock); err != nil {
		return fmt.Errorf("outbox lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (order_id) SELECT unnest($1::uuid[])`, ids); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// OutboxEntry is one change to follow.
type OutboxEntry struct {
	Seq     int64
	OrderID string
}

// OutboxSince returns up to limit outbox entries after seq, in order.
func (db *DB) OutboxSince(ctx context.Context, seq int64, limit int) ([]OutboxEntry, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT seq, order_id::text FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox since %d: %w", seq, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxEntry, error) {
		var e OutboxEntry
		err := r.Scan(&e.Seq, &e.OrderID)
		return e, err
	})
}

// OutboxHead returns the last outbox sequence number, 0 when empty.
func (db *DB) OutboxHead(ctx context.Context) (int64, error) {
	var seq int64
	err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM outbox`).Scan(&seq)
	return seq, err
}
