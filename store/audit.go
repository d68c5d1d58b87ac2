package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Audit outcomes: what became of the request an entry records.
const (
	AuditOK              = "ok"
	AuditUnauthenticated = "unauthenticated" // no token, or not a valid one
	AuditDenied          = "denied"          // the user's role or county may not
	AuditInvalid         = "invalid"
	AuditNotFound        = "not_found"
	AuditConflict        = "conflict"
	AuditThrottled       = "throttled" // over the rate limit
	AuditUnavailable     = "unavailable"
	AuditError           = "error"
)

// AuditEntry is one row of the audit trail: who (user, role), when (UTC),
// what (action, the order acted on, the orders the answer returned,
// detail), the outcome and the client's address.
type AuditEntry struct {
	ID         int64
	At         time.Time
	UserID     int64 // 0 when no user was authenticated
	UserName   string
	Role       ccpor.Role
	Action     string
	Outcome    string
	ClientAddr string
	OrderID    string
	OrderIDs   []string
	Detail     json.RawMessage // as recorded; null when none
	// PrevHash and Hash chain the entry to the one before it (see
	// migrations/0004_audit_chain.sql); the database sets them.
	PrevHash, Hash []byte
}

// AuditRequest is the request that audit entries are made for. The API
// puts one in each request's context, so that the entries its handlers
// write carry the client's address, and asks it afterwards whether any
// was written.
type AuditRequest struct {
	ClientAddr string
	recorded   atomic.Bool
	failure    atomic.Bool
}

// Recorded reports whether an entry was written for the request.
func (r *AuditRequest) Recorded() bool { return r.recorded.Load() }

// RecordedFailure reports whether an entry with an outcome other than ok
// was written for the request.
func (r *AuditRequest) RecordedFailure() bool { return r.failure.Load() }

type auditRequestKey struct{}

// NewContextWithAuditRequest returns a context carrying the request r.
func NewContextWithAuditRequest(ctx context.Context, r *AuditRequest) context.Context {
	return context.WithValue(ctx, auditRequestKey{}, r)
}

// AuditRequestFromContext returns the request in ctx, or nil.
func AuditRequestFromContext(ctx context.Context) *AuditRequest {
	r, _ := ctx.Value(auditRequestKey{}).(*AuditRequest)
	return r
}

// Audit records that the acting user (from ctx) did action, successfully,
// optionally on an order, with detail. Reads are audited as well as
// changes: who looked at a protected person's order is itself a record the
// court must keep.
func (db *DB) Audit(ctx context.Context, action, orderID string, detail any) error {
	e := &AuditEntry{Action: action, OrderID: orderID}
	if detail != nil {
		var err error
		if e.Detail, err = json.Marshal(detail); err != nil {
			return err
		}
	}
	return db.AppendAudit(ctx, e)
}

// AppendAudit appends e to the audit trail and sets its ID, time and
// hashes. What e leaves empty is filled in: the user and role from ctx,
// the client's address from ctx's AuditRequest, the outcome as ok. The
// append waits for any other append to commit (the chain is a line), so it
// must not be made inside a long transaction.
func (db *DB) AppendAudit(ctx context.Context, e *AuditEntry) error {
	if e.UserID == 0 && e.UserName == "" {
		if u := ccpor.UserFromContext(ctx); u != nil {
			e.UserID, e.UserName, e.Role = u.ID, u.Name, u.Role
		}
	}
	r := AuditRequestFromContext(ctx)
	if e.ClientAddr == "" && r != nil {
		e.ClientAddr = r.ClientAddr
	}
	if e.Outcome == "" {
		e.Outcome = AuditOK
	}
	if e.At.IsZero() {
		e.At = db.Now()
	}
	w := &auditWrite{e: e, done: make(chan error, 1)}
	db.audits.mu.Lock()
	db.audits.pending = append(db.audits.pending, w)
	if !db.audits.flushing {
		db.audits.flushing = true
		go db.flushAudits()
	}
	db.audits.mu.Unlock()
	select {
	case err := <-w.done:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		// The entry is still written; the request is not answered.
		return fmt.Errorf("audit: %w", ctx.Err())
	}
	if r != nil {
		r.recorded.Store(true)
		if e.Outcome != AuditOK {
			r.failure.Store(true)
		}
	}
	return nil
}

// auditQueue holds the entries waiting to be written. Every append takes
// the chain's head row lock until it commits, so appends one transaction
// each would queue behind one another's commits (the disk flush): a few
// hundred a second, when every search is audited. Instead one writer at a
// time takes everything waiting and writes it in one transaction, whose
// commit answers them all — group commit. Alone, an entry is written at
// once, as before.
type auditQueue struct {
	mu       sync.Mutex
	pending  []*auditWrite
	flushing bool
}

