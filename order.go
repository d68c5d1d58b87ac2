// Package ccpor holds the registry's domain: protective orders, the people
// in them, their terms and lifecycle, and the rules that decide whether an
// order as entered is valid. It does no I/O; store, index, matching and api
// build on it.
package ccpor

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// OrderType is one of the eight kinds of protective order the registry holds.
type OrderType string

// The eight order types (domain.md §1).
const (
	OrderDV  OrderType = "DV"  // domestic violence, Family Code 6200 et seq.
	OrderCPO OrderType = "CPO" // criminal protective order, Penal Code 136.2
	OrderCH  OrderType = "CH"  // civil harassment, CCP 527.6
	OrderEA  OrderType = "EA"  // elder or dependent adult abuse, WIC 15657.03
	OrderJV  OrderType = "JV"  // juvenile, WIC 213.5
	OrderSV  OrderType = "SV"  // school violence prevention, CCP 527.85
	OrderWV  OrderType = "WV"  // workplace violence, CCP 527.8
	OrderEPO OrderType = "EPO" // emergency protective order, Family Code 6240
)

// OrderTypes lists every order type in a stable order.
var OrderTypes = []OrderType{OrderDV, OrderCPO, OrderCH, OrderEA, OrderJV, OrderSV, OrderWV, OrderEPO}

// Phase is where an order stands in its case: an emergency order made on an
// officer's call, a temporary (ex parte) order pending a hearing, or an
// order made after a hearing.
type Phase string

// The phases of an order.
const (
	PhaseEmergency    Phase = "emergency"
	PhaseTemporary    Phase = "temporary"
	PhaseAfterHearing Phase = "after_hearing"
)

// Division is the court division that issued an order.
type Division string

// Divisions lists every division.
var Divisions = []Division{DivisionFamily, DivisionCriminal, DivisionCivil, DivisionJuvenile, DivisionProbate}

// Court divisions.
const (
	DivisionFamily   Division = "family"
	DivisionCriminal Division = "criminal"
	DivisionCivil    Division = "civil"
	DivisionJuvenile Division = "juvenile"
	DivisionProbate  Division = "probate"
)

// Status is whether an order is in effect. It is derived from the dates and
// any termination each time it is read, so it is never stale.
type Status string

// Order statuses.
const (
	StatusActive     Status = "active"
	StatusExpired    Status = "expired"
	StatusTerminated Status = "terminated"
)

// Brady is the NCIC Brady indicator: whether the order disqualifies the
// restrained person from firearms under 18 USC 922(g)(8).
type Brady string

// Brady indicator values.
const (
	BradyYes     Brady = "Y"
	BradyNo      Brady = "N"
	BradyUnknown Brady = "U"
)

// Order is one protective order as issued, and its current state. Fields
// marked read-only are computed by the registry and ignored on input.
type Order struct {
	ID         string    `json:"id"` // UUID; assigned when absent
	Type       OrderType `json:"type"`
	Phase      Phase     `json:"phase"`
	Form       string    `json:"form"` // Judicial Council form, e.g. DV-130
	County     string    `json:"county"`
	Division   Division  `json:"division,omitempty"`
	Court      string    `json:"court,omitempty"` // courthouse or department
	CaseNumber string    `json:"case_number"`
	IssuedOn   Date      `json:"issued_on"`
	// ExpiresAt is the last day the order is in effect; it ends at midnight
	// after that day. Computed when the law fixes it (EPO, blank DV/JV/CPO).
	ExpiresAt Date `json:"expires_at,omitzero"`
	// Permanent marks a renewed DV order with no end (Family Code
	// 6345(a)); ExpiresAt is then empty.
	Permanent bool `json:"permanent,omitempty"`
	// PreviousOrderID links an order to the one it follows in the same case
	// (temporary order → order after hearing → renewal).
	PreviousOrderID string       `json:"previous_order_id,omitempty"`
	Terminated      *Termination `json:"terminated,omitempty"`
	Service         Service      `json:"service"`
	Restrained      Person       `json:"restrained"`
	Protected       []Party      `json:"protected"`
	Terms           Terms        `json:"terms"`
	Brady           Brady        `json:"brady,omitempty"`
	// Registration is set when the order was made outside California
	// and registered here (Family Code 6404, 6454); see Registration.
	Registration *Registration `json:"registration,omitempty"`
	// Sealed orders are seen by nobody but the court that holds them:
	// the issuing court, or for a registered order the registering
	// court. Prepare seals every registered order (FC 6404(a)(2)).
	Sealed bool   `json:"sealed,omitempty"`
	Notes  string `json:"notes,omitempty"`
	// OverrideReason is a clerk's reason for entering an order the
	// registry took for a likely duplicate. Input only: it is kept in the
	// order's history and the audit trail, not in the order.
	OverrideReason string `json:"override_reason,omitempty"`

	Status   Status    `json:"status"`             // read-only
	Version  int       `json:"version,omitempty"`  // read-only; bumps on every change
	Warnings []string  `json:"warnings,omitempty"` // read-only: missing descriptors, assumed dates
	History  []Version `json:"history,omitempty"`  // read-only
	// ScanText is the machine-read text of the order's documents, for the
	// search index only: never stored with a version nor shown as the
	// order, whose documents carry it marked as machine-read.
	ScanText string `json:"-"`
}

