package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/store"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// statsAnswer is GET /api/v1/stats's answer as a client reads it: a
// withheld count is null.
type statsAnswer struct {
	AsOf   time.Time       `json:"as_of"`
	County string          `json:"county"`
	Type   ccpor.OrderType `json:"type"`
	Months []string        `json:"months"`
	Series []struct {
		Type   ccpor.OrderType `json:"type"`
		Name   string          `json:"name"`
		Active []*int          `json:"active"`
		Issued []*int          `json:"issued"`
	} `json:"series"`
	Total *struct {
		Active []*int `json:"active"`
		Issued []*int `json:"issued"`
	} `json:"total"`
	Definitions map[string]string `json:"definitions"`
	Suppression struct {
		Threshold int    `json:"threshold"`
		Rule      string `json:"rule"`
	} `json:"suppression"`
	Notes []string `json:"notes"`
}

// active returns the orders in effect of one series as text, "-" for a
// withheld count.
func (a statsAnswer) active(typ ccpor.OrderType) string {
	var out []string
	for _, s := range a.Series {
		if s.Type == typ {
			for _, n := range s.Active {
				out = append(out, countText(n))
			}
			return strings.Join(out, " ")
		}
	}
	return "no series"
}

func countText(n *int) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

// statsPeople are the people of the statistics' orders: nothing of them
// may be in an answer.
var statsPeople = []string{"Roberto", "García", "1984-05-07", "Ana", "25FL00"}

// mustStatsOrders stores, and counts into the statistics: six DV orders
// of Los Angeles from January 2025; two CH orders of Alpine, a count
// small enough to point to someone; five juvenile orders of Alameda,
// counted statewide only; three sealed DV orders of Alpine, not counted.
func mustStatsOrders(t *testing.T, ts *testServer) {
	t.Helper()
	var orders []*ccpor.Order
	add := func(n int, county string, typ ccpor.OrderType, issued ccpor.Date, sealed bool) {
		for range n {
			orders = append(orders, &ccpor.Order{
				ID: uuid.NewString(), Type: typ, Phase: ccpor.PhaseAfterHearing, Form: "DV-130", County: county,
				CaseNumber: fmt.Sprintf("25FL00%04d", len(orders)), IssuedOn: issued, ExpiresAt: issued.AddYears(3),
				Restrained: ccpor.Person{First: "Roberto", Last: "García López", DOB: ccpor.NewDate(1984, time.May, 7), Sex: "M", Race: "H"},
				Protected:  []ccpor.Party{{Person: ccpor.Person{First: "Ana", Last: "García"}, Relationship: "spouse"}},
				Sealed:     sealed,
			})
		}
	}
	add(6, "Los Angeles", ccpor.OrderDV, ccpor.NewDate(2025, 1, 10), false)
	add(2, "Alpine", ccpor.OrderCH, ccpor.NewDate(2025, 1, 12), false)
	add(5, "Alameda", ccpor.OrderJV, ccpor.NewDate(2025, 1, 3), false)
	add(3, "Alpine", ccpor.OrderDV, ccpor.NewDate(2025, 1, 20), true)
	ctx := context.Background()
	if _, err := ts.db.InsertOrders(ctx, orders, "import", "test"); err != nil {
		t.Fatal(err)
	}
	if ok, err := ts.db.RefreshStats(ctx); err != nil || !ok {
		t.Fatalf("RefreshStats = %v, %v", ok, err)
	}
}

func (ts *testServer) mustStats(query string) statsAnswer {
	ts.t.Helper()
	resp, body := ts.do("", "GET", "/api/v1/stats?"+query, nil)
	if resp.StatusCode != http.StatusOK {
		ts.t.Fatalf("GET /api/v1/stats?%s: %d %s", query, resp.StatusCode, body)
	}
	for _, p := range statsPeople {
		if strings.Contains(string(body), p) {
			ts.t.Errorf("the statistics carry %q, of an order's people or case:\n%s", p, body)
		}
	}
	var a statsAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		ts.t.Fatal(err)
	}
	return a
}

