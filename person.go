package ccpor

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Person is someone named in an order. Only the names are required: a
// missing birth date, sex or race never blocks an order (Family Code
// 6385(b)); it is reported as a warning instead.
type Person struct {
	First   string   `json:"first"`
	Middle  string   `json:"middle,omitempty"`
	Last    string   `json:"last"`
	Suffix  string   `json:"suffix,omitempty"` // Jr, Sr, III
	Aliases []string `json:"aliases,omitempty"`
	DOB     Date     `json:"dob,omitzero"`
	// BirthYear is for when only the year is known.
	BirthYear int `json:"birth_year,omitempty"`
	// Age is an estimate at the issue date, as the CLETS-001 form allows.
	Age         int          `json:"age,omitempty"`
	Sex         string       `json:"sex,omitempty"`  // M, F, X (nonbinary)
	Race        string       `json:"race,omitempty"` // CA DOJ race code, see RaceCodes
	HeightIn    int          `json:"height_in,omitempty"`
	WeightLb    int          `json:"weight_lb,omitempty"`
	Hair        string       `json:"hair,omitempty"` // NCIC code, e.g. BRO
	Eyes        string       `json:"eyes,omitempty"` // NCIC code, e.g. BRO
	Address     *Address     `json:"address,omitempty"`
	Identifiers *Identifiers `json:"identifiers,omitempty"`
}

// Party is a protected person: a Person plus how they relate to the
// restrained person. Their address is confidential (FC 6252.5, 18 USC
// 2265(d)(3)); a minor's identity may be kept confidential (FC 6301.5).
type Party struct {
	Person
	Relationship string `json:"relationship,omitempty"` // spouse, child, coworker…
	Minor        bool   `json:"minor,omitempty"`
	Confidential bool   `json:"confidential,omitempty"`
}

// Address is a postal address.
type Address struct {
	Line1 string `json:"line1,omitempty"`
	Line2 string `json:"line2,omitempty"`
	City  string `json:"city,omitempty"`
	State string `json:"state,omitempty"`
	Zip   string `json:"zip,omitempty"`
}

// Identifiers are official numbers that identify a person when present.
type Identifiers struct {
	DL  string `json:"dl,omitempty"`  // driver licence
	CII string `json:"cii,omitempty"` // California criminal identification index
	FBI string `json:"fbi,omitempty"`
	SSN string `json:"ssn,omitempty"`
}

// FullName returns the name as a clerk would read it out.
func (p *Person) FullName() string {
	s := p.First
	for _, part := range []string{p.Middle, p.Last, p.Suffix} {
		if part != "" {
			if s != "" {
				s += " "
			}
			s += part
		}
	}
	return s
}

// Sex codes accepted on a person (CLETS-001 offers male, female, nonbinary).
var SexCodes = map[string]string{"M": "male", "F": "female", "X": "nonbinary"}

// RaceCodes are the California DOJ race/ethnicity codes used on CLETS forms.
var RaceCodes = map[string]string{
	"A": "Other Asian", "B": "Black", "C": "Chinese", "D": "Cambodian",
	"F": "Filipino", "G": "Guamanian", "H": "Hispanic", "I": "American Indian",
	"J": "Japanese", "K": "Korean", "L": "Laotian", "O": "Other",
	"P": "Pacific Islander", "S": "Samoan", "U": "Hawaiian", "V": "Vietnamese",
	"W": "White", "X": "Unknown", "Z": "Asian Indian",
}

// NormalizeName returns a name as the registry keeps and searches it: in
// Unicode NFC, without invisible formatting characters (zero-width spaces
// and joiners, bidirectional marks and embeddings, soft hyphens, byte-order
// marks: Unicode's Cf), and with each run of white space made one space.
// Formatting characters are stripped rather than refused: they arrive
// unseen in names copied from documents and screens (an RTL mark beside an
// Arabic name), and they change how a name renders, never who it names
// (a Persian or Devanagari name without its ZWNJ/ZWJ still reads as the
// same name), yet left in they would make "Smith" and "Sm<ZWSP>ith" two
// people to the duplicate guard and to search. NFC makes "García" typed
// with a combining accent the same string as "García" typed precomposed.
// Control characters are kept, for validation to refuse.
func NormalizeName(s string) string {
	if strings.IndexFunc(s, isFormat) >= 0 {
		s = strings.Map(func(r rune) rune {
			if isFormat(r) {
				return -1
			}
			return r
		}, s)
	}
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

func isFormat(r rune) bool { return r >= 0x80 && unicode.Is(unicode.Cf, r) }
