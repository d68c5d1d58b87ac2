package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

func (s *Server) registerAuditRoutes(r *gin.RouterGroup) {
	r.GET("/audit", s.wrap(s.handleAuditList))
}

// auditRequests makes sure every /api/v1 request leaves an audit entry.
// Handlers record what they did before answering, so that nothing is read
// or changed unrecorded; this records, after the answer, the requests that
// no handler did: refused ones (401, 403, 400, 404, 409, 429...), failed
// ones unless the handler recorded the failure itself (a login names the
// username tried), and answers replayed for an Idempotency-Key. It runs
// before authentication so that a request without a valid token is
// recorded too.
func (s *Server) auditRequests(c *gin.Context) {
	r := &store.AuditRequest{ClientAddr: s.clientAddr(c.Request)}
	c.Request = c.Request.WithContext(store.NewContextWithAuditRequest(c.Request.Context(), r))
	c.Next()
	status := c.Writer.Status()
	if (status < http.StatusBadRequest && r.Recorded()) || r.RecordedFailure() {
		return
	}
	route := c.FullPath()
	action, ok := routeActions[c.Request.Method+" "+route]
	if !ok {
		action = c.Request.Method + " " + route
	}
	detail := gin.H{"status": status, "path": c.Request.URL.Path}
	if c.Writer.Header().Get("Idempotent-Replayed") == "true" {
		detail["replayed"] = true
	}
	if status == http.StatusUnauthorized {
		// Whether a token came, never the token.
		detail["bearer_token"] = strings.HasPrefix(c.GetHeader("Authorization"), "Bearer ")
	}
	e := &store.AuditEntry{Action: action, Outcome: outcomeOf(status)}
	if id, err := uuid.Parse(c.Param("id")); err == nil && strings.HasPrefix(route, "/api/v1/orders/") {
		e.OrderID = id.String()
	}
	var err error
	if e.Detail, err = json.Marshal(detail); err != nil {
		s.Logger.Error("audit", "err", err)
		return
	}
	// The answer is gone; the entry is still owed if the client hung up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
	defer cancel()
	if err := s.Audit.AppendAudit(ctx, e); err != nil {
		s.Logger.Error("audit of a request failed", "err", err, "path", c.Request.URL.Path, "status", status)
	}
}

// routeActions names the action of a route as its handler records it, so
// that a refused search is found with the searches.
var routeActions = map[string]string{
	"POST /api/v1/orders":                      "order.create",
	"GET /api/v1/orders/:id":                   "order.view",
	"GET /api/v1/orders/:id/versions/:version": "order.view_version",
	"GET /api/v1/orders/:id/export":            "order.export",
	"POST /api/v1/search/export":               "search",
	"POST /api/v1/orders/:id/modify":           "order.modify",
	"POST /api/v1/orders/:id/renew":            "order.renew",
	"POST /api/v1/orders/:id/terminate":        "order.terminate",
	"POST /api/v1/orders/:id/service":          "order.service",
	"POST /api/v1/search":                      "search",
	"POST /search":                             "search",
	"GET /orders/:id":                          "order.view",
	"POST /orders/:id/service":                 "order.service",
	"POST /checks/conflict":                    "check.conflicts",
	"POST /intake":                             "order.create",
	"GET /queues":                              "queue.read",
	"GET /stats":                               "stats.read",
	"GET /api/v1/stats":                        "stats.read",
	"POST /login":                              "session.login",
	"POST /logout":                             "session.logout",
	"POST /api/v1/search/text":                 "search.text",
	"POST /api/v1/orders/:id/documents":        "document.upload",
	"GET /api/v1/documents/:id":                "document.download",
	"GET /api/v1/documents/:id/pages/:page":    "document.page",
	"POST /api/v1/checks/duplicates":           "check.duplicates",
	"POST /api/v1/checks/conflicts":            "check.conflicts",
	"GET /api/v1/audit":                        "audit.read",
	"POST /api/v1/sessions":                    "session.login",
	"DELETE /api/v1/sessions":                  "session.logout",
	"GET /api/v1/users":                        "user.list",
	"POST /api/v1/users":                       "user.create",
	"POST /api/v1/users/:id/disable":           "user.disable",
	"POST /api/v1/users/:id/tokens":            "token.create",
	"DELETE /api/v1/tokens/:id":                "token.revoke",
}

func outcomeOf(status int) string {
	switch {
	case status < http.StatusBadRequest:
		return store.AuditOK
	case status == http.StatusUnauthorized:
		return store.AuditUnauthenticated
	case status == http.StatusForbidden:
		return store.AuditDenied
	case status == http.StatusNotFound:
		return store.AuditNotFound
	case status == http.StatusConflict:
		return store.AuditConflict
	case status == http.StatusTooManyRequests:
		return store.AuditThrottled
	case status == http.StatusServiceUnavailable:
		return store.AuditUnavailable
	case status < http.StatusInternalServerError:
		return store.AuditInvalid
	}
	return store.AuditError
}