type auditWrite struct {
	e    *AuditEntry
	done chan error
}

// auditBatchMax bounds one transaction of appends.
const auditBatchMax = 500

// flushAudits writes waiting entries until none are left.
func (db *DB) flushAudits() {
	for {
		db.audits.mu.Lock()
		batch := db.audits.pending[:min(len(db.audits.pending), auditBatchMax)]
		db.audits.pending = db.audits.pending[len(batch):]
		if len(batch) == 0 {
			db.audits.pending = nil
			db.audits.flushing = false
			db.audits.mu.Unlock()
			return
		}
		db.audits.mu.Unlock()
		// Not a request's context: an entry whose request gave up waiting
		// is written all the same.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := db.insertAudits(ctx, batch)
		if err != nil && len(batch) > 1 {
			// One bad entry must not cost the others their record: each
			// again on its own.
			for _, w := range batch {
				w.done <- db.insertAudits(ctx, []*auditWrite{w})
			}
		} else {
			for _, w := range batch {
				w.done <- err
			}
		}
		cancel()
	}
}

// insertAudits appends the entries in one transaction, in order.
func (db *DB) insertAudits(ctx context.Context, batch []*auditWrite) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer tx.Rollback(context.Background())
	var b pgx.Batch
	for _, w := range batch {
		e := w.e
		var userID *int64
		if e.UserID != 0 {
			userID = &e.UserID
		}
		var detail []byte
		if len(e.Detail) > 0 {
			detail = e.Detail
		}
		b.Queue(`
			INSERT INTO audit (at, user_id, user_name, role, action, outcome, client_addr, order_id, order_ids, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::text[], '{}')::uuid[], $10)
			RETURNING id, at, prev_hash, hash`,
			e.At, userID, e.UserName, string(e.Role), e.Action, e.Outcome, e.ClientAddr,
			nullable(e.OrderID), e.OrderIDs, detail,
		).QueryRow(func(r pgx.Row) error {
			return r.Scan(&e.ID, &e.At, &e.PrevHash, &e.Hash)
		})
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditTrail returns the audit entries acting on an order, oldest first.
func (db *DB) AuditTrail(ctx context.Context, orderID string) ([]AuditEntry, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+auditColumns+` FROM audit WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, err
	}
	return scanAudit(rows)
}

const auditColumns = `id, at, coalesce(user_id, 0), user_name, role, action, outcome, client_addr,
	coalesce(order_id::text, ''), order_ids::text[], coalesce(detail, 'null'), prev_hash, hash`

func scanAudit(rows pgx.Rows) ([]AuditEntry, error) {
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var role string
		if err := rows.Scan(&e.ID, &e.At, &e.UserID, &e.UserName, &role, &e.Action, &e.Outcome, &e.ClientAddr,
			&e.OrderID, &e.OrderIDs, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.Role, e.At = ccpor.Role(role), e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// Audit query limits.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AuditFilter selects audit entries; a zero field does not filter.
type AuditFilter struct {
	UserID     int64
	Role       ccpor.Role
	Action     string
	Outcome    string
	ClientAddr string
	// OrderID selects the entries about an order: those acting on it and
	// those whose answer returned it (searches, checks).
	OrderID string
	// Since and Until bound the time: Since <= at < Until.
	Since, Until time.Time
	// Before pages back through the trail: only entries with a smaller ID.
	Before int64
	// Limit caps the entries returned (DefaultAuditLimit when 0, at most
	// MaxAuditLimit).
	Limit int
	// Oldest returns the oldest entries first instead of the newest.
	Oldest bool
}

// AuditQuery returns the audit entries f selects, newest first unless
// f.Oldest. To read the next page, pass the last entry's ID as Before. It
// returns EInvalid for an order ID that is not a UUID or a bad limit.
func (db *DB) AuditQuery(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.UserID != 0 {
		arg("user_id = $?", f.UserID)
	}
	if f.Role != "" {
		arg("role = $?", string(f.Role))
	}
	if f.Action != "" {
		arg("action = $?", f.Action)
	}
	if f.Outcome != "" {
		arg("outcome = $?", f.Outcome)
	}
	if f.ClientAddr != "" {
		arg("client_addr = $?", f.ClientAddr)
	}
	if f.OrderID != "" {
		id, err := uuid.Parse(f.OrderID)
		if err != nil {
			return nil, ccpor.Errorf(ccpor.EInvalid, "%q is not an order ID.", f.OrderID)
		}
		arg("(order_id = $? OR order_ids @> ARRAY[$?::uuid])", id.String())
	}
	if !f.Since.IsZero() {
		arg("at >= $?", f.Since)
	}
	if !f.Until.IsZero() {
		arg("at < $?", f.Until)
	}
	if f.Before != 0 {
		arg("id < $?", f.Before)
	}
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultAuditLimit
	case limit < 0 || limit > MaxAuditLimit:
		return nil, ccpor.Errorf(ccpor.EInvalid, "The limit must be from 1 to %d.", MaxAuditLimit)
	}
	q := `SELECT ` + auditColumns + ` FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Oldest {
		q += " ORDER BY id"
	} else {
		q += " ORDER BY id DESC"
	}
	q += " LIMIT " + strconv.Itoa(limit)
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit query: %w", err)
	}
	out, err := scanAudit(rows)
	if err != nil {
		return nil, fmt.Errorf("audit query: %w", err)
	}
	return out, nil
}

