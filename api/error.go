package api

import (
	"errors"
	"net/http"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/gin-gonic/gin"
)

// codes maps each domain error code to its HTTP status, in one place.
var codes = map[string]int{
	ccpor.EInvalid:      http.StatusBadRequest,
	ccpor.ENotFound:     http.StatusNotFound,
	ccpor.EConflict:     http.StatusConflict,
	ccpor.EUnauthorized: http.StatusUnauthorized,
	ccpor.EForbidden:    http.StatusForbidden,
	ccpor.EUnavailable:  http.StatusServiceUnavailable,
	ccpor.EInternal:     http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem detail, with the fields of the input that
// were wrong.
type Problem struct {
	Type     string               `json:"type"`
	Title    string               `json:"title"`
	Status   int                  `json:"status"`
	Detail   string               `json:"detail,omitempty"`
	Instance string               `json:"instance,omitempty"`
	Errors   []ccpor.FieldProblem `json:"errors,omitempty"`
	// ExistingOrder is the order an intake duplicates, and Candidates the
	// orders it likely duplicates (409 only).
	ExistingOrder   string      `json:"existing_order,omitempty"`
	ExistingOrderID string      `json:"existing_order_id,omitempty"`
	Candidates      []Candidate `json:"candidates,omitempty"`
}

// wrap adapts a handler that returns an error: the error becomes a
// problem+json answer.
func (s *Server) wrap(h func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.writeError(c, err)
		}
	}
}

func (s *Server) writeError(c *gin.Context, err error) {
	var ref *refusal
	if errors.As(err, &ref) {
		s.writeProblem(c, ref.status, ref.code, ref.message, nil)
		return
	}
	var dup *likelyDuplicate
	if errors.As(err, &dup) {
		c.Header("Content-Type", "application/problem+json")
		c.JSON(http.StatusConflict, Problem{Type: "urn:ccpor:problem:likely_duplicate", Title: http.StatusText(http.StatusConflict),
			Status: http.StatusConflict, Detail: dup.Error(), Instance: c.Request.URL.Path, Candidates: dup.candidates})
		return
	}
	code := ccpor.ErrorCode(err)
	if code == ccpor.EInternal && store.Unreachable(err) {
		s.Logger.Warn("database unreachable", "err", err, "path", c.Request.URL.Path)
		c.Header("Retry-After", "1")
		s.writeProblem(c, http.StatusServiceUnavailable, ccpor.EUnavailable, "The registry database does not answer; try again shortly.", nil)
		return
	}
	if code == ccpor.EInternal {
		// Only internal errors are logged: the others are the user's, and
		// the answer tells them.
		s.Logger.Error("internal error", "err", err, "path", c.Request.URL.Path)
	}
	status, ok := codes[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var problems []ccpor.FieldProblem
	var e *ccpor.Error
	if errors.As(err, &e) {
		problems = e.Problems
	}
	if e != nil && e.Existing != "" {
		c.Header("Content-Type", "application/problem+json")
		c.Header("Location", "/api/v1/orders/"+e.Existing)
		c.JSON(status, Problem{Type: "urn:ccpor:problem:duplicate_order", Title: http.StatusText(status), Status: status,
			Detail: e.Message, Instance: c.Request.URL.Path, ExistingOrder: "/api/v1/orders/" + e.Existing, ExistingOrderID: e.Existing})
		return
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="ccpor"`)
	}
	s.writeProblem(c, status, code, ccpor.ErrorMessage(err), problems)
}

func (s *Server) writeProblem(c *gin.Context, status int, code, detail string, problems []ccpor.FieldProblem) {
	c.Header("Content-Type", "application/problem+json")
	c.JSON(status, Problem{
		Type:     "urn:ccpor:problem:" + code,
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: c.Request.URL.Path,
		Errors:   problems,
	})
}
