package ccpor

// Who may see what (domain.md §4). The rules are the registry's, enforced
// on the server for every route; these functions are their one statement.

// OrderAccess is what decides who may see an order at all.
type OrderAccess struct {
	Type   OrderType
	County string
	Sealed bool
	// Registered marks an order made elsewhere and registered here
	// (DV-600), sealed by law but open to law enforcement.
	Registered bool
	// ConfidentialMinors are the positions in Protected of minors whose
	// identity is kept confidential.
	ConfidentialMinors []int
}

// AccessOf returns what decides who may see o.
func AccessOf(o *Order) OrderAccess {
	a := OrderAccess{Type: o.Type, County: o.County, Sealed: o.Sealed, Registered: o.Registration != nil}
	for i := range o.Protected {
		if p := &o.Protected[i]; p.Minor && p.Confidential {
			a.ConfidentialMinors = append(a.ConfidentialMinors, i)
		}
	}
	return a
}

// MaySee reports whether u may know that an order exists. An order u may
// not see is answered as if it did not exist (404, absent from searches,
// counts, duplicate candidates and conflict results):
//   - a sealed order only by the issuing court: its county's judges and
//     clerks — and, for a registered foreign order, law enforcement;
//   - a juvenile order (WIC 827) only by judges, juvenile-division clerks
//     and law enforcement;
//   - every other order by every role, statewide.
func (u *User) MaySee(a OrderAccess) bool {
	if u == nil {
		return false
	}
	if a.Sealed {
		// A registered foreign order is sealed, but open to law
		// enforcement, which enforces it (Family Code 6404(a)(2)).
		if a.Registered && u.Role == RoleOfficer {
			return true
		}
		return (u.Role == RoleJudge || u.Role == RoleClerk) && u.County == a.County
	}
	if a.Type == OrderJV {
		switch u.Role {
		case RoleJudge, RoleOfficer:
			return true
		case RoleClerk:
			return u.Division == DivisionJuvenile
		}
		return false
	}
	return true
}

// SeesConfidential reports whether u may see protected people's addresses
// (FC 6252.5, 18 USC 2265(d)) and the names of minors kept confidential
// (FC 6301.5): judges and clerks.
func (u *User) SeesConfidential() bool {
	return u != nil && (u.Role == RoleJudge || u.Role == RoleClerk)
}

// ConfidentialName stands for the name of a minor kept confidential.
const ConfidentialName = "(confidential minor)"

// Hidden reports whether the protected person p is hidden from u: a minor
// whose identity is kept confidential.
func (u *User) Hidden(p *Party) bool {
	return p.Minor && p.Confidential && !u.SeesConfidential()
}

// Redact removes from o what u may not see: protected people's addresses
// and the identity of confidential minors, whose relationship and the fact
// that a minor is protected remain.
func (u *User) Redact(o *Order) {
	if u.SeesConfidential() {
		return
	}
	prot := make([]Party, len(o.Protected))
	for i, p := range o.Protected {
		p.Address = nil
		if u.Hidden(&p) {
			p.Person = Person{First: ConfidentialName}
		}
		prot[i] = p
	}
	o.Protected = prot
}
