package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
)

// webClient is a cookie-keeping HTTP client that does not follow redirects,
// so a test sees each answer as a browser gets it.
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *webClient) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *webClient) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var hiddenField = regexp.MustCompile(`name="(token|csrf)" value="([^"]*)"`)

// formField returns the value of a hidden form field on a page.
func formField(page, name string) string {
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

// signIn signs the browser in through the sign-in form.
func (b *webClient) signIn(username, password string) (*http.Response, string) {
	b.t.Helper()
	_, page := b.get("/login")
	return b.post("/login", url.Values{"token": {formField(page, "token")}, "username": {username}, "password": {password}, "next": {"/search"}})
}

// mustScannedOrder stores an order of Alameda County with a generated
// scan and returns it.
func mustScannedOrder(t *testing.T, ts *testServer) *ccpor.Order {
	t.Helper()
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{Name: "loader", Role: ccpor.RoleAdmin})
	o, err := ccpor.ParseOrder([]byte(validOrder))
	if err != nil {
		t.Fatal(err)
	}
	o.IssuedOn = ccpor.DateOf(now).AddDays(-30)
	if err := o.Prepare(now); err != nil {
		t.Fatal(err)
	}
	if err := ts.db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, fixtures.OrderScan(o, fixtures.ScanOptions{DPI: 100})); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	d := &ccpor.Document{OrderID: o.ID, Kind: ccpor.DocSignedOrder, MediaType: "image/png", Pages: 1, Redacted: true,
		Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}
	if _, err := ts.db.CreateDocument(ctx, d, &buf); err != nil {
		t.Fatal(err)
	}
	if !ts.follower.Sync(ctx, 10*time.Second) {
		t.Fatal("index did not catch up")
	}
	return o
}

