package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

// The web interface: server-rendered pages (html/template, embedded, no
// script needed) on the same services, authorisation and audit as the
// API. Pages authenticate with the session cookie only; a form that
// changes something carries a token derived from the session (csrfToken),
// since a plain form cannot send the API's CSRF header.

//go:embed ui/templates/*.html
var uiTemplates embed.FS

//go:embed ui/static
var uiStatic embed.FS

// maxThumbnails caps the page images an order page asks for at once.
const maxThumbnails = 12

// pages are the parsed templates, one per page, each with the layout.
var pages = parsePages()

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"date": func(d ccpor.Date) string {
			if d.IsZero() {
				return ""
			}
			return d.String()
		},
		"time":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"upper":   strings.ToUpper,
		"words":   func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"add":     func(a, b int) int { return a + b },
		"pagesOf": func(n int) []struct{} { return make([]struct{}, min(n, maxThumbnails)) },
		"pct":     func(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) },
		"feet": func(in int) string {
			if in <= 0 {
				return ""
			}
			return fmt.Sprintf("%d′%d″", in/12, in%12)
		},
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(uiTemplates, "ui/templates/layout.html"))
	names, err := fs.Glob(uiTemplates, "ui/templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "ui/templates/"), ".html")
		if base == "layout" {
			continue
		}
		out[base] = template.Must(template.Must(layout.Clone()).ParseFS(uiTemplates, name))
	}
	return out
}

// isPage reports whether a route belongs to the web interface, whose
// refusals are pages rather than problem documents.
func isPage(route string) bool {
	return route == "/" || (!strings.HasPrefix(route, "/api/") && route != "/healthz" && route != "/readyz" &&
		route != "/metrics" && route != "/openapi.yaml" && route != "")
}

func (s *Server) registerUIRoutes(r *gin.Engine) {
	static, err := fs.Sub(uiStatic, "ui/static")
	if err != nil {
		panic(err)
	}
	r.GET("/static/*filepath", func(c *gin.Context) {
		// Assets change with the binary; an hour's caching is plenty.
		c.Header("Cache-Control", "public, max-age=3600")
		c.FileFromFS(c.Param("filepath"), http.FS(static))
	})
	// No icon: an answer without a body stops browsers asking on every page.
	r.GET("/favicon.ico", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=86400")
		c.Status(http.StatusNoContent)
	})
	ui := r.Group("/", s.auditRequests, s.uiAuthenticate, s.authorize)
	_, byUser := s.throttles()
	ui.Use(byUser)
	ui.GET("/login", s.page(s.handleLoginPage))
	ui.POST("/login", s.page(s.handleLoginForm))
	ui.POST("/logout", s.page(s.handleLogoutForm))
	ui.GET("/", s.page(s.handleHomePage))
	ui.GET("/search", s.page(s.handleSearchPage))
	ui.POST("/search", s.page(s.handleSearchPage))
	ui.GET("/orders/:id", s.page(s.handleOrderPage))
	ui.POST("/orders/:id/service", s.page(s.handleServiceForm))
	s.registerConflictPages(ui)
	s.registerIntakePages(ui)
	s.registerQueuePages(ui)
	s.registerStatsPages(ui)
}

// pageData is what every page's layout needs.
type pageData struct {
	Title string
	User  *ccpor.User
	CSRF  string
	// AsOf is when the page's data was read: officers must confirm an
	// order with the issuing agency, and the page says how fresh it is.
	AsOf time.Time
	Page any
	// Nav are the pages the user's role may open.
	Nav []navLink
}

// navLink is an entry of the main menu.
type navLink struct {
	Path, Label string
	Current     bool
}

// navLinks are the main menu; each is shown to the roles its route's
// policy admits.
var navLinks = []navLink{
	{Path: "/search", Label: "Search"},
	{Path: "/checks/conflict", Label: "Conflict check"},
	{Path: "/intake", Label: "New order"},
	{Path: "/queues", Label: "Work queues"},
	{Path: "/stats", Label: "Statistics"},
}

