package ccpor

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// dateComparer lets cmp compare Dates, whose only field is unexported.
var dateComparer = cmp.Comparer(func(a, b Date) bool { return a == b })

// MustParseDate parses s or fails the test.
func MustParseDate(tb testing.TB, s string) Date {
	tb.Helper()
	d, err := ParseDate(s)
	if err != nil {
		tb.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

func TestParseDate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		d, err := ParseDate("2025-06-09")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d, NewDate(2025, time.June, 9); got != want {
			t.Errorf("ParseDate = %v, want %v", got, want)
		}
		if got, want := d.Year(), 2025; got != want {
			t.Errorf("Year = %d, want %d", got, want)
		}
		if got, want := d.Month(), time.June; got != want {
			t.Errorf("Month = %v, want %v", got, want)
		}
		if got, want := d.Day(), 9; got != want {
			t.Errorf("Day = %d, want %d", got, want)
		}
		if got, want := d.Weekday(), time.Monday; got != want {
			t.Errorf("Weekday = %v, want %v", got, want)
		}
		if got, want := d.String(), "2025-06-09"; got != want {
			t.Errorf("String = %q, want %q", got, want)
		}
		if d.IsZero() {
			t.Error("IsZero = true, want false")
		}
	})

	t.Run("LeapDay", func(t *testing.T) {
		d, err := ParseDate("2024-02-29")
		if err != nil {
			t.Fatalf("2024 is a leap year: %v", err)
		}
		if got, want := d, NewDate(2024, time.February, 29); got != want {
			t.Errorf("ParseDate = %v, want %v", got, want)
		}
	})

	// Year 2000 is a leap year (divisible by 400), 1900 is not (by 100).
	t.Run("CenturyLeapYears", func(t *testing.T) {
		if _, err := ParseDate("2000-02-29"); err != nil {
			t.Errorf("2000-02-29: %v", err)
		}
		if _, err := ParseDate("1900-02-29"); err == nil {
			t.Error("1900-02-29 parsed, want error")
		}
	})

	for _, tt := range []struct {
		name, s string
	}{
		{"ErrNotALeapYear", "2023-02-29"},
		{"ErrFebruary30", "2024-02-30"},
		{"ErrApril31", "2024-04-31"},
		{"ErrMonth13", "2024-13-01"},
		{"ErrMonth0", "2024-00-10"},
		{"ErrDay0", "2024-01-00"},
		{"ErrDay32", "2024-01-32"},
		{"ErrShortForm", "24-1-1"},
		{"ErrUnpaddedMonth", "2024-1-01"},
		{"ErrUnpaddedDay", "2024-01-1"},
		{"ErrUSOrder", "01/02/2024"},
		{"ErrSlashes", "2024/01/02"},
		{"ErrTimestamp", "2024-01-02T00:00:00Z"},
		{"ErrTrailingText", "2024-01-02x"},
		{"ErrLeadingSpace", " 2024-01-02"},
		{"ErrEmpty", ""},
		{"ErrWord", "yesterday"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDate(tt.s)
			if err == nil {
				t.Fatalf("ParseDate(%q) = %v, want error", tt.s, d)
			}
			if !d.IsZero() {
				t.Errorf("ParseDate(%q) returned %v with its error, want the zero date", tt.s, d)
			}
			if !strings.Contains(err.Error(), "YYYY-MM-DD") {
				t.Errorf("error %q does not say which form is expected", err)
			}
		})
	}
}

