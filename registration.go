package ccpor

import (
	"fmt"
	"slices"
	"strings"
)

// RegistrationKind says where a registered order was made.
type RegistrationKind string

// The kinds of registration (domain.md §1, §6).
const (
	// RegisteredOutOfState is an order of another state, the District of
	// Columbia or a US territory (Family Code 6401(1), 6404).
	RegisteredOutOfState RegistrationKind = "out_of_state"
	// RegisteredTribal is an order of an Indian tribe's court, a "state"
	// under Family Code 6401 and 18 USC 2265 (CRC 5.386 lets the tribal
	// court file it by fax or electronically).
	RegisteredTribal RegistrationKind = "tribal"
	// RegisteredCanadian is an order of a court of Canada, registered
	// under Family Code 6454 by the procedure of Family Code 6404.
	RegisteredCanadian RegistrationKind = "canadian"
)

// RegistrationKinds lists every kind in a stable order.
var RegistrationKinds = []RegistrationKind{RegisteredOutOfState, RegisteredTribal, RegisteredCanadian}

// RegistrationForm is the Judicial Council form on which a superior court
// registers an order made outside California: DV-600, Order to Register
// Out-of-State or Tribal Court Protective/Restraining Order (Family Code
// 6404). A registered order carries it as its Form.
const RegistrationForm = "DV-600"

// Registration records that an order was made by a court outside
// California and registered by a superior court here (Family Code 6404,
// 6454). The order's County, Court and CaseNumber are the registering
// court's; its IssuedOn, ExpiresAt, Permanent, phase and terms are the
// original order's, which govern: the issuing jurisdiction's order is
// enforced as written, for as long as it says (Family Code 6402(a);
// 18 USC 2265(a)), so California's maxima and blank-date rules do not
// apply. Registered orders are sealed (Family Code 6404(a)(2)).
type Registration struct {
	Kind RegistrationKind `json:"kind"`
	// Jurisdiction is where the order was made: the two-letter postal
	// code of a state or territory (NV, DC, PR) for out_of_state, the
	// tribe's name for tribal, the province's or territory's code (BC,
	// ON) for canadian.
	Jurisdiction string `json:"jurisdiction"`
	// IssuingCourt names the court that made the order, as the DV-600
	// does. Required for a tribal order: it is whom law enforcement
	// calls to confirm it, and a tribe's name does not say that.
	IssuingCourt string `json:"issuing_court,omitempty"`
	// OriginalCaseNumber is the issuing court's case number.
	OriginalCaseNumber string `json:"original_case_number"`
	// RegisteredOn is the day the order was registered here; the day of
	// entry when not given.
	RegisteredOn Date `json:"registered_on,omitzero"`
	// NotifyRespondent records that the protected person asked that the
	// restrained person be told of the registration. Nobody tells them
	// otherwise (18 USC 2265(d)(1)).
	NotifyRespondent bool `json:"notify_respondent,omitempty"`
}

// usJurisdictions are the postal codes of the states other than
// California, the District of Columbia and the US territories.
var usJurisdictions = strings.Fields(`AK AL AR AZ CO CT DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT
	NC ND NE NH NJ NM NV NY OH OK OR PA RI SC SD TN TX UT VA VT WA WI WV WY DC AS GU MP PR VI`)

// canadianJurisdictions are the codes of Canada's provinces and territories.
var canadianJurisdictions = strings.Fields(`AB BC MB NB NL NS NT NU ON PE QC SK YT`)

