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

// queueWhere is each queue's condition on orders o and their current
// version v; $2 is today.
var queueWhere = map[Queue]string{
	QueueUnserved: `NOT o.served AND o.terminated_on IS NULL AND (o.expires_at >= $2 OR o.expires_at IS NULL)`,
	QueueHearingPassed: fmt.Sprintf(`o.phase = 'temporary' AND o.terminated_on IS NULL
		AND o.expires_at < $2 AND o.expires_at >= $2::date - %d
		AND NOT EXISTS (SELECT 1 FROM orders f WHERE f.previous_order_id = o.id)`, HearingLookbackDays),
	QueueRenewal: fmt.Sprintf(`o.phase = 'after_hearing' AND o.terminated_on IS NULL
		AND o.expires_at >= $2 AND o.expires_at < $2::date + %d
		AND NOT EXISTS (SELECT 1 FROM orders f WHERE f.previous_order_id = o.id)`, RenewalWindowDays),
}

// HearingLookbackDays is how far back the hearing-passed queue looks: a
// temporary order whose hearing passed longer ago without an outcome is a
// records problem for an audit, not the clerk's day's work.
const HearingLookbackDays = 180

// queueOrder is the order a queue is worked in: the longest waiting, or
// the nearest deadline, first.
var queueOrder = map[Queue]string{
	QueueUnserved:      "o.issued_on, o.id",
	QueueHearingPassed: "o.expires_at, o.id",
	QueueRenewal:       "o.expires_at, o.id",
}

// QueueOrders returns up to limit orders of county ("" for every county)
// in queue q as of today, in the order they should be worked. It returns
// EInvalid for an unknown queue.
func (db *DB) QueueOrders(ctx context.Context, q Queue, county string, today ccpor.Date, limit int) ([]*ccpor.Order, error) {
	where, ok := queueWhere[q]
	if !ok {
		return nil, ccpor.Errorf(ccpor.EInvalid, "Unknown work queue %q.", q)
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT o.id::text, o.version, v.doc, ''
		FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
		WHERE ($1 = '' OR o.county = $1) AND `+where+`
		ORDER BY `+queueOrder[q]+` LIMIT $3`, county, today.Time(), limit)
	if err != nil {
		return nil, fmt.Errorf("work queue %s: %w", q, err)
	}
	return collectOrders(rows, db.Now())
}
