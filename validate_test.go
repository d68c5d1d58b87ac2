package ccpor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testNow is noon in California on Tuesday, June 10, 2025 (19:00 UTC).
var testNow = time.Date(2025, time.June, 10, 19, 0, 0, 0, time.UTC)

// testIssued is the day before testNow, a Monday with no court holiday in
// the following week (Juneteenth is Thursday June 19).
var testIssued = NewDate(2025, time.June, 9)

// NewTestOrder returns a complete, valid order of the given type and phase,
// issued on testIssued, with every restrained-person descriptor filled so
// that Prepare gives no warning. After-hearing orders expire in two years
// (within every type's cap); temporary orders at the 21-day hearing date.
func NewTestOrder(typ OrderType, phase Phase) *Order {
	o := &Order{
		Type:       typ,
		Phase:      phase,
		County:     "Alameda",
		CaseNumber: "25CV001234",
		IssuedOn:   testIssued,
		Restrained: Person{First: "John", Middle: "Q", Last: "Doe", DOB: NewDate(1985, time.March, 4), Sex: "M", Race: "W"},
		Protected: []Party{{
			Person:       Person{First: "Jane", Last: "Doe", DOB: NewDate(1987, time.July, 8), Sex: "F", Race: "H"},
			Relationship: "spouse",
		}},
		Terms: Terms{Conduct: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence", "workplace"}},
	}
	switch phase {
	case PhaseAfterHearing:
		o.ExpiresAt = testIssued.AddYears(2)
	case PhaseTemporary:
		o.ExpiresAt = testIssued.AddDays(21)
	}
	return o
}

// MustPrepare calls o.Prepare(now) and fails the test on any error.
func MustPrepare(tb testing.TB, o *Order, now time.Time) {
	tb.Helper()
	if err := o.Prepare(now); err != nil {
		tb.Fatalf("Prepare: %v", err)
	}
}

// MustInvalid checks that err is an EInvalid *Error and returns its problems.
func MustInvalid(tb testing.TB, err error) []FieldProblem {
	tb.Helper()
	if err == nil {
		tb.Fatal("Prepare succeeded, want EInvalid")
	}
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if got, want := e.Code, EInvalid; got != want {
		tb.Fatalf("Code = %q, want %q", got, want)
	}
	if len(e.Problems) == 0 {
		tb.Fatal("EInvalid error names no problem")
	}
	return e.Problems
}

// problemFields returns the fields named by ps, in order.
func problemFields(ps []FieldProblem) []string {
	fields := make([]string, len(ps))
	for i, p := range ps {
		fields[i] = p.Field
	}
	return fields
}

// wantOnlyProblem checks that Prepare failed on exactly one field and that
// its detail mentions each of the given fragments.
func wantOnlyProblem(tb testing.TB, err error, field string, fragments ...string) {
	tb.Helper()
	ps := MustInvalid(tb, err)
	if diff := cmp.Diff([]string{field}, problemFields(ps)); diff != "" {
		tb.Fatalf("problem fields (-want +got):\n%s\nproblems: %v", diff, ps)
	}
	for _, f := range fragments {
		if !strings.Contains(ps[0].Detail, f) {
			tb.Errorf("detail %q does not mention %q", ps[0].Detail, f)
		}
	}
}

// warningWith returns the first warning containing s, or "".
func warningWith(o *Order, s string) string {
	for _, w := range o.Warnings {
		if strings.Contains(w, s) {
			return w
		}
	}
	return ""
}

func TestOrder_Prepare(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, tt := range []struct {
			typ      OrderType
			phase    Phase
			form     string
			division Division
			brady    Brady
		}{
			{OrderDV, PhaseTemporary, "DV-110", DivisionFamily, BradyNo},
			{OrderDV, PhaseAfterHearing, "DV-130", DivisionFamily, BradyUnknown},
			{OrderCPO, PhaseTemporary, "CR-160", DivisionCriminal, BradyNo},
			{OrderCPO, PhaseAfterHearing, "CR-160", DivisionCriminal, BradyUnknown},
			{OrderCH, PhaseTemporary, "CH-110", DivisionCivil, BradyNo},
			{OrderCH, PhaseAfterHearing, "CH-130", DivisionCivil, BradyUnknown},
			{OrderEA, PhaseTemporary, "EA-110", DivisionCivil, BradyNo},
			{OrderEA, PhaseAfterHearing, "EA-130", DivisionCivil, BradyUnknown},
			{OrderJV, PhaseTemporary, "JV-250", DivisionJuvenile, BradyNo},
			{OrderJV, PhaseAfterHearing, "JV-255", DivisionJuvenile, BradyUnknown},
			{OrderSV, PhaseTemporary, "SV-110", DivisionCivil, BradyNo},
			{OrderSV, PhaseAfterHearing, "SV-130", DivisionCivil, BradyUnknown},
			{OrderWV, PhaseTemporary, "WV-110", DivisionCivil, BradyNo},
			{OrderWV, PhaseAfterHearing, "WV-130", DivisionCivil, BradyUnknown},
			{OrderEPO, PhaseEmergency, "EPO-001", "", BradyNo},
		} {
			t.Run(fmt.Sprintf("%s/%s", tt.typ, tt.phase), func(t *testing.T) {
				o := NewTestOrder(tt.typ, tt.phase)
				MustPrepare(t, o, testNow)
				if got, want := o.Form, tt.form; got != want {
					t.Errorf("Form = %q, want %q", got, want)
				}
				if got, want := o.Division, tt.division; got != want {
					t.Errorf("Division = %q, want %q", got, want)
				}
				if got, want := o.Brady, tt.brady; got != want {
					t.Errorf("Brady = %q, want %q", got, want)
				}
				if got, want := o.Service.Status, ServiceUnknown; got != want {
					t.Errorf("Service.Status = %q, want %q", got, want)
				}
				if got, want := o.Status, StatusActive; got != want {
					t.Errorf("Status = %q, want %q", got, want)
				}
				if o.ExpiresAt.IsZero() {
					t.Error("ExpiresAt is zero")
				}
				if len(o.Warnings) != 0 {
					t.Errorf("Warnings = %q, want none", o.Warnings)
				}
				if o.Protected[0].Minor {
					t.Error("adult protected person flagged as a minor")
				}
			})
		}
	})

	t.Run("EveryTypeCovered", func(t *testing.T) {
		if got, want := len(OrderTypes), 8; got != want {
			t.Fatalf("%d order types, want %d", got, want)
		}
		for _, typ := range OrderTypes {
			if _, ok := TypeRules[typ]; !ok {
				t.Errorf("no TypeRule for %s", typ)
			}
		}
	})

	t.Run("FullyPopulated", func(t *testing.T) {
		served := testNow.Add(-time.Hour)
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.Court = "Hayward Hall of Justice, Dept. 505"
		o.Restrained.Suffix = "Jr"
		o.Restrained.Aliases = []string{"Johnny Doe"}
		o.Restrained.BirthYear = 1985
		o.Restrained.HeightIn, o.Restrained.WeightLb = 70, 180
		o.Restrained.Hair, o.Restrained.Eyes = "bro", "blu"
		o.Protected = append(o.Protected, Party{Person: Person{First: "Jimmy", Last: "Doe", Age: 6}, Relationship: "child"})
		o.Terms = Terms{
			Conduct: true, NoContact: true, ContactExceptions: []string{"court_ordered_visitation", "attorney"},
			StayAwayYards: 100, StayAwayPlaces: StayAwayPlaces, MoveOut: true, Firearms: true,
			Custody: "protected", Visitation: "supervised", Other: "no animals",
		}
		o.Service = Service{Status: ServedInCourt, ServedAt: &served, ServedBy: "Dep. Smith #123"}
		o.Brady = BradyYes
		MustPrepare(t, o, testNow)
		if got, want := o.Restrained.Hair, "BRO"; got != want {
			t.Errorf("Hair = %q, want %q", got, want)
		}
		if !o.Protected[1].Minor {
			t.Error("six-year-old not flagged as a minor")
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		o := NewTestOrder(OrderCH, PhaseAfterHearing)
		MustPrepare(t, o, testNow)
		want := *o
		MustPrepare(t, o, testNow)
		if diff := cmp.Diff(want, *o, dateComparer); diff != "" {
			t.Errorf("second Prepare changed the order (-first +second):\n%s", diff)
		}
	})
}

