package store

import (
	"context"
	"fmt"

	"github.com/ccpor/ccpor"
)

// Queue names a clerk's work queue: orders of their court that need
// someone to act.
type Queue string

// Work queues.
const (
	// QueueUnserved: orders in effect whose service is not recorded: the
	// restrained person may not know of them, and an officer who meets
	// them must serve or give notice.
	QueueUnserved Queue = "unserved"
	// QueueHearingPassed: temporary orders whose hearing date (their
	// expiry) has passed with no order after hearing recorded.
	QueueHearingPassed Queue = "hearing_passed"
	// QueueRenewal: orders after hearing that expire within the renewal
	// window (FC 6345(a): a renewal may be asked within the three months
	// before expiry) and have no renewal recorded.
	QueueRenewal Queue = "renewal"
)

// Queues lists the work queues in the order a clerk works them.
var Queues = []Queue{QueueHearingPassed, QueueUnserved, QueueRenewal}

// RenewalWindowDays is how long before expiry an order enters the renewal
// queue.
const RenewalWindowDays = 90

// queueIDs selects each queue's orders, in the order they are worked, with
// the columns that order them: $1 is the county, $2 today, $3 the limit.
// Each reads only its partial index (migration 0009) and the orders it
// returns; the documents are joined after the limit.
var queueIDs = map[Queue]string{
	// Soonest to lapse first: a temporary order must be served before its
	// hearing. Orders without an expiry (permanent renewals) come last,
	// by a second ordered read of the index, since one range cannot hold
	// both.
	QueueUnserved: `(SELECT o.id, o.version, o.expires_at FROM orders o
			WHERE o.county = $1 AND NOT o.served AND o.terminated_on IS NULL AND o.expires_at >= $2
			ORDER BY o.expires_at, o.id LIMIT $3)
		UNION ALL
		(SELECT o.id, o.version, o.expires_at FROM orders o
			WHERE o.county = $1 AND NOT o.served AND o.terminated_on IS NULL AND o.expires_at IS NULL
			ORDER BY o.id LIMIT $3)`,
	QueueHearingPassed: fmt.Sprintf(`SELECT o.id, o.version, o.expires_at FROM orders o
		WHERE o.county = $1 AND o.phase = 'temporary' AND o.terminated_on IS NULL
			AND o.expires_at < $2 AND o.expires_at >= $2::date - %d
			AND NOT EXISTS (SELECT 1 FROM orders f WHERE f.previous_order_id = o.id)
		ORDER BY o.expires_at, o.id LIMIT $3`, HearingLookbackDays),
	QueueRenewal: fmt.Sprintf(`SELECT o.id, o.version, o.expires_at FROM orders o
		WHERE o.county = $1 AND o.phase = 'after_hearing' AND o.terminated_on IS NULL
			AND o.expires_at >= $2 AND o.expires_at < $2::date + %d
			AND NOT EXISTS (SELECT 1 FROM orders f WHERE f.previous_order_id = o.id)
		ORDER BY o.expires_at, o.id LIMIT $3`, RenewalWindowDays),
}

// HearingLookbackDays is how far back the hearing-passed queue looks: a
// temporary order whose hearing passed longer ago without an outcome is a
// records problem for an audit, not the clerk's day's work.
const HearingLookbackDays = 180

// QueueOrders returns up to limit orders of county in queue q as of today,
// in the order they should be worked. It returns EInvalid for an unknown
// queue or no county: a queue belongs to a court.
func (db *DB) QueueOrders(ctx context.Context, q Queue, county string, today ccpor.Date, limit int) ([]*ccpor.Order, error) {
	ids, ok := queueIDs[q]
	if !ok {
		return nil, ccpor.Errorf(ccpor.EInvalid, "Unknown work queue %q.", q)
	}
	if county == "" {
		return nil, ccpor.Errorf(ccpor.EInvalid, "A work queue is a county's: name the county.")
	}
	rows, err := db.Pool.Query(ctx, `
		WITH q AS (`+ids+`)
		SELECT q.id::text, q.version, v.doc, ''
		FROM q JOIN order_versions v ON v.order_id = q.id AND v.version = q.version
		ORDER BY q.expires_at NULLS LAST, q.id LIMIT $3`, county, today.Time(), limit)
	if err != nil {
		return nil, fmt.Errorf("work queue %s: %w", q, err)
	}
	return collectOrders(rows, db.Now())
}
