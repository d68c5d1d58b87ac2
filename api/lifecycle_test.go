package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
)

// change posts a lifecycle change as role and decodes the order answered.
func (ts *testServer) change(t *testing.T, role ccpor.Role, id, action, body string) (*http.Response, []byte, ccpor.Order) {
	t.Helper()
	resp, got := ts.do(role, "POST", "/api/v1/orders/"+id+"/"+action, []byte(body))
	var o ccpor.Order
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(got, &o); err != nil {
			t.Fatal(err)
		}
	}
	return resp, got, o
}

// mustView reads the current order.
func (ts *testServer) mustView(t *testing.T, id string) ccpor.Order {
	t.Helper()
	resp, got := ts.do(ccpor.RoleJudge, "GET", "/api/v1/orders/"+id, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("view: %d %s", resp.StatusCode, got)
	}
	var o ccpor.Order
	if err := json.Unmarshal(got, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// mustField fails unless the problem names every field.
func mustField(t *testing.T, p api.Problem, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if !slices.ContainsFunc(p.Errors, func(e ccpor.FieldProblem) bool { return e.Field == f }) {
			t.Errorf("no problem named for field %s in %+v", f, p.Errors)
		}
	}
}

// modifyBody wraps an order in a modification request.
func modifyBody(version int, reason, order string) string {
	return fmt.Sprintf(`{"version": %d, "reason": %q, "order": %s}`, version, reason, order)
}

func TestOrderModify(t *testing.T) {
	ts := mustServer(t)
	created := ts.mustCreate(validOrder)
	wider := strings.Replace(validOrder, `"stay_away_yards": 100`, `"stay_away_yards": 300`, 1)

	t.Run("OK", func(t *testing.T) {
		resp, body, o := ts.change(t, ccpor.RoleClerk, created.ID, "modify", modifyBody(1, "stay-away widened at the review hearing", wider))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if o.Version != 2 || o.Terms.StayAwayYards != 300 || o.Status != ccpor.StatusActive || o.ExpiresAt.String() != "2028-06-03" {
			t.Errorf("modified order = version %d, %d yards, %s, expires %s", o.Version, o.Terms.StayAwayYards, o.Status, o.ExpiresAt)
		}
		if len(o.Warnings) == 0 {
			t.Error("no warning that the expiry was computed again")
		}
	})
	t.Run("History", func(t *testing.T) {
		o := ts.mustView(t, created.ID)
		if len(o.History) != 2 {
			t.Fatalf("history = %+v, want 2 versions", o.History)
		}
		for i, want := range []ccpor.Version{
			{Version: 1, Action: "create", By: "Clerk Alameda (clerk)"},
			{Version: 2, Action: "modify", By: "Clerk Alameda (clerk)", Reason: "stay-away widened at the review hearing"},
		} {
			got := o.History[i]
			if got.Version != want.Version || got.Action != want.Action || got.By != want.By || got.Reason != want.Reason {
				t.Errorf("history[%d] = %+v, want %+v", i, got, want)
			}
		}
	})
	t.Run("OldVersion", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleTribal, "GET", "/api/v1/orders/"+created.ID+"/versions/1", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var v1 ccpor.Order
		if err := json.Unmarshal(body, &v1); err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v1.Terms.StayAwayYards != 100 || len(v1.History) != 1 {
			t.Errorf("version 1 = version %d, %d yards, %d history entries", v1.Version, v1.Terms.StayAwayYards, len(v1.History))
		}
		trail, err := ts.db.AuditTrail(context.Background(), created.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range trail {
			actions = append(actions, e.Action)
		}
		if !slices.Contains(actions, "order.modify") || actions[len(actions)-1] != "order.view_version" {
			t.Errorf("audit trail = %v, want order.modify and order.view_version", actions)
		}
		for _, v := range []string{"3", "0"} {
			resp, body := ts.do(ccpor.RoleJudge, "GET", "/api/v1/orders/"+created.ID+"/versions/"+v, nil)
			if v == "0" {
				mustProblem(t, resp, body, http.StatusBadRequest)
			} else {
				mustProblem(t, resp, body, http.StatusNotFound)
			}
		}
	})
	t.Run("ErrStaleVersion", func(t *testing.T) {
		narrower := strings.Replace(validOrder, `"stay_away_yards": 100`, `"stay_away_yards": 50`, 1)
		resp, body, _ := ts.change(t, ccpor.RoleClerk, created.ID, "modify", modifyBody(1, "edited from an old copy", narrower))
		mustProblem(t, resp, body, http.StatusConflict)
		if o := ts.mustView(t, created.ID); o.Version != 2 || o.Terms.StayAwayYards != 300 {
			t.Errorf("after a stale change: version %d, %d yards; want version 2, 300 yards", o.Version, o.Terms.StayAwayYards)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, tc := range map[string]struct {
			body   string
			fields []string
		}{
			"NoReason":   {modifyBody(2, "", wider), []string{"reason"}},
			"NoVersion":  {`{"reason": "x", "order": ` + wider + `}`, []string{"version"}},
			"NoOrder":    {`{"version": 2, "reason": "x"}`, []string{"order"}},
			"County":     {modifyBody(2, "x", strings.Replace(wider, `"county": "Alameda"`, `"county": "Fresno"`, 1)), []string{"order.county"}},
			"Type":       {modifyBody(2, "x", strings.Replace(wider, `"type": "DV"`, `"type": "CH", "expires_at": "2027-06-03"`, 1)), []string{"order.type"}},
			"OtherID":    {modifyBody(2, "x", strings.Replace(wider, `"type": "DV"`, `"id": "7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11", "type": "DV"`, 1)), []string{"order.id"}},
			"OverMax":    {modifyBody(2, "x", strings.Replace(wider, `"issued_on": "2025-06-03"`, `"issued_on": "2025-06-03", "expires_at": "2031-06-03"`, 1)), []string{"order.expires_at"}},
			"Terminated": {modifyBody(2, "x", strings.Replace(wider, `"type": "DV"`, `"type": "DV", "terminated": {"on": "2026-03-01"}`, 1)), []string{"order.terminated"}},
		} {
			t.Run(name, func(t *testing.T) {
				resp, body, _ := ts.change(t, ccpor.RoleClerk, created.ID, "modify", tc.body)
				mustField(t, mustProblem(t, resp, body, http.StatusBadRequest), tc.fields...)
			})
		}
		if o := ts.mustView(t, created.ID); o.Version != 2 {
			t.Errorf("a refused change was stored: version %d", o.Version)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		resp, body, _ := ts.change(t, ccpor.RoleClerk, "7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11", "modify", modifyBody(1, "x", wider))
		mustProblem(t, resp, body, http.StatusNotFound)
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		for _, role := range []ccpor.Role{ccpor.RoleOfficer, ccpor.RoleJudge, ccpor.RoleTribal} {
			resp, body, _ := ts.change(t, role, created.ID, "modify", modifyBody(2, "x", wider))
			mustProblem(t, resp, body, http.StatusForbidden)
		}
		// Another county's order, entered by its own court.
		fresno := mustPrepared(t, strings.NewReplacer(`"county": "Alameda"`, `"county": "Fresno"`, "25FL001234", "F25-1").Replace(validOrder))
		if err := ts.db.CreateOrder(context.Background(), fresno); err != nil {
			t.Fatal(err)
		}
		resp, body, _ := ts.change(t, ccpor.RoleClerk, fresno.ID, "modify", modifyBody(1, "x", strings.Replace(wider, `"county": "Alameda"`, `"county": "Fresno"`, 1)))
		mustProblem(t, resp, body, http.StatusForbidden)
	})
}

func mustPrepared(t *testing.T, body string) *ccpor.Order {
	t.Helper()
	o, err := ccpor.ParseOrder([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Prepare(now); err != nil {
		t.Fatal(err)
	}
	return o
}

// chOrder is a civil harassment order after hearing: its expiry must be
// written, at most 5 years (CCP 527.6).
var chOrder = strings.NewReplacer(`"type": "DV"`, `"type": "CH"`, `"issued_on": "2025-06-03"`, `"issued_on": "2025-06-03", "expires_at": "2027-06-03"`,
	"25FL001234", "25CV004321").Replace(validOrder)

// otherPerson restrains someone else in another case, so that intake's
// duplicate guard has nothing to say.
func otherPerson(order, name, caseNumber string) string {
	first, last, _ := strings.Cut(name, " ")
	return strings.NewReplacer(`"first": "Roberto", "last": "García López", "dob": "1984-05-07"`,
		`"first": "`+first+`", "last": "`+last+`", "dob": "1979-11-23"`,
		"25FL001234", caseNumber, "25CV004321", caseNumber).Replace(order)
}

func TestOrderRenew(t *testing.T) {
	ts := mustServer(t)
	t.Run("DVPermanent", func(t *testing.T) {
		dv := ts.mustCreate(validOrder)
		resp, body, o := ts.change(t, ccpor.RoleClerk, dv.ID, "renew", `{"version": 1, "renewed_on": "2026-02-27", "permanent": true, "reason": "renewal hearing, no new abuse needed (FC 6345(a))"}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if !o.Permanent || !o.ExpiresAt.IsZero() || o.Form != "DV-730" || o.IssuedOn.String() != "2026-02-27" || o.Status != ccpor.StatusActive {
			t.Errorf("renewed = permanent %v, expires %s, form %s, issued %s, %s", o.Permanent, o.ExpiresAt, o.Form, o.IssuedOn, o.Status)
		}
		h := o.History[len(o.History)-1]
		if h.Action != "renew" || !strings.Contains(h.Reason, "renewed on 2026-02-27") || !strings.Contains(h.Reason, "was issued 2025-06-03") || !strings.Contains(h.Reason, "FC 6345(a)") {
			t.Errorf("history = %+v, want the renewal and the dates before it", h)
		}
		if o.Service.Status != ccpor.ServiceUnknown || !strings.Contains(o.Service.Notes, "served in court") {
			t.Errorf("service = %+v, want the renewal's unknown with the earlier service noted", o.Service)
		}
		// A permanent order has nothing left to renew.
		resp, body, _ = ts.change(t, ccpor.RoleClerk, dv.ID, "renew", `{"version": 2, "expires_at": "2031-01-01"}`)
		mustProblem(t, resp, body, http.StatusConflict)
	})
	t.Run("CHWithinMaximum", func(t *testing.T) {
		ch := ts.mustCreate(otherPerson(chOrder, "Esteban Okonkwo", "25CV004321"))
		resp, body, o := ts.change(t, ccpor.RoleClerk, ch.ID, "renew", `{"version": 1, "expires_at": "2031-03-02"}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if o.Form != "CH-730" || o.IssuedOn.String() != "2026-03-02" || o.ExpiresAt.String() != "2031-03-02" {
			t.Errorf("renewed = form %s, issued %s, expires %s", o.Form, o.IssuedOn, o.ExpiresAt)
		}
	})
	t.Run("ErrCHBeyondMaximum", func(t *testing.T) {
		ch := ts.mustCreate(otherPerson(chOrder, "Ignacio Beltrán", "25CV004322"))
		for _, tc := range []struct{ body, field string }{
			{`{"version": 1, "expires_at": "2031-03-03"}`, "expires_at"},
			{`{"version": 1, "permanent": true}`, "permanent"},
			{`{"version": 1}`, "expires_at"},
			{`{"version": 1, "form": "DV-730", "expires_at": "2027-01-01"}`, "form"},
			{`{"version": 1, "renewed_on": "2025-01-01", "expires_at": "2027-01-01"}`, "renewed_on"},
			{`{"version": 1, "expires_at": "2028-01-01", "permanent": true}`, "permanent"},
		} {
			resp, body, _ := ts.change(t, ccpor.RoleClerk, ch.ID, "renew", tc.body)
			mustField(t, mustProblem(t, resp, body, http.StatusBadRequest), tc.field)
		}
		if o := ts.mustView(t, ch.ID); o.Version != 1 || o.ExpiresAt.String() != "2027-06-03" {
			t.Errorf("a refused renewal was stored: version %d, expires %s", o.Version, o.ExpiresAt)
		}
	})
	t.Run("ErrNotAfterHearing", func(t *testing.T) {
		tro := ts.mustCreate(strings.Replace(otherPerson(validOrder, "Tomás Whitfield", "25FL007777"), `"phase": "after_hearing"`, `"phase": "temporary"`, 1))
		resp, body, _ := ts.change(t, ccpor.RoleClerk, tro.ID, "renew", `{"version": 1, "expires_at": "2027-01-01"}`)
		mustProblem(t, resp, body, http.StatusConflict)
	})
}

func TestOrderTerminate(t *testing.T) {
	ts := mustServer(t)
	created := ts.mustCreate(validOrder)
	search := func(status string) []api.Candidate {
		t.Helper()
		resp, got := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", []byte(`{"last": "garc", "first": "r", "status": "`+status+`"}`))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("search: %d %s", resp.StatusCode, got)
		}
		var a candidatesAnswer
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatal(err)
		}
		return a.Hits
	}
	if hits := search("active"); len(hits) != 1 {
		t.Fatalf("before termination: %d active hits, want 1", len(hits))
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct{ body, field string }{
			{`{"version": 1}`, "reason"},
			{`{"version": 1, "reason": "x", "on": "2026-03-03"}`, "on"},
			{`{"version": 1, "reason": "x", "on": "2025-06-02"}`, "on"},
			{`{"reason": "x"}`, "version"},
		} {
			resp, body, _ := ts.change(t, ccpor.RoleClerk, created.ID, "terminate", tc.body)
			mustField(t, mustProblem(t, resp, body, http.StatusBadRequest), tc.field)
		}
	})
	t.Run("OK", func(t *testing.T) {
		resp, body, o := ts.change(t, ccpor.RoleClerk, created.ID, "terminate", `{"version": 1, "reason": "dismissed on the petitioner's request", "on": "2026-03-01"}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if o.Status != ccpor.StatusTerminated || o.Terminated == nil || o.Terminated.On.String() != "2026-03-01" || o.Version != 2 {
			t.Errorf("terminated = %s, %+v, version %d", o.Status, o.Terminated, o.Version)
		}
		if h := o.History[1]; h.Action != "terminate" || h.Reason != "dismissed on the petitioner's request" {
			t.Errorf("history = %+v", h)
		}
	})
	t.Run("SearchNoLongerActive", func(t *testing.T) {
		if hits := search("active"); len(hits) != 0 {
			t.Errorf("a terminated order is found active: %+v", hits)
		}
		if hits := search("any"); len(hits) != 1 || hits[0].Order == nil || hits[0].Order.Status != ccpor.StatusTerminated {
			t.Errorf("status any: hits = %+v, want the order, terminated", hits)
		}
	})
	t.Run("ErrTwice", func(t *testing.T) {
		resp, body, _ := ts.change(t, ccpor.RoleClerk, created.ID, "terminate", `{"version": 2, "reason": "again"}`)
		mustProblem(t, resp, body, http.StatusConflict)
	})
	t.Run("ErrNotModifiable", func(t *testing.T) {
		resp, body, _ := ts.change(t, ccpor.RoleClerk, created.ID, "modify", modifyBody(2, "x", validOrder))
		mustProblem(t, resp, body, http.StatusConflict)
		resp, body, _ = ts.change(t, ccpor.RoleClerk, created.ID, "renew", `{"version": 2, "permanent": true}`)
		mustProblem(t, resp, body, http.StatusConflict)
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		resp, body, _ := ts.change(t, ccpor.RoleTribal, created.ID, "terminate", `{"version": 2, "reason": "x"}`)
		mustProblem(t, resp, body, http.StatusForbidden)
	})
}

func TestOrderService(t *testing.T) {
	ts := mustServer(t)
	created := ts.mustCreate(strings.Replace(validOrder, `"service": {"status": "served_in_court"}`, `"service": {"status": "not_served"}`, 1))
	const verbal = `{"status": "verbal_notice", "served_at": "2026-03-02T08:30:00-08:00",
		"served_by": "Deputy Okafor #4411", "agency": "Alameda County Sheriff", "location": "1200 Oak St, Oakland"`

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct{ body, field string }{
			{strings.Replace(verbal, `"location": "1200 Oak St, Oakland"`, `"location": " "`, 1) + `}`, "location"},
			{strings.Replace(verbal, `"served_by": "Deputy Okafor #4411", `, ``, 1) + `}`, "served_by"},
			{strings.Replace(verbal, `"served_at": "2026-03-02T08:30:00-08:00",`, ``, 1) + `}`, "served_at"},
			{strings.Replace(verbal, "2026-03-02T08:30", "2026-03-03T08:30", 1) + `}`, "served_at"},
			{strings.Replace(verbal, "2026-03-02T08:30", "2025-06-01T08:30", 1) + `}`, "served_at"},
			{`{"status": "mailed"}`, "status"},
			{`{}`, "status"},
			{`{"status": "not_served", "served_at": "2026-03-02T08:30:00-08:00"}`, "served_at"},
		} {
			resp, body, _ := ts.change(t, ccpor.RoleOfficer, created.ID, "service", tc.body)
			mustField(t, mustProblem(t, resp, body, http.StatusBadRequest), tc.field)
		}
		if o := ts.mustView(t, created.ID); o.Version != 1 || o.Service.Status != ccpor.NotServed {
			t.Errorf("a refused service record was stored: version %d, %s", o.Version, o.Service.Status)
		}
	})
	t.Run("VerbalNoticeWithoutVersion", func(t *testing.T) {
		resp, body, o := ts.change(t, ccpor.RoleOfficer, created.ID, "service", verbal+`}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		sv := o.Service
		if sv.Status != ccpor.ServedVerbal || sv.ServedBy != "Deputy Okafor #4411" || sv.Location != "1200 Oak St, Oakland" ||
			sv.ServedAt == nil || !sv.ServedAt.Equal(time.Date(2026, 3, 2, 16, 30, 0, 0, time.UTC)) {
			t.Errorf("service = %+v", sv)
		}
		if h := o.History[len(o.History)-1]; h.Action != "service" || h.By != "Officer (officer)" || !strings.Contains(h.Reason, "Deputy Okafor") {
			t.Errorf("history = %+v", h)
		}
	})
	t.Run("ErrStaleVersion", func(t *testing.T) {
		resp, body, _ := ts.change(t, ccpor.RoleClerk, created.ID, "service", `{"version": 1, "status": "personal", "served_at": "2026-03-01T10:00:00-08:00", "served_by": "J. Process"}`)
		mustProblem(t, resp, body, http.StatusConflict)
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		for _, role := range []ccpor.Role{ccpor.RoleTribal, ccpor.RoleJudge} {
			resp, body, _ := ts.change(t, role, created.ID, "service", verbal+`}`)
			mustProblem(t, resp, body, http.StatusForbidden)
		}
	})
}

