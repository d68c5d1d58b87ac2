package matching

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ccpor/ccpor"
)

// Conflicts applies the conflict rules of design.md ("Conflict check
// vocabulary") and domain.md §2.3 to the proposed order against each
// existing order in effect. Only people linked at LevelMatch count as the
// same person: a "possible" link is shown to the judge as related, but a
// rule that reads "the same child" must not fire on a guess.
func (b *Bench) Conflicts() []ccpor.Conflict {
	var out []ccpor.Conflict
	p := b.Proposed
	for k, o := range b.Existing {
		if !b.Related(k) || o.StatusAt(b.Today.Time()) != ccpor.StatusActive {
			continue
		}
		pair := b.pair(k)
		id := o.ID
		add := func(kind ccpor.ConflictKind, sev ccpor.Severity, format string, args ...any) {
			out = append(out, ccpor.Conflict{Kind: kind, Severity: sev, OrderIDs: []string{ccpor.ProposedOrderID, id},
				Message: fmt.Sprintf(format, args...)})
		}
		them := Describe(o)
		if pair.same {
			switch {
			case b.duplicate(k):
				add(ccpor.ConflictDuplicate, ccpor.SeverityBlock,
					"This order is already registered: %s has the same court, case, type, phase, issue date and parties.", them)
				continue
			case b.follows(k):
				// The next step of the case (temporary order, order after
				// hearing, renewal) replaces this one; its differences are
				// the point of it, not a conflict.
				continue
			}
			add(ccpor.ConflictSameParties, ccpor.SeverityWarn,
				"%s already restrains %s to protect %s; a second order for the same parties must be reconciled with it (Penal Code 273.75, Family Code 6306).",
				capitalize(them), p.Restrained.FullName(), b.sharedNames(k))
			b.contactRule(add, p.Terms, o.Terms, "the proposed order", them)
			b.stayAwayRule(add, k, them)
			if p.Terms.Firearms != o.Terms.Firearms {
				has, lacks := "the proposed order", them
				if o.Terms.Firearms {
					has, lacks = them, "the proposed order"
				}
				add(ccpor.ConflictFirearms, ccpor.SeverityInfo,
					"%s prohibits firearms and %s, between the same people, does not; the prohibition is enforced all the same (Penal Code 29825, Family Code 6389).",
					capitalize(has), lacks)
			}
		} else if pair.restrained && (hasChildContact(p.Terms) || hasChildContact(o.Terms)) {
			// Same restrained person, other protected people: contact
			// allowed by one order may still breach the other when a child
			// is exchanged between them.
			b.contactRule(add, p.Terms, o.Terms, "the proposed order", them)
		}
		if pair.reversed {
			add(ccpor.ConflictMutual, ccpor.SeverityWarn,
				"%s restrains %s to protect %s: the same two people in reversed roles. A mutual order needs both parties to appear and file their own requests, and detailed findings that both acted as primary aggressors and neither primarily in self-defense (Family Code 6305; 18 USC 2265(c)).",
				capitalize(them), o.Restrained.FullName(), p.Restrained.FullName())
			b.residenceRule(add, k, them)
		}
		b.custodyRule(add, k, them)
		b.jurisdictionRule(add, k, them)
	}
	return out
}

// pairKind says how an existing order's people stand to the proposed one's.
type pairKind struct {
	restrained bool // the same restrained person
	same       bool // the same restrained person and a shared protected person
	reversed   bool // each restrains a person the other protects
}

func (b *Bench) pair(k int) pairKind {
	o := b.Existing[k]
	var pk pairKind
	pk.restrained = b.who(k, 0) == 0
	if pk.restrained {
		for j := range o.Protected {
			if b.who(k, 1+j) > 0 {
				pk.same = true
			}
		}
	}
	protectsOurRestrained := false
	for j := range o.Protected {
		if b.who(k, 1+j) == 0 {
			protectsOurRestrained = true
		}
	}
	pk.reversed = b.who(k, 0) > 0 && protectsOurRestrained
	return pk
}

// duplicate reports whether Existing[k] is the proposed order itself: same
// court and case, type, phase, issue date, and the same people.
func (b *Bench) duplicate(k int) bool {
	p, o := b.Proposed, b.Existing[k]
	if !ccpor.SameCase(p, o) || p.Type != o.Type || p.Phase != o.Phase || p.IssuedOn != o.IssuedOn {
		return false
	}
	if p.Court != "" && o.Court != "" && !strings.EqualFold(p.Court, o.Court) {
		return false
	}
	if len(p.Protected) != len(o.Protected) {
		return false
	}
	for j := range o.Protected {
		if b.who(k, 1+j) <= 0 {
			return false
		}
	}
	return b.who(k, 0) == 0
}

