package matching

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/antzucaro/matchr"
)

// Outcome levels of the name comparators. Each field's comparator returns
// exactly one level; the scorer turns it into a weight.
const (
	Exact    = "exact"    // the same after normalisation
	Nickname = "nickname" // given names share a canonical form (Bob ~ Robert)
	// NickSlip is a nickname against a misspelling of its full name
	// (Mike ~ Migyel, a slip of Miguel): two common changes at once.
	NickSlip  = "nickname_slip"
	Phonetic  = "phonetic"  // sound alike (Jon ~ John, Smyth ~ Smith)
	Typo      = "typo"      // a spelling slip or two (Micheal ~ Michael)
	Initial   = "initial"   // an initial against a name starting with it
	Middle    = "middle"    // the first given name of one is a middle name of the other
	Compound  = "compound"  // one family name is part of a double surname (García López ~ López)
	Fuzzy     = "fuzzy"     // two slips, or alike in spelling (Jaro-Winkler 0.85 or more)
	Different = "different" // both present and unlike
	Missing   = "missing"   // absent on one side or both: no evidence either way
)

// preparedName is a Name with everything the comparators need computed once.
type preparedName struct {
	Name
	core      []string // family tokens without particles
	joined    string   // family tokens run together
	famParts  []string // core tokens plus the joined form when compound
	famPhon   []codes  // phonetic codes of each famParts entry
	given     string   // first given name
	givenAll  string   // all given names run together ("maryann")
	givenPhon codes    // phonetic codes of the first given name
	givenRest []string // middle names
	// slipOf holds the names the nickname tables know that the first
	// given name, unknown to them, is one slip from (Migyel: miguel).
	slipOf []string
}

func prepareName(n Name) preparedName {
	p := prepareNameOnly(n)
	p.slipOf = slipsOf(p.given)
	return p
}

// prepareNameOnly is prepareName without the misspelt-nickname lookup,
// for names as they might have been entered in each other's boxes: a
// swap, a slip and a nickname at once is too far a reach to pay for on
// every record.
func prepareNameOnly(n Name) preparedName {
	p := preparedName{Name: n, core: n.Core(), joined: n.Joined()}
	p.famParts = slices.Clone(p.core)
	if len(n.Family) > 1 {
		p.famParts = append(p.famParts, p.joined)
	}
	for _, t := range p.famParts {
		p.famPhon = append(p.famPhon, codesOf(t))
	}
	if len(n.Given) > 0 {
		p.given = n.Given[0]
		p.givenAll = strings.Join(n.Given, "")
		p.givenRest = n.Given[1:]
		if len(p.given) > 1 {
			p.givenPhon = codesOf(p.given)
		}
	}
	return p
}

// swapped returns the name with given and family names exchanged, for
// records where the two were entered in each other's boxes.
func (p preparedName) swapped() preparedName {
	return prepareNameOnly(Name{Given: p.core, Family: p.Given, Suffix: p.Suffix})
}

// compareGiven compares first given names, falling back on middle names.
func compareGiven(a, b *preparedName) string {
	if a.given == "" || b.given == "" {
		return Missing
	}
	x, y := a.given, b.given
	if len(x) == 1 || len(y) == 1 {
		switch {
		case x[0] != y[0]:
			if slices.Contains(a.givenRest, y) || slices.Contains(b.givenRest, x) {
				return Middle
			}
			return Different
		case len(x) == len(y) && len(a.Given) > 1 && len(b.Given) > 1 &&
			strings.Join(a.Given, " ") == strings.Join(b.Given, " "):
			return Exact
		}
		return Initial
	}
	switch {
	case x == y || a.givenAll == b.givenAll:
		return Exact
	case nicknameEquivalent(x, y):
		return Nickname
	case soundAlike(a.givenPhon, b.givenPhon, x, y):
		return Phonetic
	case typo(x, y) || typo(a.givenAll, b.givenAll):
		return Typo
	case fuzzy(x, y) || fuzzy(a.givenAll, b.givenAll):
		return Fuzzy
	}
	// Going by a middle name counts only when it is spelt the same: a
	// nickname of someone's middle name is too loose a link.
	for _, m := range b.givenRest {
		if len(m) > 1 && m == x {
			return Middle
		}
	}
	for _, m := range a.givenRest {
		if len(m) > 1 && m == y {
			return Middle
		}
	}
	if nicknameSlip(a, y) || nicknameSlip(b, x) {
		return NickSlip
	}
	return Different
}

