package store

import (
	"context"
	"fmt"

	"github.com/ccpor/ccpor"
)

// FindOrderAccess returns what decides who may see each of ids that
// exists: type, county, the sealed mark and the confidential minors, read
// from the head and the current version without decoding whole orders. A
// search filters up to a page of candidates with it before counting them.
func (db *DB) FindOrderAccess(ctx context.Context, ids []string) (map[string]ccpor.OrderAccess, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT o.id::text, o.type, o.county, coalesce((v.doc->>'sealed')::boolean, false), v.doc ? 'registration',
			coalesce((SELECT array_agg(e.ord - 1 ORDER BY e.ord)
				FROM jsonb_array_elements(v.doc->'protected') WITH ORDINALITY AS e(p, ord)
				WHERE coalesce((e.p->>'minor')::boolean, false) AND coalesce((e.p->>'confidential')::boolean, false)),
				'{}')
		FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
		WHERE o.id = ANY($1::uuid[])`, ids)
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
