package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
)

// mustAuditEntries returns the audit entries f selects, newest first.
func (ts *testServer) mustAuditEntries(f store.AuditFilter) []store.AuditEntry {
	ts.t.Helper()
	es, err := ts.db.AuditQuery(context.Background(), f)
	if err != nil {
		ts.t.Fatal(err)
	}
	return es
}

// mustOneEntry returns the single audit entry f selects.
func (ts *testServer) mustOneEntry(f store.AuditFilter) store.AuditEntry {
	ts.t.Helper()
	es := ts.mustAuditEntries(f)
	if len(es) != 1 {
		ts.t.Fatalf("%d audit entries for %+v, want 1: %+v", len(es), f, es)
	}
	return es[0]
}

func TestAuditTrail(t *testing.T) {
	ts := mustServer(t)
	admin, err := ts.db.CreateUser(context.Background(), &ccpor.User{Name: "Admin", Role: ccpor.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	ts.tokens[ccpor.RoleAdmin] = admin
	missing := "7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11"

	t.Run("Unauthenticated", func(t *testing.T) {
		resp, body := ts.do("", "GET", "/api/v1/orders/"+missing, nil)
		mustProblem(t, resp, body, http.StatusUnauthorized)
		// A forged token from a client that claims to be elsewhere.
		req, _ := http.NewRequest("POST", ts.srv.URL+"/api/v1/search", strings.NewReader(`{"last": "garc"}`))
		req.Header.Set("Authorization", "Bearer ccpor_forged")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		req.Header.Set("X-Real-IP", "203.0.113.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged token: status %d", resp.StatusCode)
		}
		es := ts.mustAuditEntries(store.AuditFilter{Outcome: store.AuditUnauthenticated, Oldest: true})
		if len(es) != 2 {
			t.Fatalf("%d unauthenticated entries, want 2: %+v", len(es), es)
		}
		for i, want := range []struct{ action, order, detail string }{
			{"order.view", missing, `"bearer_token": false`},
			{"search", "", `"bearer_token": true`},
		} {
			e := es[i]
			if e.Action != want.action || e.OrderID != want.order || e.UserID != 0 || e.ClientAddr != "127.0.0.1" ||
				!strings.Contains(string(e.Detail), want.detail) || !strings.Contains(string(e.Detail), `"status": 401`) {
				t.Errorf("entry %d = %+v %s, want %s of %q from 127.0.0.1 with %s", i, e, e.Detail, want.action, want.order, want.detail)
			}
		}
	})
	t.Run("Denied", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/orders", []byte(validOrder))
		mustProblem(t, resp, body, http.StatusForbidden)
		e := ts.mustOneEntry(store.AuditFilter{Outcome: store.AuditDenied})
		if e.Action != "order.create" || e.UserName != "Officer" || e.Role != ccpor.RoleOfficer || e.ClientAddr != "127.0.0.1" {
			t.Errorf("entry = %+v", e)
		}
	})
	t.Run("NotFoundAndInvalid", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleJudge, "GET", "/api/v1/orders/"+missing, nil)
		mustProblem(t, resp, body, http.StatusNotFound)
		resp, body = ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", []byte(`{"last": "garc", "shoe_size": 11}`))
		mustProblem(t, resp, body, http.StatusBadRequest)
		if e := ts.mustOneEntry(store.AuditFilter{Outcome: store.AuditNotFound}); e.Action != "order.view" || e.OrderID != missing || e.Role != ccpor.RoleJudge {
			t.Errorf("entry = %+v", e)
		}
		if e := ts.mustOneEntry(store.AuditFilter{Outcome: store.AuditInvalid}); e.Action != "search" || e.Role != ccpor.RoleOfficer {
			t.Errorf("entry = %+v", e)
		}
	})

	var created ccpor.Order
	t.Run("SearchRecordsOrdersAndTerms", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(validOrder))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, &created); err != nil {
			t.Fatal(err)
		}
		resp, body = ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", []byte(`{"last": "garcia lopez", "first": "roberto"}`))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), created.ID) {
			t.Fatalf("search: %d %s, want order %s", resp.StatusCode, body, created.ID)
		}
		e := ts.mustOneEntry(store.AuditFilter{Action: "search", Outcome: store.AuditOK})
		if !slices.Equal(e.OrderIDs, []string{created.ID}) || e.Role != ccpor.RoleOfficer || e.ClientAddr != "127.0.0.1" ||
			!strings.Contains(string(e.Detail), `"last": "garcia lopez"`) || !strings.Contains(string(e.Detail), `"first": "roberto"`) {
			t.Errorf("entry = %+v %s, want order %s returned and the terms", e, e.Detail, created.ID)
		}
		// Asked by order, the trail names the search that showed it.
		if es := ts.mustAuditEntries(store.AuditFilter{OrderID: created.ID}); len(es) != 2 || es[0].Action != "search" || es[1].Action != "order.create" {
			t.Errorf("entries about the order = %+v, want the search and the create", es)
		}
	})
	t.Run("ListAdminOnly", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleJudge, "GET", "/api/v1/audit", nil)
		mustProblem(t, resp, body, http.StatusForbidden)
		if e := ts.mustOneEntry(store.AuditFilter{Action: "audit.read", Outcome: store.AuditDenied}); e.Role != ccpor.RoleJudge {
			t.Errorf("entry = %+v", e)
		}
		resp, body = ts.do(ccpor.RoleAdmin, "GET", "/api/v1/audit?shoe_size=11", nil)
		mustProblem(t, resp, body, http.StatusBadRequest)
	})
	t.Run("List", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleAdmin, "GET", "/api/v1/audit?order_id="+created.ID+"&limit=1", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got struct {
			Entries []struct {
				ID       int64    `json:"id"`
				Action   string   `json:"action"`
				OrderIDs []string `json:"order_ids"`
				Hash     string   `json:"hash"`
			} `json:"entries"`
			NextBefore int64 `json:"next_before"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Entries) != 1 || got.Entries[0].Action != "search" || !slices.Equal(got.Entries[0].OrderIDs, []string{created.ID}) ||
			len(got.Entries[0].Hash) != 64 || got.NextBefore != got.Entries[0].ID {
			t.Fatalf("answer = %s", body)
		}
		resp, body = ts.do(ccpor.RoleAdmin, "GET", "/api/v1/audit?order_id="+created.ID+"&before="+jsonInt(got.NextBefore), nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"order.create"`) || strings.Contains(string(body), "next_before") {
			t.Fatalf("second page: %d %s", resp.StatusCode, body)
		}
		// Reading the trail is itself in the trail, with the question.
		es := ts.mustAuditEntries(store.AuditFilter{Action: "audit.read", Outcome: store.AuditOK})
		if len(es) != 2 || es[1].UserName != "Admin" || es[1].Role != ccpor.RoleAdmin || !strings.Contains(string(es[1].Detail), created.ID) {
			t.Errorf("audit.read entries = %+v", es)
		}
	})
	t.Run("ChainHolds", func(t *testing.T) {
		v, err := ts.db.VerifyAudit(context.Background())
		if err != nil || !v.OK() || v.Rows < 10 {
			t.Errorf("verify = %+v, %v", v, err)
		}
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestAuditClientAddr checks that X-Forwarded-For is believed only from
// trusted proxies, and only as far as they vouch for it.
func TestAuditClientAddr(t *testing.T) {
	db := storetest.MustOpenDB(t)
	s := api.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Users, s.Audit = db, db
	s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, tc := range []struct{ xff, want string }{
		{"", "127.0.0.1"},
		{"198.51.100.7", "198.51.100.7"},
		// The client wrote the first address, the proxies the rest.
		{"203.0.113.9, 198.51.100.7, 10.1.1.1", "198.51.100.7"},
		{"not an address, 10.1.1.1", "10.1.1.1"},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/orders/x", nil)
		if tc.xff != "" {
			req.Header.Set("X-Forwarded-For", tc.xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		es, err := db.AuditQuery(context.Background(), store.AuditFilter{Limit: 1})
		if err != nil || len(es) != 1 {
			t.Fatalf("%v %+v", err, es)
		}
		if got := es[0].ClientAddr; got != tc.want {
			t.Errorf("X-Forwarded-For %q: client %s, want %s", tc.xff, got, tc.want)
		}
	}
}
