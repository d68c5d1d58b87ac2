package ccpor

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on free text, so one order cannot carry a novel.
const (
	maxNameLen   = 100
	maxTextLen   = 10000
	maxProtected = 50
	oldestAge    = 120
	oldestOrder  = 1900 // no protective order statute is older
)

// Prepare normalises an order as entered, fills in what the law computes
// (form, division, expiry, Brady indicator, minors, status) and checks it.
// It returns an *Error with code EInvalid naming every problem found, and
// records missing descriptors in o.Warnings without refusing the order.
// now is the instant of entry; dates are judged in California.
func (o *Order) Prepare(now time.Time) error {
	v := validator{today: DateOf(now)}
	o.Warnings = nil
	o.normalize()

	if o.ID != "" && !isUUID(o.ID) {
		v.add("id", "%q is not a UUID", o.ID)
	}
	r, ok := TypeRules[o.Type]
	if !ok {
		v.add("type", "unknown order type %q: use one of %s", o.Type, joinTypes())
	}
	switch {
	case o.Registration != nil:
		v.checkRegistration(o, r, ok)
	case o.Form == RegistrationForm:
		v.add("registration", "form %s registers an order made outside California: give the registration (kind, jurisdiction, original_case_number)", RegistrationForm)
	case ok:
		v.checkPhaseAndForm(o, r)
		v.checkDivision(o, r)
	}
	if o.County == "" {
		v.add("county", "the county is required")
	} else if c, ok := CanonicalCounty(o.County); !ok {
		v.add("county", "%q is not a California county", o.County)
	} else {
		o.County = c
	}
	if o.CaseNumber == "" {
		v.add("case_number", "the case number is required")
	} else if CaseKey(o.CaseNumber) == "" {
		v.add("case_number", "%q has no letters or digits", o.CaseNumber)
	}
	if o.PreviousOrderID != "" && !isUUID(o.PreviousOrderID) {
		v.add("previous_order_id", "%q is not a UUID", o.PreviousOrderID)
	}
	v.limit("case_number", o.CaseNumber, maxNameLen)
	v.limit("notes", o.Notes, maxTextLen)
	v.limit("override_reason", o.OverrideReason, maxTextLen)
	v.limit("court", o.Court, maxNameLen)

	switch {
	case o.IssuedOn.IsZero():
		v.add("issued_on", "the issue date is required")
	case o.IssuedOn.After(v.today):
		v.add("issued_on", "issue date %s is in the future", o.IssuedOn)
	case o.IssuedOn.Year() < oldestOrder:
		// A slip such as 0225 for 2025 would store an order that expired
		// centuries ago, and no search for active orders would show it.
		v.add("issued_on", "issue date %s is not plausible: before %d", o.IssuedOn, oldestOrder)
	case ok && v.phaseOK:
		w, p := o.expiry(r, v.today)
		o.Warnings = append(o.Warnings, w...)
		v.problems = append(v.problems, p...)
	}
	if o.Terminated != nil {
		switch {
		case o.Terminated.On.IsZero():
			v.add("terminated.on", "the termination date is required")
		case !o.IssuedOn.IsZero() && o.Terminated.On.Before(o.IssuedOn):
			v.add("terminated.on", "termination %s is before the issue date %s", o.Terminated.On, o.IssuedOn)
		case o.Terminated.On.After(v.today):
			v.add("terminated.on", "termination %s is in the future", o.Terminated.On)
		}
		v.limit("terminated.reason", o.Terminated.Reason, maxTextLen)
	}

	v.checkPerson("restrained", &o.Restrained, o.IssuedOn)
	o.warnMissingDescriptors()
	if len(o.Protected) == 0 {
		v.add("protected", "at least one protected person is required")
	} else if len(o.Protected) > maxProtected {
		v.add("protected", "at most %d protected persons", maxProtected)
	}
	for i := range o.Protected {
		p := &o.Protected[i]
		v.checkPerson(fmt.Sprintf("protected[%d]", i), &p.Person, o.IssuedOn)
		v.limit(fmt.Sprintf("protected[%d].relationship", i), p.Relationship, maxNameLen)
		if age, known := p.AgeOn(o.IssuedOn); known && age < 18 {
			p.Minor = true
		}
	}
	v.checkTerms(&o.Terms)
	v.checkService(&o.Service)
	if s := o.Service.ServedAt; s != nil && !o.IssuedOn.IsZero() && DateOf(*s).Before(o.IssuedOn) {
		v.add("service.served_at", "served %s, before the order was issued on %s", DateOf(*s), o.IssuedOn)
	}
	o.checkBrady(&v)

	if len(v.problems) > 0 {
		return &Error{Code: EInvalid, Message: "The order is not valid.", Problems: v.problems}
	}
	o.Status = o.StatusAt(now)
	return nil
}