// TestStatsAPI: the statistics are public, answer counts by month and
// type with the rule that withholds small ones, and nothing of a person.
func TestStatsAPI(t *testing.T) {
	ts := mustServer(t)
	mustStatsOrders(t, ts)
	const months = "from=2025-01&to=2025-03"

	t.Run("Statewide", func(t *testing.T) {
		a := ts.mustStats(months) // no token: public
		if diff := cmp.Diff([]string{"2025-01", "2025-02", "2025-03"}, a.Months); diff != "" {
			t.Errorf("months (-want +got):\n%s", diff)
		}
		var types []ccpor.OrderType
		for _, s := range a.Series {
			types = append(types, s.Type)
			if s.Name == "" || len(s.Active) != 3 || len(s.Issued) != 3 {
				t.Errorf("series %s: %+v", s.Type, s)
			}
		}
		if diff := cmp.Diff(ccpor.OrderTypes, types); diff != "" {
			t.Errorf("series (-want +got):\n%s", diff)
		}
		if got, want := a.active(ccpor.OrderDV), "6 6 6"; got != want {
			t.Errorf("DV in effect = %s, want %s (the sealed orders not counted)", got, want)
		}
		// Alpine's two CH orders are withheld; so is the statewide JV
		// count, else the total less the others would give CH away.
		if got, want := a.active(ccpor.OrderCH), "- - -"; got != want {
			t.Errorf("CH in effect = %s, want %s", got, want)
		}
		if got, want := a.active(ccpor.OrderJV), "- - -"; got != want {
			t.Errorf("JV in effect = %s, want %s", got, want)
		}
		if a.Total == nil || countText(a.Total.Active[0]) != "13" {
			t.Errorf("total = %+v, want 13 in effect", a.Total)
		}
		if a.Suppression.Threshold != store.SuppressBelow || !strings.Contains(a.Suppression.Rule, "2265(d)(3)") {
			t.Errorf("suppression = %+v", a.Suppression)
		}
		if a.Definitions["active"] == "" || a.Definitions["issued"] == "" || len(a.Notes) == 0 {
			t.Errorf("definitions %v, notes %v", a.Definitions, a.Notes)
		}
		if a.AsOf.IsZero() || a.County != "" || a.Type != "" {
			t.Errorf("as_of %v, county %q, type %q", a.AsOf, a.County, a.Type)
		}
	})
	t.Run("County", func(t *testing.T) {
		a := ts.mustStats(months + "&county=alpine")
		if a.County != "Alpine" {
			t.Errorf("county = %q, want Alpine", a.County)
		}
		if got := a.active(ccpor.OrderJV); got != "no series" {
			t.Errorf("a county's JV series: %s; juvenile orders are counted statewide only", got)
		}
		if got, want := a.active(ccpor.OrderCH), "- - -"; got != want {
			t.Errorf("Alpine CH = %s, want %s", got, want)
		}
		if got, want := a.active(ccpor.OrderDV), "0 0 0"; got != want {
			t.Errorf("Alpine DV = %s, want %s: its orders are sealed", got, want)
		}
		a = ts.mustStats(months + "&county=Los+Angeles&type=dv")
		if len(a.Series) != 1 || a.Type != ccpor.OrderDV || a.Total != nil {
			t.Fatalf("one type: %+v", a)
		}
		if got, want := a.active(ccpor.OrderDV), "6 6 6"; got != want {
			t.Errorf("Los Angeles DV = %s, want %s", got, want)
		}
		if got := ts.mustStats("county=Alameda&from=1990-01&to=1990-12"); len(got.Months) != 0 || len(got.Series[0].Active) != 0 {
			t.Errorf("months before the first order: %+v", got)
		}
	})
	t.Run("Audited", func(t *testing.T) {
		e := ts.mustOneEntry(store.AuditFilter{Action: "stats.read", ClientAddr: "127.0.0.1", Limit: 1})
		var detail struct{ County string }
		if err := json.Unmarshal(e.Detail, &detail); err != nil || e.UserID != 0 || e.Outcome != store.AuditOK || detail.County != "Alameda" {
			t.Errorf("audit entry = %+v %s", e, e.Detail)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for query, field := range map[string]string{
			"county=Atlantis":           "county",
			"type=XX":                   "type",
			"county=Alameda&type=JV":    "type",
			"from=2025-13":              "from",
			"from=2025-1":               "from",
			"to=25-01":                  "to",
			"from=2025-03&to=2025-01":   "from",
			"from=2010-01&to=2025-01":   "from",
			"status=active":             "status",
			"county=Kern&county=Fresno": "county",
		} {
			t.Run(query, func(t *testing.T) {
				resp, body := ts.do("", "GET", "/api/v1/stats?"+query, nil)
				p := mustProblem(t, resp, body, http.StatusBadRequest)
				if len(p.Errors) == 0 || p.Errors[0].Field != field {
					t.Errorf("problems = %+v, want one naming %s", p.Errors, field)
				}
			})
		}
	})
}

// TestStatsThrottled: the statistics have no user to hold to a rate, so
// each address is held to a user's search rate, the API and the page
// each.
func TestStatsThrottled(t *testing.T) {
	ts := mustServer(t, func(s *api.Server) { s.Limits.Search = slow })
	for i := range slow.Burst {
		if resp, body := ts.do("", "GET", "/api/v1/stats", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %.300s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := ts.do("", "GET", "/api/v1/stats", nil)
	mustProblem(t, resp, body, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	web := newWebClient(t, ts.srv.URL)
	for i := range slow.Burst {
		if resp, page := web.get("/stats"); resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d within the burst: %d %.300s", i+1, resp.StatusCode, page)
		}
	}
	if resp, page := web.get("/stats"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("page over the limit: %d, Retry-After %q: %.300s", resp.StatusCode, resp.Header.Get("Retry-After"), page)
	}
}

// TestStatsPage: the page is public, draws the chart as SVG with the
// same figures in tables under it, labels its form and states the rule;
// a signed-in user finds it in the menu.
func TestStatsPage(t *testing.T) {
	ts := mustServer(t)
	mustStatsOrders(t, ts)
	web := newWebClient(t, ts.srv.URL)

	t.Run("Public", func(t *testing.T) {
		resp, page := web.get("/stats?from=2025-01&to=2025-03")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200 without a session: %.500s", resp.StatusCode, page)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP = %q", csp)
		}
		for _, want := range []string{
			`<svg viewBox="0 0 720 300" role="img" aria-labelledby="chart-svg-title"`,
			`<g class="series series-DV">`,
			`<table class="stats">`,
			`<th scope="row">2025-01</th>`,
			`<label for="county">County</label>`,
			`<label for="type">Order type</label>`,
			`<td class="num withheld">withheld</td>`,
			`A count from 1 to 4 is withheld`,
			`Juvenile orders (Welfare and Institutions Code 827) are counted statewide only`,
			`href="/api/v1/stats?from=2025-01&amp;to=2025-03"`,
			`<a href="/login?next=/stats">sign in</a>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the page lacks %s", want)
			}
		}
		// The DV line has a point for each month: six orders in effect.
		if n := strings.Count(page[strings.Index(page, `series-DV">`):], "<circle"); n < 3 {
			t.Errorf("DV line has %d points, want 3", n)
		}
		// The page's CSP refuses inline styles: the chart uses classes and
		// SVG attributes only.
		if strings.Contains(page, "style=") {
			t.Error("the page has an inline style attribute, which its CSP blocks")
		}
		for _, p := range statsPeople {
			if strings.Contains(page, p) {
				t.Errorf("the page carries %q", p)
			}
		}
	})
	t.Run("Filters", func(t *testing.T) {
		_, page := web.get("/stats?county=los+angeles&type=DV&from=2025-01&to=2025-03")
		for _, want := range []string{`<option selected>Los Angeles</option>`, `<option value="DV" selected>`, `Protective orders in California · Los Angeles County`} {
			if !strings.Contains(page, want) {
				t.Errorf("the filtered page lacks %s", want)
			}
		}
		if strings.Contains(page, "series-CH") || strings.Contains(page, "All types") {
			t.Error("one type asked for, but the page shows others or a total")
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		resp, page := web.get("/stats?county=Atlantis")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `class="problem" role="alert"`) || !strings.Contains(page, `<label for="county">`) {
			t.Errorf("bad county: %d, want 400 with the form and the problem:\n%.1000s", resp.StatusCode, page)
		}
	})
	t.Run("Menu", func(t *testing.T) {
		mustBrowserUser(t, ts, ccpor.User{Name: "Dana Reyes", Role: ccpor.RoleOfficer, Username: "officer-stats"})
		if resp, _ := web.signIn("officer-stats", browserPassword); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in: %d", resp.StatusCode)
		}
		_, page := web.get("/search")
		if !strings.Contains(page, `<a href="/stats">Statistics</a>`) {
			t.Error("the menu has no Statistics")
		}
		_, page = web.get("/stats")
		if !strings.Contains(page, `<a href="/stats" aria-current="page">Statistics</a>`) || strings.Contains(page, "sign in</a>") {
			t.Error("signed in, the statistics page has no menu or still offers to sign in")
		}
	})
}

