package api_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// exchangeOrder protects a woman whose address is confidential and a
// child whose identity is (FC 6252.5, 6301.5).
const exchangeOrder = `{
	"type": "DV", "phase": "after_hearing", "county": "Alameda", "case_number": "25FL004321", "issued_on": "2025-06-03",
	"restrained": {"first": "Tobias", "last": "Quintero", "dob": "1980-03-04", "sex": "M", "race": "H",
		"address": {"line1": "9 Respondent Road", "city": "Oakland", "state": "CA", "zip": "94601"}},
	"protected": [
		{"first": "Marta", "last": "Quintero", "relationship": "spouse",
			"address": {"line1": "77 Secret Lane", "city": "Fremont", "state": "CA", "zip": "94536"}},
		{"first": "Lucía", "last": "Quintero", "dob": "2017-04-09", "relationship": "child", "confidential": true}],
	"terms": {"conduct": true, "no_contact": true, "stay_away_yards": 100, "firearms": true},
	"service": {"status": "served_in_court"}
}`

// secrets are what only judges and clerks may see of exchangeOrder.
var secrets = []string{"77 Secret Lane", "Fremont", "94536", "Lucía", "2017-04-09"}

var exchangeCmp = cmp.Options{
	cmp.Comparer(func(a, b ccpor.Date) bool { return a == b }),
	cmpopts.IgnoreFields(ccpor.Order{}, "History", "Warnings"),
	cmpopts.EquateEmpty(),
}

func mustXML(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Fatalf("Content-Type = %q, want application/xml", ct)
	}
}

