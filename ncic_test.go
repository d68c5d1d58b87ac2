package ccpor

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// bradyOrder returns an order of the type and phase protecting one person
// per relationship, with the terms.
func bradyOrder(typ OrderType, phase Phase, terms Terms, rels ...string) *Order {
	o := &Order{Type: typ, Phase: phase, County: "Alameda", CaseNumber: "25FL000001", IssuedOn: testIssued, Terms: terms}
	for i, r := range rels {
		o.Protected = append(o.Protected, Party{Person: Person{First: fmt.Sprint("P", i), Last: "Doe"}, Relationship: r})
	}
	return o
}

// TestBradyOf: the federal firearm bar (18 USC 922(g)(8), domain.md §3.2)
// needs an order after a hearing with notice, protecting an intimate
// partner (921(a)(32)) or a child, with a credible-threat finding or an
// explicit ban on force (the personal-conduct order).
func TestBradyOf(t *testing.T) {
	conduct := Terms{Conduct: true, StayAwayYards: 100}
	noContact := Terms{NoContact: true, StayAwayYards: 100}
	for _, tt := range []struct {
		name  string
		o     *Order
		brady Brady // set on the order before the call: the court's finding
		want  Brady
	}{
		// Ex parte orders: no hearing, whatever the relationship and terms.
		{"EPO", bradyOrder(OrderEPO, PhaseEmergency, conduct, "spouse"), "", BradyNo},
		{"TemporaryDV", bradyOrder(OrderDV, PhaseTemporary, conduct, "spouse"), "", BradyNo},
		{"TemporaryDVMarkedY", bradyOrder(OrderDV, PhaseTemporary, conduct, "spouse"), BradyYes, BradyNo},
		{"PretrialCPO", bradyOrder(OrderCPO, PhaseTemporary, conduct, "spouse"), "", BradyNo},
		{"TemporaryCH", bradyOrder(OrderCH, PhaseTemporary, conduct, "neighbor"), "", BradyNo},

		// After a hearing, an intimate partner or child, a conduct order.
		{"Spouse", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "spouse"), "", BradyYes},
		{"FormerSpouse", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "former_spouse"), "", BradyYes},
		{"Cohabitant", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "cohabitant"), "", BradyYes},
		{"FormerCohabitant", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "former_cohabitant"), "", BradyYes},
		{"Coparent", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "coparent"), "", BradyYes},
		{"ChildOnly", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "child"), "", BradyYes},
		{"SpouseAndChildren", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "spouse", "child", "child"), "", BradyYes},
		{"SpellingFolded", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "Former Spouse"), "", BradyYes},
		{"PostConvictionCPO", bradyOrder(OrderCPO, PhaseAfterHearing, conduct, "spouse"), "", BradyYes},
		{"ElderSpouseEA", bradyOrder(OrderEA, PhaseAfterHearing, conduct, "spouse"), "", BradyYes},
		// A dating partner is an intimate partner only if they lived
		// together or share a child, which the relationship does not say...
		{"Dating", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "dating"), "", BradyUnknown},
		{"FormerDating", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "former_dating"), "", BradyUnknown},
		// ...but their child protected by the order is covered.
		{"DatingAndChild", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "dating", "child"), "", BradyYes},

		// After a hearing, no intimate partner or child.
		{"Neighbour", bradyOrder(OrderCH, PhaseAfterHearing, conduct, "neighbor"), "", BradyNo},
		{"Coworker", bradyOrder(OrderWV, PhaseAfterHearing, conduct, "coworker"), "", BradyNo},
		{"Parent", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "parent"), "", BradyNo},
		{"SiblingAndStranger", bradyOrder(OrderCPO, PhaseAfterHearing, conduct, "sibling", "stranger"), "", BradyNo},

		// Unknown relationship.
		{"Blank", bradyOrder(OrderDV, PhaseAfterHearing, conduct, ""), "", BradyUnknown},
		{"Unrecognised", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "partner's cousin"), "", BradyUnknown},
		{"NeighbourAndBlank", bradyOrder(OrderCH, PhaseAfterHearing, conduct, "neighbor", ""), "", BradyUnknown},
		{"NoProtected", bradyOrder(OrderDV, PhaseAfterHearing, conduct), "", BradyNo},
		// No explicit ban on force: the bar needs a credible-threat
		// finding the registry does not record.
		{"SpouseNoContactOnly", bradyOrder(OrderDV, PhaseAfterHearing, noContact, "spouse"), "", BradyUnknown},

		// The court's finding stands after a hearing; U decides nothing.
		{"CourtSaidN", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "spouse"), BradyNo, BradyNo},
		{"CourtSaidYForNeighbour", bradyOrder(OrderCH, PhaseAfterHearing, conduct, "neighbor"), BradyYes, BradyYes},
		{"CourtSaidYDating", bradyOrder(OrderDV, PhaseAfterHearing, noContact, "dating"), BradyYes, BradyYes},
		{"PreparedU", bradyOrder(OrderDV, PhaseAfterHearing, conduct, "spouse"), BradyUnknown, BradyYes},

		// Phase unknown (an order not prepared).
		{"NoPhase", bradyOrder(OrderDV, "", conduct, "spouse"), "", BradyUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Brady = tt.brady
			if got := BradyOf(tt.o); got != tt.want {
				_, basis := bradyOf(tt.o)
				t.Errorf("BradyOf = %s (%s), want %s", got, basis, tt.want)
			}
			if m := NCICMessageOf(tt.o); m.Brady != tt.want || m.BradyBasis == "" {
				t.Errorf("message brady %s, basis %q", m.Brady, m.BradyBasis)
			}
		})
	}
}

