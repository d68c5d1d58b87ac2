package ccpor

import (
	"strconv"
	"testing"
	"time"
)

// The California judicial holidays below were worked out by hand from the
// rules in calendar.go (CCP 135, Gov. Code 6700), not from the code:
// a fixed-date holiday on a Sunday moves to Monday, on a Saturday to Friday.

// 2025: January 1 is a Wednesday, so no holiday falls on a weekend.
var courtHolidays2025 = []string{
	"2025-01-01", // New Year's Day, Wednesday
	"2025-01-20", // Martin Luther King Jr. Day: Mondays are Jan 6, 13, 20
	"2025-02-12", // Lincoln Day, Wednesday
	"2025-02-17", // Washington Day: Feb 1 is a Saturday; Mondays 3, 10, 17
	"2025-03-31", // César Chávez Day, Monday
	"2025-05-26", // Memorial Day: May 1 is a Thursday; last Monday is the 26th
	"2025-06-19", // Juneteenth, Thursday
	"2025-07-04", // Independence Day, Friday
	"2025-09-01", // Labor Day: September 1 is a Monday
	"2025-09-26", // Native American Day: Fridays are Sep 5, 12, 19, 26
	"2025-11-11", // Veterans Day, Tuesday
	"2025-11-27", // Thanksgiving: Nov 1 is a Saturday; Thursdays 6, 13, 20, 27
	"2025-11-28", // Day after Thanksgiving
	"2025-12-25", // Christmas, Thursday
}

// 2026: January 1 is a Thursday. July 4 is a Saturday, observed Friday
// July 3. January 1, 2027 is a Friday, so December 31, 2026 is a court day.
var courtHolidays2026 = []string{
	"2026-01-01", // New Year's Day, Thursday
	"2026-01-19", // Martin Luther King Jr. Day: Mondays are Jan 5, 12, 19
	"2026-02-12", // Lincoln Day, Thursday
	"2026-02-16", // Washington Day: Feb 1 is a Sunday; Mondays 2, 9, 16
	"2026-03-31", // César Chávez Day, Tuesday
	"2026-05-25", // Memorial Day: May 31 is a Sunday; last Monday is the 25th
	"2026-06-19", // Juneteenth, Friday
	"2026-07-03", // Independence Day (Saturday July 4) observed Friday
	"2026-09-07", // Labor Day: Sep 1 is a Tuesday; first Monday is the 7th
	"2026-09-25", // Native American Day: Fridays are Sep 4, 11, 18, 25
	"2026-11-11", // Veterans Day, Wednesday
	"2026-11-26", // Thanksgiving: Nov 1 is a Sunday; Thursdays 5, 12, 19, 26
	"2026-11-27", // Day after Thanksgiving
	"2026-12-25", // Christmas, Friday
}

