package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/store"
)

// tribalRegistration is a Shingle Springs Tribal Court order protecting
// Elena Delgado from Marcus Delgado, with no contact, registered by the
// Superior Court of Alameda County (DV-600). It runs ten years, as the
// tribe's order says: longer than a California DV order may.
func tribalRegistration() *ccpor.Order {
	o := order(0, ccpor.OrderDV, ccpor.PhaseAfterHearing, "26FL000600", "2025-09-15", marcus,
		[]ccpor.Party{adult(elena, "spouse")}, ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"}})
	o.ExpiresAt = day("2035-09-15")
	o.Service = ccpor.Service{Status: ccpor.ServedPersonal}
	o.Registration = &ccpor.Registration{Kind: ccpor.RegisteredTribal, Jurisdiction: "Shingle Springs Band of Miwok Indians",
		IssuingCourt: "Shingle Springs Tribal Court", OriginalCaseNumber: "SSTC-DV-2025-017", RegisteredOn: day("2026-02-16")}
	return o
}

// TestRegisteredTribalOrder is issue 9's "done when": a tribal order
// registered through intake by a clerk of the registering county is
// found by a judge's conflict check against a new state order for the
// same people — related, with its conflicts, for a judge of that county;
// as the sealed-order notice naming the registering court for a judge of
// another. Sealed (Family Code 6404(a)(2)), it is hidden from everyone
// else's searches and views (ccpor.User.MaySee), yet queued for law
// enforcement like every order.
func TestRegisteredTribalOrder(t *testing.T) {
	ts := mustServer(t)
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{Name: "loader", Role: ccpor.RoleAdmin})
	for key, u := range map[ccpor.Role]ccpor.User{
		"alameda judge": {Name: "Judge Alameda", Role: ccpor.RoleJudge, County: "Alameda"},
		"fresno judge":  {Name: "Judge Fresno", Role: ccpor.RoleJudge, County: "Fresno"},
		"fresno clerk":  {Name: "Clerk Fresno", Role: ccpor.RoleClerk, County: "Fresno", Division: ccpor.DivisionFamily},
	} {
		tok, err := ts.db.CreateUser(ctx, &u)
		if err != nil {
			t.Fatal(err)
		}
		ts.tokens[key] = tok
	}

	resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", mustJSON(t, tribalRegistration()))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("intake of the registration: %d %s", resp.StatusCode, body)
	}
	var reg ccpor.Order
	if err := json.Unmarshal(body, &reg); err != nil {
		t.Fatal(err)
	}
	t.Run("Entered", func(t *testing.T) {
		if reg.Form != ccpor.RegistrationForm || !reg.Sealed || reg.Division != ccpor.DivisionFamily {
			t.Errorf("form, sealed, division = %s, %v, %s; want DV-600, sealed, family", reg.Form, reg.Sealed, reg.Division)
		}
		if got, want := reg.ExpiresAt, day("2035-09-15"); got != want {
			t.Errorf("expires_at = %s, want the tribal order's %s", got, want)
		}
		g := reg.Registration
		if g == nil || g.Kind != ccpor.RegisteredTribal || g.IssuingCourt != "Shingle Springs Tribal Court" ||
			g.OriginalCaseNumber != "SSTC-DV-2025-017" || g.RegisteredOn != day("2026-02-16") || g.NotifyRespondent {
			t.Errorf("registration = %+v", g)
		}
		msgs, err := ts.db.FindTransmissions(ctx, store.TransmissionFilter{OrderID: reg.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 {
			t.Errorf("%d messages queued for law enforcement, want 1: a sealed order is enforced all the same", len(msgs))
		}
	})

	// A new state order for the same people, on the bench: peaceful
	// contact where the tribal order forbids contact.
	proposed := order(0, ccpor.OrderDV, ccpor.PhaseAfterHearing, "26FL000777", "2026-03-02", marcus,
		[]ccpor.Party{adult(elena, "spouse")}, ccpor.Terms{Conduct: true, PeacefulContact: true})
	check := func(t *testing.T, who ccpor.Role, county string) (conflictResult, []string, string) {
		t.Helper()
		p := *proposed
		p.County = county
		resp, body := ts.do(who, "POST", "/api/v1/checks/conflicts", mustJSON(t, &p))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("conflict check: %d %s", resp.StatusCode, body)
		}
		var res conflictResult
		var notices struct {
			Notices []string `json:"notices"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(body, &notices); err != nil {
			t.Fatal(err)
		}
		return res, notices.Notices, string(body)
	}
	t.Run("JudgeOfTheRegisteringCounty", func(t *testing.T) {
		res, notices, body := check(t, "alameda judge", "Alameda")
		related := false
		for _, r := range res.Related {
			related = related || (r.OrderID == reg.ID && r.Role == "restrained" && !r.Follows)
		}
		if !related {
			t.Fatalf("the registered order is not related as restraining the same person:\n%s", body)
		}
		var kinds []string
		for _, c := range res.Conflicts {
			if slices.Contains(c.OrderIDs, reg.ID) {
				kinds = append(kinds, string(c.Kind))
			}
		}
		slices.Sort(kinds)
		if want := []string{string(ccpor.ConflictNoContact), string(ccpor.ConflictSameParties)}; !slices.Equal(kinds, want) {
			t.Errorf("conflicts with the registered order = %v, want %v\n%s", kinds, want, body)
		}
		if p := slices.IndexFunc(res.Precedence, func(p ccpor.Precedence) bool { return p.Term == ccpor.TermContact }); p < 0 ||
			res.Precedence[p].OrderID != reg.ID || res.Precedence[p].Rule != "no_contact" {
			t.Errorf("contact term: want the registered no-contact order to govern (FC 6383(h)): %+v", res.Precedence)
		}
		if len(notices) != 0 {
			t.Errorf("notices = %q, want none: the judge sees the order", notices)
		}
	})
	t.Run("JudgeOfAnotherCounty", func(t *testing.T) {
		res, notices, body := check(t, "fresno judge", "Fresno")
		for _, leak := range []string{reg.ID, "Shingle Springs", "SSTC"} {
			if strings.Contains(body, leak) {
				t.Errorf("the sealed registration leaked (%s) into another county's check:\n%s", leak, body)
			}
		}
		if len(res.Related) != 0 || len(res.Conflicts) != 0 {
			t.Errorf("related or conflicts from a sealed order: %s", body)
		}
		want := "A sealed order involving these people exists; contact the Superior Court of Alameda County."
		if len(notices) != 1 || notices[0] != want {
			t.Errorf("notices = %q, want [%q]", notices, want)
		}
	})
	t.Run("WhoFindsIt", func(t *testing.T) {
		// The registering court and law enforcement (Family Code
		// 6404(a)(2)): the sealed rule of ccpor.User.MaySee.
		q := []byte(`{"last": "Delgado", "first": "Marcus", "dob": "1988-04-12", "status": "any"}`)
		for who, want := range map[ccpor.Role]bool{"alameda judge": true, ccpor.RoleClerk: true, "fresno judge": false,
			"fresno clerk": false, ccpor.RoleOfficer: true, ccpor.RoleTribal: false} {
			resp, body := ts.do(who, "POST", "/api/v1/search", q)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: search %d %s", who, resp.StatusCode, body)
			}
			var a candidatesAnswer
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
			found := slices.ContainsFunc(a.Hits, func(h api.Candidate) bool { return h.OrderID == reg.ID })
			if found != want || (!want && a.Total != 0) {
				t.Errorf("%s searching: found %v (total %d), want %v", who, found, a.Total, want)
			}
			status := http.StatusNotFound
			if want {
				status = http.StatusOK
			}
			if resp, body := ts.do(who, "GET", "/api/v1/orders/"+reg.ID, nil); resp.StatusCode != status {
				t.Errorf("%s viewing: %d, want %d: %s", who, resp.StatusCode, status, body)
			}
		}
	})
}

// TestRegistrationIntakeErrors: a registration missing what identifies
// the original order is refused at intake, every problem named.
func TestRegistrationIntakeErrors(t *testing.T) {
	ts := mustServer(t)
	for _, tt := range []struct {
		name   string
		change func(o *ccpor.Order)
		fields []string
	}{
		{"TribalCourtAndCaseNumberMissing", func(o *ccpor.Order) {
			o.Registration.IssuingCourt, o.Registration.OriginalCaseNumber = "", ""
		}, []string{"registration.issuing_court", "registration.original_case_number"}},
		{"NoExpiryIsNotThreeYears", func(o *ccpor.Order) { o.ExpiresAt = ccpor.Date{} }, []string{"expires_at"}},
		{"CaliforniaIsNotOutOfState", func(o *ccpor.Order) {
			o.Registration.Kind, o.Registration.Jurisdiction = ccpor.RegisteredOutOfState, "CA"
		}, []string{"registration.jurisdiction"}},
		{"JuvenileOrder", func(o *ccpor.Order) { o.Type = ccpor.OrderJV }, []string{"type"}},
		{"RegistrationFormAlone", func(o *ccpor.Order) { o.Registration, o.Form = nil, ccpor.RegistrationForm }, []string{"registration"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := tribalRegistration()
			tt.change(o)
			resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", mustJSON(t, o))
			p := mustProblem(t, resp, body, http.StatusBadRequest)
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Field)
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("problem fields = %v, want %v: %s", got, tt.fields, body)
			}
		})
	}
}
