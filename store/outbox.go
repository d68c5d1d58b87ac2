package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ccpor/ccpor"
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
	// Delivered at commit, once per transaction, to every node listening.
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, outboxChannel); err != nil {
		return fmt.Errorf("outbox notify: %w", err)
	}
	return nil
}

// outboxChannel is the LISTEN/NOTIFY channel of outbox commits.
const outboxChannel = "ccpor_outbox"

// ListenChanges calls nudge each time a transaction that wrote the outbox
// commits, through this node or any other, until ctx ends. It holds a
// connection of its own, outside the pool. When that connection is lost it
// connects again, and nudges once connected, since notifications sent in
// between are gone; followers poll as well, so a lost notification costs
// at most their poll interval.
func (db *DB) ListenChanges(ctx context.Context, nudge func(), log *slog.Logger) {
	wait := time.Second
	for ctx.Err() == nil {
		// Once connected, a later loss waits from a second again.
		err := db.listen(ctx, nudge, func() { wait = time.Second })
		if ctx.Err() != nil {
			return
		}
		log.Warn("outbox notifications lost; polling until reconnected", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (db *DB) listen(ctx context.Context, nudge, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+outboxChannel); err != nil {
		return err
	}
	connected()
	nudge()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		nudge()
	}
}

// Ensure DB is a change feed.
var _ ccpor.ChangeFeed = (*DB)(nil)

// ChangesSince returns up to limit outbox entries after seq, in order.
func (db *DB) ChangesSince(ctx context.Context, seq int64, limit int) ([]ccpor.Change, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT seq, order_id::text FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox since %d: %w", seq, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ccpor.Change, error) {
		var e ccpor.Change
		err := r.Scan(&e.Seq, &e.OrderID)
		return e, err
	})
}

// ChangesHead returns the last outbox sequence number, 0 when empty.
func (db *DB) ChangesHead(ctx context.Context) (int64, error) {
	var seq int64
	err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM outbox`).Scan(&seq)
	return seq, err
}

// FindOrdersByIDs returns the current versions of those of ids that exist,
// without history: what an index needs, in one round trip.
func (db *DB) FindOrdersByIDs(ctx context.Context, ids []string) ([]*ccpor.Order, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT o.id::text, o.version, v.doc, `+scanTextColumn+`
		FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
		WHERE o.id = ANY($1::uuid[])`, uuidArg(ids))
	if err != nil {
		return nil, fmt.Errorf("find orders: %w", err)
	}
	return collectOrders(rows, db.Now())
}