// render writes a page with status.
func (s *Server) render(c *gin.Context, status int, name, title string, data any) {
	t, ok := pages[name]
	if !ok {
		panic("no page template " + name)
	}
	pd := pageData{Title: title, User: ccpor.UserFromContext(c.Request.Context()), AsOf: s.Now(), Page: data}
	if pd.User != nil {
		for _, l := range navLinks {
			if p, ok := PolicyOf(http.MethodGet, l.Path); ok && slices.Contains(p.Roles, pd.User.Role) {
				l.Current = c.FullPath() == l.Path
				pd.Nav = append(pd.Nav, l)
			}
		}
	}
	if cookie, err := c.Cookie(sessionCookie); err == nil && pd.User != nil {
		pd.CSRF = csrfToken(cookie)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", pd); err != nil {
		s.Logger.Error("render page", "page", name, "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal error."))
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// page adapts a page handler that returns an error: the error becomes an
// error page with the status the API would give it.
func (s *Server) page(h func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.renderError(c, err)
		}
	}
}

func (s *Server) renderError(c *gin.Context, err error) {
	var ref *refusal
	status, message := http.StatusInternalServerError, "Internal error."
	if errors.As(err, &ref) {
		status, message = ref.status, ref.message
	} else if code := ccpor.ErrorCode(err); code != ccpor.EInternal {
		status, message = codes[code], ccpor.ErrorMessage(err)
	} else {
		s.Logger.Error("internal error", "err", err, "path", c.Request.URL.Path)
	}
	if status == http.StatusUnauthorized {
		s.redirectToLogin(c)
		return
	}
	var problems []ccpor.FieldProblem
	var e *ccpor.Error
	if errors.As(err, &e) {
		problems = e.Problems
	}
	s.render(c, status, "error", http.StatusText(status), gin.H{"Status": status, "Message": message, "Problems": problems})
}

func (s *Server) redirectToLogin(c *gin.Context) {
	next := ""
	if c.Request.Method == http.MethodGet && c.Request.URL.Path != "/login" {
		next = "?next=" + url.QueryEscape(c.Request.URL.Path)
	}
	c.Redirect(http.StatusSeeOther, "/login"+next)
	c.Abort()
}

// uiAuthenticate admits a page request with a valid session cookie and
// sends one without to the sign-in page. A POST must carry the form token
// of its session (csrfToken): other sites' forms cannot know it.
func (s *Server) uiAuthenticate(c *gin.Context) {
	if p, ok := PolicyOf(c.Request.Method, c.FullPath()); ok && p.Public {
		c.Next()
		return
	}
	cookie, err := c.Cookie(sessionCookie)
	if err != nil || cookie == "" {
		s.redirectToLogin(c)
		return
	}
	if c.ContentType() == "multipart/form-data" {
		// A form with a file (a scan at intake) is read here, to find its
		// token: capped like an API upload, and its file kept on disk
		// past the engine's MaxMultipartMemory, never whole in memory.
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.maxDocumentBytes()+multipartOverhead)
		if _, err := c.MultipartForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.renderError(c, tooLarge(s.maxDocumentBytes()))
			} else {
				s.renderError(c, ccpor.Errorf(ccpor.EInvalid, "The form could not be read: %v.", err))
			}
			c.Abort()
			return
		}
	}
	if !safeMethod(c.Request.Method) && !hmac.Equal([]byte(c.PostForm("csrf")), []byte(csrfToken(cookie))) {
		s.renderError(c, ccpor.Errorf(ccpor.EForbidden, "This form has expired or did not come from this registry: go back, reload the page and try again."))
		c.Abort()
		return
	}
	ctx := c.Request.Context()
	u, err := s.Users.SessionUser(ctx, cookie)
	if ccpor.ErrorCode(err) == ccpor.EUnauthorized {
		s.clearSessionCookie(c)
		s.redirectToLogin(c)
		return
	} else if err != nil {
		s.renderError(c, err)
		c.Abort()
		return
	}
	c.Request = c.Request.WithContext(withVia(ccpor.NewContextWithUser(ctx, u), "session"))
	c.Next()
}