func TestExchangeOrder(t *testing.T) {
	ts := mustServer(t)
	created := ts.mustCreate(exchangeOrder)
	export := "/api/v1/orders/" + created.ID + "/export"

	for _, tt := range []struct {
		role ccpor.Role
		sees bool
	}{{ccpor.RoleJudge, true}, {ccpor.RoleClerk, true}, {ccpor.RoleOfficer, false}, {ccpor.RoleTribal, false}} {
		t.Run(string(tt.role), func(t *testing.T) {
			resp, body := ts.do(tt.role, "GET", export, nil)
			mustXML(t, resp, body)
			for _, s := range secrets {
				if got := strings.Contains(string(body), s); got != tt.sees {
					t.Errorf("the %s's document contains %q: %v, want %v", tt.role, s, got, tt.sees)
				}
			}
			if !tt.sees && !strings.Contains(string(body), ccpor.ConfidentialName) {
				t.Errorf("the %s is not told a confidential minor is protected", tt.role)
			}
			orders, err := ccpor.ParseNIEM(body)
			if err != nil || len(orders) != 1 {
				t.Fatalf("the export does not read back: %v, %d orders\n%s", err, len(orders), body)
			}
			// The document says what the JSON view says to the same user.
			resp, view := ts.do(tt.role, "GET", "/api/v1/orders/"+created.ID, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("view: %d %s", resp.StatusCode, view)
			}
			var want ccpor.Order
			if err := json.Unmarshal(view, &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&want, orders[0], exchangeCmp); diff != "" {
				t.Errorf("the document and the JSON view differ (-json +xml):\n%s", diff)
			}
		})
	}
	t.Run("JSON", func(t *testing.T) {
		_, want := ts.do(ccpor.RoleOfficer, "GET", "/api/v1/orders/"+created.ID, nil)
		resp, got := ts.do(ccpor.RoleOfficer, "GET", export+"?format=json", nil)
		if resp.StatusCode != http.StatusOK || string(got) != string(want) {
			t.Errorf("format=json: %d\n%s\nwant GET's\n%s", resp.StatusCode, got, want)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		trail, err := ts.db.AuditTrail(context.Background(), created.ID)
		if err != nil {
			t.Fatal(err)
		}
		var exports []string
		for _, e := range trail {
			if e.Action == "order.export" {
				exports = append(exports, e.UserName+" "+string(e.Detail))
			}
		}
		if want := []string{`Judge {"format": "niem"}`, `Clerk Alameda {"format": "niem"}`, `Officer {"format": "niem"}`, `Tribal Court {"format": "niem"}`}; !cmp.Equal(exports, want) {
			t.Errorf("exports audited: %q, want %q", exports, want)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, q := range []string{"?format=pdf", "?fromat=niem", "?format=niem&format=json"} {
			resp, body := ts.do(ccpor.RoleJudge, "GET", export+q, nil)
			mustProblem(t, resp, body, http.StatusBadRequest)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleJudge, "GET", "/api/v1/orders/7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11/export", nil)
		mustProblem(t, resp, body, http.StatusNotFound)
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		resp, body := ts.do("", "GET", export, nil)
		mustProblem(t, resp, body, http.StatusUnauthorized)
	})
	t.Run("JuvenileHidden", func(t *testing.T) {
		o, err := ccpor.ParseOrder([]byte(strings.NewReplacer(`"type": "DV"`, `"type": "JV"`, `25FL004321`, `25JV000777`).Replace(exchangeOrder)))
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Prepare(now); err != nil {
			t.Fatal(err)
		}
		if err := ts.db.CreateOrder(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		resp, body := ts.do(ccpor.RoleTribal, "GET", "/api/v1/orders/"+o.ID+"/export", nil)
		mustProblem(t, resp, body, http.StatusNotFound)
		resp, body = ts.do(ccpor.RoleOfficer, "GET", "/api/v1/orders/"+o.ID+"/export", nil)
		mustXML(t, resp, body)
	})
}

// xmlSearchResult reads what the tests check of a ccpor:SearchResult.
type xmlSearchResult struct {
	XMLName xml.Name `xml:"urn:ccpor:exchange:1.0 SearchResult"`
	Total   int      `xml:"urn:ccpor:exchange:1.0 SearchTotalQuantity"`
	Hits    []xmlHit `xml:"urn:ccpor:exchange:1.0 SearchHit"`
}

type xmlHit struct {
	Role   string `xml:"urn:ccpor:exchange:1.0 MatchRoleCode"`
	Person struct {
		Name string `xml:"http://release.niem.gov/niem/niem-core/5.0/ PersonName>PersonFullName"`
	} `xml:"urn:ccpor:exchange:1.0 MatchedPerson"`
	Order struct {
		ID    string   `xml:"http://release.niem.gov/niem/niem-core/5.0/ ActivityIdentification>IdentificationID"`
		Codes []string `xml:"http://release.niem.gov/niem/domains/jxdm/7.0/ ProtectionOrderConditionCode"`
	} `xml:"http://release.niem.gov/niem/domains/jxdm/7.0/ ProtectionOrder"`
}

func TestExchangeSearch(t *testing.T) {
	ts := mustServer(t)
	created := ts.mustCreate(exchangeOrder)
	exportSearch := func(t *testing.T, role ccpor.Role, body string) (xmlSearchResult, string) {
		t.Helper()
		resp, got := ts.do(role, "POST", "/api/v1/search/export", []byte(body))
		mustXML(t, resp, got)
		var r xmlSearchResult
		if err := xml.Unmarshal(got, &r); err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
		return r, string(got)
	}
	t.Run("Officer", func(t *testing.T) {
		r, doc := exportSearch(t, ccpor.RoleOfficer, `{"last": "quintero"}`)
		if r.Total == 0 || len(r.Hits) == 0 || r.Hits[0].Order.ID != created.ID {
			t.Fatalf("hits = %+v, want the Quintero order", r.Hits)
		}
		if got, want := r.Hits[0].Order.Codes, []string{"01", "02", "04", "05", "07"}; !cmp.Equal(got, want) {
			t.Errorf("condition codes %q, want %q", got, want)
		}
		for _, s := range append(secrets, "9 Respondent Road", "Marta") {
			if strings.Contains(doc, s) {
				t.Errorf("an officer's search result contains %q:\n%s", s, doc)
			}
		}
		var j candidatesAnswer
		_, body := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", []byte(`{"last": "quintero"}`))
		if err := json.Unmarshal(body, &j); err != nil {
			t.Fatal(err)
		}
		if len(j.Hits) != len(r.Hits) || j.Total != r.Total {
			t.Errorf("XML has %d hits of %d, JSON %d of %d", len(r.Hits), r.Total, len(j.Hits), j.Total)
		}
	})
	t.Run("ConfidentialMinor", func(t *testing.T) {
		r, doc := exportSearch(t, ccpor.RoleOfficer, `{"last": "quintero", "first": "lucia"}`)
		if strings.Contains(doc, "Lucía") || slices.ContainsFunc(r.Hits, func(h xmlHit) bool { return h.Role == "protected" }) {
			t.Errorf("an officer found the confidential minor:\n%s", doc)
		}
		r, _ = exportSearch(t, ccpor.RoleJudge, `{"last": "quintero", "first": "lucia"}`)
		if len(r.Hits) == 0 || r.Hits[0].Role != "protected" || r.Hits[0].Person.Name != "Lucía Quintero" {
			t.Errorf("a judge's search for the child: %+v", r.Hits)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		_, want := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", []byte(`{"last": "quintero"}`))
		resp, got := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search/export?format=json", []byte(`{"last": "quintero"}`))
		if resp.StatusCode != http.StatusOK || string(got) != string(want) {
			t.Errorf("format=json: %d\n%s\nwant POST /api/v1/search's\n%s", resp.StatusCode, got, want)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		// A search names the orders it returned in order_ids.
		var n int
		if err := ts.db.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM audit WHERE action = 'search' AND $1 = ANY(order_ids) AND outcome = 'ok'`, created.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n < 3 {
			t.Errorf("%d searches returning the order audited, want every one", n)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search/export?format=csv", []byte(`{"last": "quintero"}`))
		mustProblem(t, resp, body, http.StatusBadRequest)
		resp, body = ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search/export", []byte(`{"last": "quintero", "x": 1}`))
		mustProblem(t, resp, body, http.StatusBadRequest)
		resp, body = ts.do(ccpor.RoleTribal, "POST", "/api/v1/search/export", []byte(`{"last": "quintero"}`))
		mustProblem(t, resp, body, http.StatusForbidden)
	})
}