// follows reports whether the proposed order is the next step of
// Existing[k]'s case: it names it as its predecessor, or it is a later
// phase of the same case, or a later order after hearing in it
// (modification, renewal).
func (b *Bench) follows(k int) bool {
	return Follows(b.Proposed, b.Existing[k])
}

// Follows reports whether next is a later step of prev's lifecycle chain:
// it names prev as its predecessor, or it is in the same case, of the same
// type, and either of a later phase or a later order after hearing
// (modification, renewal). The people are not compared here.
func Follows(next, prev *ccpor.Order) bool {
	if next.PreviousOrderID != "" && next.PreviousOrderID == prev.ID {
		return true
	}
	if !ccpor.SameCase(next, prev) || next.Type != prev.Type || next.IssuedOn.Before(prev.IssuedOn) {
		return false
	}
	if phaseRank(next.Phase) > phaseRank(prev.Phase) {
		return true
	}
	return next.Phase == ccpor.PhaseAfterHearing && prev.Phase == ccpor.PhaseAfterHearing && next.IssuedOn.After(prev.IssuedOn)
}

func phaseRank(p ccpor.Phase) int {
	switch p {
	case ccpor.PhaseEmergency:
		return 0
	case ccpor.PhaseTemporary:
		return 1
	}
	return 2
}

// sharedNames lists the proposed order's protected people that
// Existing[k] protects too.
func (b *Bench) sharedNames(k int) string {
	var names []string
	for j := range b.Existing[k].Protected {
		if p := b.who(k, 1+j); p > 0 {
			names = append(names, b.Proposed.Protected[p-1].FullName())
		}
	}
	return joinAnd(slices.Compact(names))
}

// contactAllowed lists the contact an order allows: peaceful contact,
// visitation, child exchanges, custody to the restrained person. Each is
// paired with the exception of a no-contact order that would permit it.
func contactAllowed(t ccpor.Terms) (what []string, permittedBy []string) {
	if t.PeacefulContact && !t.NoContact {
		what, permittedBy = append(what, "peaceful contact"), append(permittedBy, "")
	}
	if t.Visitation == "supervised" || t.Visitation == "unsupervised" {
		what, permittedBy = append(what, t.Visitation+" visitation"), append(permittedBy, "court_ordered_visitation")
	}
	if slices.Contains(t.ContactExceptions, "child_exchange") {
		what, permittedBy = append(what, "contact for child exchanges"), append(permittedBy, "child_exchange")
	}
	if slices.Contains(t.ContactExceptions, "court_ordered_visitation") && t.Visitation == "" {
		what, permittedBy = append(what, "contact for court-ordered visitation"), append(permittedBy, "court_ordered_visitation")
	}
	if t.Custody == "restrained" || t.Custody == "joint" {
		what, permittedBy = append(what, t.Custody+" custody"), append(permittedBy, "court_ordered_visitation")
	}
	return what, permittedBy
}

// hasChildContact reports whether an order allows contact through children.
func hasChildContact(t ccpor.Terms) bool {
	what, _ := contactAllowed(t)
	return slices.ContainsFunc(what, func(s string) bool { return s != "peaceful contact" })
}

type addFunc func(kind ccpor.ConflictKind, sev ccpor.Severity, format string, args ...any)

// contactRule: one order forbids contact, the other allows some (domain.md
// §2.3). A no-contact order's own exceptions (for visitation, for child
// exchanges) permit the matching contact the other order allows.
func (b *Bench) contactRule(add addFunc, ours, theirs ccpor.Terms, usName, themName string) {
	check := func(forbid, allow ccpor.Terms, forbidName, allowName string) bool {
		if !forbid.NoContact {
			return false
		}
		what, by := contactAllowed(allow)
		var breach []string
		for i, w := range what {
			if by[i] == "" || !slices.Contains(forbid.ContactExceptions, by[i]) {
				breach = append(breach, w)
			}
		}
		if len(breach) == 0 {
			return false
		}
		add(ccpor.ConflictNoContact, ccpor.SeverityWarn,
			"%s forbids all contact, but %s allows %s; the no-contact order is enforced first (Family Code 6383(h), Penal Code 136.2(c)), so the orders must be reconciled to provide for safe exchanges (Cal. Rules of Court 5.445).",
			capitalize(forbidName), allowName, joinAnd(breach))
		return true
	}
	if !check(ours, theirs, usName, themName) {
		check(theirs, ours, themName, usName)
	}
}

