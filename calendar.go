package ccpor

import "time"

// IsCourtHoliday reports whether California's superior courts are closed
// on d for a judicial holiday (CCP 135, Gov. Code 6700). A holiday on a
// Sunday is observed the Monday after, and one on a Saturday the Friday
// before (Gov. Code 6700(b)). Verify against the Judicial Council's
// published calendar when the Legislature adds holidays.
func IsCourtHoliday(d Date) bool {
	for _, h := range courtHolidays(d.Year()) {
		if h == d {
			return true
		}
	}
	// A Saturday holiday in January of next year is observed on
	// December 31 of this one.
	if d.Month() == time.December && d.Day() == 31 {
		ny := NewDate(d.Year()+1, time.January, 1)
		return ny.Weekday() == time.Saturday
	}
	return false
}

// IsCourtDay reports whether courts are open on d: a weekday that is not a
// judicial holiday.
func IsCourtDay(d Date) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !IsCourtHoliday(d)
}

// NthCourtDayAfter returns the nth court day following d, not counting d.
func NthCourtDayAfter(d Date, n int) Date {
	for n > 0 {
		d = d.AddDays(1)
		if IsCourtDay(d) {
			n--
		}
	}
	return d
}

func courtHolidays(y int) []Date {
	fixed := func(m time.Month, day int) Date { return observed(NewDate(y, m, day)) }
	return []Date{
		fixed(time.January, 1),                                    // New Year's Day
		nthWeekday(y, time.January, time.Monday, 3),               // Martin Luther King Jr. Day
		fixed(time.February, 12),                                  // Lincoln Day
		nthWeekday(y, time.February, time.Monday, 3),              // Washington Day
		fixed(time.March, 31),                                     // César Chávez Day
		lastWeekday(y, time.May, time.Monday),                     // Memorial Day
		fixed(time.June, 19),                                      // Juneteenth
		fixed(time.July, 4),                                       // Independence Day
		nthWeekday(y, time.September, time.Monday, 1),             // Labor Day
		nthWeekday(y, time.September, time.Friday, 4),             // Native American Day
		fixed(time.November, 11),                                  // Veterans Day
		nthWeekday(y, time.November, time.Thursday, 4),            // Thanksgiving
		nthWeekday(y, time.November, time.Thursday, 4).AddDays(1), // Day after Thanksgiving
		fixed(time.December, 25),                                  // Christmas
	}
}

func observed(d Date) Date {
	switch d.Weekday() {
	case time.Sunday:
		return d.AddDays(1)
	case time.Saturday:
		return d.AddDays(-1)
	}
	return d
}

func nthWeekday(y int, m time.Month, wd time.Weekday, n int) Date {
	d := NewDate(y, m, 1)
	for d.Weekday() != wd {
		d = d.AddDays(1)
	}
	return d.AddDays(7 * (n - 1))
}

func lastWeekday(y int, m time.Month, wd time.Weekday) Date {
	d := NewDate(y, m+1, 1).AddDays(-1)
	for d.Weekday() != wd {
		d = d.AddDays(-1)
	}
	return d
}