func TestOrder_PrepareDefaults(t *testing.T) {
	t.Run("FormFromTypeAndPhase", func(t *testing.T) {
		for _, tt := range []struct {
			typ   OrderType
			phase Phase
			form  string
		}{
			{OrderDV, PhaseTemporary, "DV-110"},
			{OrderDV, PhaseAfterHearing, "DV-130"},
			{OrderCPO, PhaseTemporary, "CR-160"},
			{OrderCPO, PhaseAfterHearing, "CR-160"},
			{OrderCH, PhaseTemporary, "CH-110"},
			{OrderCH, PhaseAfterHearing, "CH-130"},
			{OrderEA, PhaseTemporary, "EA-110"},
			{OrderEA, PhaseAfterHearing, "EA-130"},
			{OrderJV, PhaseTemporary, "JV-250"},
			{OrderJV, PhaseAfterHearing, "JV-255"},
			{OrderSV, PhaseTemporary, "SV-110"},
			{OrderSV, PhaseAfterHearing, "SV-130"},
			{OrderWV, PhaseTemporary, "WV-110"},
			{OrderWV, PhaseAfterHearing, "WV-130"},
			{OrderEPO, PhaseEmergency, "EPO-001"},
		} {
			o := NewTestOrder(tt.typ, tt.phase)
			o.Form = ""
			MustPrepare(t, o, testNow)
			if got, want := o.Form, tt.form; got != want {
				t.Errorf("%s %s: Form = %q, want %q", tt.typ, tt.phase, got, want)
			}
		}
	})

	t.Run("PhaseFromForm", func(t *testing.T) {
		for _, tt := range []struct {
			typ   OrderType
			form  string
			phase Phase
		}{
			{OrderDV, "DV-110", PhaseTemporary},
			{OrderDV, "DV-130", PhaseAfterHearing},
			{OrderDV, "DV-730", PhaseAfterHearing}, // renewal
			{OrderCH, "CH-730", PhaseAfterHearing},
			{OrderJV, "JV-255", PhaseAfterHearing},
			{OrderWV, "WV-110", PhaseTemporary},
			{OrderEPO, "EPO-001", PhaseEmergency},
		} {
			o := NewTestOrder(tt.typ, tt.phase)
			o.Phase, o.Form = "", tt.form
			MustPrepare(t, o, testNow)
			if got, want := o.Phase, tt.phase; got != want {
				t.Errorf("%s %s: Phase = %q, want %q", tt.typ, tt.form, got, want)
			}
		}
	})

	t.Run("FormAndTypeNormalised", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.Type, o.Phase, o.Form = " dv ", "", "dv-110"
		MustPrepare(t, o, testNow)
		if got, want := o.Type, OrderDV; got != want {
			t.Errorf("Type = %q, want %q", got, want)
		}
		if got, want := o.Form, "DV-110"; got != want {
			t.Errorf("Form = %q, want %q", got, want)
		}
		if got, want := o.Phase, PhaseTemporary; got != want {
			t.Errorf("Phase = %q, want %q", got, want)
		}
	})

	t.Run("EPOPhase", func(t *testing.T) {
		o := NewTestOrder(OrderEPO, "")
		MustPrepare(t, o, testNow)
		if got, want := o.Phase, PhaseEmergency; got != want {
			t.Errorf("Phase = %q, want %q", got, want)
		}
		if got, want := o.Form, "EPO-001"; got != want {
			t.Errorf("Form = %q, want %q", got, want)
		}
	})

	t.Run("Division", func(t *testing.T) {
		for _, tt := range []struct {
			typ  OrderType
			want Division
		}{
			{OrderDV, DivisionFamily},
			{OrderCPO, DivisionCriminal},
			{OrderCH, DivisionCivil},
			{OrderEA, DivisionCivil},
			{OrderJV, DivisionJuvenile},
			{OrderSV, DivisionCivil},
			{OrderWV, DivisionCivil},
		} {
			o := NewTestOrder(tt.typ, PhaseAfterHearing)
			MustPrepare(t, o, testNow)
			if got := o.Division; got != tt.want {
				t.Errorf("%s: Division = %q, want %q", tt.typ, got, tt.want)
			}
		}
	})

	t.Run("ElderAbuseInProbate", func(t *testing.T) {
		o := NewTestOrder(OrderEA, PhaseAfterHearing)
		o.Division = DivisionProbate
		MustPrepare(t, o, testNow)
		if got, want := o.Division, DivisionProbate; got != want {
			t.Errorf("Division = %q, want %q", got, want)
		}
	})

	t.Run("Brady", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			typ   OrderType
			phase Phase
			in    Brady
			want  Brady
		}{
			{"AfterHearingUnknown", OrderDV, PhaseAfterHearing, "", BradyUnknown},
			{"TemporaryNo", OrderDV, PhaseTemporary, "", BradyNo},
			{"EmergencyNo", OrderEPO, PhaseEmergency, "", BradyNo},
			{"GivenYes", OrderDV, PhaseAfterHearing, BradyYes, BradyYes},
			{"LowerCaseYes", OrderDV, PhaseAfterHearing, "y", BradyYes},
			{"GivenNoAfterHearing", OrderCH, PhaseAfterHearing, BradyNo, BradyNo},
			{"UnknownOnTemporary", OrderDV, PhaseTemporary, BradyUnknown, BradyUnknown},
		} {
			t.Run(tt.name, func(t *testing.T) {
				o := NewTestOrder(tt.typ, tt.phase)
				o.Brady = tt.in
				MustPrepare(t, o, testNow)
				if got := o.Brady; got != tt.want {
					t.Errorf("Brady = %q, want %q", got, tt.want)
				}
			})
		}
	})

	t.Run("ServiceStatusUnknown", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		MustPrepare(t, o, testNow)
		if got, want := o.Service.Status, ServiceUnknown; got != want {
			t.Errorf("Service.Status = %q, want %q", got, want)
		}
		if o.Service.Served() {
			t.Error("Served() = true for an unknown service status")
		}
	})

	t.Run("ServiceStatusKept", func(t *testing.T) {
		for _, s := range ServiceStatuses {
			o := NewTestOrder(OrderDV, PhaseTemporary)
			o.Service.Status = s
			MustPrepare(t, o, testNow)
			if got := o.Service.Status; got != s {
				t.Errorf("Service.Status = %q, want %q", got, s)
			}
		}
	})

	t.Run("County", func(t *testing.T) {
		for _, tt := range []struct{ in, want string }{
			{"los angeles county", "Los Angeles"},
			{"Los Angeles", "Los Angeles"},
			{"  SAN   luis  obispo ", "San Luis Obispo"},
			{"San Francisco County", "San Francisco"},
			{"alpine", "Alpine"},
		} {
			o := NewTestOrder(OrderDV, PhaseTemporary)
			o.County = tt.in
			MustPrepare(t, o, testNow)
			if got := o.County; got != tt.want {
				t.Errorf("County %q became %q, want %q", tt.in, got, tt.want)
			}
		}
	})

	t.Run("NamesTrimmed", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.Restrained.First, o.Restrained.Last = "  Mary  Ann ", " de   la Cruz "
		o.Restrained.Sex, o.Restrained.Race = "f", "h"
		o.CaseNumber = " 25dv001 "
		MustPrepare(t, o, testNow)
		if got, want := o.Restrained.FullName(), "Mary Ann Q de la Cruz"; got != want {
			t.Errorf("FullName = %q, want %q", got, want)
		}
		if got, want := o.Restrained.Sex+o.Restrained.Race, "FH"; got != want {
			t.Errorf("Sex+Race = %q, want %q", got, want)
		}
		if got, want := o.CaseNumber, "25DV001"; got != want {
			t.Errorf("CaseNumber = %q, want %q", got, want)
		}
	})
}