// FindOrderSummaries returns those of ids that exist as orders holding
// only what a list of results shows of them: type, phase, form, county,
// division, case number, dates, termination, service status, the
// firearms, no-contact and stay-away terms and the restrained person's
// name; everything else is zero. A search shows a page of twenty: whole
// orders, people, addresses and notes were decoded to be thrown away, a
// tenth of a loaded server's CPU. The fields come as columns, so neither
// side parses or builds JSON.
func (db *DB) FindOrderSummaries(ctx context.Context, ids []string) ([]ccpor.OrderSummary, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT o.id::text, o.version, d->>'type', d->>'phase', d->>'form', d->>'county',
			d->>'division', d->>'case_number', d->>'issued_on', d->>'expires_at',
			coalesce((d->>'permanent')::bool, false), d->'terminated'->>'on',
			d->'service'->>'status', coalesce((d->'terms'->>'firearms')::bool, false),
			coalesce((d->'terms'->>'no_contact')::bool, false), coalesce((d->'terms'->>'stay_away_yards')::int, 0),
			d->'restrained'->>'first', d->'restrained'->>'middle', d->'restrained'->>'last', d->'restrained'->>'suffix',
			o.type, o.county, o.sealed, o.registered, o.confidential_minors
		FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version = o.version,
			LATERAL (SELECT v.doc AS d) doc
		WHERE o.id = ANY($1::uuid[])`, uuidArg(ids))
	if err != nil {
		return nil, fmt.Errorf("find order summaries: %w", err)
	}
	now := db.Now()
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ccpor.OrderSummary, error) {
		var o ccpor.Order
		var a ccpor.OrderAccess
		var accessType string
		var minors []int64
		var typ, phase, form, county, division, caseNumber, issued, expires, terminated, service *string
		var first, middle, last, suffix *string
		if err := r.Scan(&o.ID, &o.Version, &typ, &phase, &form, &county, &division, &caseNumber, &issued, &expires,
			&o.Permanent, &terminated, &service, &o.Terms.Firearms, &o.Terms.NoContact, &o.Terms.StayAwayYards,
			&first, &middle, &last, &suffix, &accessType, &a.County, &a.Sealed, &a.Registered, &minors); err != nil {
			return ccpor.OrderSummary{}, err
		}
		a.Type = ccpor.OrderType(accessType)
		for _, m := range minors {
			a.ConfidentialMinors = append(a.ConfidentialMinors, int(m))
		}
		o.Type, o.Phase, o.Division = ccpor.OrderType(orEmpty(typ)), ccpor.Phase(orEmpty(phase)), ccpor.Division(orEmpty(division))
		o.Form, o.County, o.CaseNumber = orEmpty(form), orEmpty(county), orEmpty(caseNumber)
		o.Service.Status = ccpor.ServiceStatus(orEmpty(service))
		o.Restrained.First, o.Restrained.Middle, o.Restrained.Last, o.Restrained.Suffix = orEmpty(first), orEmpty(middle), orEmpty(last), orEmpty(suffix)
		var err error
		if o.IssuedOn, err = optionalDate(issued); err != nil {
			return ccpor.OrderSummary{}, fmt.Errorf("order %s: issued on: %w", o.ID, err)
		}
		if o.ExpiresAt, err = optionalDate(expires); err != nil {
			return ccpor.OrderSummary{}, fmt.Errorf("order %s: expires: %w", o.ID, err)
		}
		if terminated != nil {
			on, err := ccpor.ParseDate(*terminated)
			if err != nil {
				return ccpor.OrderSummary{}, fmt.Errorf("order %s: terminated on: %w", o.ID, err)
			}
			o.Terminated = &ccpor.Termination{On: on}
		}
		o.Status = o.StatusAt(now)
		return ccpor.OrderSummary{Order: &o, Access: a}, nil
	})
}

// orEmpty is a nullable column's text, "" for NULL.
func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// optionalDate parses a nullable date column; NULL and "" are the zero date.
func optionalDate(s *string) (ccpor.Date, error) {
	if s == nil || *s == "" {
		return ccpor.Date{}, nil
	}
	return ccpor.ParseDate(*s)
}

// EachOrder calls fn with the current version of every order, streaming
// them in batches so a million orders never sit in memory at once.
func (db *DB) EachOrder(ctx context.Context, fn func(*ccpor.Order) error) error {
	const batch = 5000
	after := "00000000-0000-0000-0000-000000000000"
	for {
		rows, err := db.Pool.Query(ctx, `
			SELECT o.id::text, o.version, v.doc, `+scanTextColumn+`
			FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
			WHERE o.id > $1 ORDER BY o.id LIMIT $2`, after, batch)
		if err != nil {
			return fmt.Errorf("each order: %w", err)
		}
		orders, err := collectOrders(rows, db.Now())
		if err != nil {
			return err
		}
		for _, o := range orders {
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(orders) < batch {
			return nil
		}
		after = orders[len(orders)-1].ID
	}
}

// scanTextColumn is the machine-read text of an order's documents, which
// the index makes searchable; an order without documents costs one probe
// of documents_order.
const scanTextColumn = `(SELECT coalesce(string_agg(p.text, E'\n' ORDER BY d.uploaded_at, d.id, p.page), '')
	FROM documents d JOIN document_pages p ON p.document_id = d.id WHERE d.order_id = o.id)`

func collectOrders(rows pgx.Rows, now time.Time) ([]*ccpor.Order, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*ccpor.Order, error) {
		var id string
		var version int
		var doc []byte
		var text *string
		if err := r.Scan(&id, &version, &doc, &text); err != nil {
			return nil, err
		}
		var o ccpor.Order
		if err := json.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("decode order %s: %w", id, err)
		}
		o.ID, o.Version = id, version
		if text != nil {
			o.ScanText = *text
		}
		o.Status = o.StatusAt(now)
		return &o, nil
	})
}
