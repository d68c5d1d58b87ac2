package store

import (
	"context"
	"fmt"

	"github.com/ccpor/ccpor"
	"github.com/google/uuid"
)

// FindOrderAccess returns what decides who may see each of ids that
// exists: type, county, the sealed mark and the confidential minors, read
// from the orders row alone (every write keeps those columns with the
// current version), not from the version's document. A search filters
// every candidate with it before counting them.
func (db *DB) FindOrderAccess(ctx context.Context, ids []string) (map[string]ccpor.OrderAccess, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT id::text, type, county, sealed, registered, confidential_minors
		FROM orders WHERE id = ANY($1::uuid[])`, uuidArg(ids))
	if err != nil {
		return nil, fmt.Errorf("order access: %w", err)
	}
	defer rows.Close()
	out := make(map[string]ccpor.OrderAccess, len(ids))
	for rows.Next() {
		var id, typ string
		var a ccpor.OrderAccess
		var minors []int64
		if err := rows.Scan(&id, &typ, &a.County, &a.Sealed, &a.Registered, &minors); err != nil {
			return nil, fmt.Errorf("order access: %w", err)
		}
		a.Type = ccpor.OrderType(typ)
		for _, m := range minors {
			a.ConfidentialMinors = append(a.ConfidentialMinors, int(m))
		}
		out[id] = a
	}
	return out, rows.Err()
}

// minorsArg is a.ConfidentialMinors as the orders row's
// confidential_minors column takes it. The row's sealed, registered and
// confidential_minors columns are written from ccpor.AccessOf, the one
// derivation of who may see an order.
func minorsArg(a ccpor.OrderAccess) []int32 {
	minors := []int32{}
	for _, i := range a.ConfidentialMinors {
		minors = append(minors, int32(i))
	}
	return minors
}

// uuidArg parses ids for a uuid[] parameter; one that is not a UUID names
// no order and is left out. Given strings, pgx first tries, and fails, to
// encode them as UUIDs before it falls back to text: a search asks this
// for up to 120 orders, and the parsed form took a fifth off the query
// (BenchmarkFindOrderAccess). A text[] parameter cast to uuid[] in SQL was
// eight times slower.
func uuidArg(ids []string) [][16]byte {
	out := make([][16]byte, 0, len(ids))
	for _, id := range ids {
		if u, err := uuid.Parse(id); err == nil {
			out = append(out, u)
		}
	}
	return out
}