// Termination records that a court ended an order before its expiry.
type Termination struct {
	On     Date   `json:"on"`
	Reason string `json:"reason,omitempty"`
}

// Version is one entry of an order's history. Versions are appended, never
// rewritten: an order's past states stay readable.
type Version struct {
	Version int       `json:"version"`
	Action  string    `json:"action"` // create, import, modify, terminate, service
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Reason  string    `json:"reason,omitempty"`
}

// StatusAt returns the order's status on the given instant.
func (o *Order) StatusAt(now time.Time) Status {
	today := DateOf(now)
	if o.Terminated != nil && !o.Terminated.On.After(today) {
		return StatusTerminated
	}
	if !o.Permanent && !o.ExpiresAt.IsZero() && o.ExpiresAt.Before(today) {
		return StatusExpired
	}
	return StatusActive
}

// OrderSummary is what a list of results shows of an order (see
// OrderService.FindOrderSummaries) and who may see it.
type OrderSummary struct {
	Order  *Order
	Access OrderAccess
}

// OrderService is the system of record for orders.
type OrderService interface {
	// FindOrderByID returns the order with its history, or ENotFound.
	FindOrderByID(ctx context.Context, id string) (*Order, error)
	// CreateOrder stores a prepared order (see Order.Prepare) and assigns
	// its ID when empty. It returns EConflict when the ID exists.
	CreateOrder(ctx context.Context, o *Order) error
	// FindOrdersByIDs returns the current versions of those of ids that
	// exist, without history, in no particular order.
	FindOrdersByIDs(ctx context.Context, ids []string) ([]*Order, error)
	// FindOrderSummaries is FindOrdersByIDs for a list of results: the
	// orders hold only what a result list shows (type, phase, form,
	// county, division, case number, dates, termination, service status,
	// firearms, no-contact and stay-away terms, the restrained person's
	// name), the rest zero, each with who may see it.
	FindOrderSummaries(ctx context.Context, ids []string) ([]OrderSummary, error)
	// UpdateOrder stores o as the next version of an existing order, with
	// the action and reason. o.Version must be the version the change was
	// made from, or it returns EConflict and writes nothing.
	UpdateOrder(ctx context.Context, o *Order, action, reason string) error
	// FindOrderAccess returns, for those of ids that exist, what decides
	// who may see them (see User.MaySee), without reading whole orders.
	FindOrderAccess(ctx context.Context, ids []string) (map[string]OrderAccess, error)
	// FindOrderVersion returns one past version of an order as stored,
	// with its history up to it, or ENotFound.
	FindOrderVersion(ctx context.Context, id string, version int) (*Order, error)
}

// CaseKey reduces a case number to upper-case letters and digits, so the
// same case written with or without dashes and spaces compares equal.
func CaseKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// SameCase reports whether two orders belong to one case: one county and
// one case number, however it was punctuated.
func SameCase(a, b *Order) bool {
	return a.County == b.County && a.CaseNumber != "" && CaseKey(a.CaseNumber) == CaseKey(b.CaseNumber)
}

// SameParties reports whether two orders name the same people, written
// the same way (letters and digits of each name, birth dates where both
// give one). It is the registry's last guard against one order entered
// twice at the same instant; the matching engine judges the rest.
func SameParties(a, b *Order) bool {
	if !samePerson(&a.Restrained, &b.Restrained) || len(a.Protected) != len(b.Protected) {
		return false
	}
	for i := range a.Protected {
		found := false
		for j := range b.Protected {
			if samePerson(&a.Protected[i].Person, &b.Protected[j].Person) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func samePerson(a, b *Person) bool {
	if CaseKey(a.First) != CaseKey(b.First) || CaseKey(a.Last) != CaseKey(b.Last) {
		return false
	}
	return a.DOB.IsZero() || b.DOB.IsZero() || a.DOB == b.DOB
}
