package ccpor

// ConflictKind names what collides between a proposed order and an
// existing one (design.md, "Conflict check vocabulary").
type ConflictKind string

// The conflict kinds a conflict check reports.
const (
	// ConflictDuplicate: same court, case, type, phase, issue date and parties.
	ConflictDuplicate ConflictKind = "duplicate_order"
	// ConflictSameParties: another active order already restrains this
	// person to protect these people.
	ConflictSameParties ConflictKind = "same_parties"
	// ConflictNoContact: one order forbids contact, another allows it.
	ConflictNoContact ConflictKind = "no_contact_vs_contact"
	// ConflictCustody: custody or visitation to the restrained person of
	// another order protecting that child, or custody to different parents.
	ConflictCustody ConflictKind = "custody_conflict"
	// ConflictStayAway: different stay-away distance, places or protected
	// people for the same pair.
	ConflictStayAway ConflictKind = "stay_away_mismatch"
	// ConflictResidence: a move-out order against a residence awarded or
	// allowed to the other party.
	ConflictResidence ConflictKind = "residence_conflict"
	// ConflictMutual: the same two people in reversed roles (FC 6305).
	ConflictMutual ConflictKind = "mutual_order"
	// ConflictFirearms: one order prohibits firearms, another between the
	// same people does not.
	ConflictFirearms ConflictKind = "firearms_mismatch"
	// ConflictJurisdiction: a child protected by a juvenile court order is
	// protected by a non-juvenile order too (CRC 5.630(a)).
	ConflictJurisdiction ConflictKind = "jurisdiction"
)

// Severity says what a conflict asks of the judge.
type Severity string

// Severities, from the strongest.
const (
	// SeverityBlock: the order should not be issued as it stands.
	SeverityBlock Severity = "block"
	// SeverityWarn: the judge must look and decide.
	SeverityWarn Severity = "warn"
	// SeverityInfo: worth knowing; both orders can be enforced together.
	SeverityInfo Severity = "info"
)

// Conflict is one collision found by a conflict check.
type Conflict struct {
	Kind     ConflictKind `json:"kind"`
	Severity Severity     `json:"severity"`
	// OrderIDs are the orders involved; the proposed order, which has no
	// ID yet, is written as ProposedOrderID.
	OrderIDs []string `json:"order_ids"`
	// Message is one plain sentence that cites the rule.
	Message string `json:"message"`
}

// ProposedOrderID stands for the order on the bench in conflicts and
// precedence: it is not saved, so it has no ID of its own.
const ProposedOrderID = "proposed"

// Term names a group of conditions that precedence is decided on.
type Term string

// The terms precedence is decided on, term by term (PC 136.2(c)).
const (
	TermContact  Term = "contact"            // no contact, peaceful contact, exceptions
	TermStayAway Term = "stay_away"          // distance and places
	TermMoveOut  Term = "move_out"           // leave the residence
	TermFirearms Term = "firearms"           // firearms prohibited
	TermConduct  Term = "conduct"            // no abuse, threats, stalking
	TermCustody  Term = "custody_visitation" // custody and visitation of children
)

// Terms in the order precedence lists them.
var PrecedenceTerms = []Term{TermContact, TermStayAway, TermMoveOut, TermFirearms, TermConduct, TermCustody}

// Precedence says, for one term and one restrained person, which order an
// officer enforces and why.
type Precedence struct {
	Term Term `json:"term"`
	// OrderID is the order that governs the term (ProposedOrderID for the
	// order on the bench).
	OrderID string `json:"order_id"`
	// Orders are every order that speaks to the term, the winner first.
	Orders []string `json:"orders"`
	// Rule is a short name of the rule applied: only_order, epo_more_restrictive,
	// no_contact, last_criminal, last_issued.
	Rule string `json:"rule"`
	// Reason is one plain sentence citing the law.
	Reason string `json:"reason"`
}
