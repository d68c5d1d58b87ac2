package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/scan"
	"github.com/ccpor/ccpor/store/storetest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

var now = time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC)

// testServer is a real server on a real database, whose every answer is
// checked against the OpenAPI document.
type testServer struct {
	t        *testing.T
	db       *store.DB
	srv      *httptest.Server
	router   routers.Router
	tokens   map[ccpor.Role]string
	follower *index.Follower
}

// mustServer starts a server; opts adjust it before it serves. Its rate
// limits are far above DefaultRateLimits: tests send in a burst what no
// user could (api/ratelimit_test.go tests the limits).
func mustServer(t *testing.T, opts ...func(*api.Server)) *testServer {
	t.Helper()
	db := storetest.MustOpenDB(t)
	db.Now = func() time.Time { return now }
	s := api.NewServer(slog.New(slog.NewTextHandler(testLog{t}, nil)))
	s.Orders, s.Documents, s.Queues, s.Users, s.Audit, s.Keys, s.Ready = db, db, db, db, db, db, db.Ping
	s.Stats = db
	s.Scan = scan.FindTools()
	s.Now = db.Now
	ix, err := index.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	follower := &index.Follower{Index: ix, Feed: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	// Caught up before the first request: until then /readyz and search
	// rightly answer 503.
	if err := follower.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { follower.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; ix.Close() })
	s.Index, s.Follower = ix, follower
	unlimited := api.Rate{PerSecond: 1e6, Burst: 1e6}
	s.Limits = api.RateLimits{Read: unlimited, Search: unlimited, Write: unlimited, FailedAuth: unlimited}
	for _, opt := range opts {
		opt(s)
	}
	ts := &testServer{t: t, db: db, srv: httptest.NewServer(s.Handler()), tokens: map[ccpor.Role]string{}, follower: follower}
	t.Cleanup(ts.srv.Close)

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: ts.srv.URL}}
	if ts.router, err = legacy.NewRouter(doc); err != nil {
		t.Fatal(err)
	}
	for _, u := range []ccpor.User{
		{Name: "Clerk Alameda", Role: ccpor.RoleClerk, County: "Alameda"},
		{Name: "Officer", Role: ccpor.RoleOfficer},
		{Name: "Judge", Role: ccpor.RoleJudge},
		{Name: "Tribal Court", Role: ccpor.RoleTribal},
	} {
		token, err := db.CreateUser(context.Background(), &u)
		if err != nil {
			t.Fatal(err)
		}
		ts.tokens[u.Role] = token
	}
	return ts
}

// do sends a request as role ("" for none) and checks the answer against
// the OpenAPI document before returning it.
func (ts *testServer) do(role ccpor.Role, method, path string, body []byte) (*http.Response, []byte) {
	ts.t.Helper()
	return ts.sendAs(role, method, path, "application/json", body)
}

