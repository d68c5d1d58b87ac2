package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
)

// The people of the conflict scenarios (synthetic). The test clock is
// 2026-03-02.
var (
	marcus   = ccpor.Person{First: "Marcus", Last: "Delgado", DOB: day("1988-04-12"), Sex: "M", Race: "H", Address: home}
	elena    = ccpor.Person{First: "Elena", Last: "Delgado", DOB: day("1990-07-03"), Sex: "F", Race: "H", Address: home}
	sofia    = ccpor.Person{First: "Sofia", Last: "Delgado", DOB: day("2016-05-20"), Sex: "F"}
	mateo    = ccpor.Person{First: "Mateo", Last: "Delgado", DOB: day("2018-09-09"), Sex: "M"}
	gary     = ccpor.Person{First: "Gary", Last: "Holt", DOB: day("1971-10-30"), Sex: "M", Race: "W"}
	priya    = ccpor.Person{First: "Priya", Last: "Raman", DOB: day("1993-01-22"), Sex: "F", Race: "Z"}
	whitaker = ccpor.Person{First: "John", Last: "Whitaker", DOB: day("1966-03-14"), Sex: "M", Race: "W"}
	karen    = ccpor.Person{First: "Karen", Last: "Whitaker", DOB: day("1968-08-08"), Sex: "F", Race: "W"}
	home     = &ccpor.Address{Line1: "1450 Alder Grove Ln", City: "Hayward", State: "CA", Zip: "94544"}
)

