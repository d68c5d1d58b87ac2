package api_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The web pages as an officer meets them: a real Chromium signs in, searches
// on a phone and reads an order on a desktop, and axe-core checks every page
// for accessibility. Screenshots of each page go to
// $CCPOR_ARTIFACTS/screenshots (default <repo>/.artifacts/screenshots).

const officerPassword = "a long password 123"

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
	if _, _, err := ts.db.AddUser(context.Background(), &ccpor.User{Name: "Dana Reyes", Role: ccpor.RoleOfficer,
		Organisation: "Fremont PD", Username: "officer1"}, ccpor.NewUser{Password: officerPassword}); err != nil {
		t.Fatal(err)
	}
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
		tab.mustSubmit(`form[action="/login"] button`, map[string]string{"username": "officer1", "password": officerPassword})
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
		msg := fmt.Sprintf("the browser tests need %s: `make deps` installs them", strings.Join(missing, " and "))
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
	if _, err := chromedp.Run(tab.ctx, chromedp.NavigateResponse(tab.base+path)); err != nil {
		tab.t.Fatalf("open %s: %v", path, err)
	}
	if name != "" {
		tab.mustPage(name)
	}
	return tab.location()
}

// mustSubmit types into the form's fields (by name; "#id" to set a
// select's value) and presses the button.
func (tab *tab) mustSubmit(button string, fields map[string]string) *network.Response {
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
	return tab.mustFollow(button)
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
