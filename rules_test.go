package ccpor

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Family Code 6256: an EPO expires at the earlier of the close of judicial
// business on the 5th court day after issuance and the 7th calendar day
// after it. Each expected date below was worked out by hand.
func TestEPOExpiry(t *testing.T) {
	for _, tt := range []struct {
		name   string
		issued string
		want   string
	}{
		// Mon Mar 3, 2025, no holiday near: court days Tue 4, Wed 5, Thu 6,
		// Fri 7, Mon 10. The 5th court day and the 7th calendar day are both
		// Mon Mar 10.
		{"MondayNoHolidays", "2025-03-03", "2025-03-10"},
		// Fri Mar 7, 2025: court days Mon 10 … Fri 14; 7th calendar day is
		// also Fri Mar 14.
		{"Friday", "2025-03-07", "2025-03-14"},
		// Sat Mar 8, 2025: court days Mon 10 … Fri 14 (6 days on); the 7th
		// calendar day is Sat Mar 15, so the 5th court day is earlier.
		{"Saturday", "2025-03-08", "2025-03-14"},
		// Sun Mar 9, 2025: 5th court day Fri Mar 14; 7th day Sun Mar 16.
		{"Sunday", "2025-03-09", "2025-03-14"},
		// Wed Nov 26, 2025: Thu 27 and Fri 28 are holidays, then a weekend.
		// Court days Mon Dec 1, Tue 2, Wed 3, Thu 4, Fri 5; the 7th calendar
		// day, Wed Dec 3, is earlier.
		{"WednesdayBeforeThanksgiving", "2025-11-26", "2025-12-03"},
		// Sun Nov 23, 2025: Mon 24, Tue 25, Wed 26, (holidays), Mon Dec 1,
		// Tue 2 is the 5th court day; the 7th calendar day Sun Nov 30 wins.
		{"SundayBeforeThanksgiving", "2025-11-23", "2025-11-30"},
		// Wed Dec 24, 2025: Thu 25 is Christmas; Fri 26, Mon 29, Tue 30,
		// Wed 31 are court days 1-4, Thu Jan 1 is a holiday, Fri Jan 2 the
		// 5th. The 7th calendar day Wed Dec 31 is earlier.
		{"ChristmasEve", "2025-12-24", "2025-12-31"},
		// Wed Dec 31, 2025: Thu Jan 1 holiday; Fri 2, Mon 5, Tue 6, Wed 7,
		// Thu 8 is the 5th court day; the 7th calendar day is Wed Jan 7.
		{"NewYearsEve", "2025-12-31", "2026-01-07"},
		// Thu Dec 30, 2021: Fri Dec 31 is the observed New Year's Day (Jan 1,
		// 2022 was a Saturday). Court days Mon Jan 3 … Fri Jan 7; the 7th
		// calendar day Thu Jan 6 is earlier.
		{"ObservedNewYearOnDecember31", "2021-12-30", "2022-01-06"},
		// Fri Feb 14, 2025, before Washington Day (Mon Feb 17): court days
		// Tue 18, Wed 19, Thu 20, Fri 21, Mon 24; 7th calendar day Fri Feb 21.
		{"FridayBeforeThreeDayWeekend", "2025-02-14", "2025-02-21"},
		// Sat Feb 15, 2025: same court days, 5th is Mon Feb 24; the 7th
		// calendar day is Sat Feb 22, so the order ends on a Saturday.
		{"SaturdayOfThreeDayWeekend", "2025-02-15", "2025-02-22"},
		// Sat May 24, 2025, before Memorial Day (Mon May 26): court days
		// Tue 27 … Fri 30, Mon Jun 2; the 7th calendar day Sat May 31 wins.
		{"SaturdayBeforeMemorialDay", "2025-05-24", "2025-05-31"},
		// Fri Sep 4, 2026, before Labor Day (Mon Sep 7): court days Tue 8 …
		// Fri 11 and Mon 14; the 7th calendar day Fri Sep 11 wins.
		{"FridayBeforeLaborDay", "2026-09-04", "2026-09-11"},
		// Issued on a holiday, Mon Jan 20, 2025 (MLK Day): court days Tue
		// 21 … Fri 24, Mon 27; both rules give Mon Jan 27.
		{"IssuedOnHoliday", "2025-01-20", "2025-01-27"},
		// Tue Jun 30, 2026: Fri Jul 3 is the observed July 4. Court days
		// Wed 1, Thu 2, Mon 6, Tue 7, Wed 8; the 7th calendar day Tue Jul 7.
		{"OverObservedIndependenceDay", "2026-06-30", "2026-07-07"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := EPOExpiry(MustParseDate(t, tt.issued)), MustParseDate(t, tt.want); got != want {
				t.Errorf("EPOExpiry(%s %s) = %s %s, want %s %s",
					tt.issued, MustParseDate(t, tt.issued).Weekday(), got, got.Weekday(), want, want.Weekday())
			}
		})
	}

	t.Run("Bounds", func(t *testing.T) {
		// For every issue day in 2025-2026 the EPO lasts 5 to 7 days, and
		// when it ends before the 7th day it ends on a court day.
		for d := NewDate(2025, time.January, 1); d.Year() < 2027; d = d.AddDays(1) {
			e := EPOExpiry(d)
			n := d.DaysUntil(e)
			if n < 5 || n > 7 {
				t.Errorf("EPOExpiry(%s) = %s, %d days later", d, e, n)
			}
			if n < 7 && !IsCourtDay(e) {
				t.Errorf("EPOExpiry(%s) = %s, before the 7th day but not a court day", d, e)
			}
		}
	})
}

