package matching

import (
	"strings"
	"unicode"

	"github.com/ccpor/ccpor"
)

// Outcome levels of the descriptor comparators, besides Exact, Typo,
// Different and Missing.
const (
	Close   = "close"   // height within 2 inches, weight within 10%
	Near    = "near"    // height within 4 inches, weight within 25%
	Related = "related" // race codes in the same broad group (Chinese and Other Asian)
	Similar = "similar" // a street, city or place written slightly differently
)

// normSex maps the codes and words clerks use to M, F or X.
func normSex(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "M", "MALE", "MAN":
		return "M"
	case "F", "FEMALE", "WOMAN":
		return "F"
	case "X", "N", "NONBINARY", "NON-BINARY":
		return "X"
	}
	return ""
}

func compareSex(a, b string) string {
	a, b = normSex(a), normSex(b)
	switch {
	case a == "" || b == "":
		return Missing
	case a == b:
		return Exact
	}
	return Different
}

// raceGroup puts the DOJ race codes in the broad groups a witness or a clerk
// might confuse: Asian, Pacific Islander. Unknown (X) and Other (O) carry no
// evidence.
func raceGroup(c string) string {
	switch c {
	case "A", "C", "D", "F", "J", "K", "L", "V", "Z":
		return "asian"
	case "G", "P", "S", "U":
		return "pacific"
	}
	return c
}

func compareRace(a, b string) string {
	a, b = strings.ToUpper(strings.TrimSpace(a)), strings.ToUpper(strings.TrimSpace(b))
	switch {
	case a == "" || b == "" || a == "X" || b == "X" || a == "O" || b == "O":
		return Missing
	case a == b:
		return Exact
	case raceGroup(a) == raceGroup(b):
		return Related
	}
	return Different
}

func compareHeight(a, b int) string {
	if a <= 0 || b <= 0 {
		return Missing
	}
	switch d := abs(a - b); {
	case d <= 2:
		return Close
	case d <= 4:
		return Near
	}
	return Different
}

func compareWeight(a, b int) string {
	if a <= 0 || b <= 0 {
		return Missing
	}
	d, m := float64(abs(a-b)), float64(max(a, b))
	switch {
	case d <= 0.10*m:
		return Close
	case d <= 0.25*m:
		return Near
	}
	return Different
}

// ids holds a record's identifiers, upper-cased with separators removed.
type ids struct{ dl, cii, fbi, ssn string }

func idsOf(p ccpor.Person) ids {
	if p.Identifiers == nil {
		return ids{}
	}
	n := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return unicode.ToUpper(r)
			}
			return -1
		}, s)
	}
	i := p.Identifiers
	return ids{dl: n(i.DL), cii: n(i.CII), fbi: n(i.FBI), ssn: n(i.SSN)}
}

// compareIDs compares the official numbers both records carry. One number
// in agreement is decisive; a number that differs in one digit or by two
// neighbouring digits exchanged is a keying slip; otherwise they disagree.
// It also returns the name of the identifier that decided.
func compareIDs(a, b ids) (string, string) {
	level, which := Missing, ""
	for _, p := range []struct{ name, x, y string }{
		{"SSN", a.ssn, b.ssn}, {"driver licence", a.dl, b.dl},
		{"CII number", a.cii, b.cii}, {"FBI number", a.fbi, b.fbi},
	} {
		if p.x == "" || p.y == "" {
			continue
		}
		var l string
		switch {
		case p.x == p.y:
			return Exact, p.name
		case hamming(p.x, p.y) == 1 || transposed(p.x, p.y):
			l = Typo
		default:
			l = Different
		}
		if level == Missing || (level == Different && l == Typo) {
			level, which = l, p.name
		}
	}
	return level, which
}
