package api_test

import (
	"bytes"
	"context"
	"html"
	"image/png"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/fixtures"
)

const intakePassword = "correct horse battery"

// postMultipart posts a form as a browser does with
// enctype="multipart/form-data": the fields, then the file input "scan",
// sent empty when no file is chosen.
func postMultipart(c *http.Client, target string, form url.Values, filename string, file []byte) (*http.Response, string, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, k := range slices.Sorted(maps.Keys(form)) {
		for _, v := range form[k] {
			w.WriteField(k, v)
		}
	}
	part, err := w.CreateFormFile("scan", filename)
	if err != nil {
		return nil, "", err
	}
	part.Write(file)
	w.Close()
	resp, err := c.Post(target, w.FormDataContentType(), &body)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	return resp, string(page), err
}

func (b *webClient) postMultipart(path string, form url.Values, filename string, file []byte) (*http.Response, string) {
	b.t.Helper()
	resp, page, err := postMultipart(b.c, b.base+path, form, filename, file)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, page
}

var pageHidden = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// hiddenFields returns the hidden fields of the first form on the page
// after marker.
func hiddenFields(page, marker string) url.Values {
	i := strings.Index(page, marker)
	if i < 0 {
		return nil
	}
	page = page[i:]
	page = page[:strings.Index(page, "</form>")]
	v := url.Values{}
	for _, m := range pageHidden.FindAllStringSubmatch(page, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// intakeForm opens the intake form of a DV order after hearing and
// returns its hidden fields (form token, submission key, form) with the
// values of an order restraining first last and protecting the
// protected person named.
func (b *webClient) intakeForm(caseNo, first, last, protFirst, protLast string) url.Values {
	b.t.Helper()
	resp, page := b.get("/intake?form=" + url.QueryEscape("DV/after_hearing/DV-130"))
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("intake form: %d", resp.StatusCode)
	}
	v := hiddenFields(page, `id="intake"`)
	if v.Get("csrf") == "" || v.Get("submission") == "" || v.Get("current") == "" {
		b.t.Fatalf("the intake form lacks its hidden fields: %v", v)
	}
	for k, vs := range map[string][]string{
		"step": {"enter"}, "case_number": {caseNo}, "county": {"Alameda"}, "court": {"Hayward Hall of Justice, Dept. 505"},
		"issued_on": {"2026-02-27"}, "restrained.first": {first}, "restrained.last": {last}, "restrained.dob": {"1988-04-12"},
		"restrained.sex": {"M"}, "restrained.race": {"H"}, "restrained.height_ft": {"5"}, "restrained.height_inches": {"10"},
		"restrained.weight_lb": {"180"}, "restrained.hair": {"BRO"}, "restrained.eyes": {"BRO"},
		"protected[0].first": {protFirst}, "protected[0].last": {protLast}, "protected[0].relationship": {"spouse"},
		"terms.conduct": {"yes"}, "terms.contact": {"no_contact"}, "terms.stay_away_yards": {"100"},
		"terms.stay_away_places": {"residence", "workplace"}, "terms.firearms": {"yes"}, "service.status": {"served_in_court"},
	} {
		v[k] = vs
	}
	return v
}

// scanPNG is a generated scan of the signed order the form describes.
func scanPNG(t *testing.T, form url.Values) []byte {
	t.Helper()
	o := &ccpor.Order{Type: ccpor.OrderDV, Phase: ccpor.PhaseAfterHearing, Form: "DV-130", County: "Alameda",
		CaseNumber: form.Get("case_number"), Restrained: ccpor.Person{First: form.Get("restrained.first"), Last: form.Get("restrained.last")},
		Protected: []ccpor.Party{{Person: ccpor.Person{First: form.Get("protected[0].first"), Last: form.Get("protected[0].last")}}},
		Terms:     ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, Firearms: true}}
	var buf bytes.Buffer
	if err := png.Encode(&buf, fixtures.OrderScan(o, fixtures.ScanOptions{DPI: 100})); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var labelledControl = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
var controlID = regexp.MustCompile(`\bid="([^"]+)"`)

// mustLabelled fails for a form control of the page without a label.
func mustLabelled(t *testing.T, page string) {
	t.Helper()
	n := 0
	for _, tag := range labelledControl.FindAllString(page, -1) {
		if strings.Contains(tag, `type="hidden"`) {
			continue
		}
		m := controlID.FindStringSubmatch(tag)
		if m == nil || !strings.Contains(page, `<label for="`+m[1]+`"`) {
			t.Errorf("control without a label: %s", tag)
		}
		n++
	}
	if n < 30 {
		t.Errorf("only %d controls on the form", n)
	}
}

func orderID(t *testing.T, resp *http.Response) string {
	t.Helper()
	id, ok := strings.CutPrefix(resp.Header.Get("Location"), "/orders/")
	if resp.StatusCode != http.StatusSeeOther || !ok || len(id) != 36 {
		t.Fatalf("answer %d to %q, want 303 to an order", resp.StatusCode, resp.Header.Get("Location"))
	}
	return id
}

func TestIntakePage(t *testing.T) {
	ts := mustServer(t)
	ctx := context.Background()
	for _, u := range []*ccpor.User{
		{Name: "Clerk", Role: ccpor.RoleClerk, County: "Alameda", Division: ccpor.DivisionFamily, Username: "clerk1"},
		{Name: "Fresno Clerk", Role: ccpor.RoleClerk, County: "Fresno", Division: ccpor.DivisionFamily, Username: "clerk2"},
		{Name: "Officer", Role: ccpor.RoleOfficer, Username: "officer1"},
	} {
		if _, _, err := ts.db.AddUser(ctx, u, ccpor.NewUser{Password: intakePassword}); err != nil {
			t.Fatal(err)
		}
	}
	b := newWebClient(t, ts.srv.URL)
	if resp, _ := b.signIn("clerk1", intakePassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	documents := func(id string) []ccpor.Document {
		t.Helper()
		docs, err := ts.db.FindDocuments(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return docs
	}

	t.Run("ChooseForm", func(t *testing.T) {
		resp, page := b.get("/intake")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("intake: %d", resp.StatusCode)
		}
		for _, want := range []string{`<label for="choose-form">`, "DV-130 · Domestic violence restraining order, after hearing", "CR-161 · Criminal protective order, pretrial (other than domestic violence)",
			"EPO-001 · Emergency protective order, emergency", "Continue", "Juvenile orders (JV-250, JV-255) are entered by juvenile-division clerks"} {
			if !strings.Contains(page, want) {
				t.Errorf("the choice of form lacks %q", want)
			}
		}
		if strings.Contains(page, `value="JV/`) || strings.Contains(page, `value="DV/after_hearing/DV-730"`) {
			t.Error("a family clerk is offered juvenile forms or a renewal")
		}
	})
	t.Run("FormDV130", func(t *testing.T) {
		resp, page := b.get("/intake?form=" + url.QueryEscape("DV/after_hearing/DV-130"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DV-130 form: %d", resp.StatusCode)
		}
		for _, want := range []string{"DV-130 · Domestic violence restraining order", "Family Code 6200", "<legend>Case</legend>",
			"<legend>Restrained person</legend>", "<legend>Protected person 4</legend>", "<legend>Orders</legend>",
			`<label for="f-case-number">Case number <span class="req">*</span>`, `name="county" value="Alameda" readonly`,
			"Blank = 3 years after issuance, under Family Code 6345(c); at most 5 years.", `<label for="f-restrained-height-ft">`,
			`<option value="H">Hispanic (H)</option>`, "peaceful contact only", "Move out of the shared home", "Child custody", "Visitation",
			"safe exchange of children", `<label for="f-scan">Scan of the signed order`, `type="file"`, "Enter the order"} {
			if !strings.Contains(page, want) {
				t.Errorf("the DV-130 form lacks %q", want)
			}
		}
		mustLabelled(t, page)
	})
	t.Run("FormCH110", func(t *testing.T) {
		_, page := b.get("/intake?form=" + url.QueryEscape("CH/temporary/CH-110"))
		if !strings.Contains(page, "CH-110 · Civil harassment restraining order") || !strings.Contains(page, "Blank = 21 days after issuance") {
			t.Error("the CH-110 form lacks its caption or expiry rule")
		}
		for _, absent := range []string{"peaceful contact only", "Move out", "Child custody", "safe exchange of children"} {
			if strings.Contains(page, absent) {
				t.Errorf("the CH-110 form shows %q, which it does not have", absent)
			}
		}
	})
	t.Run("FormEPO", func(t *testing.T) {
		_, page := b.get("/intake?form=" + url.QueryEscape("EPO/emergency/EPO-001"))
		if strings.Contains(page, `name="expires_at"`) || !strings.Contains(page, "Family Code 6256") {
			t.Error("the EPO-001 form asks for an expiry the law sets, or does not say so")
		}
	})

	var first string
	form := b.intakeForm("26FL000100", "Marcus", "Delgado", "Elena", "Delgado")
	scan := scanPNG(t, form)
	t.Run("ErrInvalid", func(t *testing.T) {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Del("restrained.last")
		bad.Set("issued_on", "2023-02-29")
		resp, page := b.postMultipart("/intake", bad, "order.png", scan)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("an order without a last name: %d", resp.StatusCode)
		}
		for _, want := range []string{
			`aria-describedby="f-restrained-last-problem" aria-invalid="true"`,
			`<p class="field-problem" id="f-restrained-last-problem">The last name is required.</p>`,
			`<p class="field-problem" id="f-issued-on-problem">&#34;2023-02-29&#34; is not a real date in YYYY-MM-DD form.</p>`,
			`<a href="#f-restrained-last">Restrained person: last name</a>`,
			`type="text" value="2023-02-29"`, `value="Marcus"`, `value="26FL000100"`, `value="Hayward Hall of Justice, Dept. 505"`,
			`name="terms.firearms" value="yes" checked`, `name="terms.stay_away_places" value="workplace" checked`,
			`<option value="served_in_court" selected>`, "The scan you attached was not kept: attach it again."} {
			if !strings.Contains(page, want) {
				t.Errorf("the refused form lacks %q", want)
			}
		}
		if n := ts.storedOrders(); n != 0 {
			t.Errorf("%d orders stored", n)
		}
	})
	t.Run("OK", func(t *testing.T) {
		resp, _ := b.postMultipart("/intake", form, "order.png", scan)
		first = orderID(t, resp)
		o, err := ts.db.FindOrderByID(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		if o.Form != "DV-130" || o.Restrained.HeightIn != 70 || o.ExpiresAt.String() != "2029-02-27" ||
			!slices.Equal(o.Terms.StayAwayPlaces, []string{"residence", "workplace"}) || o.Service.Status != ccpor.ServedInCourt {
			t.Errorf("stored %+v", o)
		}
		if docs := documents(first); len(docs) != 1 || docs[0].Kind != ccpor.DocSignedOrder || docs[0].MediaType != "image/png" {
			t.Errorf("documents %+v, want the scan", docs)
		}
		if resp, page := b.get("/orders/" + first); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Page 1 of the scanned signed order") {
			t.Errorf("the new order's page: %d", resp.StatusCode)
		}
	})
	t.Run("SameFormTwice", func(t *testing.T) {
		resp, _ := b.postMultipart("/intake", form, "order.png", scan)
		if id := orderID(t, resp); id != first || resp.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the same form again went to %s, want %s", id, first)
		}
		if n := ts.storedOrders(); n != 1 || len(documents(first)) != 1 {
			t.Errorf("%d orders, %d documents; want one of each", n, len(documents(first)))
		}
	})
	t.Run("SameFormAtOnce", func(t *testing.T) {
		again := b.intakeForm("26FL000200", "Gregory", "Hale", "Dana", "Hale")
		var wg sync.WaitGroup
		locations := make([]string, 3)
		for i := range locations {
			wg.Go(func() {
				resp, page, err := postMultipart(b.c, b.base+"/intake", again, "", nil)
				if err != nil || resp.StatusCode != http.StatusSeeOther {
					t.Errorf("submission %d: %v %v\n%.300s", i, err, resp.StatusCode, page)
					return
				}
				locations[i] = resp.Header.Get("Location")
			})
		}
		wg.Wait()
		if locations[0] == "" || locations[1] != locations[0] || locations[2] != locations[0] {
			t.Errorf("three submissions of one form went to %q", locations)
		}
		if n := ts.storedOrders(); n != 2 {
			t.Errorf("%d orders stored, want 2", n)
		}
	})
	t.Run("ExactDuplicate", func(t *testing.T) {
		again := b.intakeForm("26-FL-000100", "Marcus", "Delgado", "Elena", "Delgado")
		resp, page := b.postMultipart("/intake", again, "", nil)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "Not saved: this order is already registered") ||
			!strings.Contains(page, `href="/orders/`+first+`"`) {
			t.Errorf("the same order from a new form: %d\n%s", resp.StatusCode, page)
		}
		if n := ts.storedOrders(); n != 2 {
			t.Errorf("%d orders stored, want 2", n)
		}
	})
	t.Run("LikelyDuplicate", func(t *testing.T) {
		existing := ts.mustCreate(`{"type": "DV", "phase": "after_hearing", "county": "Alameda", "case_number": "26FL000300",
			"issued_on": "2026-02-20", "restrained": {"first": "Tomas", "last": "Reyes", "dob": "1988-04-12", "sex": "M", "race": "H"},
			"protected": [{"first": "Lucia", "last": "Reyes", "relationship": "spouse"}],
			"terms": {"conduct": true, "no_contact": true, "stay_away_yards": 100, "firearms": true}}`)
		dup := b.intakeForm("26FL000301", "Tomas", "Reyes", "Lucia", "Reyes")
		resp, page := b.postMultipart("/intake", dup, "order.png", scanPNG(t, dup))
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("a likely duplicate: %d", resp.StatusCode)
		}
		for _, want := range []string{`role="alert" aria-labelledby="dup-title"`, "Not saved: this looks like an order already registered",
			`<a href="/orders/` + existing.ID + `">DV-130 · Case 26FL000300 · Alameda County</a>`, "For the issue date typed: in effect through 2029-02-27.", "Matched <strong>Tomas Reyes</strong> (restrained, born 1988-04-12): match, score",
			`<ul class="why"><li>`, "This is a different order", "Attach the scan again", `value="26FL000301"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the duplicate panel lacks %q", want)
			}
		}
		if n := ts.storedOrders(); n != 3 {
			t.Fatalf("%d orders stored, want 3 (nothing saved)", n)
		}
		override := hiddenFields(page, `class="stack override"`)
		if override.Get("case_number") != "26FL000301" || override.Get("restrained.last") != "Reyes" || len(override["terms.stay_away_places"]) != 2 {
			t.Fatalf("the panel's form does not carry the order: %v", override)
		}
		override.Set("step", "override")
		resp, page = b.postMultipart("/intake", override, "", nil)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `id="f-override-reason-problem">Say why this is a different order.`) {
			t.Errorf("an override without a reason: %d", resp.StatusCode)
		}
		reason := "A second petition filed in a separate case."
		override.Set("override_reason", reason)
		resp, _ = b.postMultipart("/intake", override, "order.png", scanPNG(t, dup))
		id := orderID(t, resp)
		o, err := ts.db.FindOrderByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.History) != 1 || o.History[0].Reason != reason || o.CaseNumber != "26FL000301" {
			t.Errorf("history %+v of case %s, want the reason", o.History, o.CaseNumber)
		}
		if len(documents(id)) != 1 {
			t.Error("the scan attached again was not kept")
		}
	})
	t.Run("ScanRefused", func(t *testing.T) {
		v := b.intakeForm("26FL000400", "Victor", "Nunez", "Carmen", "Nunez")
		resp, page := b.postMultipart("/intake", v, "order.png", []byte("<html><body><script>alert(1)</script></body></html>"))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("an order with a refused scan: %d\n%s", resp.StatusCode, page)
		}
		id := strings.TrimPrefix(resp.Header.Get("Location"), "/orders/")
		if !strings.Contains(page, "The scan was not kept") || !strings.Contains(page, `<a href="/orders/`+id+`">Open the order</a>`) {
			t.Errorf("the page does not say the scan was refused:\n%s", page)
		}
		if _, err := ts.db.FindOrderByID(ctx, id); err != nil || len(documents(id)) != 0 {
			t.Errorf("order %s: %v, %d documents; want the order without its scan", id, err, len(documents(id)))
		}
	})
	t.Run("SwitchForm", func(t *testing.T) {
		v := b.intakeForm("26CV000500", "Nora", "Quinn", "Paul", "Quinn")
		v.Set("step", "switch")
		v.Set("form", "CH/temporary/CH-110")
		n := ts.storedOrders()
		resp, page := b.postMultipart("/intake", v, "", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "CH-110 · Civil harassment") || !strings.Contains(page, `value="Nora"`) ||
			!strings.Contains(page, `value="CH/temporary/CH-110"`) {
			t.Errorf("switching form: %d", resp.StatusCode)
		}
		if ts.storedOrders() != n {
			t.Error("switching form saved an order")
		}
	})
	t.Run("ErrJuvenile", func(t *testing.T) {
		v := b.intakeForm("26JV000600", "Kyle", "Moss", "Amy", "Moss")
		v.Set("current", "JV/after_hearing/JV-255")
		if resp, _ := b.postMultipart("/intake", v, "", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a family clerk entering a juvenile order: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("ErrOtherCounty", func(t *testing.T) {
		fresno := newWebClient(t, ts.srv.URL)
		fresno.signIn("clerk2", intakePassword)
		v := fresno.intakeForm("26FL000700", "Ivan", "Petrov", "Olga", "Petrov")
		_, page := fresno.get("/intake?form=" + url.QueryEscape("DV/after_hearing/DV-130"))
		if !strings.Contains(page, `name="county" value="Fresno" readonly`) {
			t.Error("a Fresno clerk's form is not fixed to Fresno County")
		}
		n := ts.storedOrders()
		resp, page := fresno.postMultipart("/intake", v, "", nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "A clerk of Fresno County cannot enter an order of Alameda County.") {
			t.Errorf("a Fresno clerk entering an Alameda order: %d", resp.StatusCode)
		}
		if ts.storedOrders() != n {
			t.Error("an order of another county was stored")
		}
	})
	t.Run("ErrOfficer", func(t *testing.T) {
		officer := newWebClient(t, ts.srv.URL)
		officer.signIn("officer1", intakePassword)
		if resp, _ := officer.get("/intake"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an officer opening intake: %d, want 403", resp.StatusCode)
		}
		_, page := officer.get("/search")
		v := url.Values{"csrf": {formField(page, "csrf")}, "current": {"DV/after_hearing/DV-130"}}
		if resp, _ := officer.postMultipart("/intake", v, "", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an officer entering an order: %d, want 403", resp.StatusCode)
		}
		if strings.Contains(page, `href="/intake"`) {
			t.Error("an officer's menu offers intake")
		}
	})
}

// TestIntakeScanTooLarge: a scan over the cap stops the form before
// anything is read into memory or saved.
func TestIntakeScanTooLarge(t *testing.T) {
	ts := mustServer(t, func(s *api.Server) { s.MaxDocumentBytes = 50_000 })
	ctx := context.Background()
	if _, _, err := ts.db.AddUser(ctx, &ccpor.User{Name: "Clerk", Role: ccpor.RoleClerk, County: "Alameda",
		Division: ccpor.DivisionFamily, Username: "clerk1"}, ccpor.NewUser{Password: intakePassword}); err != nil {
		t.Fatal(err)
	}
	b := newWebClient(t, ts.srv.URL)
	b.signIn("clerk1", intakePassword)
	v := b.intakeForm("26FL000900", "Victor", "Nunez", "Carmen", "Nunez")
	resp, page := b.postMultipart("/intake", v, "order.png", bytes.Repeat([]byte{0}, 200_000))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(page, "larger than this registry accepts") {
		t.Fatalf("an intake with a scan over the cap: %d\n%s", resp.StatusCode, page)
	}
	var n int
	if err := ts.db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d orders saved (%v), want none", n, err)
	}
}
