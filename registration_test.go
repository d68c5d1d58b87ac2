package ccpor

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// NewTestRegistration returns a valid DV order after hearing made by the
// Shingle Springs Tribal Court and registered in Alameda County, issued on
// testIssued and registered on testNow's day. It runs ten years: longer
// than any California order, as the tribe's law allows.
func NewTestRegistration() *Order {
	o := NewTestOrder(OrderDV, PhaseAfterHearing)
	o.CaseNumber = "25FL000600"
	o.ExpiresAt = testIssued.AddYears(10)
	o.Registration = &Registration{Kind: RegisteredTribal, Jurisdiction: "Shingle Springs Band of Miwok Indians",
		IssuingCourt: "Shingle Springs Tribal Court", OriginalCaseNumber: "SSTC-DV-2025-017", RegisteredOn: DateOf(testNow)}
	return o
}

func TestOrder_PrepareRegistration(t *testing.T) {
	t.Run("Tribal", func(t *testing.T) {
		o := NewTestRegistration()
		MustPrepare(t, o, testNow)
		if got, want := o.Form, RegistrationForm; got != want {
			t.Errorf("Form = %q, want %q", got, want)
		}
		if got, want := o.Division, DivisionFamily; got != want {
			t.Errorf("Division = %q, want %q", got, want)
		}
		if !o.Sealed {
			t.Error("a registered order is not sealed (Family Code 6404(a)(2))")
		}
		if got, want := o.ExpiresAt, testIssued.AddYears(10); got != want {
			t.Errorf("ExpiresAt = %s, want the original order's %s", got, want)
		}
		if o.Registration.NotifyRespondent {
			t.Error("the respondent is to be told of the registration, but nobody asked (18 USC 2265(d)(1))")
		}
		if len(o.Warnings) != 0 {
			t.Errorf("Warnings = %q, want none", o.Warnings)
		}
		if got, want := o.Status, StatusActive; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})
	t.Run("OK", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			change func(o *Order)
			check  func(t *testing.T, o *Order)
		}{
			{"OutOfStateTemporaryBeyondTheHearingDeadline", func(o *Order) {
				o.Phase, o.ExpiresAt = PhaseTemporary, testIssued.AddDays(60)
				o.Registration = &Registration{Kind: RegisteredOutOfState, Jurisdiction: "NV", OriginalCaseNumber: "D-25-123456-R"}
			}, func(t *testing.T, o *Order) {
				if got, want := o.ExpiresAt, testIssued.AddDays(60); got != want {
					t.Errorf("ExpiresAt = %s, want %s", got, want)
				}
				if o.Brady != BradyNo {
					t.Errorf("Brady = %q, want N for an order made without a hearing", o.Brady)
				}
			}},
			{"OutOfStateCriminal", func(o *Order) {
				o.Type = OrderCPO
				o.Registration.Kind, o.Registration.Jurisdiction, o.Registration.IssuingCourt = RegisteredOutOfState, "AZ", ""
			}, nil},
			{"Territory", func(o *Order) {
				o.Registration.Kind, o.Registration.Jurisdiction = RegisteredOutOfState, "PR"
			}, nil},
			{"CanadianWithoutEnd", func(o *Order) {
				o.Type, o.ExpiresAt, o.Permanent = OrderCH, Date{}, true
				o.Registration = &Registration{Kind: RegisteredCanadian, Jurisdiction: "BC", OriginalCaseNumber: "F-2024-8812"}
			}, func(t *testing.T, o *Order) {
				if !o.Permanent || !o.ExpiresAt.IsZero() {
					t.Errorf("Permanent, ExpiresAt = %v, %s, want an order without end", o.Permanent, o.ExpiresAt)
				}
			}},
			{"ElderAbuse", func(o *Order) { o.Type = OrderEA }, nil},
			{"Normalised", func(o *Order) {
				o.Form = "dv-600"
				o.Registration = &Registration{Kind: " Out_Of_State ", Jurisdiction: " nv ", OriginalCaseNumber: " d\u201325\u2013123456 ",
					RegisteredOn: testIssued}
			}, func(t *testing.T, o *Order) {
				want := Registration{Kind: RegisteredOutOfState, Jurisdiction: "NV", OriginalCaseNumber: "D-25-123456", RegisteredOn: testIssued}
				if diff := cmp.Diff(want, *o.Registration, cmp.AllowUnexported(Date{})); diff != "" {
					t.Errorf("Registration (-want +got):\n%s", diff)
				}
				if o.Form != RegistrationForm {
					t.Errorf("Form = %q", o.Form)
				}
			}},
			{"SealedEvenWhenSentUnsealed", func(o *Order) { o.Sealed = false }, func(t *testing.T, o *Order) {
				if !o.Sealed {
					t.Error("not sealed")
				}
			}},
			{"RespondentToBeToldAtTheProtectedPersonsRequest", func(o *Order) { o.Registration.NotifyRespondent = true }, func(t *testing.T, o *Order) {
				if !o.Registration.NotifyRespondent {
					t.Error("the protected person's request was lost")
				}
			}},
			{"DivisionGiven", func(o *Order) { o.Type, o.Division = OrderCPO, DivisionCriminal }, func(t *testing.T, o *Order) {
				if o.Division != DivisionCriminal {
					t.Errorf("Division = %q", o.Division)
				}
			}},
			{"RegisteredLongAfterIssue", func(o *Order) {
				o.IssuedOn, o.ExpiresAt = NewDate(2019, time.January, 15), NewDate(2029, time.January, 15)
			}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				o := NewTestRegistration()
				tt.change(o)
				MustPrepare(t, o, testNow)
				if !o.Sealed || o.Form != RegistrationForm {
					t.Errorf("Sealed, Form = %v, %q", o.Sealed, o.Form)
				}
				if tt.check != nil {
					tt.check(t, o)
				}
			})
		}
	})
	t.Run("RegisteredTodayWhenNotGiven", func(t *testing.T) {
		o := NewTestRegistration()
		o.Registration.RegisteredOn = Date{}
		MustPrepare(t, o, testNow)
		if got, want := o.Registration.RegisteredOn, DateOf(testNow); got != want {
			t.Errorf("RegisteredOn = %s, want %s", got, want)
		}
		if warningWith(o, "registration date") == "" {
			t.Errorf("no warning that the registration date was assumed: %q", o.Warnings)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		o := NewTestRegistration()
		o.Registration.RegisteredOn = Date{}
		MustPrepare(t, o, testNow)
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseOrder(b)
		if err != nil {
			t.Fatalf("ParseOrder: %v\n%s", err, b)
		}
		MustPrepare(t, again, testNow)
		if diff := cmp.Diff(o, again, cmpopts.IgnoreFields(Order{}, "Warnings"), cmp.AllowUnexported(Date{})); diff != "" {
			t.Errorf("round trip changed the order (-first +second):\n%s", diff)
		}
		for _, s := range []string{`"registration":{"kind":"tribal"`, `"original_case_number":"SSTC-DV-2025-017"`, `"sealed":true`, `"form":"DV-600"`} {
			if !strings.Contains(string(b), s) {
				t.Errorf("JSON lacks %s: %s", s, b)
			}
		}
		if strings.Contains(string(b), "notify_respondent") {
			t.Errorf("notify_respondent written though false: %s", b)
		}
	})
}