func day(s string) ccpor.Date {
	d, err := ccpor.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func adult(p ccpor.Person, rel string) ccpor.Party { return ccpor.Party{Person: p, Relationship: rel} }
func child(p ccpor.Person) ccpor.Party {
	return ccpor.Party{Person: p, Relationship: "child", Minor: true}
}

// with returns a copy of p changed by f: the same person written
// differently on another order.
func with(p ccpor.Person, f func(*ccpor.Person)) ccpor.Person { f(&p); return p }

// order builds an order; id is a scenario-local number.
func order(id int, t ccpor.OrderType, phase ccpor.Phase, caseNo, issued string, r ccpor.Person, prot []ccpor.Party, terms ccpor.Terms) *ccpor.Order {
	o := &ccpor.Order{Type: t, Phase: phase, County: "Alameda", CaseNumber: caseNo, IssuedOn: day(issued),
		Restrained: r, Protected: prot, Terms: terms, Service: ccpor.Service{Status: ccpor.ServedInCourt}}
	if id > 0 {
		o.ID = oid(id)
	}
	return o
}

func oid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

type wantConflict struct {
	kind     ccpor.ConflictKind
	severity ccpor.Severity
	order    int // the existing order involved
}

type wantPrecedence struct {
	term  ccpor.Term
	order int // 0: the proposed order
	rule  string
}

type conflictScenario struct {
	name     string
	existing []*ccpor.Order
	// changes are applied to existing orders after they are stored
	// (terminations).
	proposed       *ccpor.Order
	includeExpired bool
	// related lists every existing order that must be found at the match
	// level, with its role; any other order found at the match level fails.
	related map[int]string
	// possible, when set, lists every existing order that must be shown
	// only as possibly involving the same people.
	possible   []int
	follows    []int
	conflicts  []wantConflict
	precedence []wantPrecedence
}

func conflictScenarios() []conflictScenario {
	dv := func(id int, caseNo, issued string, r ccpor.Person, prot []ccpor.Party, terms ccpor.Terms) *ccpor.Order {
		return order(id, ccpor.OrderDV, ccpor.PhaseAfterHearing, caseNo, issued, r, prot, terms)
	}
	cpo := func(id int, caseNo, issued string, r ccpor.Person, prot []ccpor.Party, terms ccpor.Terms) *ccpor.Order {
		return order(id, ccpor.OrderCPO, ccpor.PhaseAfterHearing, caseNo, issued, r, prot, terms)
	}
	stay := func(yards int, places ...string) ccpor.Terms {
		return ccpor.Terms{Conduct: true, StayAwayYards: yards, StayAwayPlaces: places}
	}
	noContact := ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"}}
	elenaOnly := []ccpor.Party{adult(elena, "spouse")}
	family := []ccpor.Party{adult(elena, "spouse"), child(sofia), child(mateo)}
	const today = "2026-03-02"

	return []conflictScenario{{
		name:     "nothing registered",
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
	}, {
		name:     "other people only",
		existing: []*ccpor.Order{dv(1, "25FL000900", "2025-05-01", whitaker, []ccpor.Party{adult(karen, "spouse")}, noContact)},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
	}, {
		name:      "the same order again is a blocking duplicate",
		existing:  []*ccpor.Order{dv(1, "26FL000100", "2026-02-20", marcus, elenaOnly, noContact)},
		proposed:  dv(0, "26FL000100", "2026-02-20", marcus, elenaOnly, noContact),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictDuplicate, ccpor.SeverityBlock, 1}},
	}, {
		name:      "the same order with the case number punctuated differently",
		existing:  []*ccpor.Order{dv(1, "26-FL-000100", "2026-02-20", marcus, elenaOnly, noContact)},
		proposed:  dv(0, "26 fl 000100", "2026-02-20", marcus, elenaOnly, noContact),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictDuplicate, ccpor.SeverityBlock, 1}},
	}, {
		name:     "order after hearing follows the temporary order of its case",
		existing: []*ccpor.Order{order(1, ccpor.OrderDV, ccpor.PhaseTemporary, "26FL000100", "2026-02-20", marcus, elenaOnly, stay(100, "residence"))},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
		related:  map[int]string{1: "restrained"},
		follows:  []int{1},
	}, {
		name:      "a second order for the same parties",
		existing:  []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", marcus, elenaOnly, ccpor.Terms{Conduct: true, Firearms: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"}})},
		proposed:  dv(0, "26FL000100", today, marcus, elenaOnly, ccpor.Terms{Conduct: true, Firearms: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"}}),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermStayAway, 1, "last_criminal"}, {ccpor.TermFirearms, 1, "last_criminal"},
			{ccpor.TermConduct, 1, "last_criminal"}},
	}, {
		name:     "criminal no-contact against family visitation and child exchanges",
		existing: []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", marcus, elenaOnly, noContact)},
		proposed: dv(0, "26FL000100", today, marcus, family, ccpor.Terms{Conduct: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"},
			Visitation: "unsupervised", ContactExceptions: []string{"child_exchange"}, Custody: "protected"}),
		related: map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictNoContact, ccpor.SeverityWarn, 1},
			{ccpor.ConflictStayAway, ccpor.SeverityInfo, 1}},
		precedence: []wantPrecedence{{ccpor.TermContact, 1, "only_order"}, {ccpor.TermStayAway, 1, "no_contact"}},
	}, {
		name:      "peaceful contact against no contact",
		existing:  []*ccpor.Order{dv(1, "25FL000700", "2025-08-14", marcus, elenaOnly, noContact)},
		proposed:  cpo(0, "26CR000321", today, marcus, elenaOnly, ccpor.Terms{Conduct: true, PeacefulContact: true}),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictNoContact, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermContact, 1, "no_contact"}, {ccpor.TermStayAway, 1, "only_order"},
			{ccpor.TermConduct, 1, "no_contact"}},
	}, {
		name: "a no-contact order's own exceptions allow the visitation",
		existing: []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", marcus, family, ccpor.Terms{Conduct: true, NoContact: true,
			ContactExceptions: []string{"court_ordered_visitation", "child_exchange"}})},
		proposed: dv(0, "26FL000100", today, marcus, family, ccpor.Terms{Conduct: true, Visitation: "supervised",
			ContactExceptions: []string{"child_exchange"}, Custody: "protected"}),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}},
	}, {
		name:       "different stay-away distances",
		existing:   []*ccpor.Order{dv(1, "25FL000700", "2025-08-14", marcus, elenaOnly, stay(100, "residence", "workplace"))},
		proposed:   cpo(0, "26CR000321", today, marcus, elenaOnly, stay(300, "residence", "workplace")),
		related:    map[int]string{1: "restrained"},
		conflicts:  []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictStayAway, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermStayAway, 0, "last_criminal"}, {ccpor.TermConduct, 0, "last_criminal"}},
	}, {
		name:       "different stay-away places",
		existing:   []*ccpor.Order{dv(1, "25FL000700", "2025-08-14", marcus, elenaOnly, stay(100, "residence"))},
		proposed:   dv(0, "26FL000100", today, marcus, elenaOnly, stay(100, "residence", "workplace")),
		related:    map[int]string{1: "restrained"},
		conflicts:  []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictStayAway, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermStayAway, 0, "last_issued"}},
	}, {
		name:      "children named in the new order only",
		existing:  []*ccpor.Order{dv(1, "25FL000700", "2025-08-14", marcus, elenaOnly, stay(100, "residence"))},
		proposed:  dv(0, "26FL000100", today, marcus, []ccpor.Party{adult(elena, "spouse"), child(sofia)}, stay(100, "residence")),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictStayAway, ccpor.SeverityInfo, 1}},
	}, {
		name:     "visitation to the restrained person of an order protecting the child",
		existing: []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", marcus, []ccpor.Party{child(sofia)}, noContact)},
		proposed: dv(0, "26FL000100", today, marcus, []ccpor.Party{adult(elena, "spouse"), child(sofia)},
			ccpor.Terms{Conduct: true, Visitation: "unsupervised", Custody: "joint"}),
		related: map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictNoContact, ccpor.SeverityWarn, 1},
			{ccpor.ConflictCustody, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermContact, 1, "only_order"}, {ccpor.TermCustody, 0, "only_order"}},
	}, {
		name: "custody given to different parents, in reversed roles",
		existing: []*ccpor.Order{dv(1, "25FL000700", "2025-08-14", elena, []ccpor.Party{adult(marcus, "spouse"), child(sofia)},
			ccpor.Terms{Conduct: true, Custody: "protected"})},
		proposed: dv(0, "26FL000100", today, marcus, []ccpor.Party{adult(elena, "spouse"), child(sofia)},
			ccpor.Terms{Conduct: true, Custody: "protected"}),
		related:   map[int]string{1: "reversed"},
		conflicts: []wantConflict{{ccpor.ConflictMutual, ccpor.SeverityWarn, 1}, {ccpor.ConflictCustody, ccpor.SeverityWarn, 1}},
	}, {
		name:      "the same two people in reversed roles",
		existing:  []*ccpor.Order{withExpiry(order(1, ccpor.OrderCH, ccpor.PhaseAfterHearing, "25CV012345", "2025-10-01", elena, []ccpor.Party{adult(marcus, "")}, stay(50)), "2028-10-01")},
		proposed:  dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
		related:   map[int]string{1: "reversed"},
		conflicts: []wantConflict{{ccpor.ConflictMutual, ccpor.SeverityWarn, 1}},
	}, {
		name:      "move-out orders against each other",
		existing:  []*ccpor.Order{dv(1, "25FL000700", "2025-08-14", elena, []ccpor.Party{adult(marcus, "spouse")}, ccpor.Terms{Conduct: true, MoveOut: true})},
		proposed:  dv(0, "26FL000100", today, marcus, elenaOnly, ccpor.Terms{Conduct: true, MoveOut: true}),
		related:   map[int]string{1: "reversed"},
		conflicts: []wantConflict{{ccpor.ConflictMutual, ccpor.SeverityWarn, 1}, {ccpor.ConflictResidence, ccpor.SeverityWarn, 1}},
	}, {
		name:       "firearms prohibited in one order only",
		existing:   []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", marcus, elenaOnly, ccpor.Terms{Conduct: true, Firearms: true})},
		proposed:   dv(0, "26FL000100", today, marcus, elenaOnly, ccpor.Terms{Conduct: true}),
		related:    map[int]string{1: "restrained"},
		conflicts:  []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictFirearms, ccpor.SeverityInfo, 1}},
		precedence: []wantPrecedence{{ccpor.TermFirearms, 1, "only_order"}, {ccpor.TermConduct, 1, "last_criminal"}},
	}, {
		name: "a child protected by a juvenile court order",
		existing: []*ccpor.Order{order(1, ccpor.OrderJV, ccpor.PhaseAfterHearing, "25JV000077", "2025-12-01", marcus,
			[]ccpor.Party{child(sofia)}, stay(100, "residence"))},
		proposed:  dv(0, "26FL000100", today, marcus, []ccpor.Party{adult(elena, "spouse"), child(sofia)}, stay(100, "residence")),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictJurisdiction, ccpor.SeverityWarn, 1}},
	}, {
		name: "criminal and juvenile orders may coexist",
		existing: []*ccpor.Order{order(1, ccpor.OrderJV, ccpor.PhaseAfterHearing, "25JV000077", "2025-12-01", marcus,
			[]ccpor.Party{child(sofia)}, stay(100, "residence"))},
		proposed:   cpo(0, "26CR000321", today, marcus, []ccpor.Party{child(sofia)}, stay(100, "residence")),
		related:    map[int]string{1: "restrained"},
		conflicts:  []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermStayAway, 0, "last_criminal"}},
	}, {
		name:     "an emergency order governs only where it is more restrictive",
		existing: []*ccpor.Order{dv(1, "25FL000700", "2025-08-14", marcus, elenaOnly, ccpor.Terms{Conduct: true, Firearms: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"}})},
		proposed: order(0, ccpor.OrderEPO, ccpor.PhaseEmergency, "EPO-26-0042", today, marcus, elenaOnly,
			ccpor.Terms{Conduct: true, StayAwayYards: 300, StayAwayPlaces: []string{"residence", "workplace"}}),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictStayAway, ccpor.SeverityWarn, 1}, {ccpor.ConflictFirearms, ccpor.SeverityInfo, 1}},
		precedence: []wantPrecedence{{ccpor.TermStayAway, 0, "epo_more_restrictive"}, {ccpor.TermFirearms, 1, "only_order"},
			{ccpor.TermConduct, 0, "last_issued"}},
	}, {
		name:      "a less restrictive emergency order yields to the no-contact order",
		existing:  []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", marcus, elenaOnly, noContact)},
		proposed:  order(0, ccpor.OrderEPO, ccpor.PhaseEmergency, "EPO-26-0042", today, marcus, elenaOnly, stay(50, "residence")),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictStayAway, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermContact, 1, "only_order"}, {ccpor.TermStayAway, 1, "no_contact"},
			{ccpor.TermConduct, 1, "no_contact"}},
	}, {
		name: "the last criminal order wins over a later civil one",
		existing: []*ccpor.Order{
			cpo(1, "25CR004410", "2025-09-10", marcus, elenaOnly, stay(100, "residence")),
			dv(2, "26FL000050", "2026-01-15", marcus, elenaOnly, stay(200, "residence")),
		},
		proposed: order(0, ccpor.OrderCH, ccpor.PhaseTemporary, "26CV000999", today, marcus, elenaOnly, ccpor.Terms{Firearms: true}),
		related:  map[int]string{1: "restrained", 2: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictSameParties, ccpor.SeverityWarn, 2},
			{ccpor.ConflictFirearms, ccpor.SeverityInfo, 1}, {ccpor.ConflictFirearms, ccpor.SeverityInfo, 2}},
		precedence: []wantPrecedence{{ccpor.TermStayAway, 1, "last_criminal"}, {ccpor.TermFirearms, 0, "only_order"},
			{ccpor.TermConduct, 1, "last_criminal"}},
	}, {
		name:      "restrained person under a nickname",
		existing:  []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", with(whitaker, func(p *ccpor.Person) { p.First = "Jack" }), []ccpor.Party{adult(karen, "spouse")}, noContact)},
		proposed:  dv(0, "26FL000100", today, whitaker, []ccpor.Party{adult(karen, "spouse")}, noContact),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermContact, 1, "no_contact"}, {ccpor.TermStayAway, 1, "no_contact"},
			{ccpor.TermConduct, 1, "no_contact"}},
	}, {
		name:      "restrained person with a typo in the first name",
		existing:  []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", with(marcus, func(p *ccpor.Person) { p.First = "Marcos" }), elenaOnly, noContact)},
		proposed:  dv(0, "26FL000100", today, marcus, elenaOnly, ccpor.Terms{Conduct: true, PeacefulContact: true}),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictNoContact, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermContact, 1, "no_contact"}, {ccpor.TermStayAway, 1, "only_order"},
			{ccpor.TermConduct, 1, "no_contact"}},
	}, {
		name: "protected person with a dropped second surname",
		existing: []*ccpor.Order{withExpiry(order(1, ccpor.OrderCH, ccpor.PhaseAfterHearing, "25CV012345", "2025-10-01", gary,
			[]ccpor.Party{adult(with(elena, func(p *ccpor.Person) { p.Last = "Delgado Ruiz" }), "neighbor")}, stay(50)), "2028-10-01")},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
		related:  map[int]string{1: "protected"},
	}, {
		name:      "restrained person with day and month of birth swapped",
		existing:  []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", with(marcus, func(p *ccpor.Person) { p.DOB = day("1988-12-04") }), elenaOnly, noContact)},
		proposed:  dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermContact, 1, "no_contact"}, {ccpor.TermStayAway, 1, "no_contact"},
			{ccpor.TermConduct, 1, "no_contact"}},
	}, {
		name: "father and son of the same name and address are not merged",
		existing: []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03",
			with(marcus, func(p *ccpor.Person) { p.DOB, p.Suffix = day("1961-01-15"), "Sr" }),
			[]ccpor.Party{adult(ccpor.Person{First: "Rosa", Last: "Delgado", DOB: day("1963-06-02"), Address: home}, "spouse")}, noContact)},
		proposed: dv(0, "26FL000100", today, with(marcus, func(p *ccpor.Person) { p.Suffix = "Jr" }), elenaOnly, ccpor.Terms{Conduct: true, PeacefulContact: true}),
	}, {
		name:     "an expired order is not related by default",
		existing: []*ccpor.Order{withExpiry(dv(1, "22FL000700", "2022-08-14", marcus, elenaOnly, noContact), "2025-08-14")},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
	}, {
		name:           "an expired order is related on request, without conflicts",
		existing:       []*ccpor.Order{withExpiry(dv(1, "22FL000700", "2022-08-14", marcus, elenaOnly, noContact), "2025-08-14")},
		proposed:       dv(0, "26FL000100", today, marcus, elenaOnly, ccpor.Terms{Conduct: true, PeacefulContact: true}),
		includeExpired: true,
		related:        map[int]string{1: "restrained"},
	}, {
		name:     "a terminated order is not in effect",
		existing: []*ccpor.Order{withTermination(cpo(1, "25CR004410", "2025-11-03", marcus, elenaOnly, noContact), "2026-01-10")},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, ccpor.Terms{Conduct: true, PeacefulContact: true}),
	}, {
		name:     "the same protected person, another restrained person",
		existing: []*ccpor.Order{withExpiry(order(1, ccpor.OrderCH, ccpor.PhaseAfterHearing, "25CV012345", "2025-10-01", gary, []ccpor.Party{adult(elena, "neighbor")}, stay(50)), "2028-10-01")},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
		related:  map[int]string{1: "protected"},
	}, {
		name:     "the same restrained person, another protected person",
		existing: []*ccpor.Order{withExpiry(order(1, ccpor.OrderWV, ccpor.PhaseAfterHearing, "25CV020202", "2025-07-07", marcus, []ccpor.Party{adult(priya, "coworker")}, stay(100, "workplace")), "2028-07-07")},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
		related:  map[int]string{1: "restrained"},
	}, {
		name: "protected people known by name only are one family once the restrained person matches",
		existing: []*ccpor.Order{cpo(1, "25CR004410", "2025-11-03", marcus,
			[]ccpor.Party{adult(ccpor.Person{First: "Elena", Last: "Delgado"}, "spouse")}, noContact)},
		proposed:  dv(0, "26FL000100", today, marcus, []ccpor.Party{adult(ccpor.Person{First: "Elena", Last: "Delgado"}, "spouse")}, ccpor.Terms{Conduct: true, PeacefulContact: true}),
		related:   map[int]string{1: "restrained"},
		conflicts: []wantConflict{{ccpor.ConflictSameParties, ccpor.SeverityWarn, 1}, {ccpor.ConflictNoContact, ccpor.SeverityWarn, 1}},
		precedence: []wantPrecedence{{ccpor.TermContact, 1, "no_contact"}, {ccpor.TermStayAway, 1, "only_order"},
			{ccpor.TermConduct, 1, "no_contact"}},
	}, {
		name: "an order between other people with the same surnames is not related",
		existing: []*ccpor.Order{dv(1, "25FL000700", "2025-08-14",
			ccpor.Person{First: "Ramon", Last: "Delgado", DOB: day("1979-02-02"), Sex: "M"},
			[]ccpor.Party{adult(ccpor.Person{First: "Lucia", Last: "Delgado", DOB: day("1981-12-12"), Sex: "F"}, "spouse")}, noContact)},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
	}, {
		name: "a renewal in the same case follows the order it renews",
		existing: []*ccpor.Order{
			order(1, ccpor.OrderDV, ccpor.PhaseTemporary, "23FL000300", "2023-03-01", marcus, elenaOnly, stay(100, "residence")),
			withExpiry(dv(2, "23FL000300", "2023-03-20", marcus, elenaOnly, noContact), "2026-03-20"),
		},
		proposed:       permanent(withForm(dv(0, "23FL000300", today, marcus, elenaOnly, noContact), "DV-730")),
		includeExpired: true,
		related:        map[int]string{1: "restrained", 2: "restrained"},
		follows:        []int{1, 2},
	}, {
		// His twin brother at his home: one first name apart, which is also
		// what a first name keyed wrong looks like. The judge sees the
		// order as possible, as the clerk's duplicate check shows it, and
		// no conflict is drawn from it.
		name:     "a twin at the same home is shown as possible, not as him",
		existing: []*ccpor.Order{dv(1, "25FL000950", "2025-06-01", with(marcus, func(p *ccpor.Person) { p.First, p.Middle = "Mario", "" }), []ccpor.Party{adult(priya, "dating")}, noContact)},
		proposed: dv(0, "26FL000100", today, marcus, elenaOnly, noContact),
		possible: []int{1},
	}}
}

