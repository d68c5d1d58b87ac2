package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

// Limits on lifecycle input.
const (
	maxReasonLen = 2000
	// serviceClockSkew lets an officer's device run a little ahead: a
	// verbal notice must never be unrecordable because of a clock.
	serviceClockSkew = 5 * time.Minute
	// serviceRetries bounds how often a service record sent without a
	// version is re-applied when someone else changed the order meanwhile.
	serviceRetries = 3
)

func (s *Server) registerLifecycleRoutes(r *gin.RouterGroup) {
	r.POST("/orders/:id/modify", s.idempotent, s.wrap(s.handleOrderModify))
	r.POST("/orders/:id/renew", s.idempotent, s.wrap(s.handleOrderRenew))
	r.POST("/orders/:id/terminate", s.idempotent, s.wrap(s.handleOrderTerminate))
	r.POST("/orders/:id/service", s.idempotent, s.wrap(s.handleOrderService))
	r.GET("/orders/:id/versions/:version", s.wrap(s.handleOrderVersion))
}

type modifyRequest struct {
	Version int             `json:"version"`
	Reason  string          `json:"reason"`
	Order   json.RawMessage `json:"order"`
}

// handleOrderModify replaces an order by a modified one as a new version.
// The new order is read and prepared as at intake, so every rule applies;
// what identifies the order (id, type, county) cannot change.
func (s *Server) handleOrderModify(c *gin.Context) error {
	var req modifyRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	var v problems
	v.version(req.Version)
	v.reason(req.Reason, true)
	if len(req.Order) == 0 || string(req.Order) == "null" {
		v.add("order", "the modified order is required")
	}
	if err := v.err("The modification is not valid."); err != nil {
		return err
	}
	next, err := ccpor.ParseOrder(req.Order)
	if err != nil {
		return prefixProblems(err, "order.")
	}
	cur, err := s.orderForChange(c, req.Version)
	if err != nil {
		return err
	}
	if cur.Terminated != nil {
		return ccpor.Errorf(ccpor.EConflict, "Order %s was terminated on %s; a terminated order cannot be modified.", cur.ID, cur.Terminated.On)
	}
	if next.ID != "" && next.ID != cur.ID {
		v.add("order.id", "the order's id cannot change (%s)", cur.ID)
	}
	if next.Terminated != nil {
		v.add("order.terminated", "an order is terminated through /terminate, not modified")
	}
	next.ID = cur.ID
	if err := next.Prepare(s.Now()); err != nil {
		p := asProblems(err)
		if p == nil {
			return err
		}
		for _, fp := range p.Problems {
			v.add("order."+fp.Field, "%s", fp.Detail)
		}
	}
	// Compared once normalised, so "alameda" is Alameda; a bad value is
	// already named by Prepare.
	if t := ccpor.OrderType(strings.ToUpper(strings.TrimSpace(string(next.Type)))); t != cur.Type && t != "" {
		v.add("order.type", "the order type cannot change (%s): enter a new order instead", cur.Type)
	}
	if county, ok := ccpor.CanonicalCounty(next.County); ok && county != cur.County {
		v.add("order.county", "the county cannot change (%s): enter the order in its county", cur.County)
	}
	if err := v.err("The modified order is not valid."); err != nil {
		return err
	}
	next.Version = cur.Version
	return s.saveChange(c, next, "modify", req.Reason, next.Warnings)
}

type renewRequest struct {
	Version   int        `json:"version"`
	Reason    string     `json:"reason"`
	RenewedOn ccpor.Date `json:"renewed_on"`
	ExpiresAt ccpor.Date `json:"expires_at"`
	Permanent bool       `json:"permanent"`
	Form      string     `json:"form"`
}