// stayAwayRule: different stay-away distance or places for the same pair,
// or children protected by one order only.
func (b *Bench) stayAwayRule(add addFunc, k int, them string) {
	p, o := b.Proposed, b.Existing[k]
	ps, os := p.Terms, o.Terms
	if !hasStayAway(ps) || !hasStayAway(os) {
		return
	}
	var diffs []string
	if ps.StayAwayYards != os.StayAwayYards {
		diffs = append(diffs, fmt.Sprintf("%d yards against %d", ps.StayAwayYards, os.StayAwayYards))
	}
	if !sameSet(ps.StayAwayPlaces, os.StayAwayPlaces) {
		diffs = append(diffs, fmt.Sprintf("places %s against %s", listOrNone(ps.StayAwayPlaces), listOrNone(os.StayAwayPlaces)))
	}
	if len(diffs) > 0 {
		add(ccpor.ConflictStayAway, ccpor.SeverityWarn,
			"The proposed order and %s set different stay-away terms for the same people (%s); an officer enforces each order's terms, the more protective in practice (Penal Code 136.2(c)).",
			them, strings.Join(diffs, "; "))
	}
	// Children named in one order only.
	var only []string
	for j, q := range p.Protected {
		if q.Minor && !b.protects(k, 1+j) {
			only = append(only, q.FullName())
		}
	}
	if len(only) > 0 {
		add(ccpor.ConflictStayAway, ccpor.SeverityInfo,
			"The proposed order protects %s, whom %s does not name: the stay-away terms differ for them.", joinAnd(only), them)
	}
}

// protects reports whether Existing[k] protects the proposed person slot.
func (b *Bench) protects(k, slot int) bool {
	for j := range b.Existing[k].Protected {
		if b.who(k, 1+j) == slot {
			return true
		}
	}
	return false
}

func hasStayAway(t ccpor.Terms) bool { return t.StayAwayYards > 0 || len(t.StayAwayPlaces) > 0 }

// residenceRule: the same two people in reversed roles, where one order
// moves a person out of the residence the other keeps them in or protects
// them at.
func (b *Bench) residenceRule(add addFunc, k int, them string) {
	p, o := b.Proposed, b.Existing[k]
	atHome := func(t ccpor.Terms) bool { return t.MoveOut || slices.Contains(t.StayAwayPlaces, "residence") }
	switch {
	case p.Terms.MoveOut && atHome(o.Terms):
		add(ccpor.ConflictResidence, ccpor.SeverityWarn,
			"The proposed order moves %s out of the residence, but %s keeps the residence for %s (move-out or stay-away from the residence): the residence is awarded to both parties.",
			p.Restrained.FullName(), them, o.Protected[b.protectedSlot(k, 0)].FullName())
	case o.Terms.MoveOut && atHome(p.Terms):
		add(ccpor.ConflictResidence, ccpor.SeverityWarn,
			"%s moves %s out of the residence that the proposed order keeps for them: the residence is awarded to both parties.",
			capitalize(them), o.Restrained.FullName())
	}
}

// protectedSlot returns the index in Existing[k].Protected of the proposed
// person slot, or 0.
func (b *Bench) protectedSlot(k, slot int) int {
	for j := range b.Existing[k].Protected {
		if b.who(k, 1+j) == slot {
			return j
		}
	}
	return 0
}

// children returns the protected minors of an order, by slot.
func children(o *ccpor.Order) []int {
	var out []int
	for j, q := range o.Protected {
		if q.Minor {
			out = append(out, 1+j)
		}
	}
	return out
}

// custodians returns who an order gives custody or visitation of its
// children to, by slot: the restrained person (0) or the adult protected
// people.
func custodians(o *ccpor.Order) (custody, visitation []int) {
	adults := func() []int {
		var out []int
		for j, q := range o.Protected {
			if !q.Minor {
				out = append(out, 1+j)
			}
		}
		return out
	}
	switch o.Terms.Custody {
	case "protected":
		custody = adults()
	case "restrained":
		custody = []int{0}
	case "joint":
		custody = append([]int{0}, adults()...)
	}
	if o.Terms.Visitation == "supervised" || o.Terms.Visitation == "unsupervised" {
		visitation = []int{0}
	}
	return custody, visitation
}

