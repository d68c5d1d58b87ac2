package api

import (
	"context"
	"slices"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
)

// Confidentiality on the server (ccpor.User.MaySee, Redact): an order the
// user may not see is answered as if it did not exist — 404, and absent
// from search hits and their total, duplicate candidates, conflict
// results — and what they may see of the rest is redacted before it is
// written out.

// showOrder returns ENotFound for an order the acting user may not see,
// and redacts o for them otherwise.
func showOrder(ctx context.Context, o *ccpor.Order) error {
	u := ccpor.UserFromContext(ctx)
	if !u.MaySee(ccpor.AccessOf(o)) {
		return ccpor.Errorf(ccpor.ENotFound, "Order %s not found.", o.ID)
	}
	u.Redact(o)
	return nil
}

// visibleMatches keeps the matches the acting user may see: orders they may
// know of, and people in them they may know of (a confidential minor found
// by name would confirm the name). It decides on who may see each order as
// the index last saw it, which is what counts and pages a search; what is
// shown of a page is decided again on the system of record (candidates),
// so an order sealed a moment ago, before the index caught up, may be
// counted but is never shown. Reading the access of a search's hundred-odd
// candidates from PostgreSQL was a fifth of the database's work a search.
func visibleMatches(ctx context.Context, matches []index.Match) []index.Match {
	u := ccpor.UserFromContext(ctx)
	return slices.DeleteFunc(slices.Clone(matches), func(m index.Match) bool { return !mayShow(u, m.Access, m) })
}

// mayShow reports whether u may see match m of an order with access a.
func mayShow(u *ccpor.User, a ccpor.OrderAccess, m index.Match) bool {
	if !u.MaySee(a) {
		return false
	}
	return m.Person.Role != index.RoleProtected || u.SeesConfidential() || !slices.Contains(a.ConfidentialMinors, m.Person.Index)
}

// visibleOrders splits orders into those the acting user may see and the
// sealed ones of other courts, which a judge is told exist (FC 6306: the
// court must know of prior orders) without seeing them.
func visibleOrders(ctx context.Context, orders []*ccpor.Order) (visible, sealed []*ccpor.Order) {
	u := ccpor.UserFromContext(ctx)
	for _, o := range orders {
		switch a := ccpor.AccessOf(o); {
		case u.MaySee(a):
			visible = append(visible, o)
		case a.Sealed && u.Role == ccpor.RoleJudge:
			sealed = append(sealed, o)
		}
	}
	return visible, sealed
}