// handleOrderRenew extends an order made after a hearing. The renewal is
// an order of its own date, so the order's issue date becomes the renewal
// date and every maximum runs from it (CCP 527.6(j): "no more than five
// additional years"); the issue date and expiry before renewal stay in the
// history's reason and in the previous version.
func (s *Server) handleOrderRenew(c *gin.Context) error {
	var req renewRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	var v problems
	v.version(req.Version)
	v.reason(req.Reason, false)
	if req.Permanent && !req.ExpiresAt.IsZero() {
		v.add("permanent", "a permanent order has no expiry date: give expires_at or permanent, not both")
	}
	today := ccpor.DateOf(s.Now())
	if req.RenewedOn.After(today) {
		v.add("renewed_on", "renewal date %s is in the future", req.RenewedOn)
	}
	if err := v.err("The renewal is not valid."); err != nil {
		return err
	}
	cur, err := s.orderForChange(c, req.Version)
	if err != nil {
		return err
	}
	switch {
	case cur.Terminated != nil:
		return ccpor.Errorf(ccpor.EConflict, "Order %s was terminated on %s; a terminated order cannot be renewed.", cur.ID, cur.Terminated.On)
	case cur.Phase != ccpor.PhaseAfterHearing:
		return ccpor.Errorf(ccpor.EConflict, "Only an order made after a hearing can be renewed; this is a %s order.", strings.ReplaceAll(string(cur.Phase), "_", " "))
	case cur.Permanent:
		return ccpor.Errorf(ccpor.EConflict, "Order %s is permanent: it never expires, so there is nothing to renew.", cur.ID)
	}
	on := req.RenewedOn
	if on.IsZero() {
		on = today
	}
	if on.Before(cur.IssuedOn) {
		v.add("renewed_on", "renewal date %s is before the order was issued on %s", on, cur.IssuedOn)
		return v.err("The renewal is not valid.")
	}
	next := *cur
	next.History, next.Warnings = nil, nil
	next.Form = strings.ToUpper(strings.TrimSpace(req.Form))
	if next.Form == "" {
		next.Form = renewalForm(cur)
	}
	next.IssuedOn, next.ExpiresAt, next.Permanent = on, req.ExpiresAt, req.Permanent
	// The renewed order is served in its own right; until that is
	// recorded an officer sees that the order before it was.
	next.Service = ccpor.Service{Status: ccpor.ServiceUnknown,
		Notes: fmt.Sprintf("Renewed on %s; service of the renewal not yet recorded. Before renewal: %s.", on, describeService(cur.Service))}
	if err := next.Prepare(s.Now()); err != nil {
		p := asProblems(err)
		if p == nil {
			return err
		}
		for _, fp := range p.Problems {
			if fp.Field == "issued_on" {
				fp.Field = "renewed_on"
			}
			v.problems = append(v.problems, fp)
		}
		return v.err("The renewed order is not valid.")
	}
	until := next.ExpiresAt.String()
	if next.Permanent {
		until = "permanently"
	} else {
		until = "until " + until
	}
	before := "no expiry"
	if !cur.ExpiresAt.IsZero() {
		before = "expiring " + cur.ExpiresAt.String()
	}
	reason := fmt.Sprintf("renewed on %s %s (%s); was issued %s, %s", on, until, next.Form, cur.IssuedOn, before)
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	next.Version = cur.Version
	return s.saveChange(c, &next, "renew", reason, next.Warnings)
}

// renewalForm is the type's renewal form (DV-730, CH-730, EA-730), or the
// order's own form where the type renews on its order after hearing.
func renewalForm(o *ccpor.Order) string {
	for _, f := range ccpor.TypeRules[o.Type].Forms[ccpor.PhaseAfterHearing] {
		if strings.HasSuffix(f, "-730") {
			return f
		}
	}
	return o.Form
}

func describeService(sv ccpor.Service) string {
	s := strings.ReplaceAll(string(sv.Status), "_", " ")
	if sv.ServedAt != nil {
		s += " " + sv.ServedAt.Format(time.RFC3339)
	}
	if sv.ServedBy != "" {
		s += " by " + sv.ServedBy
	}
	return s
}

type terminateRequest struct {
	Version int        `json:"version"`
	Reason  string     `json:"reason"`
	On      ccpor.Date `json:"on"`
}

// handleOrderTerminate records that a court ended an order before its
// expiry; the order reads as terminated from that day.
func (s *Server) handleOrderTerminate(c *gin.Context) error {
	var req terminateRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	var v problems
	v.version(req.Version)
	v.reason(req.Reason, true)
	today := ccpor.DateOf(s.Now())
	on := req.On
	if on.IsZero() {
		on = today
	}
	if on.After(today) {
		v.add("on", "termination date %s is in the future", on)
	}
	if err := v.err("The termination is not valid."); err != nil {
		return err
	}
	cur, err := s.orderForChange(c, req.Version)
	if err != nil {
		return err
	}
	if cur.Terminated != nil {
		return ccpor.Errorf(ccpor.EConflict, "Order %s was already terminated on %s.", cur.ID, cur.Terminated.On)
	}
	if on.Before(cur.IssuedOn) {
		v.add("on", "termination %s is before the issue date %s", on, cur.IssuedOn)
		return v.err("The termination is not valid.")
	}
	next := *cur
	next.History = nil
	next.Terminated = &ccpor.Termination{On: on, Reason: req.Reason}
	return s.saveChange(c, &next, "terminate", req.Reason, nil)
}