type validator struct {
	today    Date
	problems []FieldProblem
	phaseOK  bool
}

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, FieldProblem{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// limit refuses text longer than n characters, or carrying a control
// character other than a line break or tab: a NUL cannot be stored in
// PostgreSQL, and the others are never typed, only smuggled.
func (v *validator) limit(field, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		v.add(field, "longer than %d characters", n)
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		v.add(field, "contains the control character %U", r)
	}
}

func isControl(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }

func (v *validator) checkPhaseAndForm(o *Order, r TypeRule) {
	if o.Form != "" {
		phases := r.phasesOfForm(o.Form)
		switch {
		case len(phases) == 0:
			v.add("form", "form %s does not belong to a %s order: use %s", o.Form, o.Type, strings.Join(r.allForms(), ", "))
			return
		case o.Phase == "" && len(phases) == 1:
			o.Phase = phases[0]
		case o.Phase != "" && !slices.Contains(phases, o.Phase):
			v.add("form", "form %s is a %s form, but the phase is %s", o.Form, phases[0], o.Phase)
			return
		}
	}
	if o.Phase == "" && o.Type == OrderEPO {
		o.Phase = PhaseEmergency
	}
	forms, ok := r.Forms[o.Phase]
	if !ok {
		if o.Phase == "" {
			v.add("phase", "the phase is required (emergency, temporary or after_hearing)")
		} else {
			v.add("phase", "a %s order cannot be in phase %q", o.Type, o.Phase)
		}
		return
	}
	if o.Form == "" {
		o.Form = forms[0]
	}
	v.phaseOK = true
}

func (v *validator) checkDivision(o *Order, r TypeRule) {
	if o.Division != "" && !slices.Contains(Divisions, o.Division) {
		v.add("division", "unknown division %q", o.Division)
		return
	}
	if len(r.Divisions) == 0 {
		return
	}
	if o.Division == "" {
		o.Division = r.Divisions[0]
	} else if !slices.Contains(r.Divisions, o.Division) {
		v.add("division", "a %s order is not issued by the %s division", o.Type, o.Division)
	}
}

