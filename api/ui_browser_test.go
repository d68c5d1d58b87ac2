package api_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The web pages as each role meets them: a real Chromium signs in and goes
// through the role's main task (an officer searches on a phone and reads
// an order; a clerk enters orders and works the queues; a judge checks a
// proposed order for conflicts and prints the answer; a tribal court
// reads), and axe-core checks every page for accessibility. Screenshots
// of each page go to $CCPOR_ARTIFACTS/screenshots (default
// <repo>/.artifacts/screenshots).

// browserPassword is every browser test user's password.
const browserPassword = "a long password 123"

// Viewports: a phone held upright in a patrol car, and a desk.
var (
	phone   = viewport{"phone", 390, 844, true}
	desktop = viewport{"desktop", 1280, 900, false}
)

type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

func TestBrowserOfficer(t *testing.T) {
	deps := mustBrowserDeps(t)
	ts := mustServer(t)
	scanned, unscanned := mustBrowserOrders(t, ts)
	mustBrowserUser(t, ts, ccpor.User{Name: "Dana Reyes", Role: ccpor.RoleOfficer, Organisation: "Fremont PD", Username: "officer1"})
	b := mustChrome(t, deps)

	t.Run("ErrWrongPassword", func(t *testing.T) {
		tab := b.mustTab(t, ts.srv.URL, phone)
		tab.mustOpen("/login", "login")
		resp := tab.mustSubmit(`form[action="/login"] button`, map[string]string{"username": "officer1", "password": "not the password"})
		if got, want := resp.Status, int64(401); got != want {
			t.Errorf("wrong password: status %d, want %d", got, want)
		}
		tab.mustPage("login-refused")
		if got, want := tab.mustText(".problem"), "The username or password is not right."; got != want {
			t.Errorf("problem = %q, want %q", got, want)
		}
		if tab.hasSession() {
			t.Error("a wrong password left a session cookie")
		}
		if got := tab.mustOpen("/search", "search-signed-out"); !strings.HasPrefix(got, "/login") {
			t.Errorf("/search without a session went to %s, want /login", got)
		}
	})

	t.Run("OK", func(t *testing.T) {
		tab := b.mustTab(t, ts.srv.URL, phone)
		if got := tab.mustOpen("/search", ""); got != "/login?next=%2Fsearch" {
			t.Errorf("/search before sign-in went to %s", got)
		}
		tab.mustPage("login")
		tab.mustSubmit(`form[action="/login"] button`, map[string]string{"username": "officer1", "password": browserPassword})
		if got := tab.location(); got != "/search" {
			t.Fatalf("signed in to %s, want /search", got)
		}
		if !tab.hasSession() {
			t.Fatal("signing in set no session cookie")
		}
		tab.mustPage("search")

		// A partial last name, and every status, so that the expired
		// order without a scan shows too.
		tab.mustSubmit("form.search-form button", map[string]string{"last": "wrenf", "#status": "any"})
		tab.mustPage("search-results")
		cards := map[string]card{}
		for _, c := range mustEval[[]card](tab, `[...document.querySelectorAll("article.card")].map(c => ({
			href: c.querySelector("h3 a").getAttribute("href"),
			banner: c.querySelector(".banner").innerText,
			images: [...c.querySelectorAll("img")].map(i => i.naturalWidth)}))`) {
			cards[c.Href] = c
		}
		if len(cards) != 2 {
			t.Fatalf("%d cards, want 2: %+v", len(cards), cards)
		}
		for _, tt := range []struct {
			id         string
			want, not  []string
			thumbnails int
		}{
			{scanned, []string{"ACTIVE", "SERVED", "FIREARMS PROHIBITED"}, []string{"NOT SERVED"}, 1},
			{unscanned, []string{"EXPIRED", "NOT SERVED"}, []string{"ACTIVE"}, 0},
		} {
			c, ok := cards["/orders/"+tt.id]
			if !ok {
				t.Errorf("no card for order %s", tt.id)
				continue
			}
			for _, w := range tt.want {
				if !strings.Contains(c.Banner, w) {
					t.Errorf("order %s: banner %q does not say %s", tt.id, c.Banner, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(c.Banner, n) {
					t.Errorf("order %s: banner %q says %s", tt.id, c.Banner, n)
				}
			}
			if got := len(c.Images); got != tt.thumbnails {
				t.Errorf("order %s: %d thumbnails, want %d", tt.id, got, tt.thumbnails)
			}
			for _, w := range c.Images {
				if w == 0 {
					t.Errorf("order %s: the thumbnail did not load", tt.id)
				}
			}
		}

		tab.use(desktop)
		tab.mustFollow(fmt.Sprintf(`article.card h3 a[href="/orders/%s"]`, scanned))
		tab.mustPage("order-scanned")
		docs := mustEval[documents](tab, documentsJS)
		if len(docs.Images) == 0 {
			t.Error("the order page shows no page of its scan")
		}
		for i, w := range docs.Images {
			if w == 0 {
				t.Errorf("page %d of the scan did not load", i+1)
			}
		}
		if !strings.Contains(docs.OCR, "RESTRAINING ORDER AFTER HEARING") {
			t.Errorf("no machine-read text in details.ocr: %q", docs.OCR)
		}
		if strings.Contains(docs.Text, "No scan") {
			t.Error("an order with a scan says it has none")
		}
		if got, want := tab.mustText("ul.plain li"), "Ines Wrenfield · spouse"; got != want {
			t.Errorf("protected person = %q, want %q (no date of birth given)", got, want)
		}

		tab.mustOpen("/orders/"+unscanned, "order-unscanned")
		docs = mustEval[documents](tab, documentsJS)
		if !strings.Contains(docs.Text, "No scan has been uploaded") || len(docs.Images) != 0 || docs.OCR != "" {
			t.Errorf("an order without a scan shows %+v", docs)
		}

		tab.mustFollow(".who button")
		if got := tab.location(); got != "/login" {
			t.Errorf("signed out to %s, want /login", got)
		}
		tab.shot("signed-out")
		if tab.hasSession() {
			t.Error("the session cookie is still there after signing out")
		}
		if got := tab.mustOpen("/search", "search-after-sign-out"); !strings.HasPrefix(got, "/login") {
			t.Errorf("/search after signing out went to %s, want /login", got)
		}
	})
}

// TestBrowserClerk: a family clerk enters a DV-130 with its scan, meets
// the duplicate guard entering a second order of the same people and
// overrides it with a reason, then works the queues.
func TestBrowserClerk(t *testing.T) {
	deps := mustBrowserDeps(t)
	ts := mustServer(t)
	mustBrowserUser(t, ts, ccpor.User{Name: "Lena Ortiz", Role: ccpor.RoleClerk, County: "Alameda",
		Division: ccpor.DivisionFamily, Username: "clerk1"})
	waiting := mustHearingPassed(t, ts)
	b := mustChrome(t, deps)
	var entered []string // the orders the clerk entered

	t.Run("EnterOrder", func(t *testing.T) {
		tab := b.mustTab(t, ts.srv.URL, desktop)
		tab.mustSignIn("clerk1")
		if got, want := tab.menu(), []string{"Search", "New order", "Work queues", "Statistics"}; !slices.Equal(got, want) {
			t.Errorf("a clerk's menu = %q, want %q", got, want)
		}

		first := intakeOrder{caseNumber: "26FL000812"}
		tab.mustFollow(`nav a[href="/intake"]`)
		tab.mustPage("intake-choose")
		tab.mustChooseForm("DV/after_hearing/DV-130")
		if got := tab.mustText(".intake-head h1"); !strings.HasPrefix(got, "DV-130 · Domestic violence restraining order") {
			t.Errorf("the form's caption is %q", got)
		}
		tab.mustPage("intake-form")
		tab.use(phone)
		tab.mustPage("intake-form")
		tab.use(desktop)
		first.fill(tab)
		tab.mustFollow(`button[name="step"][value="enter"]`)
		id, ok := strings.CutPrefix(tab.location(), "/orders/")
		if !ok {
			t.Fatalf("the entered order went to %s, want its page: %s", tab.location(), tab.mustText("main"))
		}
		entered = append(entered, id)
		tab.mustPage("order-entered")
		tab.mustEntered(first)

		// The same people again under another case number: the guard
		// stops it with the order it may duplicate, until the clerk says
		// why it is a different order.
		second := intakeOrder{caseNumber: "26FL000907"}
		tab.mustFollow(`nav a[href="/intake"]`)
		tab.mustChooseForm("DV/after_hearing/DV-130")
		second.fill(tab)
		if resp := tab.mustFollow(`button[name="step"][value="enter"]`); resp.Status != 409 {
			t.Errorf("a likely duplicate: status %d, want 409", resp.Status)
		}
		tab.mustPage("intake-duplicate")
		if !tab.visible("section.intake-dup") {
			t.Fatalf("no duplicate panel: %s", tab.mustText("main"))
		}
		if got, want := tab.mustText("#dup-title"), "Not saved: this looks like an order already registered"; got != want {
			t.Errorf("the panel says %q, want %q", got, want)
		}
		if got, want := tab.mustText(".candidates h3 a"), "DV-130 · Case 26FL000812 · Alameda County"; got != want {
			t.Errorf("the candidate is %q, want %q", got, want)
		}
		if got := mustEval[string](tab, `document.querySelector(".candidates h3 a").getAttribute("href")`); got != "/orders/"+id {
			t.Errorf("the candidate links to %s, want /orders/%s", got, id)
		}
		reason := "A separate petition, filed after a new incident."
		tab.mustFill(map[string]string{"override_reason": reason})
		tab.mustAttach("#override-scan", second.scanFile(t))
		tab.mustFollow(`button[name="step"][value="override"]`)
		id2, ok := strings.CutPrefix(tab.location(), "/orders/")
		if !ok || id2 == id {
			t.Fatalf("the override went to %s, want the new order's page: %s", tab.location(), tab.mustText("main"))
		}
		entered = append(entered, id2)
		tab.mustPage("order-override")
		tab.mustEntered(second)
		if got := tab.mustText("ol.history"); !strings.Contains(got, reason) {
			t.Errorf("the history %q does not give the reason", got)
		}
	})

	t.Run("Queues", func(t *testing.T) {
		tab := b.mustTab(t, ts.srv.URL, desktop)
		tab.mustSignIn("clerk1")
		tab.mustFollow(`nav a[href="/queues"]`)
		tab.mustPage("queues")
		if got, want := tab.mustText("h1"), "Work queues · Alameda County"; got != want {
			t.Errorf("heading %q, want %q", got, want)
		}
		listed := func(queue string) []string {
			return mustEval[[]string](tab, fmt.Sprintf(`[...document.querySelectorAll("#%s tbody a")].map(a => a.getAttribute("href"))`, queue))
		}
		if got, want := listed("hearing_passed"), []string{"/orders/" + waiting}; !slices.Equal(got, want) {
			t.Errorf("temporary orders past their hearing: %q, want %q", got, want)
		}
		// Entered without a word on service, both wait for proof of it.
		unserved := listed("unserved")
		for _, id := range entered {
			if !slices.Contains(unserved, "/orders/"+id) {
				t.Errorf("order %s, entered without service, is not in the unserved queue %q", id, unserved)
			}
		}
		tab.mustFollow(fmt.Sprintf(`#hearing_passed a[href="/orders/%s"]`, waiting))
		tab.mustPage("queued-order")
		if got := tab.mustText("h1"); !strings.Contains(got, "26FL000455") {
			t.Errorf("the queued order's page is %q", got)
		}
	})
}

// TestBrowserJudge: a judge checks a proposed order against the registry,
// reads the related order with the conflicting terms marked and which
// order prevails, prints it, and checks people with no order.
func TestBrowserJudge(t *testing.T) {
	deps := mustBrowserDeps(t)
	ts := mustServer(t)
	mustBrowserUser(t, ts, ccpor.User{Name: "Judge Ada Okafor", Role: ccpor.RoleJudge, County: "Alameda", Username: "judge1"})
	// In the registry: a criminal no-contact order protecting Elena from
	// Marcus.
	cpo := order(0, ccpor.OrderCPO, ccpor.PhaseAfterHearing, "25CR004410", "2025-11-03", marcus,
		[]ccpor.Party{adult(elena, "spouse")}, ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"}})
	mustStore(t, ts, cpo)
	b := mustChrome(t, deps)

	t.Run("OK", func(t *testing.T) {
		tab := b.mustTab(t, ts.srv.URL, desktop)
		tab.mustSignIn("judge1")
		if got, want := tab.menu(), []string{"Search", "Conflict check", "Statistics"}; !slices.Equal(got, want) {
			t.Errorf("a judge's menu = %q, want %q", got, want)
		}
		tab.mustFollow(`nav a[href="/checks/conflict"]`)
		tab.mustPage("conflict-form")
		// The order on the bench: a DV order after hearing allowing
		// peaceful contact and supervised visitation.
		tab.mustFill(map[string]string{"#cc-type": "DV", "#cc-phase": "after_hearing", "case_number": "26FL000100",
			"restrained.first": "Marcus", "restrained.last": "Delgado", "#cc-restrained-dob": "1988-04-12", "#cc-restrained-sex": "M",
			"protected[0].first": "Elena", "protected[0].last": "Delgado", "#cc-protected-0-dob": "1990-07-03",
			"protected[0].relationship": "spouse", "terms.stay_away_yards": "100", "#cc-terms-visitation": "supervised"})
		tab.mustTick("#cc-terms-conduct", "#cc-terms-peaceful-contact", "#cc-terms-stay-away-places-residence")
		tab.mustFollow(".conflict-form button")
		tab.mustPage("conflict-related")
		if got := tab.mustText("#result-heading"); !strings.Contains(got, "1 related order found") {
			t.Errorf("the outcome is %q", got)
		}
		related := fmt.Sprintf(`article.ccard:not(.proposed) h3 a[href="/orders/%s"]`, cpo.ID)
		if !tab.visible(related) || !tab.visible("article.ccard.proposed") {
			t.Error("the related order is not shown beside the proposed one")
		}
		if got, want := tab.mustText(related), "CR-160 · case 25CR004410"; got != want {
			t.Errorf("the related order's card is %q, want %q", got, want)
		}
		marked := mustEval[[]string](tab, `[...document.querySelectorAll("li.conflicting mark")].filter(m => m.getClientRects().length).map(m => m.textContent)`)
		for _, want := range []string{"Peaceful contact only", "No contact, direct or indirect"} {
			if !slices.Contains(marked, want) {
				t.Errorf("the term %q is not marked as conflicting: %q", want, marked)
			}
		}
		if !tab.visible("table.precedence") {
			t.Fatal("the precedence table is not shown")
		}
		prevails := mustEval[[]string](tab, `[...document.querySelectorAll("table.precedence tbody tr")].map(r => r.innerText.replace(/\s+/g, " "))`)
		if !slices.ContainsFunc(prevails, func(r string) bool { return strings.Contains(r, "CR-160") && strings.Contains(r, "no-contact") }) {
			t.Errorf("the precedence table does not say the no-contact order prevails: %q", prevails)
		}

		// The printout for the file: the answer and who checked when,
		// without the menu and the form.
		tab.media("print")
		tab.shot("conflict-related-print")
		for sel, want := range map[string]bool{"#result": true, ".check-stamp": true, "table.precedence": true,
			".top nav": false, ".who form": false, ".conflict-form-panel": false, ".skip": false} {
			if got := tab.visible(sel); got != want {
				t.Errorf("printed, %s shown = %v, want %v", sel, got, want)
			}
		}
		if got := tab.mustText(".check-stamp"); !strings.HasPrefix(got, "Conflict check of 2026-03-02 17:00 UTC by Judge Ada Okafor") {
			t.Errorf("the printout's stamp is %q", got)
		}
		tab.media("")
		if !tab.visible(".conflict-form-panel") {
			t.Fatal("the form is hidden on screen after printing")
		}

		// The form under the answer, changed to people no order names.
		tab.mustFill(map[string]string{"#cc-restrained-first": "Wendell", "#cc-restrained-last": "Farrow", "#cc-restrained-dob": "1979-02-11",
			"#cc-protected-0-first": "Opal", "#cc-protected-0-last": "Lindqvist", "#cc-protected-0-dob": "1982-12-01"})
		tab.mustFollow(".conflict-form button")
		tab.mustPage("conflict-none")
		if !tab.visible(".outcome-none") {
			t.Fatalf("no \"none found\" panel: %s", tab.mustText("main"))
		}
		if got := tab.mustText(".outcome-none h2"); !strings.Contains(got, "No related orders found") {
			t.Errorf("the outcome is %q", got)
		}
		if n := mustEval[int](tab, `document.querySelectorAll("article.ccard:not(.proposed)").length`); n != 0 {
			t.Errorf("%d related orders shown for people no order names", n)
		}
	})
}

// TestBrowserTribal: a tribal court searches and reads an order, and is
// offered nothing to change.
func TestBrowserTribal(t *testing.T) {
	deps := mustBrowserDeps(t)
	ts := mustServer(t)
	scanned, _ := mustBrowserOrders(t, ts)
	mustBrowserUser(t, ts, ccpor.User{Name: "Rosa Tsosie", Role: ccpor.RoleTribal, Organisation: "Yurok Tribal Court", Username: "tribal1"})
	b := mustChrome(t, deps)

	t.Run("ReadOnly", func(t *testing.T) {
		tab := b.mustTab(t, ts.srv.URL, desktop)
		tab.mustSignIn("tribal1")
		tab.mustPage("search")
		if got, want := tab.menu(), []string{"Search", "Statistics"}; !slices.Equal(got, want) {
			t.Errorf("a tribal court's menu = %q, want %q", got, want)
		}
		tab.mustSubmit("form.search-form button", map[string]string{"last": "wrenf", "#status": "any"})
		tab.mustPage("search-results")
		if got := tab.mustText("#results"); got != "2 orders found" {
			t.Errorf("results heading %q, want 2 orders found", got)
		}
		tab.mustFollow(fmt.Sprintf(`article.card h3 a[href="/orders/%s"]`, scanned))
		tab.mustPage("order")
		if got := tab.mustText("h1"); !strings.Contains(got, "26FL000412") {
			t.Errorf("the order page is %q", got)
		}
		docs := mustEval[documents](tab, documentsJS)
		if len(docs.Images) != 1 || docs.Images[0] == 0 {
			t.Errorf("the scan's pages as a tribal court sees them: %v (natural widths), want one loaded", docs.Images)
		}
		if tab.visible("form.service-form") || strings.Contains(tab.mustText("main"), "Record service") {
			t.Error("a tribal court is offered the service form")
		}
		if n := mustEval[int](tab, `document.querySelectorAll("main form").length`); n != 0 {
			t.Errorf("the order page has %d forms for a tribal court", n)
		}
		// A page outside the role, typed in, is refused. The refusal is
		// the API's problem document (JSON), not a page: photographed,
		// but axe has no page to check.
		if resp := tab.mustGo("/intake"); resp.Status != 403 {
			t.Errorf("a tribal court opening intake: %d, want 403", resp.Status)
		}
		tab.shot("intake-refused")
	})
}

// intakeOrder is an order the clerk types into the DV-130 intake form:
// the same people each time, under its case number.
type intakeOrder struct {
	caseNumber string
}

func (o intakeOrder) order() *ccpor.Order {
	return &ccpor.Order{Type: ccpor.OrderDV, Phase: ccpor.PhaseAfterHearing, Form: "DV-130", County: "Alameda",
		CaseNumber: o.caseNumber, IssuedOn: day("2026-02-27"),
		Restrained: ccpor.Person{First: "Rafael", Last: "Okonkwo", DOB: day("1985-09-17"), Sex: "M"},
		Protected:  []ccpor.Party{adult(ccpor.Person{First: "Adaeze", Last: "Okonkwo"}, "spouse")},
		Terms:      ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, StayAwayPlaces: []string{"residence"}, Firearms: true}}
}

// scanFile writes the generated scan of the signed order and returns its path.
func (o intakeOrder) scanFile(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "dv-130-"+o.caseNumber+".png")
	if err := os.WriteFile(file, pngBytes(t, fixtures.OrderScan(o.order(), fixtures.ScanOptions{DPI: 100})), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// fill types the order into the intake form shown, and attaches its scan.
func (o intakeOrder) fill(tab *tab) {
	tab.t.Helper()
	tab.mustFill(map[string]string{"case_number": o.caseNumber, "court": "Hayward Hall of Justice, Dept. 505", "#f-issued-on": "2026-02-27",
		"restrained.first": "Rafael", "restrained.last": "Okonkwo", "#f-restrained-dob": "1985-09-17", "#f-restrained-sex": "M",
		"protected[0].first": "Adaeze", "protected[0].last": "Okonkwo", "protected[0].relationship": "spouse",
		"terms.stay_away_yards": "100"})
	tab.mustTick("#f-terms-conduct", "#f-terms-contact-none", `[name="terms.stay_away_places"][value="residence"]`, "#f-terms-firearms")
	tab.mustAttach("#f-scan", o.scanFile(tab.t))
}

// mustChooseForm picks the Judicial Council form on the intake page and
// goes on to its form.
func (tab *tab) mustChooseForm(value string) {
	tab.t.Helper()
	tab.mustSubmit(`form[action="/intake"] button`, map[string]string{"#choose-form": value})
	if got, want := tab.location(), "/intake?form="+strings.NewReplacer("/", "%2F").Replace(value); got != want {
		tab.t.Fatalf("chose the form at %s, want %s", got, want)
	}
}

// mustEntered checks that the order page shown is the order as typed,
// with its scan.
func (tab *tab) mustEntered(o intakeOrder) {
	tab.t.Helper()
	if got, want := tab.mustText("h1"), "DV-130 · after hearing DV order · Case "+o.caseNumber; got != want {
		tab.t.Errorf("the entered order's heading is %q, want %q", got, want)
	}
	if got := tab.mustText(".banner"); !strings.Contains(got, "ACTIVE") || !strings.Contains(got, "FIREARMS PROHIBITED") {
		tab.t.Errorf("the entered order's banner is %q", got)
	}
	if got, want := tab.mustText("p.name"), "Rafael Okonkwo"; got != want {
		tab.t.Errorf("restrained person %q, want %q", got, want)
	}
	docs := mustEval[documents](tab, documentsJS)
	if len(docs.Images) != 1 {
		tab.t.Errorf("the order page shows %d pages of the scan, want 1: %q", len(docs.Images), docs.Text)
	}
	for _, w := range docs.Images {
		if w == 0 {
			tab.t.Error("the scan's thumbnail did not load")
		}
	}
}

// mustHearingPassed stores a temporary order of Alameda County whose
// hearing date has passed with no order after hearing: the clerk's queue.
func mustHearingPassed(t *testing.T, ts *testServer) string {
	t.Helper()
	o := order(0, ccpor.OrderDV, ccpor.PhaseTemporary, "26FL000455", "2026-01-30",
		ccpor.Person{First: "Gregory", Last: "Hale", DOB: day("1977-12-02"), Sex: "M"},
		[]ccpor.Party{adult(ccpor.Person{First: "Dana", Last: "Hale"}, "former spouse")},
		ccpor.Terms{Conduct: true, StayAwayYards: 100})
	o.ExpiresAt = day("2026-02-20")
	mustStore(t, ts, o)
	return o.ID
}

// mustStore stores orders as a loader would, and waits for the index.
func mustStore(t *testing.T, ts *testServer, orders ...*ccpor.Order) {
	t.Helper()
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{Name: "loader", Role: ccpor.RoleAdmin})
	for _, o := range orders {
		if err := o.Prepare(now); err != nil {
			t.Fatal(err)
		}
		if err := ts.db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if !ts.follower.Sync(ctx, 10*time.Second) {
		t.Fatal("index did not catch up")
	}
}

// mustBrowserUser adds a user who signs in with browserPassword.
func mustBrowserUser(t *testing.T, ts *testServer, u ccpor.User) {
	t.Helper()
	if _, _, err := ts.db.AddUser(context.Background(), &u, ccpor.NewUser{Password: browserPassword}); err != nil {
		t.Fatal(err)
	}
}

// card is a search hit card as the page shows it.
type card struct {
	Href   string `json:"href"`
	Banner string `json:"banner"`
	Images []int  `json:"images"` // natural widths: 0 when an image did not load
}

// documents is the #documents section of an order page.
type documents struct {
	Text   string `json:"text"`
	Images []int  `json:"images"`
	OCR    string `json:"ocr"`
}

const documentsJS = `(() => {
	const s = document.querySelector("#documents");
	const ocr = s.querySelector("details.ocr");
	return {text: s.innerText, images: [...s.querySelectorAll("img")].map(i => i.naturalWidth),
		ocr: ocr ? ocr.textContent : ""};
})()`

// mustBrowserOrders stores two orders of one restrained person: one in
// effect, served, with a scan of the signed order read by OCR, and an
// older one, expired and never served, with no scan.
func mustBrowserOrders(t *testing.T, ts *testServer) (scanned, unscanned string) {
	t.Helper()
	ctx := context.Background()
	wrenfield := ccpor.Person{First: "Tobias", Last: "Wrenfield", DOB: day("1979-06-14"), Sex: "M", Race: "W",
		HeightIn: 71, WeightLb: 190, Hair: "BRO", Eyes: "BLU"}
	current := order(0, ccpor.OrderDV, ccpor.PhaseAfterHearing, "26FL000412", "2026-01-12", wrenfield,
		[]ccpor.Party{adult(ccpor.Person{First: "Ines", Last: "Wrenfield"}, "spouse")},
		ccpor.Terms{Conduct: true, NoContact: true, StayAwayYards: 100, Firearms: true})
	old := order(0, ccpor.OrderDV, ccpor.PhaseAfterHearing, "20FL003310", "2020-11-02", wrenfield,
		[]ccpor.Party{adult(ccpor.Person{First: "Carla", Last: "Mendes"}, "former partner")},
		ccpor.Terms{Conduct: true, StayAwayYards: 50})
	old.Service = ccpor.Service{Status: ccpor.NotServed}
	for _, o := range []*ccpor.Order{current, old} {
		if err := o.Prepare(now); err != nil {
			t.Fatal(err)
		}
		if err := ts.db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if old.Status != ccpor.StatusExpired {
		t.Fatalf("the old order is %s, want expired", old.Status)
	}

	data := pngBytes(t, fixtures.OrderScan(current, fixtures.ScanOptions{DPI: 100}))
	d := &ccpor.Document{OrderID: current.ID, Kind: ccpor.DocSignedOrder, MediaType: "image/png",
		Filename: "dv-130.png", Size: int64(len(data)), SHA256: sha256Hex(data), Pages: 1, Redacted: true}
	if _, err := ts.db.CreateDocument(ctx, d, strings.NewReader(string(data))); err != nil {
		t.Fatal(err)
	}
	// The OCR worker's part, without the seconds tesseract takes: the
	// pages show what was read, not how.
	job, err := ts.db.TakeOCRJob(ctx)
	if err != nil || job == nil || job.Document.ID != d.ID {
		t.Fatalf("TakeOCRJob = %+v, %v", job, err)
	}
	text := "SUPERIOR COURT OF CALIFORNIA, COUNTY OF ALAMEDA\nDV-130 RESTRAINING ORDER AFTER HEARING\n" +
		"Case number 26FL000412\nRestrained person: Tobias Wrenfield"
	if err := ts.db.FinishOCR(ctx, d.ID, []string{text}); err != nil {
		t.Fatal(err)
	}
	if !ts.follower.Sync(ctx, 10*time.Second) {
		t.Fatal("index did not catch up")
	}
	return current.ID, old.ID
}

// browserDeps are what the browser tests need from outside Go.
type browserDeps struct {
	chromium string
	axe      string // axe-core's script
}

// mustBrowserDeps finds Chromium and axe-core. Without them the browser
// tests are skipped on a developer's machine; in CI they fail.
func mustBrowserDeps(t *testing.T) browserDeps {
	t.Helper()
	var missing []string
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		missing = append(missing, "chromium (Debian package chromium)")
	}
	axe, err := os.ReadFile(filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		missing = append(missing, "axe-core (npm ci --prefix api/testdata/axe)")
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("the browser tests need %s: `make test-deps` installs them", strings.Join(missing, " and "))
		if os.Getenv("CI") == "" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return browserDeps{chromium: chromium, axe: string(axe)}
}

// chrome is one headless Chromium shared by a test's tabs.
type chrome struct {
	ctx   context.Context
	axe   string
	shots string // directory of the screenshots
}

func mustChrome(t *testing.T, deps browserDeps) *chrome {
	t.Helper()
	dir := os.Getenv("CCPOR_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", ".artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(deps.chromium),
		// CI runs as root, where Chromium's sandbox cannot start.
		chromedp.NoSandbox,
		chromedp.WindowSize(int(desktop.width), int(desktop.height)),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", deps.chromium, err)
	}
	return &chrome{ctx: ctx, axe: deps.axe, shots: dir}
}

// tab is a browser tab with cookies of its own, as a new user's browser.
type tab struct {
	t     *testing.T
	b     *chrome
	ctx   context.Context
	base  string
	view  viewport
	shots int
}

func (b *chrome) mustTab(t *testing.T, base string, v viewport) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// A stuck page fails the test instead of hanging it.
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	tab := &tab{t: t, b: b, ctx: ctx, base: base}
	tab.use(v)
	return tab
}

// use sets the tab's viewport.
func (tab *tab) use(v viewport) {
	tab.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(tab.ctx, chromedp.EmulateViewport(v.width, v.height, opts...)); err != nil {
		tab.t.Fatal(err)
	}
	tab.view = v
}

// mustOpen goes to path and returns where the browser ended up, after
// redirects. With a name, the page is checked and photographed (mustPage).
func (tab *tab) mustOpen(path, name string) string {
	tab.t.Helper()
	tab.mustGo(path)
	if name != "" {
		tab.mustPage(name)
	}
	return tab.location()
}

// mustGo goes to path, as typed into the address bar, and returns the
// answer the page came with.
func (tab *tab) mustGo(path string) *network.Response {
	tab.t.Helper()
	resp, err := chromedp.Run(tab.ctx, chromedp.NavigateResponse(tab.base+path))
	if err != nil {
		tab.t.Fatalf("open %s: %v", path, err)
	}
	return resp
}

// mustSignIn signs in through the sign-in form, as a user who opens the
// registry, and lands on the search page.
func (tab *tab) mustSignIn(username string) {
	tab.t.Helper()
	tab.mustGo("/login")
	tab.mustSubmit(`form[action="/login"] button`, map[string]string{"username": username, "password": browserPassword})
	if got := tab.location(); got != "/search" {
		tab.t.Fatalf("%s signed in to %s, want /search: %s", username, got, tab.mustText("main"))
	}
}

// mustSubmit fills in the form (mustFill) and presses the button.
func (tab *tab) mustSubmit(button string, fields map[string]string) *network.Response {
	tab.t.Helper()
	tab.mustFill(fields)
	return tab.mustFollow(button)
}

// mustFill types into the form's fields, by name; with "#id" it sets the
// value as a picker does (a select, a date), replacing what was there.
func (tab *tab) mustFill(fields map[string]string) {
	tab.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for k, v := range fields {
		if id, ok := strings.CutPrefix(k, "#"); ok {
			steps = append(steps, chromedp.SetValue(chromedp.ID(id), v))
		} else {
			steps = append(steps, chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("[name=%q]", k)), v))
		}
	}
	if err := chromedp.Do(tab.ctx, steps...); err != nil {
		tab.t.Fatalf("fill in the form: %v", err)
	}
}

// mustTick clicks checkboxes and radio buttons, and fails unless each is
// then checked.
func (tab *tab) mustTick(selectors ...string) {
	tab.t.Helper()
	for _, sel := range selectors {
		if err := chromedp.Do(tab.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			tab.t.Fatalf("tick %s: %v", sel, err)
		}
		if !mustEval[bool](tab, fmt.Sprintf(`document.querySelector(%q).checked`, sel)) {
			tab.t.Fatalf("%s is not checked after a click", sel)
		}
	}
}

// mustFollow clicks what leads to another page and waits for it to load.
func (tab *tab) mustFollow(selector string) *network.Response {
	tab.t.Helper()
	resp, err := chromedp.RunResponse(tab.ctx, chromedp.Click(chromedp.CSS(selector)))
	if err != nil {
		tab.t.Fatalf("click %s: %v", selector, err)
	}
	return resp
}

// location is the path and query of the page shown.
func (tab *tab) location() string {
	tab.t.Helper()
	loc, err := chromedp.Run(tab.ctx, chromedp.Location())
	if err != nil {
		tab.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, tab.base)
}

func (tab *tab) mustText(selector string) string {
	tab.t.Helper()
	s, err := chromedp.Run(tab.ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		tab.t.Fatalf("text of %s: %v", selector, err)
	}
	return strings.TrimSpace(s)
}

// mustAttach chooses a file for the file input of the selector.
func (tab *tab) mustAttach(selector, file string) {
	tab.t.Helper()
	if err := chromedp.Do(tab.ctx, chromedp.SetUploadFiles(chromedp.CSS(selector), []string{file})); err != nil {
		tab.t.Fatalf("attach %s to %s: %v", file, selector, err)
	}
}

// visible reports whether an element of the selector is laid out on
// the page shown (not display: none, nor hidden).
func (tab *tab) visible(selector string) bool {
	tab.t.Helper()
	return mustEval[bool](tab, fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e =>
		e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")`, selector))
}

// menu is the labels of the main menu shown.
func (tab *tab) menu() []string {
	tab.t.Helper()
	return mustEval[[]string](tab, `[...document.querySelectorAll("header.top nav a")].map(a => a.textContent.trim())`)
}

// media emulates a CSS media type ("print"); "" goes back to the screen.
func (tab *tab) media(m string) {
	tab.t.Helper()
	if _, err := chromedp.Call(tab.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		tab.t.Fatalf("emulate media %q: %v", m, err)
	}
}

func (tab *tab) hasSession() bool {
	tab.t.Helper()
	res, err := chromedp.Call(tab.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tab.base + "/"}})
	if err != nil {
		tab.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == "ccpor_session" && c.Value != "" {
			return true
		}
	}
	return false
}

