package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

// Policy says who may call a route: anyone when Public, else only an
// authenticated user holding one of Roles.
type Policy struct {
	Public bool
	Roles  []ccpor.Role
}

var (
	anyone   = Policy{Public: true}
	everyone = Policy{Roles: ccpor.Roles} // tribal courts included: they read
	court    = Policy{Roles: []ccpor.Role{ccpor.RoleClerk, ccpor.RoleAdmin}}
	admins   = Policy{Roles: []ccpor.Role{ccpor.RoleAdmin}}
	// judges alone run the conflict check: it is their duty (FC 6306),
	// and its answer names the people of related orders, confidential
	// minors included, whom only judges and clerks may see.
	judges = Policy{Roles: []ccpor.Role{ccpor.RoleJudge}}
)

// policies is every route's policy, by gin's method and path. Routes are
// refused unless listed here: authorize answers 403 for a route with no
// policy, and TestRoutePolicies fails for one, so a new route is closed
// until someone decides who may use it.
var policies = map[string]Policy{
	"GET /healthz":      anyone,
	"GET /readyz":       anyone,
	"GET /metrics":      anyone,
	"GET /openapi.yaml": anyone,

	// The web interface (ui.go): the same roles as the API routes behind
	// each page.
	"GET /static/*filepath":    anyone,
	"GET /favicon.ico":         anyone,
	"GET /login":               anyone,
	"POST /login":              anyone,
	"POST /logout":             everyone,
	"GET /":                    everyone,
	"GET /search":              everyone,
	"POST /search":             everyone,
	"GET /orders/:id":          everyone,
	"POST /orders/:id/service": {Roles: []ccpor.Role{ccpor.RoleClerk, ccpor.RoleOfficer, ccpor.RoleAdmin}},
	"GET /checks/conflict":     judges,
	"POST /checks/conflict":    judges,
	"GET /intake":              court,
	"POST /intake":             court,
	"GET /queues":              {Roles: []ccpor.Role{ccpor.RoleClerk, ccpor.RoleAdmin}},
	// Public statistics (stats.go): counts only, small ones withheld.
	// Roles put the page in every signed-in user's menu.
	"GET /stats": {Public: true, Roles: ccpor.Roles},

	"POST /api/v1/sessions":   anyone, // login
	"DELETE /api/v1/sessions": everyone,
	"GET /api/v1/me":          everyone,
	"GET /api/v1/stats":       anyone, // public statistics (stats.go)

	"POST /api/v1/orders":                      court,
	"GET /api/v1/orders/:id":                   everyone,
	"GET /api/v1/orders/:id/versions/:version": everyone,
	"GET /api/v1/orders/:id/export":            everyone,
	"POST /api/v1/search/export":               {Roles: []ccpor.Role{ccpor.RoleJudge, ccpor.RoleClerk, ccpor.RoleOfficer, ccpor.RoleAdmin}},
	"POST /api/v1/orders/:id/modify":           court,
	"POST /api/v1/orders/:id/renew":            court,
	"POST /api/v1/orders/:id/terminate":        court,
	"POST /api/v1/orders/:id/service":          {Roles: []ccpor.Role{ccpor.RoleClerk, ccpor.RoleOfficer, ccpor.RoleAdmin}},
	"POST /api/v1/search":                      everyone,
	"POST /api/v1/search/text":                 {Roles: []ccpor.Role{ccpor.RoleJudge, ccpor.RoleClerk}},
	"POST /api/v1/orders/:id/documents":        {Roles: []ccpor.Role{ccpor.RoleClerk}},
	"GET /api/v1/documents/:id":                everyone,
	"GET /api/v1/documents/:id/pages/:page":    everyone,
	"POST /api/v1/checks/duplicates":           {Roles: []ccpor.Role{ccpor.RoleClerk, ccpor.RoleJudge, ccpor.RoleAdmin}},
	"POST /api/v1/checks/conflicts":            judges,

	"GET /api/v1/audit":              admins,
	"GET /api/v1/users":              admins,
	"POST /api/v1/users":             admins,
	"POST /api/v1/users/:id/disable": admins,
	"POST /api/v1/users/:id/tokens":  admins,
	"DELETE /api/v1/tokens/:id":      admins,
}