func (v *validator) checkPerson(field string, p *Person, issued Date) {
	if p.First == "" {
		v.add(field+".first", "the first name is required (write NFN when the person has none)")
	} else if !hasLetter(p.First) {
		v.add(field+".first", "%q has no letters (write NFN when the person has no first name)", p.First)
	}
	if p.Last == "" {
		v.add(field+".last", "the last name is required")
	} else if !hasLetter(p.Last) {
		v.add(field+".last", "%q has no letters", p.Last)
	}
	for _, n := range []struct{ name, val string }{{"first", p.First}, {"middle", p.Middle}, {"last", p.Last}, {"suffix", p.Suffix}} {
		v.limit(field+"."+n.name, n.val, maxNameLen)
	}
	for i, a := range p.Aliases {
		v.limit(fmt.Sprintf("%s.aliases[%d]", field, i), a, maxNameLen)
	}
	if !p.DOB.IsZero() {
		switch {
		case p.DOB.After(v.today):
			v.add(field+".dob", "birth date %s is in the future", p.DOB)
		case !issued.IsZero() && p.DOB.After(issued):
			v.add(field+".dob", "birth date %s is after the issue date %s", p.DOB, issued)
		case p.DOB.Year() < v.today.Year()-oldestAge:
			v.add(field+".dob", "birth date %s would make the person older than %d", p.DOB, oldestAge)
		}
		if p.BirthYear != 0 && p.BirthYear != p.DOB.Year() {
			v.add(field+".birth_year", "birth year %d does not match the birth date %s", p.BirthYear, p.DOB)
		}
	}
	if p.BirthYear != 0 && (p.BirthYear > v.today.Year() || p.BirthYear < v.today.Year()-oldestAge) {
		v.add(field+".birth_year", "birth year %d is not plausible", p.BirthYear)
	}
	if p.Age < 0 || p.Age > oldestAge {
		v.add(field+".age", "age %d is not plausible", p.Age)
	}
	if p.Sex != "" && SexCodes[p.Sex] == "" {
		v.add(field+".sex", "sex %q: use M, F or X", p.Sex)
	}
	if p.Race != "" && RaceCodes[p.Race] == "" {
		v.add(field+".race", "race %q is not a California DOJ race code", p.Race)
	}
	if p.HeightIn != 0 && (p.HeightIn < 12 || p.HeightIn > 108) {
		v.add(field+".height_in", "height %d inches is not plausible", p.HeightIn)
	}
	if p.WeightLb != 0 && (p.WeightLb < 2 || p.WeightLb > 1500) {
		v.add(field+".weight_lb", "weight %d lb is not plausible", p.WeightLb)
	}
	v.limit(field+".hair", p.Hair, 10)
	v.limit(field+".eyes", p.Eyes, 10)
	if a := p.Address; a != nil {
		for _, f := range []struct{ name, val string }{{"line1", a.Line1}, {"line2", a.Line2}, {"city", a.City}, {"state", a.State}, {"zip", a.Zip}} {
			v.limit(field+".address."+f.name, f.val, maxNameLen)
		}
	}
	if id := p.Identifiers; id != nil {
		for _, f := range []struct{ name, val string }{{"dl", id.DL}, {"cii", id.CII}, {"fbi", id.FBI}, {"ssn", id.SSN}} {
			v.limit(field+".identifiers."+f.name, f.val, maxNameLen)
		}
	}
}

func hasLetter(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }

func (v *validator) checkTerms(t *Terms) {
	if t.NoContact && t.PeacefulContact {
		v.add("terms", "an order cannot both forbid contact and allow peaceful contact")
	}
	if t.StayAwayYards < 0 || t.StayAwayYards > 10000 {
		v.add("terms.stay_away_yards", "stay-away distance %d yards is not plausible", t.StayAwayYards)
	}
	oneOf := func(field string, vals []string, allowed []string) {
		for _, x := range vals {
			if !slices.Contains(allowed, x) {
				v.add(field, "%q: use one of %s", x, strings.Join(allowed, ", "))
			}
		}
	}
	oneOf("terms.contact_exceptions", t.ContactExceptions, ContactExceptions)
	oneOf("terms.stay_away_places", t.StayAwayPlaces, StayAwayPlaces)
	if t.Custody != "" {
		oneOf("terms.custody", []string{t.Custody}, CustodyValues)
	}
	if t.Visitation != "" {
		oneOf("terms.visitation", []string{t.Visitation}, VisitationValues)
	}
	v.limit("terms.other", t.Other, maxTextLen)
}

func (v *validator) checkService(s *Service) {
	if s.Status == "" {
		s.Status = ServiceUnknown
	}
	if !slices.Contains(ServiceStatuses, s.Status) {
		v.add("service.status", "unknown service status %q", s.Status)
	}
	if s.ServedAt != nil && DateOf(*s.ServedAt).After(v.today) {
		v.add("service.served_at", "service time %s is in the future", s.ServedAt.Format(time.RFC3339))
	}
	for _, f := range []struct{ name, val string }{{"served_by", s.ServedBy}, {"agency", s.Agency}, {"location", s.Location}} {
		v.limit("service."+f.name, f.val, maxNameLen)
	}
	v.limit("service.notes", s.Notes, maxTextLen)
}