func (ts *testServer) checkSpec(req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	ts.t.Helper()
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := ts.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return // no such route in the document either
		}
		ts.t.Errorf("%s %s is not in openapi.yaml: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)),
	})
	if err != nil {
		ts.t.Errorf("%s %s answered %d not as openapi.yaml says: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

const validOrder = `{
	"type": "DV", "phase": "after_hearing", "county": "Alameda", "case_number": "25FL001234",
	"issued_on": "2025-06-03",
	"restrained": {"first": "Roberto", "last": "García López", "dob": "1984-05-07", "sex": "M", "race": "H"},
	"protected": [{"first": "Ana", "last": "García", "relationship": "spouse"},
	              {"first": "Sofía", "last": "García", "dob": "2016-09-01", "relationship": "child"}],
	"terms": {"conduct": true, "no_contact": true, "stay_away_yards": 100, "stay_away_places": ["residence", "childrens_school"], "firearms": true},
	"service": {"status": "served_in_court"}
}`

func TestOrders(t *testing.T) {
	ts := mustServer(t)
	var created ccpor.Order
	t.Run("CreateOK", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(validOrder))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, &created); err != nil {
			t.Fatal(err)
		}
		if got, want := created.ExpiresAt.String(), "2028-06-03"; got != want {
			t.Errorf("expires_at = %s, want %s (3 years: Family Code 6345(c))", got, want)
		}
		if got, want := created.Form, "DV-130"; got != want {
			t.Errorf("form = %s, want %s", got, want)
		}
		if !created.Protected[1].Minor {
			t.Error("a 9-year-old protected child is not flagged as a minor")
		}
		if len(created.Warnings) == 0 {
			t.Error("no warning that the expiry date was computed")
		}
		if got := resp.Header.Get("Location"); got != "/api/v1/orders/"+created.ID {
			t.Errorf("Location = %q", got)
		}
	})
	t.Run("View", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleOfficer, "GET", "/api/v1/orders/"+created.ID, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got ccpor.Order
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Restrained.Last != "García López" || got.Status != ccpor.StatusActive || len(got.History) != 1 {
			t.Errorf("viewed order = %+v", got)
		}
		trail, err := ts.db.AuditTrail(context.Background(), created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(trail) != 2 || trail[0].Action != "order.create" || trail[1].Action != "order.view" || trail[1].UserName != "Officer" {
			t.Errorf("audit trail = %+v, want create by the clerk then view by the officer", trail)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, id := range []string{"7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11", "nope"} {
			resp, body := ts.do(ccpor.RoleJudge, "GET", "/api/v1/orders/"+id, nil)
			mustProblem(t, resp, body, http.StatusNotFound)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, tc := range map[string]struct {
			body   string
			fields []string
		}{
			"ImpossibleDate": {strings.Replace(validOrder, "2025-06-03", "2023-02-29", 1), nil},
			"BrokenJSON":     {`{"type": "DV",`, nil},
			"UnknownField":   {strings.Replace(validOrder, `"notes"`, `"x"`, 1)[:len(validOrder)-1] + `, "expire_at": "2027-01-01"}`, nil},
			"ManyProblems": {strings.NewReplacer(`"county": "Alameda"`, `"county": "Atlantis"`, `"dob": "1984-05-07"`, `"dob": "2084-05-07"`,
				`"type": "DV"`, `"type": "DV", "form": "CH-130"`).Replace(validOrder),
				[]string{"form", "county", "restrained.dob"}},
			"Empty": {``, nil},
		} {
			t.Run(name, func(t *testing.T) {
				resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(tc.body))
				p := mustProblem(t, resp, body, http.StatusBadRequest)
				for _, f := range tc.fields {
					found := false
					for _, e := range p.Errors {
						found = found || e.Field == f
					}
					if !found {
						t.Errorf("no problem named for field %s in %+v", f, p.Errors)
					}
				}
			})
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		big := strings.Replace(validOrder, `"case_number"`, `"notes": "`+strings.Repeat("x", 2<<20)+`", "case_number"`, 1)
		resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(big))
		mustProblem(t, resp, body, http.StatusBadRequest)
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		resp, body := ts.do("", "POST", "/api/v1/orders", []byte(validOrder))
		mustProblem(t, resp, body, http.StatusUnauthorized)
		resp, body = ts.do("", "GET", "/api/v1/orders/"+created.ID, nil)
		mustProblem(t, resp, body, http.StatusUnauthorized)
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/orders", []byte(validOrder))
		mustProblem(t, resp, body, http.StatusForbidden)
		other := strings.Replace(validOrder, `"county": "Alameda"`, `"county": "Fresno"`, 1)
		resp, body = ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(other))
		mustProblem(t, resp, body, http.StatusForbidden)
	})
}

func TestOperational(t *testing.T) {
	ts := mustServer(t)
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
		if resp, body := ts.do("", "GET", path, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	ts.do(ccpor.RoleJudge, "GET", "/api/v1/orders/7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11", nil)
	resp, body := ts.do("", "GET", "/metrics", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`ccpor_http_requests_total{method="GET",route="/api/v1/orders/:id",status="Not Found"} 1`)) {
		t.Errorf("metrics do not count the 404:\n%.2000s", body)
	}
	if m := regexp.MustCompile(`(?m)^ccpor_match_prior (\S+)$`).FindSubmatch(body); m == nil {
		t.Errorf("metrics lack the match prior:\n%.2000s", body)
	} else if p, err := strconv.ParseFloat(string(m[1]), 64); err != nil || p <= 0 || p >= 0.5 {
		t.Errorf("ccpor_match_prior = %s, want a probability in (0, 0.5)", m[1])
	}
	resp, body = ts.do("", "GET", "/nowhere", nil)
	mustProblem(t, resp, body, http.StatusNotFound)
}

func mustProblem(t *testing.T, resp *http.Response, body []byte, status int) api.Problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != status || p.Detail == "" {
		t.Errorf("problem = %+v", p)
	}
	return p
}

// testLog sends the server's log to the test's, shown when a test fails.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
