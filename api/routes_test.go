package api_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
)

// publicRoutes are the only routes anyone may call without credentials.
// Adding one is a decision about who may see what: make it here, on
// purpose, as well as in auth.go.
var publicRoutes = []string{
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /openapi.yaml",
	"POST /api/v1/sessions",
	"GET /api/v1/stats", "GET /stats", // public statistics: counts only, small ones withheld (stats.go)
	// The web interface's sign-in page and its assets.
	"GET /login",
	"POST /login",
	"GET /static/*filepath",
	"GET /favicon.ico",
}

// isPage reports whether a route belongs to the web interface, which
// answers a request without a session with a redirect to sign in.
func isPage(path string) bool {
	return !strings.HasPrefix(path, "/api/") && !slices.Contains([]string{"/healthz", "/readyz", "/metrics", "/openapi.yaml"}, path)
}

// TestRoutePolicies walks every route the server serves and fails for one
// without a policy, for a public route not in publicRoutes, and for a
// protected route that lets in a request without credentials or with a
// role its policy does not name: deny by default, checked.
func TestRoutePolicies(t *testing.T) {
	var srv *api.Server
	ts := mustServer(t, func(s *api.Server) { srv = s })
	admin, err := ts.db.CreateUser(context.Background(), &ccpor.User{Name: "Admin", Role: ccpor.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	ts.tokens[ccpor.RoleAdmin] = admin
	routes := srv.Routes()
	if len(routes) < len(publicRoutes)+10 {
		t.Fatalf("only %d routes listed", len(routes))
	}
	params := regexp.MustCompile(`:[a-z]+`)
	for _, r := range routes {
		route := r.Method + " " + r.Path
		t.Run(route, func(t *testing.T) {
			p, ok := api.PolicyOf(r.Method, r.Path)
			if !ok {
				t.Fatalf("%s has no policy: add it to auth.go's table", route)
			}
			if p.Public != slices.Contains(publicRoutes, route) {
				t.Fatalf("%s: public = %v, but publicRoutes says otherwise", route, p.Public)
			}
			if p.Public {
				return
			}
			if len(p.Roles) == 0 {
				t.Fatalf("%s is open to no role", route)
			}
			path := params.ReplaceAllString(r.Path, "1")
			if isPage(r.Path) {
				// A page sends whoever has no session to sign in, and
				// refuses (403) a signed-in role its policy does not name.
				req, _ := http.NewRequest(r.Method, ts.srv.URL+path, nil)
				resp, err := noRedirect.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
					t.Errorf("without a session: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
				}
				for _, role := range ccpor.Roles {
					if slices.Contains(p.Roles, role) {
						continue
					}
					cookie := ts.mustSession(role)
					req, _ := http.NewRequest(r.Method, ts.srv.URL+path, strings.NewReader("csrf="+api.FormToken(cookie)))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.AddCookie(&http.Cookie{Name: "ccpor_session", Value: cookie})
					resp, err := noRedirect.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusForbidden {
						t.Errorf("a %s's session: %d, want 403", role, resp.StatusCode)
					}
				}
				return
			}
			resp, body := ts.do("", r.Method, path, []byte(`{}`))
			mustProblem(t, resp, body, http.StatusUnauthorized)
			for _, role := range ccpor.Roles {
				if slices.Contains(p.Roles, role) {
					continue
				}
				resp, body := ts.do(role, r.Method, path, []byte(`{}`))
				mustProblem(t, resp, body, http.StatusForbidden)
			}
		})
	}
	t.Run("TribalReadOnly", func(t *testing.T) {
		for _, r := range routes {
			p, _ := api.PolicyOf(r.Method, r.Path)
			reads := []string{"/api/v1/search", "/api/v1/sessions", "/search", "/logout"}
			if r.Method != http.MethodGet && !slices.Contains(reads, r.Path) &&
				slices.Contains(p.Roles, ccpor.RoleTribal) {
				t.Errorf("tribal courts read only, but may %s %s", r.Method, r.Path)
			}
		}
	})
}

// noRedirect is a client that shows redirects rather than following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// mustSession signs in a new user of role with a password and returns the
// session cookie's value.
func (ts *testServer) mustSession(role ccpor.Role) string {
	ts.t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("%s%d", role, time.Now().UnixNano())
	if _, _, err := ts.db.AddUser(ctx, &ccpor.User{Name: name, Role: role, Username: name}, ccpor.NewUser{Password: "correct horse battery"}); err != nil {
		ts.t.Fatal(err)
	}
	sess, err := ts.db.Login(ctx, name, "correct horse battery")
	if err != nil {
		ts.t.Fatal(err)
	}
	return sess.Secret
}