// checkBrady fills the Brady indicator when absent. The federal bar needs
// an order made after a hearing with notice (18 USC 922(g)(8)), so ex parte
// and emergency orders are N; after a hearing it depends on findings the
// registry cannot see, so it is U unless the court said.
func (o *Order) checkBrady(v *validator) {
	switch o.Brady {
	case "":
		if o.Phase == PhaseAfterHearing {
			o.Brady = BradyUnknown
		} else {
			o.Brady = BradyNo
		}
	case BradyYes, BradyNo, BradyUnknown:
		if o.Brady == BradyYes && o.Phase != PhaseAfterHearing {
			v.add("brady", "only an order made after a hearing can carry the federal firearm bar (18 USC 922(g)(8))")
		}
	default:
		v.add("brady", "use Y, N or U")
	}
}

func (o *Order) warnMissingDescriptors() {
	p := &o.Restrained
	var missing []string
	if p.DOB.IsZero() && p.BirthYear == 0 && p.Age == 0 {
		missing = append(missing, "birth date or age")
	}
	if p.Sex == "" {
		missing = append(missing, "sex")
	}
	if p.Race == "" {
		missing = append(missing, "race")
	}
	if len(missing) > 0 {
		o.Warnings = append(o.Warnings, "restrained person's "+strings.Join(missing, ", ")+" not given: the order stands (Family Code 6385(b)), but law enforcement needs them to identify the person")
	}
}

// AgeOn returns the person's age in whole years on d, and whether it is
// known: from the birth date, else the stated age (an estimate at the issue
// date), else the birth year (possibly a year high).
func (p *Person) AgeOn(d Date) (int, bool) {
	switch {
	case !p.DOB.IsZero():
		age := d.Year() - p.DOB.Year()
		if d.Month() < p.DOB.Month() || (d.Month() == p.DOB.Month() && d.Day() < p.DOB.Day()) {
			age--
		}
		return age, true
	case p.Age != 0:
		return p.Age, true
	case p.BirthYear != 0:
		return d.Year() - p.BirthYear, true
	}
	return 0, false
}

func (o *Order) normalize() {
	trim := func(s *string) { *s = strings.Join(strings.Fields(*s), " ") }
	upper := func(s *string) { trim(s); *s = strings.ToUpper(*s) }
	upper((*string)(&o.Type))
	trim((*string)(&o.Phase))
	upper(&o.Form)
	trim(&o.County)
	trim((*string)(&o.Division))
	trim(&o.Court)
	o.CaseNumber = normalizeCaseNumber(o.CaseNumber)
	upper((*string)(&o.Brady))
	o.Notes = strings.TrimSpace(o.Notes)
	o.OverrideReason = strings.TrimSpace(o.OverrideReason)
	normPerson := func(p *Person) {
		for _, s := range []*string{&p.First, &p.Middle, &p.Last, &p.Suffix} {
			*s = NormalizeName(*s)
		}
		for _, s := range []*string{&p.Sex, &p.Race, &p.Hair, &p.Eyes} {
			upper(s)
		}
		for i := range p.Aliases {
			p.Aliases[i] = NormalizeName(p.Aliases[i])
		}
	}
	normPerson(&o.Restrained)
	for i := range o.Protected {
		normPerson(&o.Protected[i].Person)
	}
}

// normalizeCaseNumber writes a case number with ASCII dashes and digits
// (NFKC folds full-width digits; en and em dashes, the non-breaking hyphen
// and the minus sign become "-"), without formatting characters, upper
// case. Word processors and court PDFs substitute those characters
// unseen, and a case number is read over the radio as printed.
func normalizeCaseNumber(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Pd, r) || r == '\u2212':
			return '-'
		case isFormat(r):
			return -1
		}
		return r
	}, norm.NFKC.String(s))
	return strings.ToUpper(strings.Join(strings.Fields(s), " "))
}

func joinTypes() string {
	s := make([]string, len(OrderTypes))
	for i, t := range OrderTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// isUUID reports whether s is a UUID in its canonical 8-4-4-4-12 form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