func TestOrder_PrepareErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		typ    OrderType
		phase  Phase
		change func(o *Order)
		field  string
		detail string // a fragment of the problem's detail, when worth checking
	}{
		{"ErrTypeUnknown", OrderDV, PhaseTemporary, func(o *Order) { o.Type = "XX" }, "type", `"XX"`},
		{"ErrTypeMissing", OrderDV, PhaseTemporary, func(o *Order) { o.Type = "" }, "type", "DV, CPO, CH, EA, JV, SV, WV, EPO"},
		{"ErrPhaseUnknown", OrderDV, PhaseTemporary, func(o *Order) { o.Phase = "final" }, "phase", `"final"`},
		{"ErrPhaseMissing", OrderDV, PhaseTemporary, func(o *Order) { o.Phase = "" }, "phase", "required"},
		{"ErrPhaseEmergencyForDV", OrderDV, PhaseTemporary, func(o *Order) { o.Phase = PhaseEmergency }, "phase", "emergency"},
		{"ErrPhaseTemporaryForEPO", OrderEPO, PhaseEmergency, func(o *Order) { o.Phase = PhaseTemporary }, "phase", "temporary"},
		{"ErrPhaseEmergencyForCPO", OrderCPO, PhaseTemporary, func(o *Order) { o.Phase = PhaseEmergency }, "phase", ""},
		{"ErrFormOfOtherType", OrderDV, PhaseAfterHearing, func(o *Order) { o.Form = "CH-130" }, "form", "DV-110, DV-130, DV-730"},
		{"ErrFormOfOtherTypeNoPhase", OrderDV, PhaseAfterHearing, func(o *Order) { o.Phase, o.Form = "", "CH-130" }, "form", "CH-130"},
		{"ErrFormUnknown", OrderCH, PhaseTemporary, func(o *Order) { o.Form = "CH-999" }, "form", "CH-999"},
		{"ErrFormOfWrongPhase", OrderDV, PhaseAfterHearing, func(o *Order) { o.Form = "DV-110" }, "form", "after_hearing"},
		{"ErrTemporaryFormAfterHearingJV", OrderJV, PhaseTemporary, func(o *Order) { o.Form = "JV-255" }, "form", "temporary"},
		{"ErrDivision", OrderDV, PhaseTemporary, func(o *Order) { o.Division = DivisionCriminal }, "division", "criminal"},
		{"ErrCountyUnknown", OrderDV, PhaseTemporary, func(o *Order) { o.County = "Springfield" }, "county", "Springfield"},
		{"ErrCountyOtherState", OrderDV, PhaseTemporary, func(o *Order) { o.County = "Clark County" }, "county", ""},
		{"ErrCountyMissing", OrderDV, PhaseTemporary, func(o *Order) { o.County = "  " }, "county", "required"},
		{"ErrCaseNumberMissing", OrderDV, PhaseTemporary, func(o *Order) { o.CaseNumber = "" }, "case_number", ""},
		{"ErrCaseNumberTooLong", OrderDV, PhaseTemporary, func(o *Order) { o.CaseNumber = strings.Repeat("9", 101) }, "case_number", "100"},
		{"ErrNotesTooLong", OrderDV, PhaseTemporary, func(o *Order) { o.Notes = strings.Repeat("x", 10001) }, "notes", ""},
		{"ErrIssuedMissing", OrderDV, PhaseTemporary, func(o *Order) { o.IssuedOn = Date{} }, "issued_on", "required"},
		{"ErrIssuedInFuture", OrderDV, PhaseTemporary, func(o *Order) { o.IssuedOn = NewDate(2025, time.June, 11) }, "issued_on", "2025-06-11"},
		{"ErrExpiryBeforeIssue", OrderDV, PhaseAfterHearing, func(o *Order) { o.ExpiresAt = testIssued.AddDays(-1) }, "expires_at", "before the issue date"},
		{"ErrTerminationBeforeIssue", OrderDV, PhaseTemporary, func(o *Order) {
			o.Terminated = &Termination{On: testIssued.AddDays(-1)}
		}, "terminated.on", ""},
		{"ErrTerminationDateMissing", OrderDV, PhaseTemporary, func(o *Order) { o.Terminated = &Termination{Reason: "dismissed"} }, "terminated.on", "required"},
		{"ErrRestrainedFirstMissing", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.First = " " }, "restrained.first", "NFN"},
		{"ErrRestrainedLastMissing", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.Last = "" }, "restrained.last", ""},
		{"ErrProtectedFirstMissing", OrderDV, PhaseTemporary, func(o *Order) { o.Protected[0].First = "" }, "protected[0].first", ""},
		{"ErrSecondProtectedLastMissing", OrderDV, PhaseTemporary, func(o *Order) {
			o.Protected = append(o.Protected, Party{Person: Person{First: "Kid"}})
		}, "protected[1].last", ""},
		{"ErrNoProtected", OrderDV, PhaseTemporary, func(o *Order) { o.Protected = nil }, "protected", "at least one"},
		{"ErrTooManyProtected", OrderDV, PhaseTemporary, func(o *Order) {
			for range 50 {
				o.Protected = append(o.Protected, o.Protected[0])
			}
		}, "protected", "50"},
		{"ErrBirthDateInFuture", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.DOB = NewDate(2025, time.July, 1) }, "restrained.dob", "future"},
		{"ErrBirthDateAfterIssue", OrderDV, PhaseTemporary, func(o *Order) { o.Protected[0].DOB = testIssued.AddDays(1) }, "protected[0].dob", "after the issue date"},
		{"ErrBirthDateTooOld", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.DOB = NewDate(1900, time.January, 1) }, "restrained.dob", "120"},
		{"ErrBirthYearMismatch", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.BirthYear = 1984 }, "restrained.birth_year", "1984"},
		{"ErrBirthYearFuture", OrderDV, PhaseTemporary, func(o *Order) {
			o.Restrained.DOB, o.Restrained.BirthYear = Date{}, 2030
		}, "restrained.birth_year", ""},
		{"ErrAge", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.Age = 130 }, "restrained.age", ""},
		{"ErrSex", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.Sex = "Q" }, "restrained.sex", ""},
		{"ErrRace", OrderDV, PhaseTemporary, func(o *Order) { o.Protected[0].Race = "E" }, "protected[0].race", ""},
		{"ErrHeight", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.HeightIn = 5 }, "restrained.height_in", ""},
		{"ErrWeight", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.WeightLb = 2000 }, "restrained.weight_lb", ""},
		{"ErrNameTooLong", OrderDV, PhaseTemporary, func(o *Order) { o.Restrained.Last = strings.Repeat("a", 101) }, "restrained.last", ""},
		{"ErrAliasTooLong", OrderDV, PhaseTemporary, func(o *Order) {
			o.Restrained.Aliases = []string{"ok", strings.Repeat("a", 101)}
		}, "restrained.aliases[1]", ""},
		{"ErrRelationshipTooLong", OrderDV, PhaseTemporary, func(o *Order) {
			o.Protected[0].Relationship = strings.Repeat("a", 101)
		}, "protected[0].relationship", ""},
		{"ErrNoContactAndPeacefulContact", OrderCPO, PhaseAfterHearing, func(o *Order) {
			o.Terms.NoContact, o.Terms.PeacefulContact = true, true
		}, "terms", "peaceful"},
		{"ErrContactException", OrderDV, PhaseTemporary, func(o *Order) {
			o.Terms.ContactExceptions = []string{"attorney", "phone"}
		}, "terms.contact_exceptions", `"phone"`},
		{"ErrStayAwayPlace", OrderDV, PhaseTemporary, func(o *Order) { o.Terms.StayAwayPlaces = []string{"mall"} }, "terms.stay_away_places", `"mall"`},
		{"ErrStayAwayYardsNegative", OrderDV, PhaseTemporary, func(o *Order) { o.Terms.StayAwayYards = -5 }, "terms.stay_away_yards", ""},
		{"ErrStayAwayYardsHuge", OrderDV, PhaseTemporary, func(o *Order) { o.Terms.StayAwayYards = 10001 }, "terms.stay_away_yards", ""},
		{"ErrCustody", OrderDV, PhaseTemporary, func(o *Order) { o.Terms.Custody = "grandmother" }, "terms.custody", "protected, restrained, joint"},
		{"ErrVisitation", OrderDV, PhaseTemporary, func(o *Order) { o.Terms.Visitation = "weekends" }, "terms.visitation", ""},
		{"ErrOtherTooLong", OrderDV, PhaseTemporary, func(o *Order) { o.Terms.Other = strings.Repeat("x", 10001) }, "terms.other", ""},
		{"ErrServiceStatus", OrderDV, PhaseTemporary, func(o *Order) { o.Service.Status = "emailed" }, "service.status", `"emailed"`},
		{"ErrServedInFuture", OrderDV, PhaseTemporary, func(o *Order) {
			at := testNow.Add(48 * time.Hour)
			o.Service.ServedAt = &at
		}, "service.served_at", "future"},
		{"ErrBradyYesOnTemporary", OrderDV, PhaseTemporary, func(o *Order) { o.Brady = BradyYes }, "brady", "922(g)(8)"},
		{"ErrBradyYesOnEPO", OrderEPO, PhaseEmergency, func(o *Order) { o.Brady = BradyYes }, "brady", ""},
		{"ErrBradyValue", OrderDV, PhaseAfterHearing, func(o *Order) { o.Brady = "maybe" }, "brady", "Y, N or U"},
		{"ErrCHAfterHearingNoExpiry", OrderCH, PhaseAfterHearing, func(o *Order) { o.ExpiresAt = Date{} }, "expires_at", "5 years"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := NewTestOrder(tt.typ, tt.phase)
			tt.change(o)
			err := o.Prepare(testNow)
			if tt.detail == "" {
				wantOnlyProblem(t, err, tt.field)
			} else {
				wantOnlyProblem(t, err, tt.field, tt.detail)
			}
			if got, want := ErrorCode(err), EInvalid; got != want {
				t.Errorf("ErrorCode = %q, want %q", got, want)
			}
			if got, want := ErrorMessage(err), "The order is not valid."; got != want {
				t.Errorf("ErrorMessage = %q, want %q", got, want)
			}
			if !strings.Contains(err.Error(), tt.field+": ") {
				t.Errorf("Error() = %q does not name %s", err, tt.field)
			}
		})
	}

	t.Run("ErrIssuedTomorrowInCalifornia", func(t *testing.T) {
		// At 20:00 PDT on June 9 it is already June 10 in UTC, but an order
		// issued June 10 is still in the future in California.
		now := time.Date(2025, time.June, 10, 3, 0, 0, 0, time.UTC)
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.IssuedOn = NewDate(2025, time.June, 10)
		wantOnlyProblem(t, o.Prepare(now), "issued_on", "future")

		o = NewTestOrder(OrderDV, PhaseTemporary)
		o.IssuedOn = NewDate(2025, time.June, 10)
		MustPrepare(t, o, now.Add(5*time.Hour)) // 01:00 PDT June 10
	})

	t.Run("ErrImpossibleDateInJSON", func(t *testing.T) {
		var o Order
		err := readOrderJSON(`{"type":"DV","phase":"temporary","county":"Alameda","case_number":"1",
			"issued_on":"2023-02-29","restrained":{"first":"A","last":"B"},"protected":[{"first":"C","last":"D"}]}`, &o)
		if err == nil {
			t.Fatal("an order issued on 2023-02-29 was read")
		}
	})

	t.Run("ErrSeveral", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.County = "Gotham"
		o.Restrained.First = ""
		o.Protected[0].DOB = NewDate(2030, time.January, 1)
		o.Terms.NoContact, o.Terms.PeacefulContact = true, true
		o.Terms.Visitation = "sometimes"
		o.Brady = BradyYes
		ps := MustInvalid(t, o.Prepare(testNow))
		want := []string{"county", "restrained.first", "protected[0].dob", "terms", "terms.visitation", "brady"}
		if diff := cmp.Diff(want, problemFields(ps)); diff != "" {
			t.Errorf("problem fields (-want +got):\n%s", diff)
		}
		for _, p := range ps {
			if p.Detail == "" {
				t.Errorf("problem %s has no detail", p.Field)
			}
		}
	})

	t.Run("ErrSeveralWithUnknownType", func(t *testing.T) {
		// With an unknown type, phase, form and expiry cannot be judged,
		// but the rest of the order still is.
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.Type = "RO"
		o.IssuedOn = Date{}
		o.Protected = nil
		ps := MustInvalid(t, o.Prepare(testNow))
		want := []string{"type", "issued_on", "protected"}
		if diff := cmp.Diff(want, problemFields(ps)); diff != "" {
			t.Errorf("problem fields (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrDoesNotSetStatus", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.County = "Gotham"
		MustInvalid(t, o.Prepare(testNow))
		if o.Status != "" {
			t.Errorf("Status = %q on an invalid order, want empty", o.Status)
		}
	})

	t.Run("ErrEPODivision", func(t *testing.T) {
		o := NewTestOrder(OrderEPO, PhaseEmergency)
		o.Division = "banana"
		wantOnlyProblem(t, o.Prepare(testNow), "division")
	})
}

func TestOrder_PrepareWarnings(t *testing.T) {
	t.Run("MissingDescriptors", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.Restrained.DOB, o.Restrained.Sex, o.Restrained.Race = Date{}, "", ""
		MustPrepare(t, o, testNow)
		if got, want := len(o.Warnings), 1; got != want {
			t.Fatalf("%d warnings, want %d: %q", got, want, o.Warnings)
		}
		w := o.Warnings[0]
		for _, s := range []string{"birth date or age", "sex", "race", "6385(b)"} {
			if !strings.Contains(w, s) {
				t.Errorf("warning %q does not mention %q", w, s)
			}
		}
	})

	t.Run("MissingRaceOnly", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.Restrained.Race = ""
		MustPrepare(t, o, testNow)
		w := warningWith(o, "race")
		if w == "" {
			t.Fatalf("no warning about race: %q", o.Warnings)
		}
		if strings.Contains(w, "sex") || strings.Contains(w, "birth date") {
			t.Errorf("warning %q names descriptors that were given", w)
		}
	})

	t.Run("AgeOrBirthYearIsEnough", func(t *testing.T) {
		for _, change := range []func(p *Person){
			func(p *Person) { p.DOB, p.Age = Date{}, 40 },
			func(p *Person) { p.DOB, p.BirthYear = Date{}, 1985 },
		} {
			o := NewTestOrder(OrderDV, PhaseTemporary)
			change(&o.Restrained)
			MustPrepare(t, o, testNow)
			if len(o.Warnings) != 0 {
				t.Errorf("Warnings = %q, want none", o.Warnings)
			}
		}
	})

	t.Run("ProtectedDescriptorsNotRequired", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.Protected[0].Person = Person{First: "Jane", Last: "Doe"}
		MustPrepare(t, o, testNow)
		if len(o.Warnings) != 0 {
			t.Errorf("Warnings = %q, want none", o.Warnings)
		}
	})

	t.Run("ResetOnEachCall", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.Warnings = []string{"stale"}
		o.Restrained.Sex = ""
		MustPrepare(t, o, testNow)
		MustPrepare(t, o, testNow)
		if got, want := len(o.Warnings), 1; got != want {
			t.Errorf("%d warnings, want %d: %q", got, want, o.Warnings)
		}
	})
}