func mustEval[T any](tab *tab, js string) T {
	tab.t.Helper()
	v, err := chromedp.Run(tab.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		tab.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// mustPage photographs the page shown and checks its accessibility.
func (tab *tab) mustPage(name string) {
	tab.t.Helper()
	tab.shot(name)
	tab.checkAccessibility(name)
}

// shot saves a full-page screenshot as Test-Subtest-NN-name-viewport.png,
// NN counting the tab's pages.
func (tab *tab) shot(name string) {
	tab.t.Helper()
	buf, err := chromedp.Run(tab.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tab.t.Fatalf("screenshot %s: %v", name, err)
	}
	tab.shots++
	test := strings.ReplaceAll(strings.TrimPrefix(tab.t.Name(), "Test"), "/", "-")
	file := filepath.Join(tab.b.shots, fmt.Sprintf("%s-%02d-%s-%s.png", test, tab.shots, name, tab.view.name))
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		tab.t.Fatal(err)
	}
}

// violation is what axe-core found wrong with a page.
type violation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkAccessibility runs axe-core on the page: serious and critical
// violations fail the test, lesser ones are logged.
func (tab *tab) checkAccessibility(name string) {
	tab.t.Helper()
	if err := chromedp.Do(tab.ctx, chromedp.Evaluate[chromedp.Void](tab.b.axe)); err != nil {
		tab.t.Fatalf("load axe-core into %s: %v", name, err)
	}
	vs, err := chromedp.Run(tab.ctx, chromedp.Evaluate[[]violation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			targets: v.nodes.map(n => n.target.map(String).join(" "))})))`,
		chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		tab.t.Fatalf("axe on %s: %v", name, err)
	}
	for _, v := range vs {
		msg := fmt.Sprintf("%s (%s page, %s): %s [%s] at %s", name, tab.view.name, tab.location(), v.Help, v.ID, strings.Join(v.Targets, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			tab.t.Errorf("%s accessibility violation: %s", v.Impact, msg)
		} else {
			tab.t.Logf("%s accessibility issue: %s", v.Impact, msg)
		}
	}
}
