package api_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestLogHasNoNames: names and birth dates are in request bodies, never in
// URLs, and the application log records neither, whatever the answer.
func TestLogHasNoNames(t *testing.T) {
	var log syncBuffer
	ts := mustServer(t, func(s *api.Server) {
		s.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	const first, last, dob = "Wenceslas", "Zbigniewska", "1977-11-23"
	order := strings.NewReplacer(`"Roberto"`, `"`+first+`"`, `"García López"`, `"`+last+`"`, `"1984-05-07"`, `"`+dob+`"`).Replace(validOrder)
	created := ts.mustCreate(order)
	for _, r := range []struct {
		role         ccpor.Role
		method, path string
		body         string
	}{
		{ccpor.RoleOfficer, "POST", "/api/v1/search", `{"last": "` + last + `", "first": "` + first + `", "dob": "` + dob + `"}`},
		{ccpor.RoleOfficer, "POST", "/api/v1/search", `{"last": "` + last + `", "dob": "` + dob + `", "bogus": 1}`},
		{ccpor.RoleOfficer, "POST", "/api/v1/search", `{"last": "` + last + `*"}`},
		{ccpor.RoleClerk, "POST", "/api/v1/checks/duplicates", order},
		{ccpor.RoleJudge, "POST", "/api/v1/checks/conflicts", order},
		{ccpor.RoleClerk, "POST", "/api/v1/orders", order},
		{ccpor.RoleClerk, "POST", "/api/v1/orders", strings.Replace(order, `"Alameda"`, `"Atlantis"`, 1)},
		{ccpor.RoleOfficer, "GET", "/api/v1/orders/" + created.ID, ""},
		{"", "POST", "/api/v1/search", `{"last": "` + last + `"}`},
	} {
		resp, body := ts.do(r.role, r.method, r.path, []byte(r.body))
		if resp.StatusCode >= http.StatusInternalServerError {
			t.Errorf("%s %s: %d %s", r.method, r.path, resp.StatusCode, body)
		}
	}
	got := log.String()
	if !strings.Contains(got, "/api/v1/search") {
		t.Fatalf("the log does not record requests at all:\n%s", got)
	}
	for _, secret := range []string{first, last, strings.ToLower(last), dob, "11/23/1977"} {
		if strings.Contains(got, secret) {
			t.Errorf("the application log contains %q:\n%s", secret, got)
		}
	}
}
