package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ccpor/ccpor"
)

// Audit records that the acting user (from ctx) did action, optionally on
// an order, with detail. Reads are audited as well as changes: who looked
// at a protected person's order is itself a record the court must keep.
func (db *DB) Audit(ctx context.Context, action, orderID string, detail any) error {
	var userID *int64
	var name string
	if u := ccpor.UserFromContext(ctx); u != nil {
		userID, name = &u.ID, u.Name
	}
	var d []byte
	if detail != nil {
		var err error
		if d, err = json.Marshal(detail); err != nil {
			return err
		}
	}
	_, err := db.Pool.Exec(ctx, `
		INSERT INTO audit (at, user_id, user_name, action, order_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`, db.Now(), userID, name, action, nullable(orderID), d)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditEntry is one line of the audit trail.
type AuditEntry struct {
	Action   string
	UserName string
	OrderID  string
	Detail   json.RawMessage // as recorded; null when none
}

// AuditTrail returns the audit entries for an order, oldest first.
func (db *DB) AuditTrail(ctx context.Context, orderID string) ([]AuditEntry, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT action, user_name, coalesce(order_id::text, ''), coalesce(detail, 'null') FROM audit
		WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, err
	}
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.Action, &e.UserName, &e.OrderID, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
