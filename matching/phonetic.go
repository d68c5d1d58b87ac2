package matching

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/antzucaro/matchr"
	"github.com/ccpor/ccpor"
)

// PhoneticKeys returns the Double Metaphone primary and alternate codes and
// the NYSIIS code of one name token, after folding ("Nguyễn" is coded as
// "nguyen", "O'Brien" as "obrien"), without duplicates. The index and the
// scorer both call it, so they cannot disagree. It returns nil for a token
// with no letters. The slice may be shared with other callers: append to
// it freely, but do not change its elements.
func PhoneticKeys(token string) []string { return coded(token).keys }

// codes are the phonetic codes of one token, by algorithm.
type codes struct{ dm1, dm2, ny string }

// codeCache remembers the codes of tokens already coded. Every search
// codes the names of each of its hundred-odd hits, a rebuild each name of
// a million orders twice (keys and analyser), and a registry's names
// repeat: coding them again was a third of a search's CPU. The cache stops
// growing at codeCacheMax tokens (a few tens of MB), beyond which tokens
// are coded each time, so odd input cannot grow it without bound.
var (
	codeCache      sync.Map // token → *tokenCodes
	codeCacheCount atomic.Int64
)

const codeCacheMax = 1 << 18

type tokenCodes struct {
	c    codes
	keys []string // PhoneticKeys, capacity clipped so appends copy
}

func codesOf(t string) codes { return coded(t).c }

func coded(t string) *tokenCodes {
	if v, ok := codeCache.Load(t); ok {
		return v.(*tokenCodes)
	}
	c := computeCodes(t)
	tc := &tokenCodes{c: c}
	for _, k := range []string{c.dm1, c.dm2, c.ny} {
		if k != "" && !slices.Contains(tc.keys, k) {
			tc.keys = append(tc.keys, k)
		}
	}
	tc.keys = slices.Clip(tc.keys)
	if codeCacheCount.Load() < codeCacheMax {
		if _, loaded := codeCache.LoadOrStore(t, tc); !loaded {
			codeCacheCount.Add(1)
		}
	}
	return tc
}

func computeCodes(t string) codes {
	t = strings.ReplaceAll(Fold(t), " ", "")
	if t == "" {
		return codes{}
	}
	p, a := matchr.DoubleMetaphone(t)
	if a == p {
		a = ""
	}
	return codes{dm1: p, dm2: a, ny: matchr.NYSIIS(t)}
}

func (c codes) empty() bool { return c.dm1 == "" && c.ny == "" }

// Kinds of blocking key returned by Keys. Each key is written "kind:value".
// Name keys do not say whether a token came from the given or the family
// name: names are often entered in each other's boxes.
const (
	// KeyName is a phonetic code (PhoneticKeys) of a name token: each given
	// name of two letters or more, each core family-name token, and a
	// compound family name run together. Jon meets John, García López meets
	// López and Garcia-Lopez, and Hall Isla meets Isla Hall.
	KeyName = "nm"
	// KeyNick is a canonical given name (CanonicalGiven), so Bob meets
	// Robert and Chuy meets Jesús.
	KeyNick = "nick"
	// KeyDelete is a name token of four letters or more and every string
	// made by deleting one of its letters, so two spellings one insertion,
	// deletion, substitution or transposition apart share a key (Hoffman
	// meets Hofmfan on "hofman") even when the slip changes the phonetic
	// code. It stands in for a fuzzy query: the index asks one (its fx
	// keys) rather than store a term for every deletion.
	KeyDelete = "del"
	// KeyDOB is the birth date as YYYYMMDD.
	KeyDOB = "dob"
	// KeyDaySwap is the birth year with the day and month sorted
	// (YYYY-lo-hi), so 1980-03-04 meets 1980-04-03.
	KeyDaySwap = "dms"
	// KeyBirthYear is the birth year from the birth date, the stated birth
	// year, or both candidate years implied by an age at a known date.
	KeyBirthYear = "by"
	// KeyAddress is the house number with the ZIP code (or the city when
	// there is no ZIP), so a record whose names were mangled still meets
	// its twin at the same address.
	KeyAddress = "adr"
)

// Keys returns the blocking keys of p for candidate generation: two records
// that share any key are worth comparing. Names come from the primary name
// and the aliases; see the Key* constants for each kind. A stated age
// cannot be turned into a birth year without the date it was given; use
// KeysAt for that.
func Keys(p ccpor.Person) []string { return KeysAt(p, ccpor.Date{}) }

// KeysAt is Keys for a person whose stated age was estimated on asOf
// (the order's issue date); the zero date means unknown.
func KeysAt(p ccpor.Person, asOf ccpor.Date) []string {
	var keys []string
	seen := map[string]bool{}
	add := func(kind, v string) {
		if k := kind + ":" + v; v != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, n := range NamesOf(p) {
		var toks []string
		for _, g := range n.Given {
			if len(g) < 2 {
				continue
			}
			toks = append(toks, g)
			for _, c := range CanonicalGiven(g) {
				add(KeyNick, c)
			}
		}
		toks = append(toks, n.Core()...)
		if len(n.Family) > 1 {
			toks = append(toks, n.Joined())
		}
		for _, t := range toks {
			for _, k := range PhoneticKeys(t) {
				add(KeyName, k)
			}
			if len(t) >= 4 {
				for _, d := range deletions(t) {
					add(KeyDelete, d)
				}
			}
		}
	}
	if d := p.DOB; !d.IsZero() {
		add(KeyDOB, fmt.Sprintf("%04d%02d%02d", d.Year(), d.Month(), d.Day()))
		lo, hi := int(d.Month()), d.Day()
		if lo > hi {
			lo, hi = hi, lo
		}
		add(KeyDaySwap, fmt.Sprintf("%04d-%02d-%02d", d.Year(), lo, hi))
		add(KeyBirthYear, fmt.Sprint(d.Year()))
	}
	if p.BirthYear != 0 {
		add(KeyBirthYear, fmt.Sprint(p.BirthYear))
	}
	if p.Age > 0 && !asOf.IsZero() {
		add(KeyBirthYear, fmt.Sprint(asOf.Year()-p.Age-1))
		add(KeyBirthYear, fmt.Sprint(asOf.Year()-p.Age))
	}
	add(KeyAddress, AddressKey(p.Address))
	return keys
}

// AddressKey returns the house number with the ZIP code (or the city when
// there is no ZIP), normalised as the comparator sees them, or "" when
// the address has no house number or neither place.
func AddressKey(addr *ccpor.Address) string {
	a := addressOf(addr)
	switch {
	case a.number == "":
	case a.zip != "":
		return a.zip + "/" + a.number
	case a.city != "":
		return a.city + "/" + a.number
	}
	return ""
}

// StreetKey returns the house number with the street name, normalised as
// the comparator sees them ("12 N Main Street" is 12/nmainst), or "" when
// either is missing. With AddressKey it lets a record meet another at its
// address when the ZIP code or the city was mis-keyed.
func StreetKey(addr *ccpor.Address) string {
	a := addressOf(addr)
	if a.number == "" || a.street == "" {
		return ""
	}
	return a.number + "/" + a.street
}