func withExpiry(o *ccpor.Order, d string) *ccpor.Order { o.ExpiresAt = day(d); return o }
func withForm(o *ccpor.Order, f string) *ccpor.Order   { o.Form = f; return o }
func permanent(o *ccpor.Order) *ccpor.Order            { o.Permanent = true; return o }
func withTermination(o *ccpor.Order, d string) *ccpor.Order {
	o.Terminated = &ccpor.Termination{On: day(d), Reason: "dismissed"}
	return o
}

type conflictResult struct {
	Related []struct {
		OrderID string `json:"order_id"`
		Role    string `json:"role"`
		Level   string `json:"level"`
		Follows bool   `json:"follows"`
	} `json:"related"`
	Conflicts  []ccpor.Conflict   `json:"conflicts"`
	Precedence []ccpor.Precedence `json:"precedence"`
	Searched   struct {
		Complete bool   `json:"complete"`
		People   int    `json:"people"`
		Note     string `json:"note"`
	} `json:"searched"`
}

// TestConflictScenarios runs the scenario table written from domain.md §2
// through the real server: existing orders stored in Postgres and
// indexed, the proposed order sent to POST /api/v1/checks/conflicts.
func TestConflictScenarios(t *testing.T) {
	scenarios := conflictScenarios()
	if len(scenarios) < 30 {
		t.Fatalf("%d scenarios; the issue asks for at least 30", len(scenarios))
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ts := mustServer(t)
			ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{Name: "Scenario loader", Role: ccpor.RoleAdmin})
			for _, o := range sc.existing {
				o := *o
				if err := o.Prepare(now); err != nil {
					t.Fatalf("existing order %s: %v", o.ID, err)
				}
				if err := ts.db.CreateOrder(ctx, &o); err != nil {
					t.Fatalf("existing order %s: %v", o.ID, err)
				}
			}
			if !ts.follower.Sync(ctx, 10*time.Second) {
				t.Fatal("index did not catch up")
			}
			body, err := json.Marshal(sc.proposed)
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/checks/conflicts"
			if sc.includeExpired {
				path += "?include_expired=true"
			}
			resp, got := ts.do(ccpor.RoleJudge, "POST", path, body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("conflict check: %d %s", resp.StatusCode, got)
			}
			var res conflictResult
			if err := json.Unmarshal(got, &res); err != nil {
				t.Fatal(err)
			}
			name := func(id string) int {
				for n := 1; n < 10; n++ {
					if oid(n) == id {
						return n
					}
				}
				if id == ccpor.ProposedOrderID {
					return 0
				}
				return -1
			}
			// Related: none missed, none extra at the match level.
			found := map[int]string{}
			var follows []int
			for _, r := range res.Related {
				if r.Level == "match" || r.Role != "possible" {
					found[name(r.OrderID)] = r.Role
				}
				if r.Follows {
					follows = append(follows, name(r.OrderID))
				}
			}
			if sc.possible != nil {
				var possible []int
				for _, r := range res.Related {
					if r.Level != "match" && r.Role == "possible" {
						possible = append(possible, name(r.OrderID))
					}
				}
				slices.Sort(possible)
				if fmt.Sprint(possible) != fmt.Sprint(sc.possible) {
					t.Errorf("possible = %v, want %v\n%s", possible, sc.possible, got)
				}
			}
			want := sc.related
			if want == nil {
				want = map[int]string{}
			}
			if fmt.Sprint(found) != fmt.Sprint(want) {
				t.Errorf("related = %v, want %v\n%s", found, want, got)
			}
			slices.Sort(follows)
			if fmt.Sprint(follows) != fmt.Sprint(sc.follows) && !(len(follows) == 0 && len(sc.follows) == 0) {
				t.Errorf("follows = %v, want %v", follows, sc.follows)
			}
			// Conflicts: exactly the expected kinds, severities and orders.
			var gotC, wantC []string
			for _, c := range res.Conflicts {
				other := -1
				for _, id := range c.OrderIDs {
					if id != ccpor.ProposedOrderID {
						other = name(id)
					}
				}
				gotC = append(gotC, fmt.Sprintf("%s/%s/%d", c.Kind, c.Severity, other))
				if !strings.HasSuffix(c.Message, ")") && !strings.HasSuffix(c.Message, ".") {
					t.Errorf("message is not a sentence: %q", c.Message)
				}
			}
			for _, c := range sc.conflicts {
				wantC = append(wantC, fmt.Sprintf("%s/%s/%d", c.kind, c.severity, c.order))
			}
			slices.Sort(gotC)
			slices.Sort(wantC)
			if !slices.Equal(gotC, wantC) {
				t.Errorf("conflicts = %v, want %v\n%s", gotC, wantC, got)
			}
			// Precedence: each expected term decided as expected.
			for _, wp := range sc.precedence {
				i := slices.IndexFunc(res.Precedence, func(p ccpor.Precedence) bool { return p.Term == wp.term })
				if i < 0 {
					t.Errorf("no precedence for %s\n%s", wp.term, got)
					continue
				}
				p := res.Precedence[i]
				if name(p.OrderID) != wp.order || p.Rule != wp.rule {
					t.Errorf("precedence %s = order %d by %s, want order %d by %s (%s)", wp.term, name(p.OrderID), p.Rule, wp.order, wp.rule, p.Reason)
				}
			}
			if len(sc.precedence) == 0 && len(res.Precedence) > 0 && len(sc.conflicts) == 0 {
				t.Errorf("precedence without conflicts: %+v", res.Precedence)
			}
			if !res.Searched.Complete || res.Searched.People != 1+len(sc.proposed.Protected) || res.Searched.Note == "" {
				t.Errorf("searched = %+v", res.Searched)
			}
		})
	}
}
