package ccpor

import (
	"fmt"
	"slices"
	"strings"
)

// TypeRule is what the law fixes for one order type: its Judicial Council
// forms, the divisions that issue it, how long it may last, and whether
// an order of its kind made elsewhere is registered here.
type TypeRule struct {
	Name      string
	Statute   string
	Forms     map[Phase][]string // forms by phase; the first is the default
	Divisions []Division         // the first is the default; none means any
	// Registered lists the phases in which an order of this kind made
	// by another state, a tribe or Canada is registered here, on
	// RegistrationForm (see Registration); none means it is not. The
	// DV-600 is not among Forms: those are the forms a California court
	// issues the order on, and the DV-600 never comes without a
	// registration.
	Registered []Phase
	// MaxYears caps an order made after a hearing.
	MaxYears int
	// BlankYears is how long an after-hearing order lasts when no expiry
	// date is written on it; 0 means the form has no such rule and the
	// date must be given.
	BlankYears int
	// BlankRule cites the rule behind BlankYears, for warnings.
	BlankRule string
}

// Temporary orders last until the hearing, which must be held within 21
// days, or 25 with good cause (FC 242, CCP 527.6(g)). Continuances reissue
// them, so a longer one is flagged, not refused.
const (
	temporaryDefaultDays = 21
	temporaryMaxDays     = 25
)

// registrable are the phases in which a foreign order is registered: as
// it was made, with or without a hearing.
var registrable = []Phase{PhaseTemporary, PhaseAfterHearing}

// TypeRules holds the rule of every order type (domain.md §1). Foreign
// protection orders are those made under the domestic violence, family
// violence or antistalking laws of the issuing jurisdiction (Family Code
// 6401(5)), by a civil or criminal court (18 USC 2266(5)): DV, CPO, CH
// and EA orders. Juvenile, school and workplace orders, and California's
// own emergency orders, are not registered.
var TypeRules = map[OrderType]TypeRule{
	OrderDV: {
		Name: "Domestic violence restraining order", Statute: "Family Code 6200 et seq.",
		Forms:     map[Phase][]string{PhaseTemporary: {"DV-110"}, PhaseAfterHearing: {"DV-130", "DV-730"}},
		Divisions: []Division{DivisionFamily},
		MaxYears:  5, BlankYears: 3, BlankRule: "Family Code 6345(c)", Registered: registrable,
	},
	OrderCPO: {
		Name: "Criminal protective order", Statute: "Penal Code 136.2",
		Forms:     map[Phase][]string{PhaseTemporary: {"CR-160", "CR-161"}, PhaseAfterHearing: {"CR-160", "CR-161"}},
		Divisions: []Division{DivisionCriminal},
		MaxYears:  10, BlankYears: 3, BlankRule: "the CR-160/CR-161 form (3 years from issuance when no date is listed)",
		Registered: registrable,
	},
	OrderCH: {
		Name: "Civil harassment restraining order", Statute: "Code of Civil Procedure 527.6",
		Forms:     map[Phase][]string{PhaseTemporary: {"CH-110"}, PhaseAfterHearing: {"CH-130", "CH-730"}},
		Divisions: []Division{DivisionCivil},
		MaxYears:  5, Registered: registrable,
	},
	OrderEA: {
		Name: "Elder or dependent adult abuse restraining order", Statute: "Welfare and Institutions Code 15657.03",
		Forms:     map[Phase][]string{PhaseTemporary: {"EA-110"}, PhaseAfterHearing: {"EA-130", "EA-730"}},
		Divisions: []Division{DivisionCivil, DivisionProbate},
		MaxYears:  5, Registered: registrable,
	},
	OrderJV: {
		Name: "Juvenile restraining order", Statute: "Welfare and Institutions Code 213.5",
		Forms:     map[Phase][]string{PhaseTemporary: {"JV-250"}, PhaseAfterHearing: {"JV-255"}},
		Divisions: []Division{DivisionJuvenile},
		MaxYears:  3, BlankYears: 3, BlankRule: "the JV-255 form (Welfare and Institutions Code 213.5(d))",
	},
	OrderSV: {
		Name: "School violence prevention restraining order", Statute: "Code of Civil Procedure 527.85",
		Forms:     map[Phase][]string{PhaseTemporary: {"SV-110"}, PhaseAfterHearing: {"SV-130"}},
		Divisions: []Division{DivisionCivil},
		MaxYears:  3,
	},
	OrderWV: {
		Name: "Workplace violence restraining order", Statute: "Code of Civil Procedure 527.8",
		Forms:     map[Phase][]string{PhaseTemporary: {"WV-110"}, PhaseAfterHearing: {"WV-130"}},
		Divisions: []Division{DivisionCivil},
		MaxYears:  3,
	},
	OrderEPO: {
		Name: "Emergency protective order", Statute: "Family Code 6240–6275",
		Forms: map[Phase][]string{PhaseEmergency: {"EPO-001"}},
	},
}