func TestTypeRules(t *testing.T) {
	for _, typ := range OrderTypes {
		t.Run(string(typ), func(t *testing.T) {
			r, ok := TypeRules[typ]
			if !ok {
				t.Fatal("no rule")
			}
			if r.Name == "" || r.Statute == "" {
				t.Error("rule has no name or statute")
			}
			if typ == OrderEPO {
				if got, want := r.Forms[PhaseEmergency], []string{"EPO-001"}; !slices.Equal(got, want) {
					t.Errorf("emergency forms = %q, want %q", got, want)
				}
				return
			}
			if len(r.Forms[PhaseTemporary]) == 0 || len(r.Forms[PhaseAfterHearing]) == 0 {
				t.Errorf("forms = %v, want temporary and after-hearing forms", r.Forms)
			}
			if len(r.Forms[PhaseEmergency]) != 0 {
				t.Errorf("a %s order has emergency forms %q", typ, r.Forms[PhaseEmergency])
			}
			if len(r.Divisions) == 0 {
				t.Error("no division")
			}
			if r.MaxYears == 0 {
				t.Error("no maximum duration")
			}
			if r.BlankYears > r.MaxYears {
				t.Errorf("blank-date duration %d exceeds the cap %d", r.BlankYears, r.MaxYears)
			}
			if r.BlankYears != 0 && r.BlankRule == "" {
				t.Error("blank-date rule not cited")
			}
			for _, f := range r.allForms() {
				prefix := string(typ)
				if typ == OrderCPO {
					prefix = "CR"
				}
				if !strings.HasPrefix(f, prefix+"-") {
					t.Errorf("form %s does not belong to %s", f, typ)
				}
			}
		})
	}

	// domain.md §1: maximum durations after a hearing.
	for typ, want := range map[OrderType]int{
		OrderDV: 5, OrderCPO: 10, OrderCH: 5, OrderEA: 5, OrderJV: 3, OrderSV: 3, OrderWV: 3,
	} {
		if got := TypeRules[typ].MaxYears; got != want {
			t.Errorf("%s MaxYears = %d, want %d", typ, got, want)
		}
	}
}

