package matching

import (
	"strings"
	"unicode"

	"github.com/ccpor/ccpor"
	"golang.org/x/text/unicode/norm"
)

// Name is a person's name after normalisation: lower-case ASCII tokens with
// accents, apostrophes and punctuation removed.
type Name struct {
	// Given holds the given names in order: first, then middle names.
	// An initial is a one-letter token.
	Given []string
	// Family holds the family-name tokens in order, particles included
	// ("de la cruz" is three tokens); hyphenated and double surnames are
	// split into their parts.
	Family []string
	// Suffix is the generational suffix: "jr", "sr", "ii", "iii" or "iv".
	Suffix string
}

// foldSpecial maps letters that do not decompose into a base letter plus a
// combining mark.
var foldSpecial = strings.NewReplacer(
	"ß", "ss", "ẞ", "ss", "æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe",
	"ø", "o", "Ø", "o", "đ", "d", "Đ", "d", "ł", "l", "Ł", "l",
	"þ", "th", "Þ", "th", "ð", "d", "Ð", "d", "ı", "i",
)

// Fold returns s in lower case with accents removed and apostrophes dropped
// (O'Brien → obrien, Nguyễn → nguyen, Muñoz → munoz, Strauß → strauss).
// Hyphens and other punctuation become spaces; letters, digits and single
// spaces are all that remain.
func Fold(s string) string {
	if isASCII(s) {
		return foldASCII(s)
	}
	return foldUnicode(s)
}

func foldUnicode(s string) string {
	// A byte that is not UTF-8 is no letter: a separator, before the
	// decomposition, which would otherwise leave the letter after it
	// composed (Ί stayed ί) and Fold would not be idempotent.
	s = strings.ToValidUTF8(s, " ")
	// Decompose (é → e + combining acute) and drop the combining marks.
	s = norm.NFD.String(foldSpecial.Replace(s))
	var b strings.Builder
	space := true
	// marks says whether the letter before keeps its combining marks: an
	// accent on a Latin, Greek or Cyrillic letter is dropped (José is
	// Jose), and so are Hebrew and Arabic vowel points, which are mostly
	// left out in writing (مُحَمَّد is محمد); but in scripts such as
	// Devanagari the marks are the vowels (राजेश without them is रजश, and
	// the spacing sign ा was a word break).
	marks := false
	for _, r := range strings.ToLower(s) {
		switch {
		case marks && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)):
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
		case r == '\'' || r == '’' || r == '‘' || r == '`' || r == '´' || r == 'ʻ' || r == 'ʼ':
			// Apostrophes join: O'Brien and OBrien are one name.
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			space, marks = false, false
		case unicode.IsLetter(r):
			// A letter outside ASCII with no decomposition (e.g. Cyrillic)
			// is kept so that names in other scripts still compare equal.
			b.WriteRune(r)
			space = false
			marks = !unicode.In(r, pointedScripts...)
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
			marks = false
		}
	}
	return strings.TrimSpace(b.String())
}

// pointedScripts are the scripts whose combining marks Fold drops: accents
// and optional vowel points rather than letters' vowels.
var pointedScripts = []*unicode.RangeTable{unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Armenian, unicode.Hebrew, unicode.Arabic}