// checkRegistration checks o.Registration and applies what registration
// entails: the DV-600 form, the family division by default, and the
// sealed mark (Family Code 6404(a)(2)).
func (v *validator) checkRegistration(o *Order, r TypeRule, known bool) {
	g := o.Registration
	g.Kind = RegistrationKind(strings.ToLower(strings.TrimSpace(string(g.Kind))))
	g.Jurisdiction = NormalizeName(g.Jurisdiction)
	g.IssuingCourt = NormalizeName(g.IssuingCourt)
	g.OriginalCaseNumber = normalizeCaseNumber(g.OriginalCaseNumber)
	o.Sealed = true

	switch g.Kind {
	case RegisteredOutOfState, RegisteredCanadian:
		g.Jurisdiction = strings.ToUpper(g.Jurisdiction)
		codes, what := usJurisdictions, "state or US territory (NV, DC, PR)"
		if g.Kind == RegisteredCanadian {
			codes, what = canadianJurisdictions, "Canadian province or territory (BC, ON)"
		}
		switch {
		case g.Jurisdiction == "":
			v.add("registration.jurisdiction", "the jurisdiction that made the order is required: the two-letter code of the %s", what)
		case g.Jurisdiction == "CA" && g.Kind == RegisteredOutOfState:
			v.add("registration.jurisdiction", "a California order is not registered: enter it on its own form")
		case !slices.Contains(codes, g.Jurisdiction):
			v.add("registration.jurisdiction", "%q: use the two-letter code of the %s", g.Jurisdiction, what)
		}
	case RegisteredTribal:
		if !hasLetter(g.Jurisdiction) {
			v.add("registration.jurisdiction", "the tribe whose court made the order is required")
		}
		if !hasLetter(g.IssuingCourt) {
			v.add("registration.issuing_court", "the tribal court that made the order is required (the DV-600 names it; CRC 5.386)")
		}
	case "":
		v.add("registration.kind", "the kind of registration is required: %s", joinKinds())
	default:
		v.add("registration.kind", "unknown kind %q: use %s", g.Kind, joinKinds())
	}
	v.limit("registration.jurisdiction", g.Jurisdiction, maxNameLen)
	v.limit("registration.issuing_court", g.IssuingCourt, maxNameLen)
	v.limit("registration.original_case_number", g.OriginalCaseNumber, maxNameLen)
	if g.OriginalCaseNumber == "" {
		v.add("registration.original_case_number", "the issuing court's case number is required")
	} else if CaseKey(g.OriginalCaseNumber) == "" {
		v.add("registration.original_case_number", "%q has no letters or digits", g.OriginalCaseNumber)
	}

	if o.Form == "" {
		o.Form = RegistrationForm
	} else if o.Form != RegistrationForm {
		v.add("form", "a registered order is entered on %s, not %s: the original order is its scan (Family Code 6404)", RegistrationForm, o.Form)
	}
	if o.Division == "" {
		o.Division = DivisionFamily
	} else if !slices.Contains(Divisions, o.Division) {
		v.add("division", "unknown division %q", o.Division)
	}
	if !known {
		return
	}
	switch {
	case len(r.Registered) == 0:
		v.add("type", "%s orders are not registered from other jurisdictions: a foreign protection order is registered as %s, by the law it was made under (Family Code 6401(5))", o.Type, joinRegistrable())
	case g.Kind == RegisteredCanadian && o.Type == OrderCPO:
		v.add("type", "only an order made in a civil proceeding is registered from Canada (Family Code 6451(a))")
	case o.Phase == "":
		v.add("phase", "the phase of the original order is required: temporary (made without a hearing) or after_hearing")
	case !slices.Contains(r.Registered, o.Phase):
		v.add("phase", "phase %q: a registered order is %s, as the original order was made (an emergency order of another jurisdiction is temporary)", o.Phase, joinPhases(r.Registered))
	default:
		v.phaseOK = true
	}
}

// registeredExpiry checks the expiry of a registered order, which is the
// original order's own: the issuing jurisdiction decides how long its
// order lasts (Family Code 6402(a); 18 USC 2265(a)). Nothing is computed
// and no California maximum applies; an order with no end is Permanent.
func (o *Order) registeredExpiry(today Date) (warnings []string, problems []FieldProblem) {
	bad := func(field, format string, args ...any) {
		problems = append(problems, FieldProblem{field, fmt.Sprintf(format, args...)})
	}
	g := o.Registration
	ends := false // a valid expiry date
	switch {
	case o.Permanent && o.Phase != PhaseAfterHearing:
		bad("permanent", "only an original order made after a hearing can have no end")
	case o.Permanent && !o.ExpiresAt.IsZero():
		bad("expires_at", "a permanent order has no expiry date")
	case o.Permanent:
		// The original order has no end: nothing to check.
	case o.ExpiresAt.IsZero():
		bad("expires_at", "give the expiry written on the original order, or permanent when it has none: the issuing jurisdiction's terms govern (Family Code 6402(a); 18 USC 2265(a)), not California's")
	case o.ExpiresAt.Before(o.IssuedOn):
		bad("expires_at", "expiry %s is before the issue date %s", o.ExpiresAt, o.IssuedOn)
	default:
		ends = true
	}
	if g.RegisteredOn.IsZero() {
		g.RegisteredOn = today
		warnings = append(warnings, fmt.Sprintf("no registration date given: registered on %s, the day of entry", today))
	}
	switch {
	case g.RegisteredOn.After(today):
		bad("registration.registered_on", "registration date %s is in the future", g.RegisteredOn)
	case g.RegisteredOn.Before(o.IssuedOn):
		bad("registration.registered_on", "registration date %s is before the original order was issued on %s", g.RegisteredOn, o.IssuedOn)
	case ends && g.RegisteredOn.After(o.ExpiresAt):
		// The DV-600 declares the order "currently valid and in full
		// force and effect".
		bad("registration.registered_on", "the original order expired on %s, before its registration on %s: only an order in effect is registered", o.ExpiresAt, g.RegisteredOn)
	}
	return warnings, problems
}

func joinKinds() string {
	s := make([]string, len(RegistrationKinds))
	for i, k := range RegistrationKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func joinRegistrable() string {
	var s []string
	for _, t := range OrderTypes {
		if len(TypeRules[t].Registered) > 0 {
			s = append(s, string(t))
		}
	}
	return strings.Join(s, ", ")
}

func joinPhases(ps []Phase) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, " or ")
}