// phasesOfForm returns the phases a form serves within an order type
// (the CR-160 serves both a pretrial and a post-conviction CPO).
func (r TypeRule) phasesOfForm(form string) []Phase {
	var phases []Phase
	for _, p := range []Phase{PhaseEmergency, PhaseTemporary, PhaseAfterHearing} {
		if slices.Contains(r.Forms[p], form) {
			phases = append(phases, p)
		}
	}
	return phases
}

// isRenewal reports whether form is a renewal order (DV-730, CH-730,
// EA-730): renewals extend an order after hearing.
func isRenewal(form string) bool { return strings.HasSuffix(form, "-730") }

func (r TypeRule) allForms() []string {
	var all []string
	for _, p := range []Phase{PhaseEmergency, PhaseTemporary, PhaseAfterHearing} {
		for _, f := range r.Forms[p] {
			if !slices.Contains(all, f) {
				all = append(all, f)
			}
		}
	}
	return all
}

// EPOExpiry returns the day an emergency protective order issued on d
// ends: the earlier of the fifth court day after issuance (it ends at the
// close of that day's business) and the seventh calendar day after it
// (Family Code 6256).
func EPOExpiry(issued Date) Date {
	fifth := NthCourtDayAfter(issued, 5)
	seventh := issued.AddDays(7)
	if fifth.Before(seventh) {
		return fifth
	}
	return seventh
}

// expiry computes or checks o.ExpiresAt from the rules of its type and
// phase, or from the original order for a registered one; today is the
// day of entry. It returns the warnings to show and the problems that
// make the order invalid.
func (o *Order) expiry(r TypeRule, today Date) (warnings []string, problems []FieldProblem) {
	bad := func(format string, args ...any) {
		problems = append(problems, FieldProblem{"expires_at", fmt.Sprintf(format, args...)})
	}
	if o.Registration != nil {
		return o.registeredExpiry(today)
	}
	issued, given := o.IssuedOn, o.ExpiresAt
	if o.Permanent && o.Phase != PhaseAfterHearing {
		problems = append(problems, FieldProblem{"permanent", "only a renewed order after hearing can be permanent"})
		return
	}
	if !given.IsZero() && given.Before(issued) {
		bad("expiry %s is before the issue date %s", given, issued)
		return
	}
	phase := o.Phase
	if o.Type == OrderCPO {
		// A pretrial CPO lasts while the case is pending, but the form's
		// own blank-date rule and the 10-year cap apply to both kinds.
		phase = PhaseAfterHearing
	}
	switch phase {
	case PhaseEmergency:
		// The law fixes an EPO's life; a different date on the form is a
		// clerical slip, and the statute controls.
		want := EPOExpiry(issued)
		if !given.IsZero() && given != want {
			warnings = append(warnings, fmt.Sprintf("expiry %s replaced by %s: an EPO ends at the earlier of the 5th court day and the 7th calendar day after issuance (Family Code 6256)", given, want))
		}
		o.ExpiresAt = want
	case PhaseTemporary:
		if given.IsZero() {
			o.ExpiresAt = issued.AddDays(temporaryDefaultDays)
			warnings = append(warnings, fmt.Sprintf("no expiry given: assumed %s, %d days after issuance (the hearing deadline); enter the hearing date when known", o.ExpiresAt, temporaryDefaultDays))
		} else if issued.DaysUntil(given) > temporaryMaxDays {
			warnings = append(warnings, fmt.Sprintf("a temporary order normally lasts until a hearing within %d days; this one runs %d days (a continuance?)", temporaryMaxDays, issued.DaysUntil(given)))
		}
	case PhaseAfterHearing:
		max := issued.AddYears(r.MaxYears)
		if o.Permanent {
			if o.Type != OrderDV || !isRenewal(o.Form) {
				problems = append(problems, FieldProblem{"permanent", "only a renewed domestic violence order (DV-730) can be permanent (Family Code 6345(a))"})
			} else if !given.IsZero() {
				bad("a permanent order has no expiry date")
			}
			return
		}
		if o.Type == OrderDV && isRenewal(o.Form) {
			// A DV renewal runs "five or more years, or permanently"
			// (Family Code 6345(a)): no cap, and no default either.
			if given.IsZero() {
				bad("a renewed DV order must state its expiry date or be marked permanent")
			}
			return
		}
		if given.IsZero() {
			if r.BlankYears == 0 {
				bad("an after-hearing %s order must state its expiry date (at most %d years)", o.Type, r.MaxYears)
				return
			}
			o.ExpiresAt = issued.AddYears(r.BlankYears)
			warnings = append(warnings, fmt.Sprintf("no expiry written: the order lasts %d years, until %s (%s)", r.BlankYears, o.ExpiresAt, r.BlankRule))
		} else if given.After(max) {
			bad("a %s order may last at most %d years: %s is after %s", o.Type, r.MaxYears, given, max)
		}
	}
	return
}