func TestOrder_PrepareRegistrationErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(o *Order)
		field  string
		detail string // a fragment of the problem's detail, when worth checking
	}{
		{"ErrKindMissing", func(o *Order) { o.Registration.Kind = "" }, "registration.kind", "out_of_state, tribal, canadian"},
		{"ErrKindUnknown", func(o *Order) { o.Registration.Kind = "foreign" }, "registration.kind", `"foreign"`},
		{"ErrJurisdictionMissing", func(o *Order) {
			o.Registration.Kind, o.Registration.Jurisdiction = RegisteredOutOfState, ""
		}, "registration.jurisdiction", "required"},
		{"ErrJurisdictionCalifornia", func(o *Order) {
			o.Registration.Kind, o.Registration.Jurisdiction = RegisteredOutOfState, "ca"
		}, "registration.jurisdiction", "California order"},
		{"ErrJurisdictionNotACode", func(o *Order) {
			o.Registration.Kind, o.Registration.Jurisdiction = RegisteredOutOfState, "Nevada"
		}, "registration.jurisdiction", "two-letter code"},
		{"ErrJurisdictionNotCanadian", func(o *Order) {
			o.Type, o.Registration.Kind, o.Registration.Jurisdiction = OrderCH, RegisteredCanadian, "NV"
		}, "registration.jurisdiction", "Canadian province"},
		{"ErrTribeMissing", func(o *Order) { o.Registration.Jurisdiction = " " }, "registration.jurisdiction", "tribe"},
		{"ErrTribalCourtMissing", func(o *Order) { o.Registration.IssuingCourt = "" }, "registration.issuing_court", "tribal court"},
		{"ErrIssuingCourtTooLong", func(o *Order) { o.Registration.IssuingCourt = strings.Repeat("x", 101) }, "registration.issuing_court", "100"},
		{"ErrOriginalCaseNumberMissing", func(o *Order) { o.Registration.OriginalCaseNumber = "" }, "registration.original_case_number", "required"},
		{"ErrOriginalCaseNumberNoDigits", func(o *Order) { o.Registration.OriginalCaseNumber = "--" }, "registration.original_case_number", "no letters or digits"},
		{"ErrCaliforniaForm", func(o *Order) { o.Form = "DV-130" }, "form", "DV-600"},
		{"ErrFormWithoutRegistration", func(o *Order) { o.Registration, o.Form = nil, "DV-600" }, "registration", "outside California"},
		{"ErrJuvenile", func(o *Order) { o.Type = OrderJV }, "type", "DV, CPO, CH, EA"},
		{"ErrWorkplace", func(o *Order) { o.Type = OrderWV }, "type", "6401(5)"},
		{"ErrEmergencyType", func(o *Order) { o.Type, o.Phase = OrderEPO, PhaseEmergency }, "type", "EPO"},
		{"ErrEmergencyPhase", func(o *Order) { o.Phase = PhaseEmergency }, "phase", "temporary"},
		{"ErrPhaseMissing", func(o *Order) { o.Phase = "" }, "phase", "required"},
		{"ErrCanadianCriminal", func(o *Order) {
			o.Type, o.Registration.Kind, o.Registration.Jurisdiction = OrderCPO, RegisteredCanadian, "ON"
		}, "type", "6451(a)"},
		{"ErrExpiryMissing", func(o *Order) { o.ExpiresAt = Date{} }, "expires_at", "2265(a)"},
		{"ErrExpiryMissingTemporary", func(o *Order) { o.Phase, o.ExpiresAt = PhaseTemporary, Date{} }, "expires_at", "original order"},
		{"ErrExpiryBeforeIssue", func(o *Order) { o.ExpiresAt = testIssued.AddDays(-1) }, "expires_at", "before the issue date"},
		{"ErrPermanentTemporary", func(o *Order) {
			o.Phase, o.ExpiresAt, o.Permanent = PhaseTemporary, Date{}, true
		}, "permanent", "after a hearing"},
		{"ErrPermanentWithExpiry", func(o *Order) { o.Permanent = true }, "expires_at", "permanent"},
		{"ErrRegisteredInFuture", func(o *Order) { o.Registration.RegisteredOn = DateOf(testNow).AddDays(1) }, "registration.registered_on", "future"},
		{"ErrRegisteredBeforeIssue", func(o *Order) { o.Registration.RegisteredOn = testIssued.AddDays(-1) }, "registration.registered_on", "before the original order"},
		{"ErrRegisteredAfterExpiry", func(o *Order) {
			o.IssuedOn, o.ExpiresAt = NewDate(2020, time.March, 2), NewDate(2023, time.March, 2)
		}, "registration.registered_on", "only an order in effect"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := NewTestRegistration()
			tt.change(o)
			wantOnlyProblem(t, o.Prepare(testNow), tt.field, tt.detail)
		})
	}

	t.Run("ErrEverythingMissing", func(t *testing.T) {
		o := NewTestRegistration()
		o.Registration = &Registration{}
		ps := MustInvalid(t, o.Prepare(testNow))
		want := []string{"registration.kind", "registration.original_case_number"}
		if diff := cmp.Diff(want, problemFields(ps)); diff != "" {
			t.Errorf("problem fields (-want +got):\n%s", diff)
		}
	})
	t.Run("NoCaliforniaMaximum", func(t *testing.T) {
		// The same order made in California could not last ten years.
		o := NewTestRegistration()
		o.Registration = nil
		wantOnlyProblem(t, o.Prepare(testNow), "expires_at", "at most 5 years")
	})
}

func TestTypeRules_Registered(t *testing.T) {
	for _, typ := range OrderTypes {
		r := TypeRules[typ]
		want := []Phase(nil)
		if slices.Contains([]OrderType{OrderDV, OrderCPO, OrderCH, OrderEA}, typ) {
			want = []Phase{PhaseTemporary, PhaseAfterHearing}
		}
		if !slices.Equal(r.Registered, want) {
			t.Errorf("%s: Registered = %q, want %q", typ, r.Registered, want)
		}
		// The DV-600 never comes without a registration: it is not a form
		// a California order is issued on.
		if slices.Contains(r.allForms(), RegistrationForm) {
			t.Errorf("%s: %s among the forms", typ, RegistrationForm)
		}
	}
}
