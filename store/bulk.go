package store

import (
	"context"
	"fmt"

	"github.com/ccpor/ccpor"
	"github.com/jackc/pgx/v5"
)

// InsertOrders stores prepared orders in bulk, each as version 1 with the
// given action ("import", "seed") and actor, in one transaction. Orders
// whose ID already exists are skipped, so a re-run of the same import adds
// nothing. It returns how many were inserted. Every order must have an ID.
// Nothing is queued for law enforcement: imported and seeded orders are
// history, already transmitted by the system they come from.
func (db *DB) InsertOrders(ctx context.Context, orders []*ccpor.Order, action, by string) (int, error) {
	if len(orders) == 0 {
		return 0, nil
	}
	now := db.Now()
	rows := make([][]any, len(orders))
	for i, o := range orders {
		if err := checkID(o.ID); err != nil {
			return 0, err
		}
		doc, err := orderDoc(o)
		if err != nil {
			return 0, err
		}
		access := ccpor.AccessOf(o)
		rows[i] = []any{o.ID, string(o.Type), string(o.Phase), o.County, o.CaseNumber, CaseKey(o.CaseNumber),
			dateArg(o.IssuedOn), dateArg(o.ExpiresAt), terminatedArg(o), nullable(o.PreviousOrderID), o.Service.Served(),
			access.Sealed, access.Registered, minorsArg(access), doc}
	}
	var inserted int
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// COPY cannot skip conflicts, so it fills a staging table that
		// one statement then moves across, skipping IDs already present.
		if _, err := tx.Exec(ctx, `
			CREATE TEMP TABLE import_stage (
				id uuid, type text, phase text, county text, case_number text, case_key text,
				issued_on date, expires_at date, terminated_on date, previous_order_id uuid, served boolean,
				sealed boolean, registered boolean, confidential_minors integer[], doc jsonb
			) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_stage"},
			[]string{"id", "type", "phase", "county", "case_number", "case_key",
				"issued_on", "expires_at", "terminated_on", "previous_order_id", "served",
				"sealed", "registered", "confidential_minors", "doc"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, outboxLock); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `
			WITH stage AS (
				SELECT DISTINCT ON (id) * FROM import_stage ORDER BY id
			), ins AS (
				INSERT INTO orders (id, version, type, phase, county, case_number, case_key,
					issued_on, expires_at, terminated_on, previous_order_id, created_at, updated_at, served,
					sealed, registered, confidential_minors)
				SELECT id, 1, type, phase, county, case_number, case_key,
					issued_on, expires_at, terminated_on, previous_order_id, $1, $1, served,
					sealed, registered, confidential_minors
				FROM stage
				ON CONFLICT (id) DO NOTHING
				RETURNING id
			), ver AS (
				INSERT INTO order_versions (order_id, version, action, at, by_user, doc)
				SELECT s.id, 1, $2, $1, $3, s.doc FROM stage s JOIN ins USING (id)
				RETURNING order_id
			), box AS (
				INSERT INTO outbox (order_id) SELECT order_id FROM ver
				RETURNING 1
			)
			SELECT count(*) FROM box`, now, action, by).Scan(&inserted); err != nil {
			return err
		}
		// As appendOutbox does: every node's follower wakes at the commit.
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, outboxChannel)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("insert orders: %w", err)
	}
	return inserted, nil
}

// AnalyzeOrders refreshes the planner's statistics of the tables a bulk
// load fills. Run after one: until autovacuum gets to it (and it may be
// off), PostgreSQL plans for the tables as they were. A county's work
// queues at a million freshly imported orders read every order of the
// county in the window (90 ms) where fresh statistics read fifty (2 ms).
func (db *DB) AnalyzeOrders(ctx context.Context) error {
	if _, err := db.Pool.Exec(ctx, `ANALYZE orders, order_versions, outbox`); err != nil {
		return fmt.Errorf("analyze after bulk load: %w", err)
	}
	return nil
}
