package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ccpor/ccpor"
	"github.com/jackc/pgx/v5"
)

// FindOrderVersion returns the order exactly as it was stored at version,
// with its history up to and including that version; its status is read
// from its dates as of now. It returns ENotFound when the order or that
// version does not exist.
func (db *DB) FindOrderVersion(ctx context.Context, id string, version int) (*ccpor.Order, error) {
	if err := checkID(id); err != nil || version < 1 {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Order %s has no version %d.", id, version)
	}
	var o ccpor.Order
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var doc []byte
		err := tx.QueryRow(ctx, `
			SELECT doc FROM order_versions WHERE order_id = $1 AND version = $2`, id, version).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return ccpor.Errorf(ccpor.ENotFound, "Order %s has no version %d.", id, version)
		} else if err != nil {
			return fmt.Errorf("find order %s version %d: %w", id, version, err)
		}
		if err := json.Unmarshal(doc, &o); err != nil {
			return fmt.Errorf("decode order %s version %d: %w", id, version, err)
		}
		rows, err := tx.Query(ctx, `
			SELECT version, action, at, by_user, reason
			FROM order_versions WHERE order_id = $1 AND version <= $2 ORDER BY version`, id, version)
		if err != nil {
			return fmt.Errorf("order history %s: %w", id, err)
		}
		o.History, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ccpor.Version, error) {
			var v ccpor.Version
			err := r.Scan(&v.Version, &v.Action, &v.At, &v.By, &v.Reason)
			return v, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	o.ID, o.Version = id, version
	o.Status = o.StatusAt(db.Now())
	return &o, nil
}