type serviceRequest struct {
	Version  *int                `json:"version"`
	Status   ccpor.ServiceStatus `json:"status"`
	ServedAt *time.Time          `json:"served_at"`
	ServedBy string              `json:"served_by"`
	Agency   string              `json:"agency"`
	Location string              `json:"location"`
	Notes    string              `json:"notes"`
}

// handleOrderService records how the order reached the restrained person.
// An officer in the field may not have read the order first, so the
// version is optional; when given it is checked.
func (s *Server) handleOrderService(c *gin.Context) error {
	var req serviceRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	saved, err := s.recordService(c, req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, saved)
	return nil
}

// recordService checks a service record and stores it as the order's
// next version, for the API and the order page alike.
func (s *Server) recordService(c *gin.Context, req serviceRequest) (*ccpor.Order, error) {
	sv := ccpor.Service{Status: req.Status, ServedAt: req.ServedAt, ServedBy: strings.TrimSpace(req.ServedBy),
		Agency: strings.TrimSpace(req.Agency), Location: strings.TrimSpace(req.Location), Notes: strings.TrimSpace(req.Notes)}
	var v problems
	if req.Version != nil {
		v.version(*req.Version)
	}
	switch {
	case sv.Status == "":
		v.add("status", "the service status is required")
	case !slices.Contains(ccpor.ServiceStatuses, sv.Status):
		v.add("status", "unknown service status %q", sv.Status)
	case sv.Status == ccpor.NotServed || sv.Status == ccpor.ServiceUnknown:
		if sv.ServedAt != nil {
			v.add("served_at", "the order is %s, so there is no service time", strings.ReplaceAll(string(sv.Status), "_", " "))
		}
	default:
		if sv.ServedAt == nil {
			v.add("served_at", "the time of service is required")
		}
	}
	if sv.Status == ccpor.ServedVerbal {
		// FC 6383: the officer who tells the terms logs who, when and
		// where, for the proof of service.
		if sv.ServedBy == "" {
			v.add("served_by", "a verbal notice needs the officer's name and badge or assignment")
		}
		if sv.Location == "" {
			v.add("location", "a verbal notice needs the place it was given")
		}
	}
	if sv.ServedAt != nil && sv.ServedAt.After(s.Now().Add(serviceClockSkew)) {
		v.add("served_at", "service time %s is in the future", sv.ServedAt.Format(time.RFC3339))
	}
	if err := v.err("The service record is not valid."); err != nil {
		return nil, err
	}
	reason := strings.ReplaceAll(string(sv.Status), "_", " ")
	if sv.ServedBy != "" {
		reason += " by " + sv.ServedBy
	}
	for try := 0; ; try++ {
		version := 0
		if req.Version != nil {
			version = *req.Version
		}
		cur, err := s.orderForChange(c, version)
		if err != nil {
			return nil, err
		}
		next := *cur
		next.History = nil
		next.Service = sv
		// Only the service is judged: the rest passed when it was stored,
		// and a service record must never wait on an unrelated correction.
		if err := next.Prepare(s.Now()); err != nil {
			p := asProblems(err)
			if p == nil {
				return nil, err
			}
			for _, fp := range p.Problems {
				if f, ok := strings.CutPrefix(fp.Field, "service."); ok {
					v.add(f, "%s", fp.Detail)
				}
			}
			if err := v.err("The service record is not valid."); err != nil {
				return nil, err
			}
		}
		saved, err := s.commitChange(c.Request.Context(), &next, "service", reason, nil)
		if req.Version != nil || ccpor.ErrorCode(err) != ccpor.EConflict || try == serviceRetries-1 {
			return saved, err
		}
	}
}

// handleOrderVersion returns one past version of an order as it was
// stored, with the history up to it.
func (s *Server) handleOrderVersion(c *gin.Context) error {
	version, err := strconv.Atoi(c.Param("version"))
	if err != nil || version < 1 {
		return &ccpor.Error{Code: ccpor.EInvalid, Message: "Not a valid version.",
			Problems: []ccpor.FieldProblem{{Field: "version", Detail: "a version is a whole number from 1"}}}
	}
	ctx := c.Request.Context()
	o, err := s.Orders.FindOrderVersion(ctx, c.Param("id"), version)
	if err != nil {
		return err
	}
	if err := showOrder(ctx, o); err != nil {
		return err
	}
	if err := s.Audit.Audit(ctx, "order.view_version", o.ID, gin.H{"version": version}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, o)
	return nil
}

