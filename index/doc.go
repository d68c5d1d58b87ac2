package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

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

// storedDoc is what the index stores of an order for re-scoring and for
// deciding whether it is in effect: its people (enough of each to
// compare, not the whole record) and dates, and who may see it.
type storedDoc struct {
	IssuedOn   ccpor.Date
	ExpiresAt  ccpor.Date // zero: none (permanent)
	Terminated ccpor.Date
	Persons    []Person
	// Access is who may see the order (ccpor.AccessOf): a search keeps the
	// candidates its user may see from it, as fresh as the index, and the
	// system of record decides what is shown of them.
	Access ccpor.OrderAccess
}

// activeOn reports whether the order was in effect on day.
func (d *storedDoc) activeOn(day ccpor.Date) bool {
	if !d.Terminated.IsZero() && !d.Terminated.After(day) {
		return false
	}
	return d.ExpiresAt.IsZero() || !d.ExpiresAt.Before(day)
}

// document is an order as Bleve indexes it. A list of keywords is one
// value, its terms joined by termSep (see termsAnalysis). Birth dates are
// asked through the d: and ds: keys.
type document struct {
	Keys      string `json:"keys"`
	Last      string `json:"last"`
	First     string `json:"first"`
	Initials  string `json:"initials"`
	LastInit  string `json:"last_initial"`
	Names     string `json:"names"`
	BirthYear string `json:"birth_year"`
	County    string `json:"county"`
	Type      string `json:"type"`
	Persons   string `json:"persons"`
	Text      string `json:"text,omitempty"`
}

// terms are the keyword lists of a document before they are joined.
type terms struct {
	keys, last, first, initials, lastInit, birthYear termList
}

// termsPool keeps the lists of documents already built: each field value
// is copied out of them, so the next document can reuse their memory
// rather than grow a hundred terms' worth anew.
var termsPool = sync.Pool{New: func() any { return new(terms) }}

func (t *terms) reset() {
	for _, l := range []*termList{&t.keys, &t.last, &t.first, &t.initials, &t.lastInit, &t.birthYear} {
		l.reset()
	}
}

// persons lists everyone in an order.
func persons(o *ccpor.Order) []Person {
	ps := []Person{{Role: RoleRestrained, Person: slim(o.Restrained)}}
	for i, p := range o.Protected {
		ps = append(ps, Person{Role: RoleProtected, Index: i, Person: slim(p.Person)})
	}
	return ps
}

// slim drops from a person what matching does not use. Height and weight
// it does use: an index without them scored namesakes of different build
// as one person.
func slim(p ccpor.Person) ccpor.Person {
	p.Hair, p.Eyes = "", ""
	return p
}

func newDocument(o *ccpor.Order) (*document, error) {
	d := &document{County: o.County, Type: string(o.Type), Text: o.ScanText}
	t := termsPool.Get().(*terms)
	defer termsPool.Put(t)
	t.reset()
	sd := storedDoc{IssuedOn: o.IssuedOn, Access: ccpor.AccessOf(o)}
	if !o.Permanent {
		sd.ExpiresAt = o.ExpiresAt
	}
	if o.Terminated != nil {
		sd.Terminated = o.Terminated.On
	}
	ps := persons(o)
	var names []string
	for _, sp := range ps {
		p := sp.Person
		nameList := matching.NamesOf(p)
		blockKeys(&t.keys, p, nameList, o.IssuedOn)
		for _, n := range nameList {
			for _, g := range n.Given {
				t.first.add(g)
				t.initials.add(firstRune(g))
				names = append(names, g)
				for _, c := range matching.CanonicalGiven(g) {
					t.first.add(c)
				}
			}
			for _, f := range n.Family {
				t.last.add(f)
				names = append(names, f)
			}
			for _, f := range append(n.Core(), n.Joined()) {
				addStarts(&t.lastInit, f, n.Given)
			}
			if len(n.Family) > 1 {
				t.last.add(n.Joined())
			}
		}
		for _, y := range birthYears(p, o.IssuedOn) {
			t.birthYear.add(strconv.Itoa(y))
		}
	}
	d.Names = strings.Join(names, " ")
	d.Keys, d.Last, d.First = t.keys.String(), t.last.String(), t.first.String()
	d.Initials, d.LastInit = t.initials.String(), t.lastInit.String()
	d.BirthYear = t.birthYear.String()
	sd.Persons = ps
	d.Persons = string(sd.appendBinary(nil))
	return d, nil
}

// The stored people are read back for every candidate of every search,
// a hundred per duplicate check: decoding them from JSON took as long as
// the search that found them. This format is positional, so it must list
// every field of a person; TestStoredDocRoundTrip fails when one is
// missing. Version 2 added who may see the order; a document of another
// version is not read (an index of an older Layout is rebuilt).
const storedVersion = 2