// TestBradyOfLifecycle: the indicator describes the order as made, so
// termination, expiry and a permanent renewal leave it as it was.
func TestBradyOfLifecycle(t *testing.T) {
	o := NewTestOrder(OrderDV, PhaseAfterHearing)
	MustPrepare(t, o, testNow)
	if got, want := o.Brady, BradyUnknown; got != want {
		t.Fatalf("Prepare filled brady %s, want %s", got, want)
	}
	if got := BradyOf(o); got != BradyYes {
		t.Fatalf("BradyOf = %s, want Y", got)
	}
	o.Terminated = &Termination{On: testIssued.AddDays(1)}
	if got := BradyOf(o); got != BradyYes {
		t.Errorf("terminated: BradyOf = %s, want Y", got)
	}
	o.Terminated, o.ExpiresAt = nil, testIssued.AddDays(1)
	if got := BradyOf(o); got != BradyYes {
		t.Errorf("expired: BradyOf = %s, want Y", got)
	}
	o.Form, o.ExpiresAt, o.Permanent = "DV-730", Date{}, true
	MustPrepare(t, o, testNow)
	if got := BradyOf(o); got != BradyYes {
		t.Errorf("permanent renewal: BradyOf = %s, want Y", got)
	}
}

// TestPCOCodes: one row per NCIC condition code (domain.md §3.1), then
// combinations. 02 depends on the protected people: TestNCICMessagePCO02.
func TestPCOCodes(t *testing.T) {
	for _, tt := range []struct {
		name  string
		terms Terms
		want  []string
	}{
		{"None", Terms{}, nil},
		{"01Conduct", Terms{Conduct: true}, []string{"01"}},
		{"03MoveOut", Terms{MoveOut: true}, []string{"03"}},
		{"04StayAwayYards", Terms{StayAwayYards: 100}, []string{"04"}},
		{"04StayAwayPlaces", Terms{StayAwayPlaces: []string{"residence", "school"}}, []string{"04"}},
		{"05NoContact", Terms{NoContact: true}, []string{"05"}},
		{"06CustodyToRestrained", Terms{Custody: "restrained"}, []string{"06"}},
		{"06JointCustody", Terms{Custody: "joint"}, []string{"06"}},
		{"06Visitation", Terms{Visitation: "unsupervised"}, []string{"06"}},
		{"06And08SupervisedVisitation", Terms{Visitation: "supervised"}, []string{"06", "08"}},
		{"07Firearms", Terms{Firearms: true}, []string{"07"}},
		{"08Other", Terms{Other: "no harm to the animals"}, []string{"08"}},
		{"08PeacefulContact", Terms{PeacefulContact: true}, []string{"08"}},
		{"08ContactExceptions", Terms{ContactExceptions: []string{"attorney"}}, []string{"08"}},
		{"08NoVisitation", Terms{Visitation: "none"}, []string{"08"}},
		{"09CustodyToProtected", Terms{Custody: "protected"}, []string{"09"}},
		{"DV130", Terms{Conduct: true, NoContact: true, StayAwayYards: 100, MoveOut: true, Firearms: true,
			Custody: "protected", Visitation: "supervised", ContactExceptions: []string{"child_exchange"}},
			[]string{"01", "03", "04", "05", "06", "07", "08", "09"}},
		{"CR160Peaceful", Terms{Conduct: true, PeacefulContact: true, Firearms: true}, []string{"01", "07", "08"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := PCOCodes(tt.terms); !slices.Equal(got, tt.want) {
				t.Errorf("PCOCodes = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestNCICMessagePCO02: the conduct order reaches the protected person's
// family or household when the order protects others besides.
func TestNCICMessagePCO02(t *testing.T) {
	for _, tt := range []struct {
		name  string
		terms Terms
		rels  []string
		want  []string
	}{
		{"ConductOnePerson", Terms{Conduct: true, Firearms: true}, []string{"spouse"}, []string{"01", "07"}},
		{"ConductFamily", Terms{Conduct: true, Firearms: true}, []string{"spouse", "child"}, []string{"01", "02", "07"}},
		{"NoConductFamily", Terms{NoContact: true}, []string{"spouse", "child"}, []string{"05"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := NCICMessageOf(bradyOrder(OrderDV, PhaseAfterHearing, tt.terms, tt.rels...)).Conditions; !slices.Equal(got, tt.want) {
				t.Errorf("conditions %v, want %v", got, tt.want)
			}
		})
	}
}

// ncicComplete returns a prepared order NCIC would take: every required
// descriptor of the restrained person given.
func ncicComplete(tb testing.TB) *Order {
	tb.Helper()
	o := NewTestOrder(OrderDV, PhaseAfterHearing)
	o.Restrained.HeightIn, o.Restrained.WeightLb, o.Restrained.Hair, o.Restrained.Eyes = 70, 180, "BRO", "BLU"
	MustPrepare(tb, o, testNow)
	return o
}

// TestNCICProblems: what NCIC would reject is listed, never refused:
// Prepare accepts every one of these orders (Family Code 6385(b)).
func TestNCICProblems(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(o *Order)
		want   []string
	}{
		{"Complete", func(o *Order) {}, nil},
		{"NoSexNoRace", func(o *Order) { o.Restrained.Sex, o.Restrained.Race = "", "" },
			[]string{"restrained.sex", "restrained.race"}},
		{"NoDOBNorAge", func(o *Order) { o.Restrained.DOB = Date{} }, []string{"restrained.dob"}},
		{"AgeOnly", func(o *Order) { o.Restrained.DOB, o.Restrained.Age = Date{}, 40 }, nil},
		{"BirthYearOnly", func(o *Order) { o.Restrained.DOB, o.Restrained.BirthYear = Date{}, 1985 }, nil},
		{"NoHeightWeightHair", func(o *Order) { o.Restrained.HeightIn, o.Restrained.WeightLb, o.Restrained.Hair = 0, 0, "" },
			[]string{"restrained.height_in", "restrained.weight_lb", "restrained.hair"}},
		{"NoEyesIsFine", func(o *Order) { o.Restrained.Eyes = "" }, nil},
		{"ProtectedWithoutDescriptors", func(o *Order) { o.Protected[0].Person = Person{First: "Jane", Last: "Doe"} }, nil},
		{"PermanentRenewal", func(o *Order) { o.Form, o.ExpiresAt, o.Permanent = "DV-730", Date{}, true }, nil},
		{"ConfidentialMinor", func(o *Order) {
			o.Protected = append(o.Protected, Party{Person: Person{First: "Ana", Last: "Doe", DOB: NewDate(2015, time.May, 1)},
				Relationship: "child", Confidential: true})
		}, nil},
		{"LongTerms", func(o *Order) { o.Terms.Other = strings.Repeat("no contact with the dog; ", 25) }, []string{"terms.other"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := ncicComplete(t)
			tt.change(o)
			MustPrepare(t, o, testNow)
			if diff := cmp.Diff(tt.want, problemFields(NCICProblems(o)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problem fields (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNCICProblemsUnprepared: orders as they may come from elsewhere,
// never prepared, with what Prepare would refuse or fill.
func TestNCICProblemsUnprepared(t *testing.T) {
	o := &Order{County: "Atlantis", Protected: []Party{{Person: Person{First: "Jane"}}}}
	want := []string{"county", "case_number", "type", "issued_on", "expires_at", "restrained.last",
		"restrained.dob", "restrained.sex", "restrained.race", "restrained.height_in", "restrained.weight_lb",
		"restrained.hair", "protected[0].last"}
	ps := NCICProblems(o)
	if diff := cmp.Diff(want, problemFields(ps)); diff != "" {
		t.Errorf("problem fields (-want +got):\n%s", diff)
	}
	for _, p := range ps {
		if p.Detail == "" {
			t.Errorf("%s: no detail", p.Field)
		}
	}
	if diff := cmp.Diff([]string{"protected"}, problemFields(NCICProblems(&Order{Type: OrderDV, County: "Alameda",
		CaseNumber: "1", IssuedOn: testIssued, ExpiresAt: testIssued, Restrained: ncicComplete(t).Restrained}))); diff != "" {
		t.Errorf("no protected person (-want +got):\n%s", diff)
	}
}

// TestNCICMessageOf: a whole message, from a prepared DV-130 protecting a
// spouse and a confidential minor.
func TestNCICMessageOf(t *testing.T) {
	o := ncicComplete(t)
	served := time.Date(2025, time.June, 9, 18, 30, 0, 0, time.UTC)
	o.Court = "Hayward Hall of Justice, Dept. 505"
	o.Restrained.Aliases = []string{"Johnny Doe"}
	o.Restrained.Address = &Address{Line1: "1 Elm St", City: "Hayward", State: "CA", Zip: "94541"}
	o.Restrained.Identifiers = &Identifiers{DL: "D1234567", CII: "A12345678", FBI: "123456AB7"}
	o.Protected[0].Address = &Address{Line1: "2 Oak Ave", City: "Oakland", State: "CA", Zip: "94601"}
	o.Protected = append(o.Protected, Party{Person: Person{First: "Ana", Last: "Doe", DOB: NewDate(2015, time.May, 1), Sex: "F",
		Address: &Address{Line1: "2 Oak Ave"}}, Relationship: "child", Confidential: true})
	o.Terms.Firearms = true
	o.Service = Service{Status: ServedInCourt, ServedAt: &served, ServedBy: "Dep. R. Lee #4411", Agency: "Alameda County Sheriff"}
	MustPrepare(t, o, testNow)

	want := NCICMessage{
		CourtORI: "CA0010000", CourtORIPlaceholder: true, County: "Alameda", Court: "Hayward Hall of Justice, Dept. 505",
		CaseNumber: "25CV001234", OrderType: OrderDV, Phase: PhaseAfterHearing, Form: "DV-130",
		IssuedOn: testIssued, ExpiresAt: testIssued.AddYears(2),
		Subject: NCICSubject{Last: "Doe", First: "John", Middle: "Q", Aliases: []string{"Johnny Doe"},
			DOB: NewDate(1985, time.March, 4), Sex: "M", Race: "W", HeightIn: 70, WeightLb: 180, Hair: "BRO", Eyes: "BLU",
			DL: "D1234567", CII: "A12345678", FBI: "123456AB7"},
		Protected: []NCICProtected{
			{Last: "Doe", First: "Jane", DOB: NewDate(1987, time.July, 8), Sex: "F", Race: "H", Relationship: "spouse"},
			{Last: "Doe", First: "Ana", DOB: NewDate(2015, time.May, 1), Sex: "F", Relationship: "child", Minor: true, Confidential: true},
		},
		Conditions: []string{"01", "02", "04", "07"},
		Misc:       "stay 100 yards away from the protected persons and: residence, workplace",
		Brady:      BradyYes,
		BradyBasis: "after a hearing, protects an intimate partner or child, and its conduct order forbids the use of force (18 USC 922(g)(8))",
		Service:    NCICService{Status: ServedInCourt, Served: true, ServedAt: &served, ServedBy: "Dep. R. Lee #4411", Agency: "Alameda County Sheriff"},
	}
	got := NCICMessageOf(o)
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Date{})); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"address", "Elm", "Oak", "line1"} {
		if strings.Contains(string(b), s) {
			t.Errorf("message carries %q: %s", s, b)
		}
	}

	t.Run("NonExpiring", func(t *testing.T) {
		o := ncicComplete(t)
		o.Form, o.ExpiresAt, o.Permanent = "DV-730", Date{}, true
		MustPrepare(t, o, testNow)
		b, err := json.Marshal(NCICMessageOf(o))
		if err != nil {
			t.Fatal(err)
		}
		if s := string(b); !strings.Contains(s, `"non_expiring":true`) || strings.Contains(s, "expires_at") {
			t.Errorf("permanent order: %s", s)
		}
	})
	t.Run("Terminated", func(t *testing.T) {
		o := ncicComplete(t)
		o.Terminated = &Termination{On: testIssued.AddDays(1), Reason: "dismissed"}
		if got, want := NCICMessageOf(o).TerminatedOn, testIssued.AddDays(1); got != want {
			t.Errorf("terminated on %s, want %s", got, want)
		}
	})
}

// TestPlaceholderORI: a stand-in court ORI per county, from California's
// alphabetical county numbers.
func TestPlaceholderORI(t *testing.T) {
	for county, want := range map[string]string{
		"Alameda": "CA0010000", "Los Angeles": "CA0190000", "los angeles county": "CA0190000",
		"San Francisco": "CA0380000", "Yuba": "CA0580000", "Atlantis": "", "": "",
	} {
		if got := PlaceholderORI(county); got != want {
			t.Errorf("PlaceholderORI(%q) = %q, want %q", county, got, want)
		}
	}
	seen := map[string]bool{}
	for _, c := range Counties {
		ori := PlaceholderORI(c)
		if len(ori) != 9 || seen[ori] {
			t.Errorf("%s: ORI %q is not 9 characters or not unique", c, ori)
		}
		seen[ori] = true
	}
}