// custodyRule: custody or visitation given to the restrained person of
// another order protecting that child, or custody of one child given to
// different parents (domain.md §2.3).
func (b *Bench) custodyRule(add addFunc, k int, them string) {
	p, o := b.Proposed, b.Existing[k]
	// Everything is said in the proposed order's slots; a person of the
	// existing order who is nobody in the proposed one is -1-e.
	toUs := func(e int) int {
		if w := b.who(k, e); w >= 0 {
			return w
		}
		return -1 - e
	}
	mapAll := func(s []int) []int {
		out := make([]int, len(s))
		for i, e := range s {
			out[i] = toUs(e)
		}
		return out
	}
	ourKids, theirKids := children(p), mapAll(children(o))
	sharedKids := intersect(ourKids, theirKids)
	ourCust, ourVis := custodians(p)
	theirCust, theirVis := custodians(o)
	theirCust, theirVis = mapAll(theirCust), mapAll(theirVis)

	// The proposed order gives custody or visitation to its restrained
	// person, whom the existing order restrains to protect one of the
	// children.
	if b.who(k, 0) == 0 {
		kids := sharedKids
		if len(ourKids) == 0 {
			kids = theirKids // the proposed order does not name its children
		}
		protectedThere := intersect(kids, mapAll(protectedSlots(o)))
		// Visitation the protecting order itself excepts is reconciled
		// already (CRC 5.445); custody is not.
		if allowsVisitation(o.Terms) {
			ourVis = nil
		}
		if allowsVisitation(p.Terms) {
			theirVis = nil
		}
		if len(protectedThere) > 0 && (slices.Contains(ourCust, 0) || slices.Contains(ourVis, 0)) {
			add(ccpor.ConflictCustody, ccpor.SeverityWarn,
				"The proposed order gives %s %s of %s, whom %s protects from %s (Cal. Rules of Court 5.445; Family Code 3031).",
				p.Restrained.FullName(), custodyWord(p.Terms), b.kidNames(k, protectedThere), them, p.Restrained.FullName())
			return
		}
		// The existing order gives its restrained person (ours) custody or
		// visitation of children the proposed order protects.
		protectedHere := intersect(ourKids, theirKids)
		if len(protectedHere) > 0 && (slices.Contains(theirCust, 0) || slices.Contains(theirVis, 0)) {
			add(ccpor.ConflictCustody, ccpor.SeverityWarn,
				"%s gives %s %s of %s, whom the proposed order protects from %s (Cal. Rules of Court 5.445; Family Code 3031).",
				capitalize(them), p.Restrained.FullName(), custodyWord(o.Terms), b.kidNames(k, protectedHere), p.Restrained.FullName())
			return
		}
	}
	// Custody of a shared child given to different parents.
	if len(sharedKids) > 0 && len(ourCust) > 0 && len(theirCust) > 0 && len(intersect(ourCust, theirCust)) == 0 {
		add(ccpor.ConflictCustody, ccpor.SeverityWarn,
			"The proposed order gives custody of %s to %s, but %s gives it to %s: custody given to different parents.",
			b.kidNames(k, sharedKids), b.slotNames(k, ourCust), them, b.slotNames(k, theirCust))
	}
}

// allowsVisitation reports whether an order expressly permits contact for
// court-ordered visitation.
func allowsVisitation(t ccpor.Terms) bool {
	return slices.Contains(t.ContactExceptions, "court_ordered_visitation")
}

func protectedSlots(o *ccpor.Order) []int {
	out := make([]int, len(o.Protected))
	for j := range o.Protected {
		out[j] = 1 + j
	}
	return out
}

func custodyWord(t ccpor.Terms) string {
	switch {
	case t.Custody == "restrained":
		return "custody"
	case t.Custody == "joint":
		return "joint custody"
	case t.Visitation != "":
		return t.Visitation + " visitation"
	}
	return "custody"
}

// kidNames names proposed slots (>= 0) from the proposed order and others
// (-1-e) from Existing[k].
func (b *Bench) kidNames(k int, slots []int) string { return b.slotNames(k, slots) }

func (b *Bench) slotNames(k int, slots []int) string {
	var names []string
	for _, s := range slots {
		var q ccpor.Person
		if s >= 0 {
			q = Slots(b.Proposed)[s]
		} else {
			q = Slots(b.Existing[k])[-1-s]
		}
		names = append(names, q.FullName())
	}
	return joinAnd(slices.Compact(names))
}