func (d *storedDoc) appendBinary(b []byte) []byte {
	b = append(b, storedVersion)
	b = appendDate(b, d.IssuedOn)
	b = appendDate(b, d.ExpiresAt)
	b = appendDate(b, d.Terminated)
	a := &d.Access
	b = appendStrings(b, string(a.Type), a.County)
	flags := byte(0)
	if a.Sealed {
		flags |= 1
	}
	if a.Registered {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(a.ConfidentialMinors)))
	for _, m := range a.ConfidentialMinors {
		b = binary.AppendVarint(b, int64(m))
	}
	b = binary.AppendUvarint(b, uint64(len(d.Persons)))
	for _, sp := range d.Persons {
		role := byte(0)
		if sp.Role == RoleProtected {
			role = 1
		}
		b = append(b, role)
		b = binary.AppendVarint(b, int64(sp.Index))
		p := &sp.Person
		b = appendStrings(b, p.First, p.Middle, p.Last, p.Suffix)
		b = binary.AppendUvarint(b, uint64(len(p.Aliases)))
		b = appendStrings(b, p.Aliases...)
		b = appendDate(b, p.DOB)
		b = binary.AppendVarint(b, int64(p.BirthYear))
		b = binary.AppendVarint(b, int64(p.Age))
		b = appendStrings(b, p.Sex, p.Race)
		b = binary.AppendVarint(b, int64(p.HeightIn))
		b = binary.AppendVarint(b, int64(p.WeightLb))
		b = appendStrings(b, p.Hair, p.Eyes)
		if a := p.Address; a != nil {
			b = append(b, 1)
			b = appendStrings(b, a.Line1, a.Line2, a.City, a.State, a.Zip)
		} else {
			b = append(b, 0)
		}
		if id := p.Identifiers; id != nil {
			b = append(b, 1)
			b = appendStrings(b, id.DL, id.CII, id.FBI, id.SSN)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

func appendDate(b []byte, d ccpor.Date) []byte {
	if d.IsZero() {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(d.Year()*10000+int(d.Month())*100+d.Day()))
}

func appendStrings(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var errStoredDoc = errors.New("stored document truncated or of an unknown version")

// decodeStoredDoc reads what appendBinary wrote.
func decodeStoredDoc(s string, d *storedDoc) error {
	r := storedReader{s: s}
	if r.byte() != storedVersion {
		return errStoredDoc
	}
	d.IssuedOn, d.ExpiresAt, d.Terminated = r.date(), r.date(), r.date()
	d.Access = ccpor.OrderAccess{Type: ccpor.OrderType(r.str()), County: r.str()}
	flags := r.byte()
	d.Access.Sealed, d.Access.Registered = flags&1 != 0, flags&2 != 0
	if n := r.uvarint(); n > 0 && n <= uint64(len(s)) {
		d.Access.ConfidentialMinors = make([]int, n)
		for i := range d.Access.ConfidentialMinors {
			d.Access.ConfidentialMinors[i] = int(r.varint())
		}
	}
	n := r.uvarint()
	if n > uint64(len(s)) {
		return errStoredDoc
	}
	d.Persons = make([]Person, n)
	for i := range d.Persons {
		sp := &d.Persons[i]
		sp.Role = RoleRestrained
		if r.byte() == 1 {
			sp.Role = RoleProtected
		}
		sp.Index = int(r.varint())
		p := &sp.Person
		p.First, p.Middle, p.Last, p.Suffix = r.str(), r.str(), r.str(), r.str()
		if na := r.uvarint(); na > 0 && na <= uint64(len(s)) {
			p.Aliases = make([]string, na)
			for j := range p.Aliases {
				p.Aliases[j] = r.str()
			}
		}
		p.DOB = r.date()
		p.BirthYear, p.Age = int(r.varint()), int(r.varint())
		p.Sex, p.Race = r.str(), r.str()
		p.HeightIn, p.WeightLb = int(r.varint()), int(r.varint())
		p.Hair, p.Eyes = r.str(), r.str()
		if r.byte() == 1 {
			p.Address = &ccpor.Address{Line1: r.str(), Line2: r.str(), City: r.str(), State: r.str(), Zip: r.str()}
		}
		if r.byte() == 1 {
			p.Identifiers = &ccpor.Identifiers{DL: r.str(), CII: r.str(), FBI: r.str(), SSN: r.str()}
		}
	}
	if r.bad {
		return errStoredDoc
	}
	return nil
}

// storedReader reads a stored document, remembering rather than returning
// a short read, so decoding reads as the format does.
type storedReader struct {
	s   string
	bad bool
}

func (r *storedReader) byte() byte {
	if len(r.s) == 0 {
		r.bad = true
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

func (r *storedReader) uvarint() uint64 {
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		c := r.byte()
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	r.bad = true
	return 0
}

func (r *storedReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *storedReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.bad = true
		r.s = ""
		return ""
	}
	v := r.s[:n]
	r.s = r.s[n:]
	return v
}

func (r *storedReader) date() ccpor.Date {
	v := r.uvarint()
	if v == 0 {
		return ccpor.Date{}
	}
	return ccpor.NewDate(int(v/10000), time.Month(v/100%100), int(v%100))
}

// addStarts adds the starts of the family name f, of 2 to
// lastInitialPrefix letters, each with the initial of every given name:
// the terms lastInitialKey asks for a family name typed in part.
func addStarts(l *termList, f string, given []string) {
	letters := 0
	for i := range f {
		if letters >= 2 {
			for _, g := range given {
				l.add(f[:i], "|", firstRune(g))
			}
		}
		if letters++; letters > lastInitialPrefix {
			return
		}
	}
	if letters >= 2 {
		for _, g := range given {
			l.add(f, "|", firstRune(g))
		}
	}
}

// firstRune returns the first letter of s.
func firstRune(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

func dobKey(d ccpor.Date) string {
	return ymdKey(d.Year(), int(d.Month()), d.Day())
}

func dobSortedKey(d ccpor.Date) string {
	lo, hi := int(d.Month()), d.Day()
	if lo > hi {
		lo, hi = hi, lo
	}
	return ymdKey(d.Year(), lo, hi)
}

// ymdKey writes a date as YYYYMMDD, without fmt: two per person indexed.
func ymdKey(y, m, d int) string {
	if y < 0 || y > 9999 {
		return fmt.Sprintf("%04d%02d%02d", y, m, d)
	}
	n := y*10000 + m*100 + d
	var b [8]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
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