// AuditVerification is the result of walking the audit chain.
type AuditVerification struct {
	Rows   int64 // rows checked
	LastID int64
	// Head is the last row's hash. Kept somewhere else (printed, mailed),
	// it exposes even a rewrite of the whole chain, which the chain alone
	// cannot.
	Head []byte
	// BadID is the first row that does not hold, 0 when the chain holds;
	// Problem says what is wrong with it.
	BadID   int64
	Problem string
}

// OK reports whether the chain holds.
func (v *AuditVerification) OK() bool { return v.Problem == "" }

// genesis is the prev_hash of the first row.
var genesis = make([]byte, sha256.Size)

// VerifyAudit walks the audit chain from its first row and reports the
// first row that does not hold: one whose content no longer matches its
// hash (altered), one that does not follow the row before it (a row
// removed, or rows reordered), or an end that is not the recorded head
// (rows removed from the end). A broken chain is a result, not an error;
// the error is for a database that cannot be read.
//
// The canonical bytes are built here from the columns, as the migration's
// audit_canonical builds them, but without calling it: a replaced function
// must not be able to vouch for altered rows.
func (db *DB) VerifyAudit(ctx context.Context) (*AuditVerification, error) {
	v := &AuditVerification{}
	// One snapshot for the head and the rows, taken while appends go on.
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var headID int64
		var headHash []byte
		if err := tx.QueryRow(ctx, `SELECT last_id, last_hash FROM audit_head`).Scan(&headID, &headHash); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		rows, err := tx.Query(ctx, `
			SELECT id, prev_hash, hash,
				id::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), user_id::text,
				user_name, role, action, outcome, client_addr, order_id::text,
				array_to_string(order_ids, ','), detail::text
			FROM audit ORDER BY audit.id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		prev := genesis
		var fields [11]*string
		dest := []any{new(int64), new([]byte), new([]byte)}
		for i := range fields {
			dest = append(dest, &fields[i])
		}
		var canon bytes.Buffer
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			id, prevHash, hash := *dest[0].(*int64), *dest[1].(*[]byte), *dest[2].(*[]byte)
			v.Rows++
			canon.Reset()
			canon.Write(prevHash)
			for _, f := range fields {
				if f == nil {
					canon.WriteString("-,")
				} else {
					fmt.Fprintf(&canon, "%d:%s,", len(*f), *f)
				}
			}
			sum := sha256.Sum256(canon.Bytes())
			switch {
			case !bytes.Equal(sum[:], hash):
				v.BadID, v.Problem = id, fmt.Sprintf("row %d was altered: its content does not match its hash", id)
			case !bytes.Equal(prevHash, prev) && v.LastID == 0:
				v.BadID, v.Problem = id, fmt.Sprintf("row %d does not start the chain: rows before it were removed", id)
			case !bytes.Equal(prevHash, prev) && id != v.LastID+1:
				v.BadID, v.Problem = id, fmt.Sprintf("row %d does not follow row %d: %s removed", id, v.LastID, missing(v.LastID+1, id-1))
			case !bytes.Equal(prevHash, prev):
				v.BadID, v.Problem = id, fmt.Sprintf("row %d does not follow row %d: rows were removed, reordered or rewritten", id, v.LastID)
			}
			if v.BadID != 0 {
				return nil
			}
			prev, v.LastID = hash, id
		}
		if err := rows.Err(); err != nil {
			return err
		}
		v.Head = prev
		switch {
		case headID > v.LastID:
			v.BadID, v.Problem = v.LastID+1, fmt.Sprintf("the trail ends at row %d but the chain head is row %d: %s removed", v.LastID, headID, missing(v.LastID+1, headID))
		case headID != v.LastID || !bytes.Equal(headHash, prev):
			v.BadID, v.Problem = v.LastID, fmt.Sprintf("row %d is not the chain head (row %d): the head or the last rows were rewritten", v.LastID, headID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify audit: %w", err)
	}
	return v, nil
}

func missing(from, to int64) string {
	if from == to {
		return fmt.Sprintf("row %d was", from)
	}
	return fmt.Sprintf("rows %d to %d were", from, to)
}