func TestUI(t *testing.T) {
	ts := mustServer(t)
	o := mustScannedOrder(t, ts)
	ctx := context.Background()
	if _, _, err := ts.db.AddUser(ctx, &ccpor.User{Name: "Dana Reyes", Role: ccpor.RoleOfficer, Username: "dreyes",
		Organisation: "Hayward Police Department"}, ccpor.NewUser{Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	b := newWebClient(t, ts.srv.URL)

	t.Run("SignInFirst", func(t *testing.T) {
		resp, _ := b.get("/orders/" + o.ID)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Forders%2F"+o.ID {
			t.Errorf("without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		resp, page := b.signIn("dreyes", "not the password")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "The username or password is not right.") {
			t.Errorf("wrong password: %d\n%s", resp.StatusCode, page)
		}
	})
	t.Run("ForgedSignIn", func(t *testing.T) {
		// A form posted from another site has no sign-in cookie.
		other := newWebClient(t, ts.srv.URL)
		resp, _ := other.post("/login", url.Values{"token": {"guess"}, "username": {"dreyes"}, "password": {"correct horse battery"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in without the form's cookie: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("SignIn", func(t *testing.T) {
		resp, _ := b.signIn("dreyes", "correct horse battery")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/search" {
			t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, page := b.get("/search")
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Dana Reyes") || !strings.Contains(page, "Hayward Police Department") ||
			!strings.Contains(page, `class="role role-officer"`) {
			t.Errorf("the search page does not show who is signed in: %d", resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("page CSP %q", csp)
		}
	})
	t.Run("Search", func(t *testing.T) {
		_, form := b.get("/search")
		resp, page := b.post("/search", url.Values{"csrf": {formField(form, "csrf")}, "last": {"garc"}, "first": {"rob"}, "status": {"active"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("search: %d\n%s", resp.StatusCode, page)
		}
		for _, want := range []string{"1 order found", "ACTIVE", "SERVED", "FIREARMS PROHIBITED", "Roberto García López",
			"No contact", "Stay 100 yards away", "/orders/" + o.ID, "/api/v1/documents/", "Case 25FL001234", "expires in"} {
			if !strings.Contains(page, want) {
				t.Errorf("the hit card lacks %q", want)
			}
		}
		// Names and birth dates stay out of URLs.
		if strings.Contains(resp.Request.URL.String(), "garc") {
			t.Errorf("the search is in the URL: %s", resp.Request.URL)
		}
	})
	t.Run("BadSearch", func(t *testing.T) {
		_, form := b.get("/search")
		resp, page := b.post("/search", url.Values{"csrf": {formField(form, "csrf")}, "last": {"g"}, "birth_year": {"nineteen"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, "birth year") {
			t.Errorf("a bad search: %d\n%s", resp.StatusCode, page)
		}
	})
	t.Run("FormWithoutToken", func(t *testing.T) {
		resp, page := b.post("/search", url.Values{"last": {"garcia"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "This form has expired") {
			t.Errorf("a search without the form token: %d", resp.StatusCode)
		}
	})
	t.Run("OrderView", func(t *testing.T) {
		resp, page := b.get("/orders/" + o.ID)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("order view: %d", resp.StatusCode)
		}
		for _, want := range []string{"DV-130", "Roberto García López", "Ana García", "Scanned documents", "Page 1 of the scanned signed order",
			"History", "served in court"} {
			if !strings.Contains(page, want) {
				t.Errorf("the order page lacks %q", want)
			}
		}
		// An officer never sees a protected person's address.
		if strings.Contains(page, "Hidden Creek") {
			t.Error("the order page shows a protected address to an officer")
		}
		resp, _ = b.get("/orders/00000000-0000-4000-8000-000000000000")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a missing order: %d", resp.StatusCode)
		}
	})
	t.Run("RecordVerbalNotice", func(t *testing.T) {
		_, page := b.get("/orders/" + o.ID)
		if !strings.Contains(page, "Record service or verbal notice") {
			t.Fatal("an officer is not offered the service form")
		}
		form := url.Values{"csrf": {formField(page, "csrf")}, "status": {"verbal_notice"}, "served_at": {"2026-03-02T08:15"},
			"served_by": {"Ofc. D. Reyes #4471"}, "agency": {"Hayward PD"}}
		resp, page := b.post("/orders/"+o.ID+"/service", form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "a verbal notice needs the place it was given") ||
			!strings.Contains(page, `value="Ofc. D. Reyes #4471"`) {
			t.Fatalf("a verbal notice without a place: %d", resp.StatusCode)
		}
		form.Set("location", "1200 A St, Hayward")
		resp, _ = b.post("/orders/"+o.ID+"/service", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("verbal notice: %d", resp.StatusCode)
		}
		stored, err := ts.db.FindOrderByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Typed in California time (PST, UTC-8, in March before DST).
		if stored.Service.Status != ccpor.ServedVerbal || stored.Service.Location != "1200 A St, Hayward" ||
			!stored.Service.ServedAt.Equal(time.Date(2026, 3, 2, 16, 15, 0, 0, time.UTC)) {
			t.Errorf("stored service %+v", stored.Service)
		}
	})
	t.Run("TribalReadsOnly", func(t *testing.T) {
		if _, _, err := ts.db.AddUser(ctx, &ccpor.User{Name: "Tribal Clerk", Role: ccpor.RoleTribal, Username: "tribal1"},
			ccpor.NewUser{Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		tr := newWebClient(t, ts.srv.URL)
		tr.signIn("tribal1", "correct horse battery")
		resp, page := tr.get("/orders/" + o.ID)
		if resp.StatusCode != http.StatusOK || strings.Contains(page, "Record service") {
			t.Errorf("a tribal court's order page: %d, service form shown: %v", resp.StatusCode, strings.Contains(page, "Record service"))
		}
		resp, _ = tr.post("/orders/"+o.ID+"/service", url.Values{"csrf": {formField(page, "csrf")}, "status": {"personal"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a tribal court recording service: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("SignOut", func(t *testing.T) {
		_, form := b.get("/search")
		resp, _ := b.post("/logout", url.Values{"csrf": {formField(form, "csrf")}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", resp.StatusCode)
		}
		if resp, _ := b.get("/search"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after sign-out /search answered %d, want a redirect to sign in", resp.StatusCode)
		}
	})
	t.Run("NextStaysOnSite", func(t *testing.T) {
		c := newWebClient(t, ts.srv.URL)
		_, page := c.get("/login?next=//evil.example/x")
		if strings.Contains(page, "evil.example") {
			t.Error("the sign-in form carries an off-site next")
		}
	})
}

func TestUIQueues(t *testing.T) {
	ts := mustServer(t)
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{Name: "loader", Role: ccpor.RoleAdmin})
	today := ccpor.DateOf(now)
	mk := func(caseNumber string, phase ccpor.Phase, issued ccpor.Date, expires ccpor.Date, service ccpor.ServiceStatus, county string) *ccpor.Order {
		t.Helper()
		o, err := ccpor.ParseOrder([]byte(validOrder))
		if err != nil {
			t.Fatal(err)
		}
		o.CaseNumber, o.Phase, o.Form, o.IssuedOn, o.ExpiresAt, o.County = caseNumber, phase, "", issued, expires, county
		o.Restrained.Last += caseNumber // different people: no duplicate guard here
		o.Service = ccpor.Service{Status: service}
		if service == ccpor.ServedPersonal {
			at := issued.Time().Add(36 * time.Hour)
			o.Service.ServedAt = &at
		}
		if err := o.Prepare(now); err != nil {
			t.Fatalf("%s: %v", caseNumber, err)
		}
		if err := ts.db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	hearingPassed := mk("26FL000001", ccpor.PhaseTemporary, today.AddDays(-30), today.AddDays(-9), ccpor.ServedPersonal, "Alameda")
	heard := mk("26FL000002", ccpor.PhaseTemporary, today.AddDays(-30), today.AddDays(-9), ccpor.ServedPersonal, "Alameda")
	after := mk("26FL000002", ccpor.PhaseAfterHearing, today.AddDays(-9), today.AddYears(3), ccpor.ServedPersonal, "Alameda")
	after.PreviousOrderID = heard.ID
	after.Version = 1
	if err := ts.db.UpdateOrder(ctx, after, "modify", "link to the temporary order"); err != nil {
		t.Fatal(err)
	}
	unserved := mk("26FL000003", ccpor.PhaseAfterHearing, today.AddDays(-60), today.AddYears(2), ccpor.NotServed, "Alameda")
	renewal := mk("26FL000004", ccpor.PhaseAfterHearing, today.AddYears(-3).AddDays(40), today.AddDays(40), ccpor.ServedPersonal, "Alameda")
	fresno := mk("26FL000005", ccpor.PhaseAfterHearing, today.AddDays(-60), today.AddYears(2), ccpor.NotServed, "Fresno")

	// Messages to law enforcement: each order's entry (and the linked
	// order's modification) is due tomorrow; some are made older.
	message := func(o *ccpor.Order, version int, due ccpor.Date) string {
		t.Helper()
		var id string
		if err := ts.db.Pool.QueryRow(ctx, `UPDATE transmissions SET due_on = $3
			WHERE order_id = $1 AND order_version = $2 RETURNING id::text`, o.ID, version, due.Time()).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	message(hearingPassed, 1, today.AddDays(-2))     // overdue, pending
	acked := message(unserved, 1, today.AddDays(-3)) // overdue but acknowledged
	message(renewal, 1, today)                       // due today
	message(fresno, 1, today.AddDays(-2))            // another county's
	rejected := message(after, 2, today.AddDays(-1)) // rejected
	message(heard, 1, today.AddDays(1))              // due tomorrow
	for _, m := range []struct {
		id       string
		accepted bool
	}{{acked, true}, {rejected, false}} {
		if _, err := ts.db.AnswerTransmission(ctx, m.id, m.accepted, "No such court ORI."); err != nil {
			t.Fatal(err)
		}
	}

	if _, _, err := ts.db.AddUser(context.Background(), &ccpor.User{Name: "Clerk", Role: ccpor.RoleClerk, County: "Alameda",
		Username: "qclerk"}, ccpor.NewUser{Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	b := newWebClient(t, ts.srv.URL)
	b.signIn("qclerk", "correct horse battery")
	resp, page := b.get("/queues")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("queues: %d\n%s", resp.StatusCode, page)
	}
	section := func(name string) string {
		i := strings.Index(page, `id="`+name+`"`)
		if i < 0 {
			t.Fatalf("no %s queue", name)
		}
		rest := page[i:]
		if j := strings.Index(rest[1:], "<section"); j >= 0 {
			rest = rest[:j+1]
		}
		return rest
	}
	for _, tt := range []struct {
		queue string
		in    []*ccpor.Order
		out   []*ccpor.Order
	}{
		{"transmission", []*ccpor.Order{hearingPassed, renewal, after}, []*ccpor.Order{unserved, fresno, heard}},
		{"hearing_passed", []*ccpor.Order{hearingPassed}, []*ccpor.Order{heard, after, unserved, renewal}},
		{"unserved", []*ccpor.Order{unserved}, []*ccpor.Order{hearingPassed, renewal, fresno}},
		{"renewal", []*ccpor.Order{renewal}, []*ccpor.Order{unserved, after}},
	} {
		sec := section(tt.queue)
		for _, o := range tt.in {
			if !strings.Contains(sec, o.ID) {
				t.Errorf("%s queue lacks case %s", tt.queue, o.CaseNumber)
			}
		}
		for _, o := range tt.out {
			if strings.Contains(sec, o.ID) {
				t.Errorf("%s queue lists case %s (%s)", tt.queue, o.CaseNumber, o.County)
			}
		}
	}
	if !strings.Contains(page, `aria-current="page"`) {
		t.Error("the menu does not mark the current page")
	}
	// The transmission queue comes first, and says why each waits.
	if strings.Index(page, `id="transmission"`) > strings.Index(page, `id="hearing_passed"`) {
		t.Error("the law-enforcement queue is not the first")
	}
	sec := section("transmission")
	for _, want := range []string{"Not yet acknowledged by law enforcement", "(3)", today.AddDays(-2).String() + " <strong>overdue</strong>",
		today.String() + " today", "<td>rejected</td>", "<td>No such court ORI.</td>", "<td>pending</td>"} {
		if !strings.Contains(sec, want) {
			t.Errorf("the law-enforcement queue does not say %q", want)
		}
	}
	if strings.Contains(page, "not tracked") {
		t.Error("the page still says transmission is not tracked")
	}
}