// orderForChange reads the current order for a change by the acting
// user: ENotFound, EForbidden for a clerk of another county (a clerk
// changes their own court's orders, as at intake), EConflict when version
// is given (> 0) and is not the current one.
func (s *Server) orderForChange(c *gin.Context, version int) (*ccpor.Order, error) {
	ctx := c.Request.Context()
	o, err := s.Orders.FindOrderByID(ctx, c.Param("id"))
	if err != nil {
		return nil, err
	}
	if u := ccpor.UserFromContext(ctx); !u.MaySee(ccpor.AccessOf(o)) {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Order %s not found.", o.ID)
	}
	if u := ccpor.UserFromContext(ctx); u.Role == ccpor.RoleClerk && u.County != "" && u.County != o.County {
		return nil, ccpor.Errorf(ccpor.EForbidden, "A clerk of %s County cannot change an order of %s County.", u.County, o.County)
	}
	if version > 0 && version != o.Version {
		return nil, ccpor.Errorf(ccpor.EConflict, "Order %s is at version %d, not %d: someone changed it since you read it; reload it and try again.", o.ID, o.Version, version)
	}
	return o, nil
}

// saveChange stores o as the next version, audits it, and answers with the
// order as stored, its history and the warnings of its preparation.
func (s *Server) saveChange(c *gin.Context, o *ccpor.Order, action, reason string, warnings []string) error {
	saved, err := s.commitChange(c.Request.Context(), o, action, reason, warnings)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, saved)
	return nil
}

// commitChange stores o as the next version, audits it, waits for the
// index, and returns the order as stored, redacted for the user.
func (s *Server) commitChange(ctx context.Context, o *ccpor.Order, action, reason string, warnings []string) (*ccpor.Order, error) {
	if err := s.Orders.UpdateOrder(ctx, o, action, reason); err != nil {
		return nil, err
	}
	if err := s.Audit.Audit(ctx, "order."+action, o.ID, gin.H{"version": o.Version}); err != nil {
		return nil, err
	}
	saved, err := s.Orders.FindOrderVersion(ctx, o.ID, o.Version)
	if err != nil {
		return nil, err
	}
	saved.Warnings = warnings
	ccpor.UserFromContext(ctx).Redact(saved)
	// Read-your-writes, as at intake: a terminated order must not be
	// found active by the next search.
	if s.Follower != nil && !s.Follower.Sync(ctx, time.Second) {
		s.Logger.Warn("change answered before the index caught up", "order", o.ID, "action", action)
	}
	return saved, nil
}

// problems gathers what is wrong with a lifecycle request, so one answer
// names every field.
type problems struct{ problems []ccpor.FieldProblem }

func (v *problems) add(field, format string, args ...any) {
	v.problems = append(v.problems, ccpor.FieldProblem{Field: field, Detail: fmt.Sprintf(format, args...)})
}

func (v *problems) version(n int) {
	if n < 1 {
		v.add("version", "the version the change was made from is required (read the order first)")
	}
}

func (v *problems) reason(r string, required bool) {
	if required && strings.TrimSpace(r) == "" {
		v.add("reason", "the reason is required: it is kept in the order's history")
	}
	if len(r) > maxReasonLen {
		v.add("reason", "longer than %d characters", maxReasonLen)
	}
}

func (v *problems) err(message string) error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ccpor.Error{Code: ccpor.EInvalid, Message: message, Problems: v.problems}
}

// asProblems returns err as a validation error, or nil when it is another.
func asProblems(err error) *ccpor.Error {
	var e *ccpor.Error
	if !errors.As(err, &e) || e.Code != ccpor.EInvalid {
		return nil
	}
	return e
}

// prefixProblems names the fields of a nested order by their path in the
// request body.
func prefixProblems(err error, prefix string) error {
	e := asProblems(err)
	if e == nil {
		return err
	}
	out := &ccpor.Error{Code: e.Code, Message: e.Message}
	for _, p := range e.Problems {
		out.Problems = append(out.Problems, ccpor.FieldProblem{Field: prefix + p.Field, Detail: p.Detail})
	}
	return out
}