// TestOrder_PrepareExpiry checks how Prepare computes or checks the expiry
// date. The orders are issued on Mon Jun 9, 2025 and entered on Jun 10.
func TestOrder_PrepareExpiry(t *testing.T) {
	t.Run("DVAfterHearingBlankIsThreeYears", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.ExpiresAt = Date{}
		MustPrepare(t, o, testNow)
		if got, want := o.ExpiresAt, NewDate(2028, time.June, 9); got != want {
			t.Errorf("ExpiresAt = %v, want %v", got, want)
		}
		if w := warningWith(o, "3 years"); w == "" || !strings.Contains(w, "6345(c)") || !strings.Contains(w, "2028-06-09") {
			t.Errorf("no warning citing the 3-year rule: %q", o.Warnings)
		}
	})

	t.Run("DVBlankFromLeapDay", func(t *testing.T) {
		// Three years from Feb 29, 2024 is taken as Mar 1, 2027.
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.IssuedOn, o.ExpiresAt = NewDate(2024, time.February, 29), Date{}
		MustPrepare(t, o, testNow)
		if got, want := o.ExpiresAt, NewDate(2027, time.March, 1); got != want {
			t.Errorf("ExpiresAt = %v, want %v", got, want)
		}
	})

	t.Run("JVAfterHearingBlankIsThreeYears", func(t *testing.T) {
		o := NewTestOrder(OrderJV, PhaseAfterHearing)
		o.ExpiresAt = Date{}
		MustPrepare(t, o, testNow)
		if got, want := o.ExpiresAt, NewDate(2028, time.June, 9); got != want {
			t.Errorf("ExpiresAt = %v, want %v", got, want)
		}
		if warningWith(o, "JV-255") == "" {
			t.Errorf("no warning citing the JV-255 rule: %q", o.Warnings)
		}
	})

	t.Run("CPOBlankIsThreeYears", func(t *testing.T) {
		// Both kinds of CPO take the form's 3-year rule, including a
		// pretrial one entered as temporary (not the 21-day TRO default).
		for _, phase := range []Phase{PhaseAfterHearing, PhaseTemporary} {
			o := NewTestOrder(OrderCPO, phase)
			o.ExpiresAt = Date{}
			MustPrepare(t, o, testNow)
			if got, want := o.ExpiresAt, NewDate(2028, time.June, 9); got != want {
				t.Errorf("%s: ExpiresAt = %v, want %v", phase, got, want)
			}
			if warningWith(o, "3 years") == "" {
				t.Errorf("%s: no warning about the 3-year rule: %q", phase, o.Warnings)
			}
		}
	})

	t.Run("ErrBlankWithoutRule", func(t *testing.T) {
		// CH, EA, SV and WV forms have no blank-date rule.
		for _, typ := range []OrderType{OrderCH, OrderEA, OrderSV, OrderWV} {
			o := NewTestOrder(typ, PhaseAfterHearing)
			o.ExpiresAt = Date{}
			ps := MustInvalid(t, o.Prepare(testNow))
			if got, want := problemFields(ps), []string{"expires_at"}; !slices.Equal(got, want) {
				t.Errorf("%s: problem fields = %q, want %q", typ, got, want)
			}
			if !o.ExpiresAt.IsZero() {
				t.Errorf("%s: ExpiresAt = %v, want it left blank", typ, o.ExpiresAt)
			}
		}
	})

	t.Run("MaximumDurations", func(t *testing.T) {
		for _, tt := range []struct {
			typ   OrderType
			years int
			ok    bool
		}{
			{OrderDV, 5, true},
			{OrderDV, 6, false},
			{OrderCPO, 10, true},
			{OrderCPO, 11, false},
			{OrderCH, 5, true},
			{OrderCH, 6, false},
			{OrderEA, 5, true},
			{OrderEA, 6, false},
			{OrderJV, 3, true},
			{OrderJV, 4, false},
			{OrderSV, 3, true},
			{OrderSV, 4, false},
			{OrderWV, 3, true},
			{OrderWV, 4, false},
		} {
			o := NewTestOrder(tt.typ, PhaseAfterHearing)
			o.ExpiresAt = testIssued.AddYears(tt.years)
			err := o.Prepare(testNow)
			switch {
			case tt.ok && err != nil:
				t.Errorf("%s for %d years: %v", tt.typ, tt.years, err)
			case !tt.ok:
				ps := MustInvalid(t, err)
				if got, want := problemFields(ps), []string{"expires_at"}; !slices.Equal(got, want) {
					t.Errorf("%s for %d years: problem fields = %q, want %q", tt.typ, tt.years, got, want)
				}
			}
		}
	})

	t.Run("ErrOneDayOverFiveYears", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.ExpiresAt = NewDate(2030, time.June, 10)
		wantOnlyProblem(t, o.Prepare(testNow), "expires_at", "at most 5 years", "2030-06-10")
	})

	t.Run("ExpiryOnIssueDay", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.ExpiresAt = testIssued
		MustPrepare(t, o, testNow)
	})

	t.Run("ErrExpiryBeforeIssue", func(t *testing.T) {
		for _, typ := range []OrderType{OrderDV, OrderCPO, OrderCH} {
			for _, phase := range []Phase{PhaseTemporary, PhaseAfterHearing} {
				o := NewTestOrder(typ, phase)
				o.ExpiresAt = testIssued.AddDays(-10)
				wantOnlyProblem(t, o.Prepare(testNow), "expires_at", "before the issue date")
			}
		}
	})

	t.Run("TemporaryBlankIs21Days", func(t *testing.T) {
		for _, typ := range []OrderType{OrderDV, OrderCH, OrderEA, OrderJV, OrderSV, OrderWV} {
			o := NewTestOrder(typ, PhaseTemporary)
			o.ExpiresAt = Date{}
			MustPrepare(t, o, testNow)
			if got, want := o.ExpiresAt, NewDate(2025, time.June, 30); got != want {
				t.Errorf("%s: ExpiresAt = %v, want %v", typ, got, want)
			}
			if warningWith(o, "21 days") == "" {
				t.Errorf("%s: no warning about the assumed 21 days: %q", typ, o.Warnings)
			}
		}
	})

	t.Run("TemporaryWithinTwentyFiveDays", func(t *testing.T) {
		o := NewTestOrder(OrderWV, PhaseTemporary)
		o.ExpiresAt = testIssued.AddDays(25)
		MustPrepare(t, o, testNow)
		if len(o.Warnings) != 0 {
			t.Errorf("Warnings = %q, want none", o.Warnings)
		}
	})

	t.Run("TemporaryLongerWarns", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.ExpiresAt = testIssued.AddDays(30)
		MustPrepare(t, o, testNow)
		if got, want := o.ExpiresAt, testIssued.AddDays(30); got != want {
			t.Errorf("ExpiresAt = %v, want %v kept", got, want)
		}
		if warningWith(o, "30 days") == "" {
			t.Errorf("no warning about a 30-day temporary order: %q", o.Warnings)
		}
	})

	t.Run("EPOComputed", func(t *testing.T) {
		// Mon Jun 9, 2025: court days Tue 10 … Fri 13, Mon 16 = 7th day.
		o := NewTestOrder(OrderEPO, PhaseEmergency)
		MustPrepare(t, o, testNow)
		if got, want := o.ExpiresAt, NewDate(2025, time.June, 16); got != want {
			t.Errorf("ExpiresAt = %v, want %v", got, want)
		}
		if len(o.Warnings) != 0 {
			t.Errorf("Warnings = %q, want none", o.Warnings)
		}
	})

	t.Run("EPORightDateKept", func(t *testing.T) {
		o := NewTestOrder(OrderEPO, PhaseEmergency)
		o.ExpiresAt = NewDate(2025, time.June, 16)
		MustPrepare(t, o, testNow)
		if len(o.Warnings) != 0 {
			t.Errorf("Warnings = %q, want none", o.Warnings)
		}
	})

	t.Run("EPOWrongDateReplaced", func(t *testing.T) {
		for _, wrong := range []Date{NewDate(2025, time.June, 14), NewDate(2025, time.June, 30)} {
			o := NewTestOrder(OrderEPO, PhaseEmergency)
			o.ExpiresAt = wrong
			MustPrepare(t, o, testNow)
			if got, want := o.ExpiresAt, NewDate(2025, time.June, 16); got != want {
				t.Errorf("ExpiresAt = %v, want %v", got, want)
			}
			w := warningWith(o, "replaced")
			if w == "" || !strings.Contains(w, wrong.String()) || !strings.Contains(w, "2025-06-16") || !strings.Contains(w, "6256") {
				t.Errorf("no warning naming both dates and FC 6256: %q", o.Warnings)
			}
		}
	})

	t.Run("NoExpiryForFutureIssue", func(t *testing.T) {
		// An order issued in the future is refused before any expiry is
		// computed.
		o := NewTestOrder(OrderEPO, PhaseEmergency)
		o.IssuedOn = NewDate(2025, time.July, 1)
		wantOnlyProblem(t, o.Prepare(testNow), "issued_on")
		if !o.ExpiresAt.IsZero() {
			t.Errorf("ExpiresAt = %v, want zero", o.ExpiresAt)
		}
	})

	t.Run("DVRenewalBeyondFiveYears", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.Form = "DV-730"
		o.ExpiresAt = testIssued.AddYears(10)
		MustPrepare(t, o, testNow)
	})

	t.Run("DVRenewalPermanent", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.Form, o.Permanent, o.ExpiresAt = "DV-730", true, Date{}
		MustPrepare(t, o, testNow)
		if !o.ExpiresAt.IsZero() || o.StatusAt(testNow.AddDate(50, 0, 0)) != StatusActive {
			t.Errorf("permanent renewal: expires %v, status in 50 years %s", o.ExpiresAt, o.StatusAt(testNow.AddDate(50, 0, 0)))
		}
	})

	t.Run("ErrDVRenewalBlank", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.Form, o.ExpiresAt = "DV-730", Date{}
		wantOnlyProblem(t, o.Prepare(testNow), "expires_at")
	})

	t.Run("ErrPermanentNotRenewal", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.Permanent = true
		wantOnlyProblem(t, o.Prepare(testNow), "permanent")
	})
}