// TestBrowserStats opens the page in Chromium, on a phone and a desk: the
// chart is drawn with its colours from the style sheet (the CSP lets no
// inline style through), and axe-core finds the page accessible.
func TestBrowserStats(t *testing.T) {
	deps := mustBrowserDeps(t)
	ts := mustServer(t)
	mustStatsOrders(t, ts)
	b := mustChrome(t, deps)
	for _, v := range []viewport{phone, desktop} {
		tab := b.mustTab(t, ts.srv.URL, v)
		tab.mustOpen("/stats?from=2025-01&to=2025-03", "stats")
		if got, want := mustEval[string](tab, `getComputedStyle(document.querySelector(".stats-chart .series-DV path")).stroke`), "rgb(0, 114, 178)"; got != want {
			t.Errorf("%s: DV line stroke %q, want %q from app.css", v.name, got, want)
		}
		if w := mustEval[float64](tab, `document.querySelector(".stats-chart svg").getBoundingClientRect().width`); w < 300 || w > float64(v.width) {
			t.Errorf("%s: chart %.0f px wide", v.name, w)
		}
		tab.mustSubmit(`form[action="/stats"] button`, map[string]string{"#county": "Los Angeles"})
		if got := tab.location(); !strings.HasPrefix(got, "/stats?county=Los+Angeles") {
			t.Errorf("%s: the form went to %s", v.name, got)
		}
		if got := tab.mustText("h1"); !slices.Contains([]string{"Protective orders in California · Los Angeles County"}, got) {
			t.Errorf("%s: heading %q", v.name, got)
		}
		tab.mustPage("stats-county")
	}
}
