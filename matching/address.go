package matching

import (
	"strings"
	"unicode"

	"github.com/antzucaro/matchr"
	"github.com/ccpor/ccpor"
)

// streetWords abbreviates the words of a street line the way the USPS does,
// so "Main Street" and "Main St" are one street.
var streetWords = map[string]string{
	"street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr",
	"boulevard": "blvd", "lane": "ln", "court": "ct", "place": "pl",
	"circle": "cir", "circuit": "cct", "crescent": "cres", "terrace": "ter",
	"highway": "hwy", "parkway": "pkwy", "way": "wy", "square": "sq",
	"north": "n", "south": "s", "east": "e", "west": "w",
	"apartment": "apt", "suite": "ste", "number": "", "no": "",
}

// address is an address prepared for comparison.
type address struct {
	line     string // normalised line 1
	number   string // house number
	street   string // street name without number, words run together
	line2    string // normalised line 2, run together
	city     string // run together
	state    string
	zip      string // first five digits
	hasPlace bool   // anything at all is known
}

func addressOf(a *ccpor.Address) address {
	if a == nil {
		return address{}
	}
	var out address
	var num, name []string
	for _, t := range strings.Fields(Fold(a.Line1)) {
		if w, ok := streetWords[t]; ok {
			t = w
		}
		if t == "" {
			continue
		}
		if unicode.IsDigit(rune(t[0])) && len(name) == 0 {
			num = append(num, t)
		} else {
			name = append(name, t)
		}
	}
	out.number = strings.Join(num, " ")
	out.street = strings.Join(name, "")
	out.line = strings.TrimSpace(out.number + " " + strings.Join(name, " "))
	out.line2 = strings.ReplaceAll(Fold(a.Line2), " ", "")
	out.city = strings.ReplaceAll(Fold(a.City), " ", "")
	out.state = strings.ReplaceAll(Fold(a.State), " ", "")
	var zip strings.Builder
	for _, r := range a.Zip {
		if r >= '0' && r <= '9' && zip.Len() < 5 {
			zip.WriteRune(r)
		}
	}
	out.zip = zip.String()
	out.hasPlace = out.line != "" || out.city != "" || out.zip != ""
	return out
}

// similarText reports whether two run-together strings are the same text
// with a slip: a typo or a Jaro-Winkler similarity of at least 0.9.
func similarText(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return typo(a, b) || matchr.JaroWinkler(a, b, false) >= 0.9
}

// compareStreet compares line 1: the same street and number, the same
// street with a slip in either, the same street at another number, or not.
func compareStreet(a, b address) string {
	switch {
	case a.line == "" || b.line == "":
		return Missing
	case a.line == b.line || (a.number == b.number && a.street == b.street):
		return Exact
	}
	sameNum := a.number == b.number
	numSlip := sameNum || hamming(a.number, b.number) == 1 || transposed(a.number, b.number)
	switch {
	case a.street == b.street && numSlip, sameNum && similarText(a.street, b.street):
		return Similar
	case a.street == b.street || similarText(a.street, b.street):
		return Partial
	}
	return Different
}

// compareText compares two run-together strings (line 2, city).
func compareText(a, b string) string {
	switch {
	case a == "" || b == "":
		return Missing
	case a == b:
		return Exact
	case similarText(a, b):
		return Similar
	}
	return Different
}

func compareZip(a, b string) string {
	switch {
	case a == "" || b == "":
		return Missing
	case a == b:
		return Exact
	case len(a) >= 4 && (hamming(a, b) == 1 || transposed(a, b)):
		return Typo
	}
	return Different
}

// compareState compares state codes: they agree or they do not.
func compareState(a, b string) string { return compareEqual(a, b) }