// compareFamily compares family names, aligning the parts of double and
// particled surnames.
func compareFamily(a, b *preparedName) string {
	if len(a.core) == 0 || len(b.core) == 0 {
		return Missing
	}
	if a.joined == b.joined || strings.Join(a.core, "") == strings.Join(b.core, "") || sameSet(a.core, b.core) {
		return Exact
	}
	// One surname inside the other's double surname (García López ~
	// López) is a dropped second surname. Two double surnames sharing one
	// part and differing in the other (Jiménez Gómez ~ Chávez Gómez) name
	// different parents: that is not agreement.
	if subset(a.core, b.core) || subset(b.core, a.core) {
		return Compound
	}
	for _, t := range a.core {
		if slices.Contains(b.core, t) {
			// One slip in the whole double surname (Matinez Chavez ~
			// Martinez Chavez) is the same surname; a part of its own
			// is another parent's.
			if typo(a.joined, b.joined) {
				return Typo
			}
			return Different
		}
	}
	level := Different
	for i, x := range a.famParts {
		for j, y := range b.famParts {
			if soundAlike(a.famPhon[i], b.famPhon[j], x, y) {
				return Phonetic
			}
			if typo(x, y) {
				level = Typo
			} else if level == Different && fuzzy(x, y) {
				level = Fuzzy
			}
		}
	}
	return level
}

// fuzzyJW is the Jaro-Winkler similarity at which two names that are
// neither phonetic matches nor slips still count as alike.
const fuzzyJW = 0.85

// soundAlike reports whether two tokens sound alike: they share a Double
// Metaphone code and are not so far apart in spelling that the shared code
// is a coincidence of a coarse algorithm (John and Jane share every code),
// or they share the stricter NYSIIS code and are close in spelling too
// (NYSIIS codes Jones and James alike).
func soundAlike(ka, kb codes, a, b string) bool {
	if ka.empty() || kb.empty() {
		return false
	}
	dm := ka.dm1 == kb.dm1 || ka.dm1 == kb.dm2 || ka.dm2 == kb.dm1 || (ka.dm2 != "" && ka.dm2 == kb.dm2)
	if !dm && ka.ny != kb.ny {
		return false
	}
	jw := matchr.JaroWinkler(a, b, false)
	return (dm && jw >= 0.75) || jw >= fuzzyJW
}

// typo reports whether b is a plausible misspelling of a: one edit (an
// insertion, deletion, substitution or transposition of neighbours) in a
// name of three letters or more.
func typo(a, b string) bool {
	if min(len(a), len(b)) < 3 || a == b {
		return a == b && len(a) >= 3
	}
	if d := len(a) - len(b); d > 1 || d < -1 {
		return false
	}
	return EditDistance(a, b) <= 1
}

// fuzzy reports whether two names of seven letters or more are two edits
// apart, or two names are similar by Jaro-Winkler. Shorter names two edits
// apart are different names (Phong and Thang).
func fuzzy(a, b string) bool {
	if min(len(a), len(b)) < 3 {
		return false
	}
	if min(len(a), len(b)) >= 7 && len(a)-len(b) <= 2 && len(b)-len(a) <= 2 && EditDistance(a, b) <= 2 {
		return true
	}
	return matchr.JaroWinkler(a, b, false) >= fuzzyJW
}

// subset reports whether every token of a is in b.
func subset(a, b []string) bool {
	for _, t := range a {
		if !slices.Contains(b, t) {
			return false
		}
	}
	return len(a) > 0
}

// sameSet reports whether two token lists hold the same tokens.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// compareSuffix compares generational suffixes. Jr against Sr (or II
// against III) is a father and son, or a grandfather and grandson.
func compareSuffix(a, b string) string { return compareEqual(a, b) }

// compareEqual is the outcome of a field that only agrees or disagrees.
func compareEqual(a, b string) string {
	switch {
	case a == "" || b == "":
		return Missing
	case a == b:
		return Exact
	}
	return Different
}

// WithinEdits reports whether a and b are at most max edits apart (as
// EditDistance counts them), without computing the distance when their
// lengths alone rule it out: most pairs a search compares are far apart.
func WithinEdits(a, b string, max int) bool {
	if d := utf8.RuneCountInString(a) - utf8.RuneCountInString(b); d > max || -d > max {
		return false
	}
	return EditDistance(a, b) <= max
}

// middles returns the middle names of p without particles ("del Carmen"
// is carmen).
func (p *preparedName) middles() []string {
	var out []string
	for _, t := range p.givenRest {
		if !particles[t] {
			out = append(out, t)
		}
	}
	return out
}

// compareMiddle compares middle names when both records give one. An
// initial agrees with any name it starts; a shared part of a double middle
// name, a nickname, a phonetic match or a slip is Similar.
func compareMiddle(a, b *preparedName) string {
	ma, mb := a.middles(), b.middles()
	if len(ma) == 0 || len(mb) == 0 {
		return Missing
	}
	if strings.Join(ma, "") == strings.Join(mb, "") {
		return Exact
	}
	x, y := ma[0], mb[0]
	if len(x) == 1 || len(y) == 1 {
		if x[0] == y[0] {
			return Initial
		}
		return Different
	}
	for _, t := range ma {
		if len(t) > 1 && slices.Contains(mb, t) {
			return Similar
		}
	}
	if nicknameEquivalent(x, y) || typo(x, y) || soundAlike(codesOf(x), codesOf(y), x, y) {
		return Similar
	}
	return Different
}
