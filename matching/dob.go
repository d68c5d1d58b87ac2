package matching

import (
	"fmt"

	"github.com/ccpor/ccpor"
)

// Outcome levels of the birth-date comparator, besides Exact, Typo,
// Different and Missing.
const (
	DaySwap = "day_swap"     // day and month exchanged (03/04 vs 04/03)
	YearOff = "year_off"     // same day and month, years one apart
	Partial = "partial"      // two of year, month and day agree
	Month   = "within_month" // otherwise different dates less than a month apart
	Within  = "within_year"  // otherwise different dates less than a year apart
	// YearSlip is one wrong digit in the year with the day of the year
	// within a month: 1986-03-07 written 1996-03-09 or 1987-02-20. Two
	// slips at once, each common alone (a neighbouring key on the number
	// pad, a date given from memory), are likelier for one person than
	// a chance agreement of that closeness.
	YearSlip = "year_slip"
	Distant  = "distant" // dates a generation (15 years) or more apart
	SameYr   = "year"    // only the birth year is known on one side, and it agrees
	AgeBand  = "age"     // an age estimate is consistent with the other side
	FarOff   = "far"     // a year or an age estimate that the other side rules out
)

// birth is what a record says about when the person was born: a full date,
// a year, or an age estimated on a known date.
type birth struct {
	dob  ccpor.Date
	year int
	// lo and hi bound the birth year implied by an age; zero when no age.
	lo, hi int
}

func birthOf(p ccpor.Person, asOf ccpor.Date) birth {
	b := birth{dob: p.DOB, year: p.BirthYear}
	if !p.DOB.IsZero() {
		b.year = p.DOB.Year()
	}
	if p.Age > 0 && !asOf.IsZero() {
		// Someone aged A on date D was born in year D-A-1 or D-A.
		b.lo, b.hi = asOf.Year()-p.Age-1, asOf.Year()-p.Age
	}
	return b
}

func (b birth) known() bool { return b.year != 0 || b.lo != 0 }

// yearRange is the span of birth years the record allows, before tolerance.
func (b birth) yearRange() (int, int) {
	if b.year != 0 {
		return b.year, b.year
	}
	return b.lo, b.hi
}

// compareBirth compares what two records say about birth. Full dates are
// checked for the slips clerks make (swapped day and month, one wrong
// digit, two neighbouring digits exchanged, a year off by one); a year
// alone must agree; an age is an estimate, so it only has to fall within
// tol years of the other side.
func compareBirth(a, b birth, tol int) string {
	if !a.known() || !b.known() {
		return Missing
	}
	if !a.dob.IsZero() && !b.dob.IsZero() {
		return compareDates(a.dob, b.dob)
	}
	if a.year != 0 && b.year != 0 {
		if a.year == b.year {
			return SameYr
		}
		if abs(a.year-b.year) == 1 {
			return AgeBand
		}
		return FarOff
	}
	alo, ahi := a.yearRange()
	blo, bhi := b.yearRange()
	if alo-tol <= bhi && blo <= ahi+tol {
		return AgeBand
	}
	return FarOff
}

// birthGap returns the least number of years between the birth years two
// records allow, or -1 when either is unknown.
func birthGap(a, b birth) int {
	if !a.known() || !b.known() {
		return -1
	}
	alo, ahi := a.yearRange()
	blo, bhi := b.yearRange()
	switch {
	case ahi < blo:
		return blo - ahi
	case bhi < alo:
		return alo - bhi
	}
	return 0
}

// compareDates compares two full birth dates.
func compareDates(a, b ccpor.Date) string {
	ya, ma, da := a.Year(), int(a.Month()), a.Day()
	yb, mb, db := b.Year(), int(b.Month()), b.Day()
	switch {
	case ya == yb && ma == mb && da == db:
		return Exact
	case ya == yb && ma == db && da == mb:
		return DaySwap
	}
	sa, sb := digits(a), digits(b)
	if hamming(sa, sb) == 1 || transposed(sa, sb) {
		return Typo
	}
	if ma == mb && da == db && abs(ya-yb) == 1 {
		return YearOff
	}
	same := 0
	for _, eq := range []bool{ya == yb, ma == mb, da == db} {
		if eq {
			same++
		}
	}
	if same == 2 {
		return Partial
	}
	switch d := abs(a.DaysUntil(b)); {
	case d <= 31:
		return Month
	case d <= 366:
		return Within
	}
	if abs(ya-yb) >= generation {
		return Distant
	}
	if hamming(sa[:4], sb[:4]) == 1 && daysApartInYear(a, b) <= 31 {
		return YearSlip
	}
	return Different
}

// daysApartInYear returns how many days apart two dates' days and months
// are, the year ignored (both are placed in one common year, so a leap
// day moves nothing) and December meeting January.
func daysApartInYear(a, b ccpor.Date) int {
	day := func(d ccpor.Date) int { return ccpor.NewDate(2001, d.Month(), d.Day()).Time().YearDay() }
	d := abs(day(a) - day(b))
	return min(d, 365-d)
}

func digits(d ccpor.Date) string {
	return fmt.Sprintf("%04d%02d%02d", d.Year(), d.Month(), d.Day())
}

// hamming counts differing positions of two equal-length strings, or
// returns -1 for different lengths.
func hamming(a, b string) int {
	if len(a) != len(b) {
		return -1
	}
	n := 0
	for i := range len(a) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// transposed reports whether b is a with two neighbouring characters
// exchanged.
func transposed(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i+1 < len(a); i++ {
		if a[i] != b[i] {
			return a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
		}
	}
	return false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// describeBirth says in a clerk's words what the record holds about birth.
func describeBirth(p ccpor.Person) string {
	switch {
	case !p.DOB.IsZero():
		return fmt.Sprintf("%02d/%02d/%04d", p.DOB.Month(), p.DOB.Day(), p.DOB.Year())
	case p.BirthYear != 0:
		return fmt.Sprintf("born %d", p.BirthYear)
	case p.Age > 0:
		return fmt.Sprintf("age %d", p.Age)
	}
	return "unknown"
}