// doKeyed sends a request as role with an Idempotency-Key, and checks the
// answer against the OpenAPI document. It does not fail the test itself,
// so goroutines may call it.
func (ts *testServer) doKeyed(role ccpor.Role, method, path, key string, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, ts.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ts.tokens[role])
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	ts.checkSpec(req, body, resp, got)
	return resp, got, nil
}

func (ts *testServer) countOrders(t *testing.T) int {
	t.Helper()
	var n int
	if err := ts.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIdempotencyKey(t *testing.T) {
	t.Run("RetryReplays", func(t *testing.T) {
		ts := mustServer(t)
		var ids []string
		for i := range 2 {
			resp, body, err := ts.doKeyed(ccpor.RoleClerk, "POST", "/api/v1/orders", "intake-1", []byte(validOrder))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("try %d: status %d: %s", i, resp.StatusCode, body)
			}
			if got, want := resp.Header.Get("Idempotent-Replayed") == "true", i == 1; got != want {
				t.Errorf("try %d: replayed = %v, want %v", i, got, want)
			}
			var o ccpor.Order
			if err := json.Unmarshal(body, &o); err != nil {
				t.Fatal(err)
			}
			if loc := resp.Header.Get("Location"); loc != "/api/v1/orders/"+o.ID {
				t.Errorf("try %d: Location = %q", i, loc)
			}
			ids = append(ids, o.ID)
		}
		if ids[0] != ids[1] {
			t.Errorf("retry answered another order: %s then %s", ids[0], ids[1])
		}
		if n := ts.countOrders(t); n != 1 {
			t.Errorf("%d orders stored, want 1", n)
		}
	})
	t.Run("ErrOtherBody", func(t *testing.T) {
		ts := mustServer(t)
		if resp, body, err := ts.doKeyed(ccpor.RoleClerk, "POST", "/api/v1/orders", "intake-1", []byte(validOrder)); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("first: %v %s", err, body)
		}
		other := strings.Replace(validOrder, "25FL001234", "25FL005555", 1)
		resp, body, err := ts.doKeyed(ccpor.RoleClerk, "POST", "/api/v1/orders", "intake-1", []byte(other))
		if err != nil {
			t.Fatal(err)
		}
		mustProblem(t, resp, body, http.StatusUnprocessableEntity)
		if n := ts.countOrders(t); n != 1 {
			t.Errorf("%d orders stored, want 1", n)
		}
	})
	t.Run("ErrBadKey", func(t *testing.T) {
		ts := mustServer(t)
		resp, body, err := ts.doKeyed(ccpor.RoleClerk, "POST", "/api/v1/orders", strings.Repeat("k", 256), []byte(validOrder))
		if err != nil {
			t.Fatal(err)
		}
		mustField(t, mustProblem(t, resp, body, http.StatusBadRequest), "Idempotency-Key")
	})
	t.Run("ConcurrentOneOrder", func(t *testing.T) {
		ts := mustServer(t)
		const n = 2
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				resp, body, err := ts.doKeyed(ccpor.RoleClerk, "POST", "/api/v1/orders", "intake-2", []byte(validOrder))
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = resp.StatusCode
				if resp.StatusCode == http.StatusConflict && resp.Header.Get("Retry-After") == "" {
					t.Errorf("409 without Retry-After: %s", body)
				}
			})
		}
		close(start)
		wg.Wait()
		if !slices.Contains(statuses, http.StatusCreated) {
			t.Errorf("statuses = %v, want a 201", statuses)
		}
		for _, s := range statuses {
			if s != http.StatusCreated && s != http.StatusConflict {
				t.Errorf("statuses = %v, want 201 and 201 or 409", statuses)
			}
		}
		if n := ts.countOrders(t); n != 1 {
			t.Errorf("%d orders stored, want 1", n)
		}
	})
	t.Run("LifecycleRetryReplays", func(t *testing.T) {
		ts := mustServer(t)
		created := ts.mustCreate(validOrder)
		path := "/api/v1/orders/" + created.ID + "/terminate"
		body := []byte(`{"version": 1, "reason": "dismissed"}`)
		for i := range 2 {
			resp, got, err := ts.doKeyed(ccpor.RoleClerk, "POST", path, "terminate-1", body)
			if err != nil {
				t.Fatal(err)
			}
			// Without the key the retry would be 409: already terminated.
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("try %d: status %d: %s", i, resp.StatusCode, got)
			}
		}
		if o := ts.mustView(t, created.ID); o.Version != 2 {
			t.Errorf("version %d after a retried termination, want 2", o.Version)
		}
	})
}