// clientAddr is the client's IP address as the connection gives it.
// X-Forwarded-For is believed only from a trusted proxy, and then read
// from the right, up to the first address that is not a trusted proxy:
// anything left of that was written by the client and proves nothing.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !s.trustedProxy(ip) {
		return host
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		ip = hop.Unmap()
		if !s.trustedProxy(ip) {
			break
		}
	}
	return ip.String()
}

func (s *Server) trustedProxy(ip netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// auditEntry is an audit entry as the API shows it.
type auditEntry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	UserID     int64           `json:"user_id,omitempty"`
	UserName   string          `json:"user_name,omitempty"`
	Role       ccpor.Role      `json:"role,omitempty"`
	Action     string          `json:"action"`
	Outcome    string          `json:"outcome"`
	ClientAddr string          `json:"client_addr"`
	OrderID    string          `json:"order_id,omitempty"`
	OrderIDs   []string        `json:"order_ids"`
	Detail     json.RawMessage `json:"detail"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// auditParams are the query parameters of GET /api/v1/audit.
var auditParams = []string{"user_id", "role", "action", "outcome", "client_addr", "order_id", "since", "until", "before", "limit"}

// handleAuditList answers an admin's question to the audit trail, newest
// first. Reading the trail is itself recorded, with the question.
func (s *Server) handleAuditList(c *gin.Context) error {
	f, asked, err := auditFilterOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	entries, err := s.Audit.AuditQuery(ctx, f)
	if err != nil {
		return err
	}
	out := make([]auditEntry, len(entries))
	for i, e := range entries {
		out[i] = auditEntry{ID: e.ID, At: e.At, UserID: e.UserID, UserName: e.UserName, Role: e.Role,
			Action: e.Action, Outcome: e.Outcome, ClientAddr: e.ClientAddr, OrderID: e.OrderID,
			OrderIDs: e.OrderIDs, Detail: e.Detail, PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
	}
	read := gin.H{"query": asked, "entries": len(out)}
	if len(out) > 0 {
		read["ids"] = []int64{out[0].ID, out[len(out)-1].ID}
	}
	d, err := json.Marshal(read)
	if err != nil {
		return err
	}
	if err := s.Audit.AppendAudit(ctx, &store.AuditEntry{Action: "audit.read", Detail: d}); err != nil {
		return err
	}
	ans := gin.H{"entries": out}
	limit := f.Limit
	if limit == 0 {
		limit = store.DefaultAuditLimit
	}
	if len(out) == limit {
		ans["next_before"] = out[len(out)-1].ID
	}
	c.JSON(http.StatusOK, ans)
	return nil
}

// auditFilterOf reads the filter from the query, refusing parameters it
// does not know: a misspelt filter must not silently widen the answer.
func auditFilterOf(c *gin.Context) (store.AuditFilter, map[string]string, error) {
	var f store.AuditFilter
	asked := map[string]string{}
	bad := &ccpor.Error{Code: ccpor.EInvalid, Message: "The audit query is not valid."}
	for k, v := range c.Request.URL.Query() {
		if !slices.Contains(auditParams, k) {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "unknown parameter; use " + strings.Join(auditParams, ", ")})
			continue
		}
		if len(v) != 1 {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "give it once"})
			continue
		}
		asked[k] = v[0]
	}
	integer := func(k string) int64 {
		if asked[k] == "" {
			return 0
		}
		n, err := strconv.ParseInt(asked[k], 10, 64)
		if err != nil || n <= 0 {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "a whole number from 1"})
		}
		return n
	}
	instant := func(k string) time.Time {
		if asked[k] == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, asked[k])
		if err != nil {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "a time such as 2026-03-02T17:00:00Z"})
		}
		return t
	}
	f.UserID, f.Before, f.Limit = integer("user_id"), integer("before"), int(integer("limit"))
	f.Since, f.Until = instant("since"), instant("until")
	f.Role, f.Action, f.Outcome, f.ClientAddr = ccpor.Role(asked["role"]), asked["action"], asked["outcome"], asked["client_addr"]
	if f.OrderID = asked["order_id"]; f.OrderID != "" {
		if _, err := uuid.Parse(f.OrderID); err != nil {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "order_id", Detail: "an order ID (a UUID)"})
		}
	}
	if f.Limit > store.MaxAuditLimit {
		bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "limit", Detail: "at most " + strconv.Itoa(store.MaxAuditLimit)})
	}
	if len(bad.Problems) > 0 {
		slices.SortFunc(bad.Problems, func(a, b ccpor.FieldProblem) int { return strings.Compare(a.Field, b.Field) })
		return f, asked, bad
	}
	return f, asked, nil
}

// auditReturned records a successful action whose answer showed orders:
// which ones, so that "who was shown this order" has an answer.
func (s *Server) auditReturned(ctx context.Context, action string, orderIDs []string, detail any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return s.Audit.AppendAudit(ctx, &store.AuditEntry{Action: action, OrderIDs: orderIDs, Detail: d})
}

func candidateIDs(cands []Candidate) []string {
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.OrderID
	}
	return ids
}

func relatedIDs(related []RelatedOrder) []string {
	ids := make([]string, len(related))
	for i, r := range related {
		ids[i] = r.OrderID
	}
	return ids
}
