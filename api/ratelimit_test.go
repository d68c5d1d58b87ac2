package api_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
)

// slow is a bucket that does not refill within a test.
var slow = api.Rate{PerSecond: 0.01, Burst: 3}

func TestRateLimit(t *testing.T) {
	ts := mustServer(t, func(s *api.Server) {
		s.Limits = api.RateLimits{Read: slow, Search: slow, Write: slow, FailedAuth: slow}
	})
	search := []byte(`{"last": "garcia"}`)
	t.Run("SearchOverLimit", func(t *testing.T) {
		for i := range slow.Burst {
			if resp, body := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", search); resp.StatusCode != http.StatusOK {
				t.Fatalf("search %d within the burst: %d %s", i+1, resp.StatusCode, body)
			}
		}
		resp, body := ts.do(ccpor.RoleOfficer, "POST", "/api/v1/search", search)
		p := mustProblem(t, resp, body, http.StatusTooManyRequests)
		if p.Type != "urn:ccpor:problem:rate_limited" {
			t.Errorf("type = %s", p.Type)
		}
		// 1 token at 0.01 a second: 100 s.
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 90 || s > 100 {
			t.Errorf("Retry-After = %q, want about 100 s", resp.Header.Get("Retry-After"))
		}
		// The check shares the search bucket: it too queries the registry.
		resp, body = ts.do(ccpor.RoleOfficer, "POST", "/api/v1/checks/duplicates", []byte(validOrder))
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("officer's duplicate check: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("OtherUserUnaffected", func(t *testing.T) {
		if resp, body := ts.do(ccpor.RoleJudge, "POST", "/api/v1/search", search); resp.StatusCode != http.StatusOK {
			t.Fatalf("the judge, throttled with the officer: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("ReadsHaveTheirOwnBucket", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleOfficer, "GET", "/api/v1/orders/7e0f5a4e-9a43-4c6d-9a4b-0c5a3f8f2a11", nil)
		mustProblem(t, resp, body, http.StatusNotFound)
	})
	t.Run("WritesOverLimit", func(t *testing.T) {
		before := ts.storedOrders()
		bad := []byte(`{"type": "DV"}`) // refused, but a request all the same
		for range slow.Burst {
			resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", bad)
			mustProblem(t, resp, body, http.StatusBadRequest)
		}
		resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(validOrder))
		mustProblem(t, resp, body, http.StatusTooManyRequests)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		if got := ts.storedOrders(); got != before {
			t.Errorf("a throttled intake stored an order: %d, was %d", got, before)
		}
	})
	t.Run("FailedAuthPerAddress", func(t *testing.T) {
		// Forwarding headers are the client's to choose: a fresh one per
		// guess must not buy a fresh bucket.
		for i := range slow.Burst {
			resp, body := ts.doWith("", "POST", "/api/v1/search", search, map[string]string{
				"Authorization": "Bearer guess" + strconv.Itoa(i), "X-Forwarded-For": "10.9.8." + strconv.Itoa(i)})
			mustProblem(t, resp, body, http.StatusUnauthorized)
		}
		resp, body := ts.doWith("", "POST", "/api/v1/search", search, map[string]string{
			"Authorization": "Bearer another-guess", "X-Forwarded-For": "10.9.9.9", "X-Real-IP": "10.9.9.9"})
		mustProblem(t, resp, body, http.StatusTooManyRequests)
		// Another address has its own bucket.
		other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
			LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
		for _, tc := range []struct {
			token string
			want  int
		}{{"guess", http.StatusUnauthorized}, {ts.tokens[ccpor.RoleTribal], http.StatusOK}} {
			req, err := http.NewRequest("POST", ts.srv.URL+"/api/v1/search", bytes.NewReader(search))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tc.token)
			resp, err := other.Do(req)
			if err != nil {
				t.Skipf("cannot send from 127.0.0.2: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("from another address: %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
		}
	})
}

func TestNoStore(t *testing.T) {
	ts := mustServer(t)
	o := ts.mustCreate(validOrder)
	for _, r := range []struct {
		role         ccpor.Role
		method, path string
		body         string
	}{
		{ccpor.RoleClerk, "GET", "/api/v1/orders/" + o.ID, ""},
		{ccpor.RoleOfficer, "POST", "/api/v1/search", `{"last": "garcia"}`},
		{ccpor.RoleClerk, "POST", "/api/v1/checks/duplicates", validOrder},
		{ccpor.RoleJudge, "POST", "/api/v1/checks/conflicts", validOrder},
		{ccpor.RoleClerk, "POST", "/api/v1/orders", `{"type": "DV"}`},
		{"", "GET", "/api/v1/orders/" + o.ID, ""},
	} {
		resp, body := ts.do(r.role, r.method, r.path, []byte(r.body))
		if cc, p := resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"); cc != "no-store" || p != "no-cache" {
			t.Errorf("%s %s as %q (%d): Cache-Control %q, Pragma %q; want no-store, no-cache\n%.300s", r.method, r.path, r.role, resp.StatusCode, cc, p, body)
		}
	}
	// The intake answer too, which carries the order.
	resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(hostileOrder(t, 1, nil)))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("intake: %d, Cache-Control %q: %.300s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
}
