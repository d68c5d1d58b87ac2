package index

import (
	"slices"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/matching"
)

// blockKeys returns the composite blocking keys of a person. Two records
// of one person share at least one key under any single slip, and most
// under several, while each key is rare enough that a query stays fast at
// a million orders. Each key pairs two independent facts:
//
//	nn  family × given phonetic code, in either order: birth date wrong or
//	    missing, names swapped between the boxes, nicknames (via canonical
//	    given names)
//	fy  family code × birth year: given name garbled or a nickname not in
//	    the table
//	gy  given code × birth year: family name changed (marriage) or garbled
//	f   family code alone, and
//	g   given code alone: everything else garbled. These are broad (a
//	    common surname is thousands of orders), so Candidates drops them
//	    when they are too common to help (see broadKeyLimit)
//	d   birth date: both names garbled
//	ds  birth date with day and month sorted: day and month swapped
//	a   house number with ZIP code (or city): both names garbled and the
//	    birth date wrong or missing, at one address. A ZIP code and a
//	    number hold one building, so the key stays narrow
//	s   house number with street name: the same, with the ZIP code or
//	    city mis-keyed
//	fx  given initial × family token, asked within one slip (see
//	    fuzzyClauses): typos that change the phonetic code of the family
//	    name, and any slip in the given name but its initial; and family
//	    initial × first given name in the same space, for a slip in the
//	    given name, or names in each other's boxes with a slip in either
//
// asOf is the date a stated age was estimated on (the issue date); names
// are p's, as matching.NamesOf gives them. The keys are added to l.
func blockKeys(l *termList, p ccpor.Person, names []matching.Name, asOf ccpor.Date) {
	var years []string
	for _, y := range birthYears(p, asOf) {
		years = append(years, strconv.Itoa(y))
	}
	for _, n := range names {
		var family, given []string // phonetic codes
		var famToks []string
		famToks = append(famToks, n.Core()...)
		if len(n.Family) > 1 {
			famToks = append(famToks, n.Joined())
		}
		for _, t := range famToks {
			family = append(family, matching.PhoneticKeys(t)...)
		}
		var givenToks []string
		for _, g := range n.Given {
			if len(g) < 2 {
				continue
			}
			givenToks = append(givenToks, g)
			// Given names take their primary code only: with the
			// canonical forms they already meet nicknames, and each code
			// multiplies the keys of every pair.
			given = appendPrimary(given, g)
			for _, c := range matching.CanonicalGiven(g) {
				given = appendPrimary(given, c)
			}
		}
		// A record with one name only may hold it in the other box: "Thomas"
		// as a family name on one record is the given name on the next. Its
		// codes go under both kinds, so it meets either; a full name keeps
		// its boxes (swaps meet through nn).
		full := len(family) > 0 && len(given) > 0
		if !full {
			one := slices.Concat(family, given)
			family, given = one, one
		}
		for _, f := range family {
			l.add("f:", f)
			for _, g := range given {
				if full {
					addNN(l, f, g)
				}
			}
			for _, y := range years {
				l.add("fy:", f, "|", y)
			}
		}
		for _, g := range given {
			l.add("g:", g)
			for _, y := range years {
				l.add("gy:", g, "|", y)
			}
		}
		// The longest core token only: in a double surname the other part
		// still meets through nn and fy.
		longest := ""
		for _, t := range n.Core() {
			if len(t) > len(longest) {
				longest = t
			}
		}
		if !full {
			// One name alone: its slips meet among the records that have
			// one name alone, under an empty initial.
			for _, t := range givenToks {
				addSlipKey(l, t, "")
			}
			addSlipKey(l, longest, "")
		}
		if len(givenToks) > 0 && longest != "" {
			addSlipKey(l, longest, givenToks[0][:1])
			// The first given name likewise, with the family initial, in
			// the same key space: a slip in the given name that changes its
			// code meets the family initial, and names in each other's
			// boxes with a slip in either meet too.
			addSlipKey(l, givenToks[0], longest[:1])
		}
	}
	if !p.DOB.IsZero() {
		l.add("d:", dobKey(p.DOB))
		l.add("ds:", dobSortedKey(p.DOB))
	}
	if a := matching.AddressKey(p.Address); a != "" {
		l.add("a:", a)
	}
	if s := matching.StreetKey(p.Address); s != "" {
		l.add("s:", s)
	}
}

// addSlipKey adds the fx key of t with initial, for tokens of four
// letters or more: asked by fuzzyClauses, it meets every spelling of t one
// slip away.
func addSlipKey(l *termList, t, initial string) {
	if len(t) < 4 {
		return
	}
	l.add(slipKey(t, initial))
}

// slipKey is the fx key of a name token t with the other name's initial,
// as indexed and as asked.
func slipKey(t, initial string) string { return "fx:" + initial + "|" + t }

// fuzzyClauses asks an fx key within one slip: one letter added, dropped
// or changed (a Levenshtein automaton over the term dictionary, under the
// key's initial), or two neighbouring letters swapped (each swap one more
// term). The index holds one term a name: the deletion neighbourhood it
// replaced (every form of the name with one letter dropped, each a term,
// met by the same forms of the query) was a quarter of an order's terms
// and more of a rebuild's work, for the same pair completeness on FEBRL 4
// and the fixtures (fake_1000: 2 of 2,031 true pairs fewer).
func fuzzyClauses(key string) []query.Query {
	at := strings.IndexByte(key, '|') + 1
	f := bleve.NewFuzzyQuery(key)
	f.SetField(fieldKeys)
	f.SetFuzziness(1)
	f.SetPrefix(at)
	qs := []query.Query{f}
	r := []rune(key[at:])
	for i := 0; i+1 < len(r); i++ {
		if r[i] == r[i+1] {
			continue
		}
		r[i], r[i+1] = r[i+1], r[i]
		t := bleve.NewTermQuery(key[:at] + string(r))
		t.SetField(fieldKeys)
		qs = append(qs, t)
		r[i], r[i+1] = r[i+1], r[i]
	}
	return qs
}

// addNN adds the nn key of a family and a given code (see nnKey),
// written in parts so that indexing builds no string for it.
func addNN(l *termList, f, g string) {
	lo, hi := nnOrder(f, g)
	l.add("nn:", lo, "|", hi)
}

// nnKey pairs a family and a given code in either order, so names written
// in each other's boxes meet.
func nnKey(f, g string) string {
	lo, hi := nnOrder(f, g)
	return "nn:" + lo + "|" + hi
}

// nnOrder puts the two codes of an nn key in the order both sides use.
func nnOrder(f, g string) (lo, hi string) {
	if f < g {
		return f, g
	}
	return g, f
}

// lastInitialPrefix is the longest start of a family name indexed with a
// given initial; a longer typed name is cut to it, and ranking checks the
// rest.
const lastInitialPrefix = 6

// lastInitialKey is a family-name start with a given initial.
func lastInitialKey(family, initial string) string {
	r := []rune(family)
	return string(r[:min(len(r), lastInitialPrefix)]) + "|" + initial
}

func appendPrimary(codes []string, tok string) []string {
	if k := matching.PhoneticKeys(tok); len(k) > 0 && !slices.Contains(codes, k[0]) {
		codes = append(codes, k[0])
	}
	return codes
}