// foldASCII is Fold for ASCII input, which has no accents to remove: most
// names, on the hot path of indexing and scoring, without the allocations
// of a Unicode transform.
func foldASCII(s string) string {
	b := make([]byte, 0, len(s))
	space := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '`':
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
			space = false
		case (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'):
			b = append(b, c)
			space = false
		default:
			if !space {
				b = append(b, ' ')
				space = true
			}
		}
	}
	if n := len(b); n > 0 && b[n-1] == ' ' {
		b = b[:n-1]
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// suffixes maps every spelling of a generational suffix to its canonical
// form. A bare "i" or "v" is left alone: it is far more often an initial.
var suffixes = map[string]string{
	"jr": "jr", "junior": "jr", "sr": "sr", "senior": "sr",
	"ii": "ii", "2nd": "ii", "iii": "iii", "3rd": "iii", "iv": "iv", "4th": "iv",
}

// particles are family-name prefixes that are dropped when comparing the
// core of a family name (de la Cruz ~ Cruz) but kept for the joined form
// (De La Cruz = Delacruz). A particle that is the last token of a family
// name is a surname in its own right (Le, Di, Da are Vietnamese, Chinese
// and Italian surnames).
var particles = map[string]bool{
	"de": true, "la": true, "las": true, "los": true, "del": true, "dela": true,
	"della": true, "van": true, "von": true, "der": true, "den": true, "ter": true,
	"ten": true, "bin": true, "binti": true, "ibn": true, "al": true, "el": true,
	"da": true, "das": true, "do": true, "dos": true, "di": true, "du": true,
	"le": true, "st": true, "y": true, "e": true,
}

// joiners are prefixes written apart or with an apostrophe that belong to
// the next token: "O Brien" = "O'Brien" = "OBrien", "Mc Donald" = "McDonald".
var joiners = map[string]bool{"o": true, "d": true, "l": true, "mc": true, "mac": true}

// NameOf returns the normalised primary name of p. A last name written
// "LAST, FIRST MIDDLE" with an empty first name is split at the comma, and
// suffixes found at the end of the first or last name are moved to Suffix.
func NameOf(p ccpor.Person) Name {
	first, middle, last := p.First, p.Middle, p.Last
	if strings.TrimSpace(first) == "" && strings.Contains(last, ",") {
		last, first, _ = strings.Cut(last, ",")
	} else if strings.TrimSpace(last) == "" && strings.Contains(first, ",") {
		last, first, _ = strings.Cut(first, ",")
	}
	n := Name{Suffix: suffixes[strings.ReplaceAll(Fold(p.Suffix), " ", "")]}
	n.Given = strings.Fields(Fold(first + " " + middle))
	n.Family = strings.Fields(Fold(last))
	n.Given = n.takeSuffix(n.Given)
	n.Family = joinPrefixes(n.takeSuffix(n.Family))
	return n
}

// ParseName parses a name written as one string, "LAST, FIRST MIDDLE SUFFIX"
// or "FIRST MIDDLE LAST SUFFIX". Without a comma the last token is the
// family name, together with any particles just before it ("Juan de la
// Cruz"); double surnames need the comma form ("García López, María").
func ParseName(s string) Name {
	if strings.Contains(s, ",") {
		last, first, _ := strings.Cut(s, ",")
		return NameOf(ccpor.Person{First: first, Last: last})
	}
	n := Name{}
	toks := n.takeSuffix(strings.Fields(Fold(s)))
	if len(toks) == 0 {
		return n
	}
	i := len(toks) - 1
	// A lone letter before the family name is a middle initial, not the
	// O of O Brien, so only the longer joiners are pulled in here.
	for i > 1 && (particles[toks[i-1]] || (joiners[toks[i-1]] && len(toks[i-1]) > 1)) {
		i--
	}
	n.Given, n.Family = toks[:i], joinPrefixes(toks[i:])
	if len(toks) == 1 {
		n.Given, n.Family = nil, toks
	}
	return n
}

// takeSuffix removes trailing suffix tokens, recording the first one found.
func (n *Name) takeSuffix(toks []string) []string {
	for len(toks) > 1 {
		s, ok := suffixes[toks[len(toks)-1]]
		if !ok {
			break
		}
		if n.Suffix == "" {
			n.Suffix = s
		}
		toks = toks[:len(toks)-1]
	}
	return toks
}

// joinPrefixes glues "o", "d", "mc"… to the following token.
func joinPrefixes(toks []string) []string {
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		if joiners[toks[i]] && i+1 < len(toks) {
			out = append(out, toks[i]+toks[i+1])
			i++
			continue
		}
		out = append(out, toks[i])
	}
	return out
}

// Core returns the family-name tokens without particles: "de la Cruz" → cruz,
// "García López" → garcia, lopez.
func (n Name) Core() []string {
	var core []string
	for i, t := range n.Family {
		if i < len(n.Family)-1 && particles[t] {
			continue
		}
		core = append(core, t)
	}
	return core
}

// Joined returns the family name with its tokens run together, so that
// "De La Cruz", "Dela Cruz" and "Delacruz" are one string.
func (n Name) Joined() string { return strings.Join(n.Family, "") }

// String returns the name as "given family suffix" for explanations.
func (n Name) String() string {
	parts := append(append([]string{}, n.Given...), n.Family...)
	if n.Suffix != "" {
		parts = append(parts, n.Suffix)
	}
	return strings.Join(parts, " ")
}

// NamesOf returns the primary name of p followed by its aliases. An alias is
// parsed with ParseName; one with no family name borrows the primary's
// (an alias "Bobby" for Robert Smith means Bobby Smith).
func NamesOf(p ccpor.Person) []Name {
	primary := NameOf(p)
	names := []Name{primary}
	for _, a := range p.Aliases {
		n := ParseName(a)
		if len(n.Given) == 0 && len(n.Family) == 1 && len(primary.Family) > 0 {
			n.Given, n.Family = n.Family, primary.Family
		}
		if len(n.Given)+len(n.Family) > 0 {
			names = append(names, n)
		}
	}
	return names
}