func TestIsCourtHoliday(t *testing.T) {
	for _, tt := range []struct {
		year     int
		holidays []string
	}{
		{2025, courtHolidays2025},
		{2026, courtHolidays2026},
	} {
		t.Run(strconv.Itoa(tt.year), func(t *testing.T) {
			want := make(map[Date]bool)
			for _, s := range tt.holidays {
				want[MustParseDate(t, s)] = true
			}
			// Walk every day of the year: each listed day is a holiday,
			// and no other day is.
			n := 0
			for d := NewDate(tt.year, time.January, 1); d.Year() == tt.year; d = d.AddDays(1) {
				if got := IsCourtHoliday(d); got != want[d] {
					t.Errorf("IsCourtHoliday(%s %s) = %v, want %v", d, d.Weekday(), got, want[d])
				}
				if IsCourtHoliday(d) {
					n++
				}
			}
			if got, want := n, len(tt.holidays); got != want {
				t.Errorf("%d court holidays in %d, want %d", got, tt.year, want)
			}
		})
	}

	t.Run("SundayObservedMonday", func(t *testing.T) {
		for _, tt := range []struct{ holiday, observed string }{
			{"2023-01-01", "2023-01-02"}, // New Year's Day 2023 was a Sunday
			{"2022-06-19", "2022-06-20"}, // Juneteenth 2022 was a Sunday
			{"2022-12-25", "2022-12-26"}, // Christmas 2022 was a Sunday
			{"2027-07-04", "2027-07-05"}, // Independence Day 2027 is a Sunday
			{"2029-02-12", "2029-02-12"}, // control: Lincoln Day 2029 is a Monday
		} {
			h, obs := MustParseDate(t, tt.holiday), MustParseDate(t, tt.observed)
			if !IsCourtHoliday(obs) {
				t.Errorf("IsCourtHoliday(%s) = false, want true (observes %s)", obs, h)
			}
			if IsCourtDay(h) {
				t.Errorf("IsCourtDay(%s) = true, want false", h)
			}
			if got := obs.Weekday(); got != time.Monday {
				t.Errorf("%s is a %s; fix the test", obs, got)
			}
		}
	})

	t.Run("SaturdayObservedFriday", func(t *testing.T) {
		for _, tt := range []struct{ holiday, observed string }{
			{"2026-07-04", "2026-07-03"}, // Independence Day 2026 is a Saturday
			{"2027-06-19", "2027-06-18"}, // Juneteenth 2027 is a Saturday
			{"2027-12-25", "2027-12-24"}, // Christmas 2027 is a Saturday
			{"2028-11-11", "2028-11-10"}, // Veterans Day 2028 is a Saturday
			{"2022-01-01", "2021-12-31"}, // New Year's Day 2022 was a Saturday
			{"2028-01-01", "2027-12-31"}, // New Year's Day 2028 is a Saturday
		} {
			h, obs := MustParseDate(t, tt.holiday), MustParseDate(t, tt.observed)
			if !IsCourtHoliday(obs) {
				t.Errorf("IsCourtHoliday(%s) = false, want true (observes %s)", obs, h)
			}
			if IsCourtDay(obs) {
				t.Errorf("IsCourtDay(%s) = true, want false", obs)
			}
			if got := obs.Weekday(); got != time.Friday {
				t.Errorf("%s is a %s; fix the test", obs, got)
			}
		}
	})

	t.Run("NewYearsEveOnlyWhenJanuary1IsSaturday", func(t *testing.T) {
		for _, tt := range []struct {
			date string
			want bool
		}{
			{"2021-12-31", true},  // Jan 1, 2022 is a Saturday
			{"2027-12-31", true},  // Jan 1, 2028 is a Saturday
			{"2025-12-31", false}, // Jan 1, 2026 is a Thursday
			{"2026-12-31", false}, // Jan 1, 2027 is a Friday
			{"2022-12-31", false}, // a Saturday; Jan 1, 2023 is a Sunday
			{"2020-12-31", false}, // Jan 1, 2021 is a Friday
		} {
			if got := IsCourtHoliday(MustParseDate(t, tt.date)); got != tt.want {
				t.Errorf("IsCourtHoliday(%s) = %v, want %v", tt.date, got, tt.want)
			}
		}
	})

	t.Run("NotHolidays", func(t *testing.T) {
		for _, s := range []string{
			"2025-10-13", // Columbus Day: courts are open
			"2025-09-09", // Admission Day: not a judicial holiday
			"2025-04-18", // Good Friday
			"2025-12-24", // Christmas Eve
			"2025-12-26", // the day after Christmas
			"2025-11-10", // the day before Veterans Day
			"2025-05-19", // the Monday before Memorial Day
			"2026-07-06", // the Monday after the observed July 4
			"2026-09-18", // the third Friday of September
		} {
			if IsCourtHoliday(MustParseDate(t, s)) {
				t.Errorf("IsCourtHoliday(%s) = true, want false", s)
			}
		}
	})
}

func TestIsCourtDay(t *testing.T) {
	for _, tt := range []struct {
		date string
		want bool
	}{
		{"2025-06-09", true},  // ordinary Monday
		{"2025-06-13", true},  // ordinary Friday
		{"2025-06-14", false}, // Saturday
		{"2025-06-15", false}, // Sunday
		{"2025-11-27", false}, // Thanksgiving
		{"2025-11-28", false}, // day after Thanksgiving
		{"2026-07-03", false}, // observed Independence Day
		{"2026-07-04", false}, // Independence Day itself, a Saturday
		{"2021-12-31", false}, // observed New Year's Day 2022
		{"2025-12-31", true},  // New Year's Eve, a Wednesday
	} {
		t.Run(tt.date, func(t *testing.T) {
			if got := IsCourtDay(MustParseDate(t, tt.date)); got != tt.want {
				t.Errorf("IsCourtDay(%s) = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}

func TestNthCourtDayAfter(t *testing.T) {
	for _, tt := range []struct {
		name string
		from string
		n    int
		want string
	}{
		{"Zero", "2025-06-14", 0, "2025-06-14"},
		{"NextDay", "2025-06-09", 1, "2025-06-10"},
		{"FridayToMonday", "2025-06-13", 1, "2025-06-16"},
		{"SaturdayToMonday", "2025-06-14", 1, "2025-06-16"},
		// Wed Nov 26 2025: Thu 27 and Fri 28 are holidays, then a weekend.
		{"OverThanksgiving", "2025-11-26", 1, "2025-12-01"},
		// Tue 3 Jun → Wed 4, Thu 5, Fri 6, Mon 9, Tue 10.
		{"FiveOverAWeekend", "2025-06-03", 5, "2025-06-10"},
		// Juneteenth Thu Jun 19 2025 is skipped: Tue 17 → Wed 18, Fri 20.
		{"OverJuneteenth", "2025-06-17", 2, "2025-06-20"},
		// Thu Dec 30 2021 → Fri 31 (holiday), Mon Jan 3 2022.
		{"OverObservedNewYear", "2021-12-30", 1, "2022-01-03"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := NthCourtDayAfter(MustParseDate(t, tt.from), tt.n), MustParseDate(t, tt.want); got != want {
				t.Errorf("NthCourtDayAfter(%s, %d) = %v, want %v", tt.from, tt.n, got, want)
			}
		})
	}
}