func TestNewDate(t *testing.T) {
	// NewDate normalises like time.Date; callers must pass valid dates.
	if got, want := NewDate(2023, time.February, 29), NewDate(2023, time.March, 1); got != want {
		t.Errorf("NewDate(2023-02-29) = %v, want %v", got, want)
	}
	if got, want := NewDate(2024, time.June, 9), MustParseDate(t, "2024-06-09"); got != want {
		t.Errorf("NewDate and ParseDate disagree: %v != %v", got, want)
	}
	if got, want := NewDate(2024, time.June, 9).Time(), time.Date(2024, time.June, 9, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
}

func TestDateOf(t *testing.T) {
	t.Run("EveningInCaliforniaIsNextDayInUTC", func(t *testing.T) {
		// 2025-06-10 03:00 UTC is 20:00 PDT on June 9.
		now := time.Date(2025, time.June, 10, 3, 0, 0, 0, time.UTC)
		if got, want := DateOf(now), NewDate(2025, time.June, 9); got != want {
			t.Errorf("DateOf = %v, want %v", got, want)
		}
	})
	t.Run("JustAfterPacificMidnight", func(t *testing.T) {
		// 08:00 UTC in winter is 00:00 PST.
		now := time.Date(2025, time.January, 15, 8, 0, 0, 0, time.UTC)
		if got, want := DateOf(now), NewDate(2025, time.January, 15); got != want {
			t.Errorf("DateOf = %v, want %v", got, want)
		}
		if got, want := DateOf(now.Add(-time.Second)), NewDate(2025, time.January, 14); got != want {
			t.Errorf("DateOf one second earlier = %v, want %v", got, want)
		}
	})
	t.Run("OtherZone", func(t *testing.T) {
		// 2025-06-10 01:00 in New York is 22:00 on June 9 in California.
		ny := time.FixedZone("EDT", -4*3600)
		if got, want := DateOf(time.Date(2025, time.June, 10, 1, 0, 0, 0, ny)), NewDate(2025, time.June, 9); got != want {
			t.Errorf("DateOf = %v, want %v", got, want)
		}
	})
}

func TestDate_Arithmetic(t *testing.T) {
	d := NewDate(2025, time.December, 30)
	if got, want := d.AddDays(3), NewDate(2026, time.January, 2); got != want {
		t.Errorf("AddDays(3) = %v, want %v", got, want)
	}
	if got, want := d.AddDays(-30), NewDate(2025, time.November, 30); got != want {
		t.Errorf("AddDays(-30) = %v, want %v", got, want)
	}
	// AddDays must not be thrown off by daylight saving in California.
	if got, want := NewDate(2025, time.March, 8).AddDays(1), NewDate(2025, time.March, 9); got != want {
		t.Errorf("AddDays across DST = %v, want %v", got, want)
	}
	if got, want := NewDate(2024, time.February, 29).AddYears(3), NewDate(2027, time.March, 1); got != want {
		t.Errorf("AddYears from a leap day = %v, want %v", got, want)
	}
	if got, want := NewDate(2024, time.February, 29).AddYears(4), NewDate(2028, time.February, 29); got != want {
		t.Errorf("AddYears(4) from a leap day = %v, want %v", got, want)
	}
	if got, want := NewDate(2025, time.March, 1).DaysUntil(NewDate(2025, time.March, 31)), 30; got != want {
		t.Errorf("DaysUntil = %d, want %d", got, want)
	}
	if got, want := NewDate(2025, time.March, 31).DaysUntil(NewDate(2025, time.March, 1)), -30; got != want {
		t.Errorf("DaysUntil backwards = %d, want %d", got, want)
	}
	if got, want := NewDate(2024, time.January, 1).DaysUntil(NewDate(2025, time.January, 1)), 366; got != want {
		t.Errorf("DaysUntil over a leap year = %d, want %d", got, want)
	}
	a, b := NewDate(2025, time.June, 9), NewDate(2025, time.June, 10)
	if !a.Before(b) || a.After(b) || b.Before(a) || !b.After(a) {
		t.Errorf("Before/After wrong for %v and %v", a, b)
	}
	if a.Before(a) || a.After(a) {
		t.Errorf("a date is neither before nor after itself")
	}
}

func TestDate_Zero(t *testing.T) {
	var d Date
	if !d.IsZero() {
		t.Error("IsZero = false, want true")
	}
	if got, want := d.String(), ""; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "null"; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

func TestDate_JSON(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		for _, s := range []string{"2024-02-29", "1999-12-31", "2025-01-01", "0999-07-04"} {
			in := MustParseDate(t, s)
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(b), `"`+s+`"`; got != want {
				t.Errorf("Marshal = %s, want %s", got, want)
			}
			var out Date
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
			if out != in {
				t.Errorf("round trip of %s gave %v", s, out)
			}
		}
	})

	t.Run("Null", func(t *testing.T) {
		d := NewDate(2025, time.June, 9)
		if err := json.Unmarshal([]byte("null"), &d); err != nil {
			t.Fatal(err)
		}
		if !d.IsZero() {
			t.Errorf("null gave %v, want the zero date", d)
		}
		v := struct {
			D Date `json:"d"`
		}{D: NewDate(2025, time.June, 9)}
		if err := json.Unmarshal([]byte(`{"d":null}`), &v); err != nil {
			t.Fatal(err)
		}
		if !v.D.IsZero() {
			t.Errorf("null field gave %v, want the zero date", v.D)
		}
	})

	t.Run("EmptyString", func(t *testing.T) {
		d := NewDate(2025, time.June, 9)
		if err := json.Unmarshal([]byte(`""`), &d); err != nil {
			t.Fatal(err)
		}
		if !d.IsZero() {
			t.Errorf(`"" gave %v, want the zero date`, d)
		}
	})

	t.Run("SpacesInsideQuotes", func(t *testing.T) {
		var d Date
		if err := json.Unmarshal([]byte(`" 2025-06-09 "`), &d); err != nil {
			t.Fatal(err)
		}
		if got, want := d, NewDate(2025, time.June, 9); got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	for _, tt := range []struct {
		name, json string
	}{
		{"ErrImpossibleDate", `"2023-02-29"`},
		{"ErrMonth13", `"2024-13-01"`},
		{"ErrShortForm", `"24-1-1"`},
		{"ErrNumber", `20240101`},
		{"ErrNegativeNumber", `-1`},
		{"ErrBool", `true`},
		{"ErrObject", `{"y":2024}`},
		{"ErrArray", `[2024,1,1]`},
		{"ErrQuotedNull", `"null"`},
		{"ErrTimestamp", `"2024-01-02T15:04:05Z"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d Date
			if err := json.Unmarshal([]byte(tt.json), &d); err == nil {
				t.Errorf("Unmarshal(%s) = %v, want error", tt.json, d)
			}
			if !d.IsZero() {
				t.Errorf("Unmarshal(%s) set %v despite the error", tt.json, d)
			}
		})
	}
}

func TestOrder_JSONDates(t *testing.T) {
	t.Run("OmitZeroExpiry", func(t *testing.T) {
		o := Order{Type: OrderDV, IssuedOn: NewDate(2025, time.June, 9)}
		m := mustMarshalMap(t, o)
		if _, ok := m["expires_at"]; ok {
			t.Errorf("expires_at present for a zero expiry: %v", m["expires_at"])
		}
		if got, want := m["issued_on"], any("2025-06-09"); got != want {
			t.Errorf("issued_on = %v, want %v", got, want)
		}
		restrained := m["restrained"].(map[string]any)
		if _, ok := restrained["dob"]; ok {
			t.Errorf("restrained.dob present for a zero birth date: %v", restrained["dob"])
		}
	})

	t.Run("ExpiryPresent", func(t *testing.T) {
		o := Order{IssuedOn: NewDate(2025, time.June, 9), ExpiresAt: NewDate(2028, time.June, 9)}
		o.Restrained.DOB = NewDate(1985, time.March, 4)
		m := mustMarshalMap(t, o)
		if got, want := m["expires_at"], any("2028-06-09"); got != want {
			t.Errorf("expires_at = %v, want %v", got, want)
		}
		if got, want := m["restrained"].(map[string]any)["dob"], any("1985-03-04"); got != want {
			t.Errorf("restrained.dob = %v, want %v", got, want)
		}
	})

	t.Run("ZeroIssueDateIsNull", func(t *testing.T) {
		// issued_on has no omitzero: a missing issue date shows as null.
		m := mustMarshalMap(t, Order{})
		v, ok := m["issued_on"]
		if !ok {
			t.Fatal("issued_on missing")
		}
		if v != nil {
			t.Errorf("issued_on = %v, want null", v)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		in := Order{
			Type: OrderDV, Phase: PhaseAfterHearing, Form: "DV-130", County: "Alameda",
			CaseNumber: "25DV001", IssuedOn: NewDate(2024, time.February, 29), ExpiresAt: NewDate(2027, time.March, 1),
			Terminated: &Termination{On: NewDate(2025, time.June, 1), Reason: "dismissed"},
			Restrained: Person{First: "John", Last: "Doe", DOB: NewDate(1980, time.December, 31)},
			Protected:  []Party{{Person: Person{First: "Jane", Last: "Doe"}, Minor: true}},
		}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out Order
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(in, out, dateComparer); diff != "" {
			t.Errorf("round trip (-in +out):\n%s", diff)
		}
	})

	t.Run("ErrImpossibleIssueDate", func(t *testing.T) {
		var o Order
		err := json.Unmarshal([]byte(`{"type":"DV","issued_on":"2023-02-29"}`), &o)
		if err == nil {
			t.Fatalf("Unmarshal accepted 2023-02-29 as %v", o.IssuedOn)
		}
		if !strings.Contains(err.Error(), "2023-02-29") {
			t.Errorf("error %q does not quote the bad date", err)
		}
	})

	t.Run("ErrImpossibleBirthDate", func(t *testing.T) {
		var o Order
		err := json.Unmarshal([]byte(`{"protected":[{"first":"A","last":"B","dob":"2010-04-31"}]}`), &o)
		if err == nil {
			t.Fatal("Unmarshal accepted 2010-04-31")
		}
	})

	t.Run("ErrNumericDate", func(t *testing.T) {
		var o Order
		if err := json.Unmarshal([]byte(`{"issued_on":20250609}`), &o); err == nil {
			t.Fatal("Unmarshal accepted a number as a date")
		}
	})

	t.Run("NullAndEmptyDates", func(t *testing.T) {
		var o Order
		if err := json.Unmarshal([]byte(`{"issued_on":null,"expires_at":"","restrained":{"dob":""}}`), &o); err != nil {
			t.Fatal(err)
		}
		if !o.IssuedOn.IsZero() || !o.ExpiresAt.IsZero() || !o.Restrained.DOB.IsZero() {
			t.Errorf("got issued %v, expires %v, dob %v; want all zero", o.IssuedOn, o.ExpiresAt, o.Restrained.DOB)
		}
	})
}

// mustMarshalMap marshals v to JSON and decodes it into a generic map.
func mustMarshalMap(tb testing.TB, v any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}