func TestOrder_PrepareStatus(t *testing.T) {
	t.Run("Active", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		MustPrepare(t, o, testNow)
		if got, want := o.Status, StatusActive; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("ActiveOnItsLastDay", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.IssuedOn, o.ExpiresAt = NewDate(2025, time.May, 27), NewDate(2025, time.June, 10)
		MustPrepare(t, o, testNow)
		if got, want := o.Status, StatusActive; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.IssuedOn, o.ExpiresAt = NewDate(2025, time.May, 26), NewDate(2025, time.June, 9)
		MustPrepare(t, o, testNow)
		if got, want := o.Status, StatusExpired; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("ExpiredEPO", func(t *testing.T) {
		// Issued Mon May 26, 2025 (Memorial Day): court days Tue 27 … Mon
		// Jun 2 make June 2 both the 5th court day and the 7th calendar day.
		o := NewTestOrder(OrderEPO, PhaseEmergency)
		o.IssuedOn = NewDate(2025, time.May, 26)
		MustPrepare(t, o, testNow)
		if got, want := o.ExpiresAt, NewDate(2025, time.June, 2); got != want {
			t.Errorf("ExpiresAt = %v, want %v", got, want)
		}
		if got, want := o.Status, StatusExpired; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("Terminated", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.Terminated = &Termination{On: NewDate(2025, time.June, 10), Reason: "dismissed"}
		MustPrepare(t, o, testNow)
		if got, want := o.Status, StatusTerminated; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("TerminatedOnIssueDay", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.Terminated = &Termination{On: testIssued}
		MustPrepare(t, o, testNow)
		if got, want := o.Status, StatusTerminated; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("TerminatedBeatsExpired", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseTemporary)
		o.IssuedOn, o.ExpiresAt = NewDate(2025, time.May, 1), NewDate(2025, time.May, 20)
		o.Terminated = &Termination{On: NewDate(2025, time.May, 5)}
		MustPrepare(t, o, testNow)
		if got, want := o.Status, StatusTerminated; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("GivenStatusIgnored", func(t *testing.T) {
		o := NewTestOrder(OrderDV, PhaseAfterHearing)
		o.Status = StatusTerminated
		MustPrepare(t, o, testNow)
		if got, want := o.Status, StatusActive; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})
}

func TestOrder_StatusAt(t *testing.T) {
	o := &Order{IssuedOn: NewDate(2025, time.June, 1), ExpiresAt: NewDate(2025, time.June, 10)}
	for _, tt := range []struct {
		name string
		now  time.Time
		want Status
	}{
		{"BeforeExpiry", time.Date(2025, time.June, 5, 12, 0, 0, 0, Pacific), StatusActive},
		{"ExpiryDayMorning", time.Date(2025, time.June, 10, 0, 0, 0, 0, Pacific), StatusActive},
		{"ExpiryDayLastSecond", time.Date(2025, time.June, 10, 23, 59, 59, 0, Pacific), StatusActive},
		// 03:00 UTC June 11 is still 20:00 on June 10 in California.
		{"ExpiryDayEveningUTC", time.Date(2025, time.June, 11, 3, 0, 0, 0, time.UTC), StatusActive},
		{"DayAfterExpiry", time.Date(2025, time.June, 11, 0, 0, 0, 0, Pacific), StatusExpired},
		// 07:30 UTC June 11 is 00:30 PDT June 11.
		{"DayAfterExpiryUTC", time.Date(2025, time.June, 11, 7, 30, 0, 0, time.UTC), StatusExpired},
		{"YearsLater", time.Date(2030, time.January, 1, 12, 0, 0, 0, time.UTC), StatusExpired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := o.StatusAt(tt.now); got != tt.want {
				t.Errorf("StatusAt(%s) = %q, want %q", tt.now.Format(time.RFC3339), got, tt.want)
			}
		})
	}

	t.Run("NoExpiry", func(t *testing.T) {
		o := &Order{IssuedOn: NewDate(2025, time.June, 1)}
		if got, want := o.StatusAt(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)), StatusActive; got != want {
			t.Errorf("StatusAt = %q, want %q", got, want)
		}
	})

	t.Run("TerminationInFuture", func(t *testing.T) {
		o := &Order{IssuedOn: NewDate(2025, time.June, 1), Terminated: &Termination{On: NewDate(2025, time.June, 20)}}
		if got, want := o.StatusAt(testNow), StatusActive; got != want {
			t.Errorf("before the termination date: StatusAt = %q, want %q", got, want)
		}
		if got, want := o.StatusAt(time.Date(2025, time.June, 20, 9, 0, 0, 0, Pacific)), StatusTerminated; got != want {
			t.Errorf("on the termination date: StatusAt = %q, want %q", got, want)
		}
	})
}

func TestOrder_PrepareMinor(t *testing.T) {
	// The order is issued on Monday, June 9, 2025; age is judged that day.
	for _, tt := range []struct {
		name  string
		child Person
		want  bool
	}{
		{"Child", Person{DOB: NewDate(2015, time.May, 1)}, true},
		{"Newborn", Person{DOB: testIssued}, true},
		{"EighteenTomorrow", Person{DOB: NewDate(2007, time.June, 10)}, true},
		{"EighteenToday", Person{DOB: NewDate(2007, time.June, 9)}, false},
		{"EighteenYesterday", Person{DOB: NewDate(2007, time.June, 8)}, false},
		{"Adult", Person{DOB: NewDate(1990, time.January, 1)}, false},
		{"AgeOnly", Person{Age: 12}, true},
		{"AdultAgeOnly", Person{Age: 30}, false},
		{"BirthYearOnly", Person{BirthYear: 2015}, true},
		{"NothingKnown", Person{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := NewTestOrder(OrderDV, PhaseTemporary)
			p := tt.child
			p.First, p.Last = "Kim", "Doe"
			o.Protected = append(o.Protected, Party{Person: p, Relationship: "child"})
			MustPrepare(t, o, testNow)
			if got := o.Protected[1].Minor; got != tt.want {
				t.Errorf("Minor = %v, want %v", got, tt.want)
			}
			if o.Protected[0].Minor {
				t.Error("adult protected person flagged as a minor")
			}
		})
	}
}

func TestPerson_AgeOn(t *testing.T) {
	on := NewDate(2025, time.June, 9)
	for _, tt := range []struct {
		name  string
		p     Person
		age   int
		known bool
	}{
		{"DOBBeforeBirthday", Person{DOB: NewDate(1985, time.June, 10)}, 39, true},
		{"DOBOnBirthday", Person{DOB: NewDate(1985, time.June, 9)}, 40, true},
		{"DOBEarlierMonth", Person{DOB: NewDate(1985, time.January, 31)}, 40, true},
		{"DOBLaterMonth", Person{DOB: NewDate(1985, time.December, 1)}, 39, true},
		{"DOBWinsOverAge", Person{DOB: NewDate(1985, time.January, 1), Age: 20}, 40, true},
		{"Age", Person{Age: 33}, 33, true},
		{"AgeWinsOverBirthYear", Person{Age: 33, BirthYear: 1900}, 33, true},
		{"BirthYear", Person{BirthYear: 1985}, 40, true},
		{"Unknown", Person{}, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			age, known := tt.p.AgeOn(on)
			if age != tt.age || known != tt.known {
				t.Errorf("AgeOn = %d, %v; want %d, %v", age, known, tt.age, tt.known)
			}
		})
	}
}

func TestPerson_FullName(t *testing.T) {
	for _, tt := range []struct {
		p    Person
		want string
	}{
		{Person{First: "John", Last: "Doe"}, "John Doe"},
		{Person{First: "John", Middle: "Q", Last: "Doe", Suffix: "Jr"}, "John Q Doe Jr"},
		{Person{Last: "Doe"}, "Doe"},
		{Person{First: "Cher"}, "Cher"},
		{Person{}, ""},
	} {
		if got := tt.p.FullName(); got != tt.want {
			t.Errorf("FullName(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestCanonicalCounty(t *testing.T) {
	if got, want := len(Counties), 58; got != want {
		t.Errorf("%d counties, want %d", got, want)
	}
	for _, c := range Counties {
		if got, ok := CanonicalCounty(strings.ToUpper(c) + " COUNTY"); !ok || got != c {
			t.Errorf("CanonicalCounty(%q) = %q, %v", strings.ToUpper(c)+" COUNTY", got, ok)
		}
	}
	for _, s := range []string{"", "Springfield", "County", "Los", "LosAngeles"} {
		if got, ok := CanonicalCounty(s); ok {
			t.Errorf("CanonicalCounty(%q) = %q, true; want false", s, got)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		code string
		msg  string
	}{
		{"Nil", nil, "", ""},
		{"Domain", Errorf(ENotFound, "Order %s not found.", "abc"), ENotFound, "Order abc not found."},
		{"Conflict", &Error{Code: EConflict, Message: "Already exists."}, EConflict, "Already exists."},
		{"Wrapped", fmt.Errorf("store: %w", Errorf(EForbidden, "Not your county.")), EForbidden, "Not your county."},
		{"DoublyWrapped", fmt.Errorf("a: %w", fmt.Errorf("b: %w", Errorf(EUnauthorized, "Sign in."))), EUnauthorized, "Sign in."},
		{"Joined", errors.Join(io.EOF, Errorf(EUnavailable, "Try later.")), EUnavailable, "Try later."},
		{"NonDomain", errors.New("pq: connection refused at 10.0.0.5"), EInternal, "Internal error."},
		{"WrappedNonDomain", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), EInternal, "Internal error."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := ErrorMessage(tt.err); got != tt.msg {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.msg)
			}
		})
	}
}

func TestError_Error(t *testing.T) {
	t.Run("MessageOnly", func(t *testing.T) {
		if got, want := Errorf(EInvalid, "Bad %s.", "input").Error(), "Bad input."; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	})
	t.Run("WithProblems", func(t *testing.T) {
		e := &Error{Code: EInvalid, Message: "The order is not valid.", Problems: []FieldProblem{
			{"county", "required"}, {"protected", "at least one"},
		}}
		if got, want := e.Error(), "The order is not valid.; county: required; protected: at least one"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		// The message shown to a user does not carry the problems; they are
		// reported field by field.
		if got, want := ErrorMessage(e), "The order is not valid."; got != want {
			t.Errorf("ErrorMessage = %q, want %q", got, want)
		}
	})
	t.Run("CodesDistinct", func(t *testing.T) {
		codes := []string{EInvalid, ENotFound, EConflict, EUnauthorized, EForbidden, EUnavailable, EInternal}
		for i, c := range codes {
			if c == "" || slices.Contains(codes[i+1:], c) {
				t.Errorf("code %q is empty or repeated", c)
			}
		}
	})
}

// readOrderJSON decodes an order as the API and import would.
func readOrderJSON(s string, o *Order) error {
	return json.Unmarshal([]byte(s), o)
}
