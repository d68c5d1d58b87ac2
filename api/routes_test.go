package api_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"testing"

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
			if r.Method != http.MethodGet && r.Path != "/api/v1/search" && r.Path != "/api/v1/sessions" &&
				slices.Contains(p.Roles, ccpor.RoleTribal) {
				t.Errorf("tribal courts read only, but may %s %s", r.Method, r.Path)
			}
		}
	})
}
