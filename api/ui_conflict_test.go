package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
)

const judgePassword = "correct horse battery"

// TestConflictPage runs the judge's conflict-check page through the real
// server: the form, a check that finds a conflicting order, one that finds
// nothing, a refused form, the roles kept out, and the audit trail.
func TestConflictPage(t *testing.T) {
	ts := mustServer(t)
	ctx := context.Background()
	for _, u := range []ccpor.User{
		{Name: "Judge Ada Okafor", Role: ccpor.RoleJudge, County: "Alameda", Username: "judge1"},
		{Name: "Dana Reyes", Role: ccpor.RoleOfficer, Username: "officer1"},
		{Name: "Clerk Alameda", Role: ccpor.RoleClerk, County: "Alameda", Username: "clerk1"},
	} {
		if _, _, err := ts.db.AddUser(ctx, &u, ccpor.NewUser{Password: judgePassword}); err != nil {
			t.Fatal(err)
		}
	}
	// In the registry: a criminal no-contact order protecting Elena from
	// Marcus, and a sealed order of another court between them.
	loader := ccpor.NewContextWithUser(ctx, &ccpor.User{Name: "loader", Role: ccpor.RoleAdmin})
	cpo := order(1, ccpor.OrderCPO, ccpor.PhaseAfterHearing, "25CR004410", "2025-11-03", marcus,
		[]ccpor.Party{adult(elena, "spouse")}, ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"}})
	sealed := order(2, ccpor.OrderDV, ccpor.PhaseAfterHearing, "24FL000077", "2025-01-15", marcus,
		[]ccpor.Party{adult(elena, "spouse")}, ccpor.Terms{Conduct: true, StayAwayYards: 50})
	sealed.County, sealed.Sealed = "Fresno", true
	sealedOnly := order(3, ccpor.OrderCH, ccpor.PhaseAfterHearing, "25CV000310", "2025-09-09", gary,
		[]ccpor.Party{adult(priya, "neighbor")}, ccpor.Terms{Conduct: true, StayAwayYards: 100})
	sealedOnly.ExpiresAt, sealedOnly.County, sealedOnly.Sealed = day("2028-09-09"), "Fresno", true
	for _, o := range []*ccpor.Order{cpo, sealed, sealedOnly} {
		if err := o.Prepare(now); err != nil {
			t.Fatal(err)
		}
		if err := ts.db.CreateOrder(loader, o); err != nil {
			t.Fatal(err)
		}
	}
	if !ts.follower.Sync(ctx, 10*time.Second) {
		t.Fatal("index did not catch up")
	}

	judge := newWebClient(t, ts.srv.URL)
	if resp, _ := judge.signIn("judge1", judgePassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("judge sign-in: %d", resp.StatusCode)
	}
	// proposed is a DV order allowing peaceful contact between them.
	proposed := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "type": {"DV"}, "phase": {"after_hearing"}, "county": {"Alameda"},
			"case_number": {"26FL000100"}, "issued_on": {"2026-03-02"},
			"restrained.first": {"Marcus"}, "restrained.last": {"Delgado"}, "restrained.dob": {"1988-04-12"}, "restrained.sex": {"M"},
			"protected[0].first": {"Elena"}, "protected[0].last": {"Delgado"},
			"protected[0].dob": {"1990-07-03"}, "protected[0].relationship": {"spouse"},
			"terms.conduct": {"yes"}, "terms.peaceful_contact": {"yes"}, "terms.stay_away_yards": {"100"},
			"terms.stay_away_places": {"residence"}}
	}
	var csrf string

	t.Run("Form", func(t *testing.T) {
		resp, page := judge.get("/checks/conflict")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("form: %d\n%s", resp.StatusCode, page)
		}
		csrf = formField(page, "csrf")
		// Every input, select and checkbox has a label of its own.
		inputs := regexp.MustCompile(`<(?:input|select) id="([^"]+)"|<input type="checkbox" id="([^"]+)"`).FindAllStringSubmatch(page, -1)
		if len(inputs) < 30 {
			t.Errorf("%d fields on the form", len(inputs))
		}
		for _, m := range inputs {
			id := m[1] + m[2]
			if !strings.Contains(page, `<label for="`+id+`"`) {
				t.Errorf("field %s has no label", id)
			}
		}
		for _, want := range []string{`name="restrained.middle"`, `name="protected[2].minor"`, `name="terms.stay_away_yards"`,
			`name="terms.custody"`, `name="terms.visitation"`, `name="include_expired"`, "Include expired and terminated orders",
			`<option value="Alameda" selected>`, `value="2026-03-02"`, "EPO — Emergency protective order", `name="csrf"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the form lacks %s", want)
			}
		}
		if strings.Contains(page, "<script") {
			t.Error("the page needs script")
		}
	})
	t.Run("Related", func(t *testing.T) {
		resp, page := judge.post("/checks/conflict", proposed(csrf))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("check: %d\n%s", resp.StatusCode, page)
		}
		for _, want := range []string{
			"1 related order found", `outcome-found`,
			// The related order, linked, beside the proposed one.
			`<a href="/orders/` + cpo.ID + `">CR-160 · case 25CR004410</a>`, "PROPOSED · NOT SAVED", "Restrains the same person as the proposed order.",
			"Same person as the proposed order&#39;s restrained person, Marcus Delgado",
			// The conflicting terms, marked on both orders, with the severity in words.
			`<li class="conflicting"><mark>Peaceful contact only</mark>`, `<li class="conflicting"><mark>No contact, direct or indirect</mark>`,
			`<span class="sev sev-warn">WARN</span> <strong>no contact vs contact</strong>`, "forbids all contact, but the proposed order allows peaceful contact",
			// Which order prevails, and why.
			"Which order prevails", "<td>a no-contact order<p", "is a no-contact order, which takes precedence",
			"yields to CR-160 · Alameda County · case 25CR004410", "prevails: a no-contact order",
			// What was searched, and who checked when, for the printout.
			"all 58 counties, orders in effect only, as of 2026-03-02", "index position",
			"Conflict check of 2026-03-02 17:00 UTC by Judge Ada Okafor, searched: all 58 counties",
			// The sealed order of another court is only a notice.
			"A sealed order involving these people exists; contact the Superior Court of Fresno County.",
			// The form keeps what was typed.
			`name="restrained.first" type="text" value="Marcus"`, `name="terms.peaceful_contact" value="yes" checked`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the result lacks %q", want)
			}
		}
		if strings.Contains(page, "24FL000077") || strings.Contains(page, sealed.ID) {
			t.Error("the result shows the sealed order of another court")
		}
		if strings.Contains(page, "No related orders found") {
			t.Error("the result says nothing was found")
		}
	})
	t.Run("NoneFound", func(t *testing.T) {
		form := proposed(csrf)
		form.Set("restrained.first", "Wendell")
		form.Set("restrained.last", "Farrow")
		form.Set("restrained.dob", "1979-02-11")
		form.Set("protected[0].first", "Opal")
		form.Set("protected[0].last", "Lindqvist")
		form.Set("protected[0].dob", "1982-12-01")
		form.Set("include_expired", "yes")
		resp, page := judge.post("/checks/conflict", form)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("check: %d\n%s", resp.StatusCode, page)
		}
		for _, want := range []string{`class="outcome outcome-none"`, "No related orders found",
			"all 58 counties, all orders: active, expired or terminated, as of 2026-03-02", "2 people of the proposed order", "index position"} {
			if !strings.Contains(page, want) {
				t.Errorf("the result lacks %q", want)
			}
		}
		if strings.Contains(page, "Search incomplete") || strings.Contains(page, `role="alert"`) {
			t.Error("a complete check with nothing found reads as an alert")
		}
	})
	t.Run("OnlySealed", func(t *testing.T) {
		// An order the judge may not see is never "nothing found".
		form := proposed(csrf)
		form.Set("restrained.first", "Gary")
		form.Set("restrained.last", "Holt")
		form.Set("restrained.dob", "1971-10-30")
		form.Set("protected[0].first", "Priya")
		form.Set("protected[0].last", "Raman")
		form.Set("protected[0].dob", "1993-01-22")
		resp, page := judge.post("/checks/conflict", form)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("check: %d\n%s", resp.StatusCode, page)
		}
		for _, want := range []string{`class="outcome outcome-sealed" role="alert"`, "A confidential order involves these people",
			"A sealed order involving these people exists; contact the Superior Court of Fresno County."} {
			if !strings.Contains(page, want) {
				t.Errorf("the result lacks %q", want)
			}
		}
		if strings.Contains(page, "No related orders found") || strings.Contains(page, "25CV000310") {
			t.Error("a sealed order reads as nothing found, or is shown")
		}
	})
	t.Run("MarkedTerms", func(t *testing.T) {
		// Visitation and joint custody against the no-contact order, a
		// longer stay-away, a child it does not name, and a firearms ban
		// it lacks: each marked on the terms it is about.
		form := proposed(csrf)
		form.Del("terms.peaceful_contact")
		form.Set("terms.stay_away_yards", "300")
		form.Set("terms.firearms", "yes")
		form.Set("terms.custody", "joint")
		form.Set("terms.visitation", "unsupervised")
		form.Set("protected[2].first", "Sofia")
		form.Set("protected[2].last", "Delgado")
		form.Set("protected[2].dob", "2016-05-20")
		form.Set("protected[2].relationship", "child")
		resp, page := judge.post("/checks/conflict", form)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("check: %d\n%s", resp.StatusCode, page)
		}
		for _, want := range []string{"1 related order found, 5 conflicts",
			`<mark>Visitation: unsupervised</mark>`, `<mark>Custody: joint</mark>`, `<mark>No contact, direct or indirect</mark>`,
			`<mark>Stay 300 yards away from: residence</mark>`, `<mark>Stay 100 yards away from: residence</mark>`,
			`<mark>No firearms or ammunition; relinquish within 24 hours</mark>`, `<mark>No firearms prohibition</mark>`,
			`<span class="sev sev-info">INFO</span> <strong>firearms mismatch</strong>`, `<strong>Sofia Delgado</strong> <span class="role-word">protected · child · minor</span>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the result lacks %q", want)
			}
		}
		if strings.Contains(page, `<mark>Personal conduct`) {
			t.Error("a term no conflict is about is marked")
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		form := proposed(csrf)
		form.Set("restrained.last", "")
		form.Set("terms.stay_away_yards", "far")
		form.Set("protected[0].first", "")
		form.Set("protected[0].last", "")
		form.Set("protected[0].dob", "")
		form.Set("protected[0].relationship", "")
		// The protected person typed on the second row is the order's
		// first: the problem is still shown on the row it was typed in.
		form.Set("protected[1].first", "Elena")
		form.Set("protected[1].last", "1990")
		resp, page := judge.post("/checks/conflict", form)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("bad form: %d\n%s", resp.StatusCode, page)
		}
		for _, want := range []string{`role="alert"`, "The proposed order is not valid",
			`<p class="field-error" id="cc-restrained-last-error">the last name is required</p>`,
			`<p class="field-error" id="cc-terms-stay-away-yards-error">a whole number of yards, e.g. 100</p>`,
			`<p class="field-error" id="cc-protected-1-last-error">&#34;1990&#34; has no letters</p>`,
			`href="#cc-restrained-last">Restrained person: Last name</a>`, `aria-invalid="true" aria-describedby="cc-restrained-last-error"`,
			// What was typed comes back.
			`name="terms.stay_away_yards" type="text" value="far"`, `name="restrained.first" type="text" value="Marcus"`,
			`name="protected[1].first" type="text" value="Elena"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the refused form lacks %q", want)
			}
		}
		if strings.Contains(page, `id="result"`) {
			t.Error("an invalid order was checked")
		}
	})
	t.Run("ErrNotJudge", func(t *testing.T) {
		for _, who := range []string{"officer1", "clerk1"} {
			b := newWebClient(t, ts.srv.URL)
			b.signIn(who, judgePassword)
			_, search := b.get("/search")
			if resp, _ := b.get("/checks/conflict"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s opening the conflict check: %d, want 403", who, resp.StatusCode)
			}
			if resp, _ := b.post("/checks/conflict", proposed(formField(search, "csrf"))); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s running the conflict check: %d, want 403", who, resp.StatusCode)
			}
			if strings.Contains(search, `href="/checks/conflict"`) {
				t.Errorf("%s is offered the conflict check in the menu", who)
			}
		}
	})
	t.Run("Audited", func(t *testing.T) {
		entries, err := ts.db.AuditQuery(ctx, store.AuditFilter{Action: "check.conflicts", Oldest: true})
		if err != nil {
			t.Fatal(err)
		}
		var outcomes []string
		for _, e := range entries {
			outcomes = append(outcomes, e.UserName+"/"+e.Outcome)
		}
		want := []string{"Judge Ada Okafor/ok", "Judge Ada Okafor/ok", "Judge Ada Okafor/ok", "Judge Ada Okafor/ok", "Judge Ada Okafor/invalid", "Dana Reyes/denied", "Clerk Alameda/denied"}
		if !slices.Equal(outcomes, want) {
			t.Fatalf("audited checks = %v, want %v", outcomes, want)
		}
		// The check records the orders it showed, never the sealed one.
		if got := entries[0].OrderIDs; !slices.Equal(got, []string{cpo.ID}) {
			t.Errorf("returned orders = %v, want %v", got, []string{cpo.ID})
		}
		var detail struct {
			CaseNumber string `json:"case_number"`
			Related    int    `json:"related"`
		}
		if err := json.Unmarshal(entries[0].Detail, &detail); err != nil || detail.CaseNumber != "26FL000100" || detail.Related != 1 {
			t.Errorf("detail = %s", entries[0].Detail)
		}
		if len(entries[1].OrderIDs) != 0 {
			t.Errorf("a check that found nothing returned %v", entries[1].OrderIDs)
		}
	})
}