// PolicyOf returns the policy of a route as gin names it ("GET",
// "/api/v1/orders/:id"), and false when it has none: refused to all.
func PolicyOf(method, path string) (Policy, bool) {
	p, ok := policies[method+" "+path]
	return p, ok
}

// Routes lists every route the handler serves, so that a test can hold
// each to a policy.
func (s *Server) Routes() gin.RoutesInfo { return s.engine().Routes() }

// Credentials.
const (
	// sessionCookie carries a browser session's secret.
	sessionCookie = "ccpor_session"
	// csrfHeader must come with every cookie-authenticated request that
	// changes something. A page of another origin cannot set a custom
	// header without a CORS preflight, which this API never grants, so a
	// forged form or fetch arrives without it. Bearer tokens need none:
	// a browser never attaches them on its own.
	csrfHeader = "X-CCPOR-CSRF"
)

type viaKey struct{}

// withVia records how the request's user authenticated: "token" or
// "session".
func withVia(ctx context.Context, via string) context.Context {
	return context.WithValue(ctx, viaKey{}, via)
}

func viaFrom(ctx context.Context) string {
	v, _ := ctx.Value(viaKey{}).(string)
	return v
}

// authenticate admits a request carrying a valid bearer token, or a
// valid session cookie, and puts its user in the request context. Public
// routes pass without credentials. A bearer token is checked against the
// database at most once per tokenTTL (see tokenCache); a session on every
// request, since each use extends its idle timeout.
func (s *Server) authenticate(c *gin.Context) {
	if p, ok := PolicyOf(c.Request.Method, c.FullPath()); ok && p.Public {
		c.Next()
		return
	}
	ctx := c.Request.Context()
	var u *ccpor.User
	var err error
	via := "token"
	if h := c.GetHeader("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			s.refuse(c, ccpor.Errorf(ccpor.EUnauthorized, "Authorization must be: Bearer <token> (make one with `ccpor user add`)."))
			return
		}
		u, err = s.tokens.authenticate(ctx, s.Users, strings.TrimSpace(token))
	} else if cookie, cerr := c.Cookie(sessionCookie); cerr == nil && cookie != "" {
		via = "session"
		if !safeMethod(c.Request.Method) && c.GetHeader(csrfHeader) != "1" {
			s.refuse(c, ccpor.Errorf(ccpor.EForbidden, "A request made with the session cookie that changes something needs the header %s: 1.", csrfHeader))
			return
		}
		u, err = s.Users.SessionUser(ctx, cookie)
	} else {
		err = ccpor.Errorf(ccpor.EUnauthorized, "A bearer token (Authorization: Bearer <token>; make one with `ccpor user add`) or a session (POST /api/v1/sessions) is required.")
	}
	if err != nil {
		if via == "session" && ccpor.ErrorCode(err) == ccpor.EUnauthorized {
			s.clearSessionCookie(c)
		}
		s.refuse(c, err)
		return
	}
	ctx = ccpor.NewContextWithUser(ctx, u)
	c.Request = c.Request.WithContext(withVia(ctx, via))
	c.Next()
}

// authorize admits the user only to routes whose policy names its role,
// and refuses everyone a route without a policy.
func (s *Server) authorize(c *gin.Context) {
	p, ok := PolicyOf(c.Request.Method, c.FullPath())
	if !ok {
		s.Logger.Error("route without a policy refused", "method", c.Request.Method, "route", c.FullPath())
		s.refuse(c, ccpor.Errorf(ccpor.EForbidden, "Your role may not do this."))
		return
	}
	if p.Public {
		c.Next()
		return
	}
	u := ccpor.UserFromContext(c.Request.Context())
	if u == nil || !slices.Contains(p.Roles, u.Role) {
		err := ccpor.Errorf(ccpor.EForbidden, "Your role may not do this.")
		if isPage(c.FullPath()) {
			// A person at a browser gets a page, with the menu of what
			// they may do, not the API's problem document.
			s.renderError(c, err)
			c.Abort()
			return
		}
		s.refuse(c, err)
		return
	}
	c.Next()
}

func (s *Server) refuse(c *gin.Context, err error) {
	s.writeError(c, err)
	c.Abort()
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
