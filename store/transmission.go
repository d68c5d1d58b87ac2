package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The law-enforcement transmission queue (migration 0010): one message per
// version of an order, appended in the transaction that stores the
// version, taken by transmitters (cmd/ccpor/transmit.go) with a lease and
// marked sent, then acknowledged or rejected.

// transmissionPayload is a message as sent (ccpor.NCICFormat): the order
// modelled on the NCIC Protection Order File, and the order as stored.
// Messages queued before it are "ccpor-order-v1", the same without ncic.
type transmissionPayload struct {
	Format       string                   `json:"format"`
	MessageID    string                   `json:"message_id"`
	Action       ccpor.TransmissionAction `json:"action"`
	OrderID      string                   `json:"order_id"`
	OrderVersion int                      `json:"order_version"`
	County       string                   `json:"county"`
	CreatedAt    time.Time                `json:"created_at"`
	DueOn        ccpor.Date               `json:"due_on"`
	NCIC         ccpor.NCICMessage        `json:"ncic"`
	Order        json.RawMessage          `json:"order"`
}

// enqueueTransmission appends to the transmission queue, in tx, the
// message telling law enforcement about version of o, stored as doc by a
// change recorded with action (create, modify, renew, terminate,
// service). Only CreateOrder and UpdateOrder call it: InsertOrders (bulk
// import and demo seeding) does not, because imported orders were sent to
// law enforcement by the system they come from. Sealed orders and orders
// protecting confidential minors are sent whole, like any other: law
// enforcement enforces them, and domain.md §4 releases confidential
// details to it for enforcement. The NCIC message is of o as stored
// (ccpor.NCICMessageOf: its Brady indicator computed, not as entered).
func enqueueTransmission(ctx context.Context, tx pgx.Tx, o *ccpor.Order, version int, action string, doc []byte, now time.Time) error {
	m := ccpor.Transmission{
		ID: uuid.NewString(), OrderID: o.ID, OrderVersion: version, Action: ccpor.TransmissionActionOf(action),
		County: o.County, CreatedAt: now, DueOn: ccpor.TransmissionDue(now),
	}
	payload, err := json.Marshal(transmissionPayload{
		Format: ccpor.NCICFormat, MessageID: m.ID, Action: m.Action, OrderID: m.OrderID,
		OrderVersion: m.OrderVersion, County: m.County, CreatedAt: m.CreatedAt.UTC(), DueOn: m.DueOn,
		NCIC: ccpor.NCICMessageOf(o), Order: doc,
	})
	if err != nil {
		return fmt.Errorf("transmission payload: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO transmissions (id, order_id, order_version, action, county, payload, next_attempt_at, created_at, due_on)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`,
		m.ID, m.OrderID, m.OrderVersion, string(m.Action), m.County, payload, now, m.DueOn.Time()); err != nil {
		return fmt.Errorf("enqueue transmission: %w", err)
	}
	return nil
}

const transmissionColumns = `t.id::text, t.order_id::text, t.order_version, t.action, t.county, t.state,
	t.attempts, t.next_attempt_at, t.last_error, t.created_at, t.sent_at, t.acknowledged_at, t.due_on`

func scanTransmission(r pgx.CollectableRow, extra ...any) (*ccpor.Transmission, error) {
	var m ccpor.Transmission
	var action, state string
	var due time.Time
	dest := append([]any{&m.ID, &m.OrderID, &m.OrderVersion, &action, &m.County, &state,
		&m.Attempts, &m.NextAttemptAt, &m.LastError, &m.CreatedAt, &m.SentAt, &m.AcknowledgedAt, &due}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	m.Action, m.State = ccpor.TransmissionAction(action), ccpor.TransmissionState(state)
	m.DueOn = ccpor.NewDate(due.Year(), due.Month(), due.Day())
	return &m, nil
}

func scanTransmissionPayload(r pgx.CollectableRow) (*ccpor.Transmission, error) {
	var payload []byte
	m, err := scanTransmission(r, &payload)
	if err != nil {
		return nil, err
	}
	m.Payload = payload
	return m, nil
}

// ClaimTransmissions takes up to limit pending messages that are due,
// leasing them to the caller until lease has passed, with their payloads,
// oldest first. Transmitters on several nodes take different messages
// (SKIP LOCKED); a message whose lease ran out, its transmitter dead, is
// taken again. A message is not taken while an earlier version of its
// order waits, so law enforcement hears of an order's changes in order.
// Each claim counts an attempt; the count fences the holder (see
// MarkTransmissionSent).
func (db *DB) ClaimTransmissions(ctx context.Context, limit int, lease time.Duration) ([]*ccpor.Transmission, error) {
	now := db.Now()
	rows, err := db.Pool.Query(ctx, `
		UPDATE transmissions t SET attempts = t.attempts + 1, next_attempt_at = $2
		WHERE t.id IN (
			SELECT c.id FROM transmissions c
			WHERE c.state = 'pending' AND c.next_attempt_at <= $1
				AND NOT EXISTS (SELECT 1 FROM transmissions e
					WHERE e.order_id = c.order_id AND e.order_version < c.order_version AND e.state = 'pending')
			ORDER BY c.next_attempt_at, c.created_at
			LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+transmissionColumns+`, t.payload`, now, now.Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("claim transmissions: %w", err)
	}
	ms, err := pgx.CollectRows(rows, scanTransmissionPayload)
	if err != nil {
		return nil, fmt.Errorf("claim transmissions: %w", err)
	}
	slices.SortFunc(ms, func(a, b *ccpor.Transmission) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ms, nil
}

// MarkTransmissionSent records that m, as claimed, was delivered. It
// reports false, changing nothing, when m is no longer this claim's: its
// lease ran out and another transmitter took it (and will find it
// delivered), or law enforcement already answered.
func (db *DB) MarkTransmissionSent(ctx context.Context, m *ccpor.Transmission) (bool, error) {
	tag, err := db.Pool.Exec(ctx, `
		UPDATE transmissions SET state = 'sent', sent_at = $3, last_error = ''
		WHERE id = $1 AND attempts = $2 AND state = 'pending'`, m.ID, m.Attempts, db.Now())
	if err != nil {
		return false, fmt.Errorf("mark transmission %s sent: %w", m.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// MaxTransmissionBackoff caps the wait between attempts: a transport that
// is down gets tried at least hourly, well within the day FC 6380 allows.
const MaxTransmissionBackoff = time.Hour

// TransmissionBackoff is the wait after a message's nth failed attempt:
// 15 s, doubling each time, at most MaxTransmissionBackoff.
func TransmissionBackoff(attempts int) time.Duration {
	d := 15 * time.Second
	for i := 1; i < attempts && d < MaxTransmissionBackoff; i++ {
		d *= 2
	}
	return min(d, MaxTransmissionBackoff)
}

// FailTransmission records why sending m, as claimed, failed, and puts it
// off by TransmissionBackoff. Like MarkTransmissionSent it changes nothing
// when m is no longer this claim's.
func (db *DB) FailTransmission(ctx context.Context, m *ccpor.Transmission, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := db.Pool.Exec(ctx, `
		UPDATE transmissions SET last_error = $3, next_attempt_at = $4
		WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
		m.ID, m.Attempts, msg, db.Now().Add(TransmissionBackoff(m.Attempts)))
	if err != nil {
		return fmt.Errorf("fail transmission %s: %w", m.ID, err)
	}
	return nil
}

// AnswerTransmission records law enforcement's answer to message id:
// acknowledged, or rejected with reason. A message may be answered while
// pending (it was delivered but not yet marked sent); an acknowledgement
// also settles a rejection later put right by hand. It reports whether
// the message changed: the same answer twice changes nothing. It returns
// ENotFound for an unknown message and EConflict for an answer that
// contradicts the one recorded (a rejection after an acknowledgement).
func (db *DB) AnswerTransmission(ctx context.Context, id string, accepted bool, reason string) (bool, error) {
	if checkID(id) != nil {
		return false, ccpor.Errorf(ccpor.ENotFound, "Transmission %s not found.", id)
	}
	state, from := ccpor.TransmissionAcknowledged, []string{"pending", "sent", "rejected"}
	if !accepted {
		state, from = ccpor.TransmissionRejected, []string{"pending", "sent"}
		if reason = strings.TrimSpace(reason); reason == "" {
			reason = "rejected without a reason"
		}
		if len(reason) > 500 {
			reason = reason[:500]
		}
	}
	var changed bool
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var was string
		err := tx.QueryRow(ctx, `SELECT state FROM transmissions WHERE id = $1 FOR UPDATE`, id).Scan(&was)
		if errors.Is(err, pgx.ErrNoRows) {
			return ccpor.Errorf(ccpor.ENotFound, "Transmission %s not found.", id)
		} else if err != nil {
			return err
		}
		if was == string(state) {
			return nil
		}
		if !slices.Contains(from, was) {
			return ccpor.Errorf(ccpor.EConflict, "Transmission %s was already %s.", id, was)
		}
		now := db.Now()
		if _, err := tx.Exec(ctx, `
			UPDATE transmissions SET state = $2, acknowledged_at = $3, sent_at = coalesce(sent_at, $3),
				last_error = CASE WHEN $2 = 'rejected' THEN $4 ELSE last_error END
			WHERE id = $1`, id, string(state), now, reason); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("answer transmission: %w", err)
	}
	return changed, nil
}

// TransmissionFilter selects messages for FindTransmissions; zero fields
// select all.
type TransmissionFilter struct {
	State   ccpor.TransmissionState
	County  string
	OrderID string
	// DueBy keeps messages not acknowledged whose due day is DueBy or
	// earlier: the overdue and those due that day.
	DueBy ccpor.Date
	Limit int // at most this many (100 when 0)
}

// FindTransmissions returns the messages f selects, the longest due
// first, without payloads. It returns EInvalid for an unknown state.
func (db *DB) FindTransmissions(ctx context.Context, f TransmissionFilter) ([]*ccpor.Transmission, error) {
	if f.State != "" && !slices.Contains(ccpor.TransmissionStates, f.State) {
		return nil, ccpor.Errorf(ccpor.EInvalid, "Unknown transmission state %q.", f.State)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.State != "" {
		arg("t.state = $%d", string(f.State))
	}
	if f.County != "" {
		arg("t.county = $%d", f.County)
	}
	if f.OrderID != "" {
		if checkID(f.OrderID) != nil {
			return nil, nil
		}
		arg("t.order_id = $%d", f.OrderID)
	}
	if !f.DueBy.IsZero() {
		arg("t.state <> 'acknowledged' AND t.due_on <= $%d", f.DueBy.Time())
	}
	q := `SELECT ` + transmissionColumns + ` FROM transmissions t`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY t.due_on, t.created_at LIMIT $%d`, len(args))
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find transmissions: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*ccpor.Transmission, error) { return scanTransmission(r) })
	if err != nil {
		return nil, fmt.Errorf("find transmissions: %w", err)
	}
	return ms, nil
}

// OverdueTransmissions returns up to limit messages about orders of county
// that law enforcement has not acknowledged and whose due day is today or
// past, the longest due first, each with its order's current version for
// display. Rejected messages stay in it until someone acts. The partial
// index transmissions_unacknowledged keeps it to the few unacknowledged
// messages whatever the registry's size.
func (db *DB) OverdueTransmissions(ctx context.Context, county string, today ccpor.Date, limit int) ([]*ccpor.Transmission, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT `+transmissionColumns+`, o.id::text, o.version, v.doc
		FROM transmissions t
		JOIN orders o ON o.id = t.order_id
		JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
		WHERE t.county = $1 AND t.state <> 'acknowledged' AND t.due_on <= $2
		ORDER BY t.due_on, t.created_at LIMIT $3`, county, today.Time(), limit)
	if err != nil {
		return nil, fmt.Errorf("overdue transmissions: %w", err)
	}
	now := db.Now()
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*ccpor.Transmission, error) {
		var id string
		var version int
		var doc []byte
		m, err := scanTransmission(r, &id, &version, &doc)
		if err != nil {
			return nil, err
		}
		var o ccpor.Order
		if err := json.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("decode order %s: %w", id, err)
		}
		o.ID, o.Version = id, version
		o.Status = o.StatusAt(now)
		m.Order = &o
		return m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("overdue transmissions: %w", err)
	}
	return ms, nil
}

// FindTransmission returns the message id with its payload, or ENotFound.
func (db *DB) FindTransmission(ctx context.Context, id string) (*ccpor.Transmission, error) {
	if checkID(id) != nil {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Transmission %s not found.", id)
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+transmissionColumns+`, t.payload FROM transmissions t WHERE t.id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("find transmission: %w", err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanTransmissionPayload)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Transmission %s not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find transmission: %w", err)
	}
	return m, nil
}
