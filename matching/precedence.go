package matching

import (
	"fmt"
	"slices"

	"github.com/ccpor/ccpor"
)

// Precedence says, term by term, which order an officer enforces among the
// proposed order and the existing orders in effect that restrain the same
// person to protect a person it protects (domain.md §2.1; Penal Code
// 136.2(c), Family Code 6383(h)):
//  1. an EPO wins for the terms on which it is more restrictive than every
//     other order (it then protects someone already protected by another
//     order, against the same person);
//  2. otherwise any no-contact order wins;
//  3. otherwise the last-issued criminal order wins when there is one, and
//     the last-issued order when all are civil.
//
// An order that a later step of its own case replaces (a temporary order
// after the order after hearing) is left out. Terms only one order speaks
// to are listed too, with rule "only_order": an officer enforces them as
// they stand.
func (b *Bench) Precedence() []ccpor.Precedence {
	group := []*ccpor.Order{b.Proposed}
	ids := []string{ccpor.ProposedOrderID}
	for k, o := range b.Existing {
		if b.pair(k).same && o.StatusAt(b.Today.Time()) == ccpor.StatusActive && !b.duplicate(k) {
			group = append(group, o)
			ids = append(ids, o.ID)
		}
	}
	if len(group) < 2 {
		return nil
	}
	// Drop orders replaced by a later step of their own case.
	var keep []int
	for i, o := range group {
		replaced := false
		for j, q := range group {
			if i != j && Follows(q, o) && !Follows(o, q) {
				replaced = true
			}
		}
		if !replaced {
			keep = append(keep, i)
		}
	}
	if len(keep) < 2 {
		return nil
	}
	var out []ccpor.Precedence
	for _, term := range ccpor.PrecedenceTerms {
		var speakers []int
		for _, i := range keep {
			if speaks(group[i].Terms, term) {
				speakers = append(speakers, i)
			}
		}
		if len(speakers) == 0 {
			continue
		}
		win, rule, reason := decide(group, speakers, term)
		order := []string{ids[win]}
		rest := slices.Clone(speakers)
		slices.SortStableFunc(rest, func(x, y int) int { return -group[x].IssuedOn.Compare(group[y].IssuedOn) })
		for _, i := range rest {
			if i != win {
				order = append(order, ids[i])
			}
		}
		out = append(out, ccpor.Precedence{Term: term, OrderID: ids[win], Orders: order, Rule: rule,
			Reason: capitalize(fmt.Sprintf(reason, describeIn(group[win], win == 0)))})
	}
	return out
}

func describeIn(o *ccpor.Order, proposed bool) string {
	if proposed {
		return "the proposed order"
	}
	return Describe(o)
}

// decide picks the order that governs term among speakers.
func decide(group []*ccpor.Order, speakers []int, term ccpor.Term) (int, string, string) {
	if len(speakers) == 1 {
		return speakers[0], "only_order", "%s is the only order in effect with this term between these people; it is enforced as written."
	}
	// 1. A qualifying EPO, for the terms it is more restrictive on.
	for _, i := range speakers {
		if group[i].Type != ccpor.OrderEPO {
			continue
		}
		stricter := true
		for _, j := range speakers {
			if j != i && !moreRestrictive(group[i].Terms, group[j].Terms, term) {
				stricter = false
			}
		}
		if stricter {
			return i, "epo_more_restrictive", "%s is an emergency protective order more restrictive on this term than the other orders, so it is enforced for this term (Penal Code 136.2(c); Family Code 6383(h))."
		}
	}
	// 2. Any no-contact order.
	var noContact []int
	for _, i := range speakers {
		if group[i].Terms.NoContact {
			noContact = append(noContact, i)
		}
	}
	if len(noContact) > 0 {
		i, _ := lastIssued(group, noContact)
		return i, "no_contact", "%s is a no-contact order, which takes precedence over the other orders (Family Code 6383(h); Penal Code 136.2(c))."
	}
	// 3. The last-issued criminal order, else the last-issued order.
	i, criminal := lastIssued(group, speakers)
	if criminal {
		return i, "last_criminal", "%s is the last-issued criminal protective order, which takes precedence when civil and criminal orders conflict (Penal Code 136.2(c))."
	}
	return i, "last_issued", "%s is the last-issued of these civil orders, which takes precedence (Family Code 6383(h))."
}

// lastIssued returns the last-issued criminal order among candidates when
// there is one, else the last-issued order. The proposed order (index 0)
// is issued today, after everything in the registry.
func lastIssued(group []*ccpor.Order, candidates []int) (int, bool) {
	var criminal []int
	for _, i := range candidates {
		if group[i].Type == ccpor.OrderCPO {
			criminal = append(criminal, i)
		}
	}
	pool := candidates
	if len(criminal) > 0 {
		pool = criminal
	}
	best := pool[0]
	for _, i := range pool[1:] {
		if later(group, i, best) {
			best = i
		}
	}
	return best, len(criminal) > 0
}

func later(group []*ccpor.Order, i, j int) bool {
	if c := group[i].IssuedOn.Compare(group[j].IssuedOn); c != 0 {
		return c > 0
	}
	return i == 0 // the order on the bench is issued last
}

// speaks reports whether terms say anything about term.
func speaks(t ccpor.Terms, term ccpor.Term) bool {
	switch term {
	case ccpor.TermContact:
		return t.NoContact || t.PeacefulContact
	case ccpor.TermStayAway:
		return hasStayAway(t)
	case ccpor.TermMoveOut:
		return t.MoveOut
	case ccpor.TermFirearms:
		return t.Firearms
	case ccpor.TermConduct:
		return t.Conduct
	case ccpor.TermCustody:
		return t.Custody != "" || t.Visitation != ""
	}
	return false
}

// moreRestrictive reports whether a restrains more than b on term.
func moreRestrictive(a, b ccpor.Terms, term ccpor.Term) bool {
	switch term {
	case ccpor.TermContact:
		return contactRank(a) > contactRank(b)
	case ccpor.TermStayAway:
		covers := a.StayAwayYards >= b.StayAwayYards && subsetOf(b.StayAwayPlaces, a.StayAwayPlaces)
		return covers && (a.StayAwayYards > b.StayAwayYards || len(a.StayAwayPlaces) > len(b.StayAwayPlaces))
	case ccpor.TermMoveOut:
		return a.MoveOut && !b.MoveOut
	case ccpor.TermFirearms:
		return a.Firearms && !b.Firearms
	case ccpor.TermConduct:
		return a.Conduct && !b.Conduct
	case ccpor.TermCustody:
		return custodyRank(a) > custodyRank(b)
	}
	return false
}

// contactRank orders contact terms from the least to the most restrictive.
func contactRank(t ccpor.Terms) int {
	switch {
	case t.NoContact && !slices.Contains(t.ContactExceptions, "child_exchange") && !slices.Contains(t.ContactExceptions, "court_ordered_visitation"):
		return 3
	case t.NoContact:
		return 2
	case t.PeacefulContact:
		return 1
	}
	return 0
}

// custodyRank orders custody and visitation terms, from the restrained
// person's side: the less they get, the more restrictive.
func custodyRank(t ccpor.Terms) int {
	v := map[string]int{"": 0, "unsupervised": 1, "supervised": 2, "none": 3}[t.Visitation]
	c := map[string]int{"": 0, "restrained": 0, "joint": 1, "protected": 2}[t.Custody]
	return v*3 + c
}

func subsetOf(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
