package index

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/matching"
)

// Role says where a person stands in an order.
type Role string

// Roles of a person in an order.
const (
	RoleRestrained Role = "restrained"
	RoleProtected  Role = "protected"
)

// storedPerson is one person of an order as the index keeps it for
// re-scoring: enough to compare, not the whole record.
type storedPerson struct {
	Role   Role         `json:"r"`
	Index  int          `json:"i"` // position in Order.Protected
	Person ccpor.Person `json:"p"`
}

// storedDoc is what the index stores of an order for re-scoring and for
// deciding whether it is in effect.
type storedDoc struct {
	IssuedOn   ccpor.Date     `json:"on"`
	ExpiresAt  ccpor.Date     `json:"ex,omitzero"` // zero: none (permanent)
	Terminated ccpor.Date     `json:"te,omitzero"`
	Persons    []storedPerson `json:"ps"`
}

// activeOn reports whether the order was in effect on day.
func (d *storedDoc) activeOn(day ccpor.Date) bool {
	if !d.Terminated.IsZero() && !d.Terminated.After(day) {
		return false
	}
	return d.ExpiresAt.IsZero() || !d.ExpiresAt.Before(day)
}

// document is an order as Bleve indexes it.
type document struct {
	Keys      []string `json:"keys"`
	Last      []string `json:"last"`
	First     []string `json:"first"`
	Initials  []string `json:"initials"`
	LastInit  []string `json:"last_initial"`
	Names     string   `json:"names"`
	DOB       []string `json:"dob"`
	DOBSorted []string `json:"dob_sorted"`
	BirthYear []string `json:"birth_year"`
	County    string   `json:"county"`
	Type      string   `json:"type"`
	Persons   string   `json:"persons"`
}

// persons lists everyone in an order.
func persons(o *ccpor.Order) []storedPerson {
	ps := []storedPerson{{Role: RoleRestrained, Person: slim(o.Restrained)}}
	for i, p := range o.Protected {
		ps = append(ps, storedPerson{Role: RoleProtected, Index: i, Person: slim(p.Person)})
	}
	return ps
}

// slim drops from a person what matching does not use.
func slim(p ccpor.Person) ccpor.Person {
	p.HeightIn, p.WeightLb, p.Hair, p.Eyes = 0, 0, "", ""
	return p
}

func newDocument(o *ccpor.Order) (*document, error) {
	d := &document{County: o.County, Type: string(o.Type)}
	sd := storedDoc{IssuedOn: o.IssuedOn}
	if !o.Permanent {
		sd.ExpiresAt = o.ExpiresAt
	}
	if o.Terminated != nil {
		sd.Terminated = o.Terminated.On
	}
	ps := persons(o)
	var names []string
	// Each list holds a few dozen terms at most: a scan beats hashing a
	// formatted key for every term of every order indexed.
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, sp := range ps {
		p := sp.Person
		for _, k := range blockKeys(p, o.IssuedOn) {
			add(&d.Keys, k)
		}
		for _, n := range matching.NamesOf(p) {
			for _, g := range n.Given {
				add(&d.First, g)
				add(&d.Initials, string([]rune(g)[:1]))
				names = append(names, g)
				for _, c := range matching.CanonicalGiven(g) {
					add(&d.First, c)
				}
			}
			for _, f := range n.Family {
				add(&d.Last, f)
				names = append(names, f)
			}
			for _, f := range append(n.Core(), n.Joined()) {
				r := []rune(f)
				for l := 2; l <= min(len(r), lastInitialPrefix); l++ {
					for _, g := range n.Given {
						add(&d.LastInit, lastInitialKey(string(r[:l]), string([]rune(g)[:1])))
					}
				}
			}
			if len(n.Family) > 1 {
				add(&d.Last, n.Joined())
			}
		}
		if !p.DOB.IsZero() {
			add(&d.DOB, dobKey(p.DOB))
			add(&d.DOBSorted, dobSortedKey(p.DOB))
		}
		for _, y := range birthYears(p, o.IssuedOn) {
			add(&d.BirthYear, strconv.Itoa(y))
		}
	}
	d.Names = strings.Join(names, " ")
	sd.Persons = ps
	b, err := json.Marshal(sd)
	if err != nil {
		return nil, err
	}
	d.Persons = string(b)
	return d, nil
}

func dobKey(d ccpor.Date) string {
	return fmt.Sprintf("%04d%02d%02d", d.Year(), d.Month(), d.Day())
}

func dobSortedKey(d ccpor.Date) string {
	lo, hi := int(d.Month()), d.Day()
	if lo > hi {
		lo, hi = hi, lo
	}
	return fmt.Sprintf("%04d%02d%02d", d.Year(), lo, hi)
}

// birthYears are the years the person may have been born in: the known
// one, or the two an age stated on asOf allows.
func birthYears(p ccpor.Person, asOf ccpor.Date) []int {
	switch {
	case !p.DOB.IsZero():
		return []int{p.DOB.Year()}
	case p.BirthYear != 0:
		return []int{p.BirthYear}
	case p.Age > 0 && !asOf.IsZero():
		return []int{asOf.Year() - p.Age - 1, asOf.Year() - p.Age}
	}
	return nil
}
