package ccpor

import (
	"fmt"
	"strings"
	"time"
)

// Pacific is the time zone every California court works in. Dates on orders
// are civil dates there; "today" and "expired" are judged there too.
var Pacific = mustLoadLocation("America/Los_Angeles")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// A machine without tzdata would silently judge expiry in UTC; the
		// binary embeds time/tzdata (see cmd/ccpor), so this is a build fault.
		panic(err)
	}
	return loc
}

// Date is a calendar date without a time of day, written YYYY-MM-DD. The
// zero Date means "not given". Impossible dates such as 2023-02-29 do not
// parse.
type Date struct {
	t time.Time // midnight UTC of the date; zero when not given
}

// NewDate returns the date y-m-d. It normalises out-of-range days the way
// time.Date does, so callers should pass valid dates.
func NewDate(y int, m time.Month, d int) Date {
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the civil date of t in California.
func DateOf(t time.Time) Date {
	t = t.In(Pacific)
	return NewDate(t.Year(), t.Month(), t.Day())
}

// ParseDate parses YYYY-MM-DD strictly: the day must exist in that month,
// and the year cannot be 0000, which the calendar does not have (and
// "0000-00-00" is a database's way of writing "none"). 0001-01-01 is
// refused too: it is the zero Date, which reads as "not given", so a birth
// date typed wrong would vanish into a warning. Whether a date is
// plausible for what it dates is Prepare's business.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a real date in YYYY-MM-DD form", s)
	}
	if t.Year() < 1 || t.IsZero() {
		return Date{}, fmt.Errorf("%q is not a plausible date", s)
	}
	return Date{t}, nil
}

// IsZero reports whether the date was not given.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Time returns midnight UTC of the date, for arithmetic and storage.
func (d Date) Time() time.Time { return d.t }

// Year returns the year of the date.
func (d Date) Year() int { return d.t.Year() }

// Month returns the month of the date.
func (d Date) Month() time.Month { return d.t.Month() }

// Day returns the day of the month.
func (d Date) Day() int { return d.t.Day() }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.t.Weekday() }

// AddDays returns the date n days later (earlier when n < 0).
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// AddYears returns the same day n years later. February 29 becomes
// March 1 in a common year, as time.AddDate does.
func (d Date) AddYears(n int) Date { return Date{d.t.AddDate(n, 0, 0)} }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// Compare returns -1, 0 or +1 as d is before, on or after e.
func (d Date) Compare(e Date) int { return d.t.Compare(e.t) }

// DaysUntil returns the number of days from d to e.
func (d Date) DaysUntil(e Date) int { return int(e.t.Sub(d.t).Hours() / 24) }

// String returns YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// MarshalJSON writes the date as "YYYY-MM-DD" or null when not given.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts "YYYY-MM-DD", "" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		*d = Date{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("a date must be a string in YYYY-MM-DD form, not %s", s)
	}
	v, err := ParseDate(strings.TrimSpace(s[1 : len(s)-1]))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