// nonJuvenile are the orders a juvenile court's exclusive jurisdiction
// over a dependent child excludes (CRC 5.630(a)). Criminal orders may
// coexist with juvenile ones (In re B.S., Jr. (2009) 172 Cal.App.4th 183),
// and an EPO is an officer's emergency measure.
var nonJuvenile = []ccpor.OrderType{ccpor.OrderDV, ccpor.OrderCH, ccpor.OrderEA, ccpor.OrderSV, ccpor.OrderWV}

// jurisdictionRule: a child protected by an active juvenile court order is
// named in a family or civil order.
func (b *Bench) jurisdictionRule(add addFunc, k int, them string) {
	p, o := b.Proposed, b.Existing[k]
	var juvenile *ccpor.Order
	switch {
	case o.Type == ccpor.OrderJV && slices.Contains(nonJuvenile, p.Type):
		juvenile = o
	case p.Type == ccpor.OrderJV && slices.Contains(nonJuvenile, o.Type):
		juvenile = p
	default:
		return
	}
	var kids []string
	for _, s := range children(p) {
		if b.protects(k, s) {
			kids = append(kids, p.Protected[s-1].FullName())
		}
	}
	if len(kids) == 0 {
		return
	}
	if juvenile == o {
		add(ccpor.ConflictJurisdiction, ccpor.SeverityWarn,
			"%s protects %s: while a dependency petition (Welfare and Institutions Code 300) is pending, only the juvenile court may make a restraining order for the child (Cal. Rules of Court 5.630(a)).",
			capitalize(them), joinAnd(kids))
		return
	}
	add(ccpor.ConflictJurisdiction, ccpor.SeverityInfo,
		"%s already protects %s: the juvenile court's order will govern the child while the dependency case is open (Cal. Rules of Court 5.630(a)); the other order should be reviewed.",
		capitalize(them), joinAnd(kids))
}

func intersect(a, b []int) []int {
	var out []int
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return "nobody"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Describe names an existing order the way a judge would refer to it.
func Describe(o *ccpor.Order) string {
	name := strings.ToLower(ccpor.TypeRules[o.Type].Name)
	if name == "" {
		name = string(o.Type) + " order"
	}
	return fmt.Sprintf("the %s of %s (%s County, case %s)", name, o.IssuedOn, o.County, o.CaseNumber)
}

// Intake verdicts: what an existing order is to an order being entered.
const (
	// IntakeDuplicate: the same order (same case, type, phase, issue date
	// and people). It is refused.
	IntakeDuplicate = "duplicate"
	// IntakeLikelyDuplicate: the same people, the same type, and the same
	// or a similar case number or overlapping dates. It is refused unless
	// the clerk gives a reason.
	IntakeLikelyDuplicate = "likely_duplicate"
	// IntakeFollows: the order being entered is the next step of this
	// one's case, and is linked to it.
	IntakeFollows = "follows"
)

// Intake says what Existing[k] is to the proposed order when a clerk
// enters it: IntakeDuplicate, IntakeFollows, IntakeLikelyDuplicate, or ""
// when it is another order.
func (b *Bench) Intake(k int) string {
	p, o := b.Proposed, b.Existing[k]
	pk := b.pair(k)
	if !pk.restrained {
		return ""
	}
	switch {
	case b.duplicate(k):
		return IntakeDuplicate
	case Follows(p, o):
		return IntakeFollows
	case p.Type != o.Type:
		return ""
	case len(p.Protected) > 0 && len(o.Protected) > 0 && !pk.same:
		return ""
	}
	similarCase := p.County == o.County && WithinEdits(ccpor.CaseKey(p.CaseNumber), ccpor.CaseKey(o.CaseNumber), 1)
	if similarCase || overlaps(p, o) {
		return IntakeLikelyDuplicate
	}
	return ""
}

// overlaps reports whether two orders are in effect on a common day.
func overlaps(a, b *ccpor.Order) bool {
	end := func(o *ccpor.Order) ccpor.Date {
		e := o.ExpiresAt
		if o.Permanent || e.IsZero() {
			e = o.IssuedOn.AddYears(100)
		}
		if o.Terminated != nil && o.Terminated.On.Before(e) {
			e = o.Terminated.On.AddDays(-1)
		}
		return e
	}
	return !end(a).Before(b.IssuedOn) && !end(b).Before(a.IssuedOn)
}
