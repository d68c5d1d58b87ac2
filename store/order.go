package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ccpor/ccpor"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Ensure DB implements the order service.
var _ ccpor.OrderService = (*DB)(nil)

// CreateOrder stores a prepared order as version 1 and appends it to the
// outbox and its entry to the law-enforcement transmission queue, in one
// transaction. An empty ID gets a random UUID. It returns
// EInvalid for a malformed ID and EConflict when the ID exists.
func (db *DB) CreateOrder(ctx context.Context, o *ccpor.Order) error {
	if o.ID == "" {
		o.ID = uuid.NewString()
	} else if err := checkID(o.ID); err != nil {
		return err
	}
	now := db.Now()
	o.Version = 1
	o.History = []ccpor.Version{{Version: 1, Action: "create", At: now, By: actor(ctx), Reason: o.OverrideReason}}
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		doc, err := orderDoc(o)
		if err != nil {
			return err
		}
		if err := refuseExactDuplicate(ctx, tx, o); err != nil {
			return err
		}
		access := ccpor.AccessOf(o)
		if _, err := tx.Exec(ctx, `
			INSERT INTO orders (id, version, type, phase, county, case_number, case_key,
				issued_on, expires_at, terminated_on, previous_order_id, created_at, updated_at, served,
				sealed, registered, confidential_minors)
			VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15)`,
			o.ID, o.Type, o.Phase, o.County, o.CaseNumber, CaseKey(o.CaseNumber),
			dateArg(o.IssuedOn), dateArg(o.ExpiresAt), terminatedArg(o), nullable(o.PreviousOrderID), now, o.Service.Served(),
			access.Sealed, access.Registered, minorsArg(access),
		); err != nil {
			return formatError(err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO order_versions (order_id, version, action, at, by_user, reason, doc)
			VALUES ($1, 1, 'create', $2, $3, $4, $5)`, o.ID, now, actor(ctx), o.OverrideReason, doc); err != nil {
			return err
		}
		if err := enqueueTransmission(ctx, tx, o, 1, "create", doc, now); err != nil {
			return err
		}
		return appendOutbox(ctx, tx, o.ID)
	})
	if err != nil {
		return fmt.Errorf("create order: %w", err)
	}
	o.Status = o.StatusAt(now)
	return nil
}

// caseLock is the namespace of the advisory locks that serialise intakes
// of one case.
const caseLock = 0x63_63_70_6f_72_03 // "ccpor" 3

// refuseExactDuplicate returns EConflict, naming the existing order, when
// the case already holds an order of o's type, phase and issue date with
// the same people. Intakes of one case are serialised by an advisory lock
// held to the end of the transaction, so two clerks entering the same
// order at the same instant get one order and one refusal.
func refuseExactDuplicate(ctx context.Context, tx pgx.Tx, o *ccpor.Order) error {
	key := CaseKey(o.CaseNumber)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`,
		int32(caseLock&0x7fffffff), o.County+"|"+key); err != nil {
		return fmt.Errorf("case lock: %w", err)
	}
	rows, err := tx.Query(ctx, `
		SELECT o.id, v.doc FROM orders o
		JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
		WHERE o.county = $1 AND o.case_key = $2 AND o.type = $3 AND o.phase = $4 AND o.issued_on = $5`,
		o.County, key, o.Type, o.Phase, dateArg(o.IssuedOn))
	if err != nil {
		return fmt.Errorf("duplicate check: %w", err)
	}
	type row struct {
		ID  string
		Doc []byte
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return fmt.Errorf("duplicate check: %w", err)
	}
	for _, r := range found {
		var e ccpor.Order
		if err := json.Unmarshal(r.Doc, &e); err != nil {
			return fmt.Errorf("decode order %s: %w", r.ID, err)
		}
		if ccpor.SameParties(o, &e) {
			return &ccpor.Error{Code: ccpor.EConflict, Existing: r.ID,
				Message: fmt.Sprintf("This order is already registered as order %s: same county, case number, type, phase, issue date and people.", r.ID)}
		}
	}
	return nil
}

// FindOrderByID returns the current version of the order with its history.
// It returns ENotFound when no order has that ID.
func (db *DB) FindOrderByID(ctx context.Context, id string) (*ccpor.Order, error) {
	if err := checkID(id); err != nil {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Order %s not found.", id)
	}
	var o *ccpor.Order
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		o, err = findOrderByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	o.Status = o.StatusAt(db.Now())
	return o, nil
}

func findOrderByID(ctx context.Context, tx pgx.Tx, id string) (*ccpor.Order, error) {
	var doc []byte
	var version int
	err := tx.QueryRow(ctx, `
		SELECT o.version, v.doc
		FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
		WHERE o.id = $1`, id).Scan(&version, &doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Order %s not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find order %s: %w", id, err)
	}
	var o ccpor.Order
	if err := json.Unmarshal(doc, &o); err != nil {
		return nil, fmt.Errorf("decode order %s: %w", id, err)
	}
	o.ID, o.Version = id, version
	rows, err := tx.Query(ctx, `
		SELECT version, action, at, by_user, reason
		FROM order_versions WHERE order_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("order history %s: %w", id, err)
	}
	o.History, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ccpor.Version, error) {
		var v ccpor.Version
		err := r.Scan(&v.Version, &v.Action, &v.At, &v.By, &v.Reason)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("order history %s: %w", id, err)
	}
	return &o, nil
}

// UpdateOrder stores o as the next version of an existing order, recording
// the action and reason, and queues the change for law enforcement in the
// same transaction. o.Version must be the version the change was made
// from: if someone else changed the order since, it returns EConflict and
// nothing is written (optimistic concurrency).
func (db *DB) UpdateOrder(ctx context.Context, o *ccpor.Order, action, reason string) error {
	if err := checkID(o.ID); err != nil {
		return ccpor.Errorf(ccpor.ENotFound, "Order %s not found.", o.ID)
	}
	now := db.Now()
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		doc, err := orderDoc(o)
		if err != nil {
			return err
		}
		access := ccpor.AccessOf(o)
		tag, err := tx.Exec(ctx, `
			UPDATE orders SET version = version + 1, type = $3, phase = $4, county = $5,
				case_number = $6, case_key = $7, issued_on = $8, expires_at = $9,
				terminated_on = $10, previous_order_id = $11, updated_at = $12, served = $13,
				sealed = $14, registered = $15, confidential_minors = $16
			WHERE id = $1 AND version = $2`,
			o.ID, o.Version, o.Type, o.Phase, o.County, o.CaseNumber, CaseKey(o.CaseNumber),
			dateArg(o.IssuedOn), dateArg(o.ExpiresAt), terminatedArg(o), nullable(o.PreviousOrderID), now, o.Service.Served(),
			access.Sealed, access.Registered, minorsArg(access))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1)`, o.ID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return ccpor.Errorf(ccpor.ENotFound, "Order %s not found.", o.ID)
			}
			return ccpor.Errorf(ccpor.EConflict, "Order %s was changed by someone else since version %d; reload it and try again.", o.ID, o.Version)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO order_versions (order_id, version, action, at, by_user, reason, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, o.ID, o.Version+1, action, now, actor(ctx), reason, doc); err != nil {
			return err
		}
		if err := enqueueTransmission(ctx, tx, o, o.Version+1, action, doc, now); err != nil {
			return err
		}
		return appendOutbox(ctx, tx, o.ID)
	})
	if err != nil {
		return fmt.Errorf("update order: %w", err)
	}
	o.Version++
	o.Status = o.StatusAt(now)
	return nil
}

// orderDoc is the JSON kept for one version: the order as entered and
// prepared, without what is computed on read.
func orderDoc(o *ccpor.Order) ([]byte, error) {
	c := *o
	c.Status, c.Version, c.Warnings, c.History, c.OverrideReason = "", 0, nil, nil, ""
	return json.Marshal(&c)
}

// CaseKey is ccpor.CaseKey, kept here because the orders table stores it.
func CaseKey(s string) string { return ccpor.CaseKey(s) }

func checkID(id string) error {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return ccpor.Errorf(ccpor.EInvalid, "id %q is not a UUID", id)
	}
	return nil
}

// actor names who makes a change, for history and audit.
func actor(ctx context.Context) string {
	if u := ccpor.UserFromContext(ctx); u != nil {
		return fmt.Sprintf("%s (%s)", u.Name, u.Role)
	}
	return "system"
}

func dateArg(d ccpor.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.Time()
}

func terminatedArg(o *ccpor.Order) any {
	if o.Terminated == nil {
		return nil
	}
	return dateArg(o.Terminated.On)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