// FormToken is the token the pages of the session with that secret carry
// in their forms; a program posting forms (a test, a benchmark) needs it.
func FormToken(sessionSecret string) string { return csrfToken(sessionSecret) }

// csrfToken is the form token of a session: a keyed hash of its secret,
// which only a page of this registry, rendered for that session, holds.
func csrfToken(sessionSecret string) string {
	m := hmac.New(sha256.New, []byte(sessionSecret))
	m.Write([]byte("ccpor form token"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// loginCookie holds the sign-in form's token before there is a session:
// SameSite=Strict keeps other sites' pages from sending it, so a forged
// sign-in form (logging a browser in as someone else) is refused.
const loginCookie = "ccpor_login"

func (s *Server) handleLoginPage(c *gin.Context) error {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(c.Writer, &http.Cookie{Name: loginCookie, Value: token, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: s.SecureCookies || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
	s.render(c, http.StatusOK, "login", "Sign in", gin.H{"Token": token, "Next": safeNext(c.Query("next"))})
	return nil
}

// safeNext keeps a redirect after sign-in on this site: a path, never
// another origin.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

func (s *Server) handleLoginForm(c *gin.Context) error {
	cookie, err := c.Cookie(loginCookie)
	if err != nil || cookie == "" || !hmac.Equal([]byte(cookie), []byte(c.PostForm("token"))) {
		return ccpor.Errorf(ccpor.EForbidden, "This sign-in form has expired or did not come from this registry: reload the sign-in page and try again.")
	}
	ctx := c.Request.Context()
	username, password := c.PostForm("username"), c.PostForm("password")
	sess, err := s.Users.Login(ctx, username, password)
	var locked *ccpor.LockedError
	problem := ""
	switch {
	case errors.As(err, &locked):
		s.auditLoginFailure(ctx, "throttled", username)
		minutes := max(1, int(math.Ceil(locked.Until.Sub(s.Now()).Minutes())))
		problem = fmt.Sprintf("Too many failed sign-ins for this username: try again in %d minutes.", minutes)
	case ccpor.ErrorCode(err) == ccpor.EUnauthorized:
		s.auditLoginFailure(ctx, "unauthenticated", username)
		problem = "The username or password is not right."
	case err != nil:
		return err
	}
	if problem != "" {
		status := http.StatusUnauthorized
		if locked != nil {
			status = http.StatusTooManyRequests
		}
		s.render(c, status, "login", "Sign in", gin.H{"Token": cookie, "Next": safeNext(c.PostForm("next")),
			"Username": username, "Problem": problem})
		return nil
	}
	ctx = ccpor.NewContextWithUser(ctx, sess.User)
	if err := s.Audit.Audit(ctx, "session.login", "", gin.H{"username": sess.User.Username}); err != nil {
		s.Users.Logout(ctx, sess.Secret)
		return err
	}
	s.setSessionCookie(c, sess.Secret, sess.ExpiresAt)
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
	return nil
}

func (s *Server) handleLogoutForm(c *gin.Context) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/login")
	return nil
}

func (s *Server) handleHomePage(c *gin.Context) error {
	c.Redirect(http.StatusSeeOther, "/search")
	return nil
}

// searchForm is the officer search as a page holds it: text fields,
// kept as typed so the form shows them back.
type searchForm struct {
	Last, First, DOB, BirthYear, AgeMin, AgeMax, County, Status string
}

// query turns the form into the API's search request, so that a page
// search is checked exactly as an API one is.
func (f searchForm) request() ([]byte, error) {
	req := map[string]any{}
	for k, v := range map[string]string{"last": f.Last, "first": f.First, "dob": f.DOB, "county": f.County, "status": f.Status} {
		if v = strings.TrimSpace(v); v != "" {
			req[k] = v
		}
	}
	var bad []ccpor.FieldProblem
	for k, v := range map[string]string{"birth_year": f.BirthYear, "age_min": f.AgeMin, "age_max": f.AgeMax} {
		if v = strings.TrimSpace(v); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				bad = append(bad, ccpor.FieldProblem{Field: k, Detail: "a whole number"})
			}
			req[k] = n
		}
	}
	if len(bad) > 0 {
		return nil, &ccpor.Error{Code: ccpor.EInvalid, Message: "The search is not valid.", Problems: bad}
	}
	return json.Marshal(req)
}

// hitCard is one search hit as an officer reads it at the roadside.
type hitCard struct {
	Candidate
	Full      *ccpor.Order
	ExpiresIn string
	Scan      *documentView
}

func (s *Server) handleSearchPage(c *gin.Context) error {
	data := gin.H{"Counties": ccpor.Counties}
	if c.Request.Method == http.MethodGet {
		data["Form"] = searchForm{Status: "active"}
		s.render(c, http.StatusOK, "search", "Search", data)
		return nil
	}
	f := searchForm{Last: c.PostForm("last"), First: c.PostForm("first"), DOB: c.PostForm("dob"),
		BirthYear: c.PostForm("birth_year"), AgeMin: c.PostForm("age_min"), AgeMax: c.PostForm("age_max"),
		County: c.PostForm("county"), Status: c.PostForm("status")}
	data["Form"] = f
	body, err := f.request()
	today := ccpor.DateOf(s.Now())
	var res *searchResult
	if err == nil {
		var req searchRequest
		req, q, perr := parseSearchRequest(body, today)
		if err = perr; err == nil {
			res, err = s.search(c.Request.Context(), req, q, today)
		}
	}
	if err != nil {
		if ccpor.ErrorCode(err) == ccpor.EInternal {
			return err
		}
		data["Problem"] = ccpor.ErrorMessage(err)
		var e *ccpor.Error
		if errors.As(err, &e) {
			data["Problems"] = e.Problems
		}
		s.render(c, codes[ccpor.ErrorCode(err)], "search", "Search", data)
		return nil
	}
	cards, err := s.hitCards(c.Request.Context(), res.hits, today)
	if err != nil {
		return err
	}
	data["Result"] = res
	data["Cards"] = cards
	s.render(c, http.StatusOK, "search", "Search results", data)
	return nil
}

// hitCards adds to each hit what its card shows beyond the summary: the
// restrained person's descriptors, the terms, and the first page of the
// signed order's scan.
func (s *Server) hitCards(ctx context.Context, hits []Candidate, today ccpor.Date) ([]hitCard, error) {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.OrderID
	}
	orders, err := s.Orders.FindOrdersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := map[string]*ccpor.Order{}
	for _, o := range orders {
		ccpor.UserFromContext(ctx).Redact(o)
		byID[o.ID] = o
	}
	access, err := s.Orders.FindOrderAccess(ctx, ids)
	if err != nil {
		return nil, err
	}
	u := ccpor.UserFromContext(ctx)
	cards := make([]hitCard, 0, len(hits))
	for _, h := range hits {
		o := byID[h.OrderID]
		if o == nil {
			continue
		}
		card := hitCard{Candidate: h, Full: o, ExpiresIn: expiresIn(o, today)}
		if s.Documents != nil {
			docs, err := s.Documents.FindDocuments(ctx, o.ID)
			if err != nil {
				return nil, err
			}
			for _, d := range docs {
				if v := s.viewDocument(u, access[o.ID], d); v.Content != "" {
					card.Scan = &v
					break
				}
			}
		}
		cards = append(cards, card)
	}
	return cards, nil
}

// expiresIn says how long an order in effect has left, in words.
func expiresIn(o *ccpor.Order, today ccpor.Date) string {
	if o.Permanent {
		return "no expiry (permanent)"
	}
	if o.ExpiresAt.IsZero() || o.Status != ccpor.StatusActive {
		return ""
	}
	days := int(o.ExpiresAt.Time().Sub(today.Time()).Hours() / 24)
	switch days {
	case 0:
		return "expires today at midnight"
	case 1:
		return "expires tomorrow"
	}
	return fmt.Sprintf("expires in %d days", days)
}

func (s *Server) handleOrderPage(c *gin.Context) error {
	return s.renderOrderPage(c, http.StatusOK, nil)
}

// renderOrderPage shows the order of the route; a service form that was
// refused comes back with its problems and what was typed.
func (s *Server) renderOrderPage(c *gin.Context, status int, service gin.H) error {
	ctx := c.Request.Context()
	o, docs, err := s.viewOrder(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	u := ccpor.UserFromContext(ctx)
	p, _ := PolicyOf(http.MethodPost, "/orders/:id/service")
	if service == nil {
		service = gin.H{"Status": "personal", "ServedAt": s.Now().In(ccpor.Pacific).Format("2006-01-02T15:04")}
	}
	// Service is recorded on an order in effect: one that ended binds no one.
	service["Allowed"] = slices.Contains(p.Roles, u.Role) && o.Status == ccpor.StatusActive &&
		(u.Role != ccpor.RoleClerk || u.County == "" || u.County == o.County)
	service["Statuses"] = ccpor.ServiceStatuses
	s.render(c, status, "order", o.Form+" "+o.CaseNumber, gin.H{
		"Order": o, "Documents": docs, "ExpiresIn": expiresIn(o, ccpor.DateOf(s.Now())), "Service": service,
	})
	return nil
}

// handleServiceForm records service or a verbal notice from the order
// page, through the same checks as the API.
func (s *Server) handleServiceForm(c *gin.Context) error {
	typed := gin.H{}
	for _, k := range []string{"status", "served_at", "served_by", "agency", "location", "notes", "version"} {
		typed[k] = strings.TrimSpace(c.PostForm(k))
	}
	req := serviceRequest{Status: ccpor.ServiceStatus(typed["status"].(string)), ServedBy: typed["served_by"].(string),
		Agency: typed["agency"].(string), Location: typed["location"].(string), Notes: typed["notes"].(string)}
	var bad []ccpor.FieldProblem
	if v := typed["version"].(string); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad = append(bad, ccpor.FieldProblem{Field: "version", Detail: "a whole number"})
		}
		req.Version = &n
	}
	if v := typed["served_at"].(string); v != "" && req.Status != ccpor.NotServed && req.Status != ccpor.ServiceUnknown {
		at, err := time.ParseInLocation("2006-01-02T15:04", v, ccpor.Pacific)
		if err != nil {
			bad = append(bad, ccpor.FieldProblem{Field: "served_at", Detail: "a date and time, e.g. 2026-03-02T16:30"})
		}
		req.ServedAt = &at
	}
	err := error(nil)
	if len(bad) > 0 {
		err = &ccpor.Error{Code: ccpor.EInvalid, Message: "The service record is not valid.", Problems: bad}
	} else {
		_, err = s.recordService(c, req)
	}
	if err != nil {
		code := ccpor.ErrorCode(err)
		if code != ccpor.EInvalid && code != ccpor.EConflict {
			return err
		}
		service := gin.H{"Problem": ccpor.ErrorMessage(err), "Status": typed["status"], "ServedAt": typed["served_at"],
			"ServedBy": typed["served_by"], "Agency": typed["agency"], "Location": typed["location"], "Notes": typed["notes"]}
		var e *ccpor.Error
		if errors.As(err, &e) {
			service["Problems"] = e.Problems
		}
		return s.renderOrderPage(c, codes[code], service)
	}
	c.Redirect(http.StatusSeeOther, "/orders/"+c.Param("id")+"#service")
	return nil
}
