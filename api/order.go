package api

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/matching"
	"github.com/gin-gonic/gin"
)

func (s *Server) registerOrderRoutes(r *gin.RouterGroup) {
	r.POST("/orders", s.idempotent, s.wrap(s.handleOrderCreate))
	r.GET("/orders/:id", s.wrap(s.handleOrderView))
}

// handleOrderCreate is a clerk's intake of one order.
func (s *Server) handleOrderCreate(c *gin.Context) error {
	o, err := s.readOrder(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if err := mayEnter(ccpor.UserFromContext(ctx), o); err != nil {
		return err
	}
	if _, err := s.enter(ctx, o); err != nil {
		return err
	}
	o.OverrideReason = ""
	ccpor.UserFromContext(ctx).Redact(o)
	c.Header("Location", "/api/v1/orders/"+o.ID)
	c.JSON(http.StatusCreated, o)
	return nil
}

// enter is an intake, for the API and the intake page alike: the
// duplicate guard, what NCIC would reject added to the warnings, the
// order stored, its entry audited (over the guard:
// who, why, and over what), and — read-your-writes — an answer only once
// it is searchable, so that the clerk who enters it again at once is told
// it exists. stored reports whether the order was saved, which an error
// after that (the audit) does not undo.
func (s *Server) enter(ctx context.Context, o *ccpor.Order) (stored bool, err error) {
	flagged, err := s.guardIntake(ctx, o)
	if err != nil {
		return false, err
	}
	addNCICWarnings(o)
	if err := s.Orders.CreateOrder(ctx, o); err != nil {
		return false, err
	}
	detail := gin.H{}
	if len(flagged) > 0 {
		detail["override_reason"] = o.OverrideReason
		detail["likely_duplicates"] = flagged
	}
	if o.PreviousOrderID != "" {
		detail["previous_order_id"] = o.PreviousOrderID
	}
	if err := s.Audit.Audit(ctx, "order.create", o.ID, detail); err != nil {
		return true, err
	}
	if s.Follower != nil && !s.Follower.Sync(ctx, time.Second) {
		s.Logger.Warn("intake answered before the index caught up", "order", o.ID)
	}
	return true, nil
}

// guardIntake stops a duplicate at intake (issue: "Stop the duplicate at
// intake"). Orders whose restrained person matches o's are read from the
// registry and judged by matching.Bench.Intake: the same order is refused
// outright, naming it; a likely duplicate is refused with the ranked
// candidates unless the clerk gives override_reason, and then flagged is
// the list of orders it was entered over; the next step of a case is
// linked to its predecessor through o.PreviousOrderID. The store refuses
// the same order entered twice at the same instant on its own.
func (s *Server) guardIntake(ctx context.Context, o *ccpor.Order) (flagged []string, err error) {
	if o.PreviousOrderID != "" {
		if _, err := s.Orders.FindOrderByID(ctx, o.PreviousOrderID); ccpor.ErrorCode(err) == ccpor.ENotFound {
			return nil, &ccpor.Error{Code: ccpor.EInvalid, Message: "The order is not valid.",
				Problems: []ccpor.FieldProblem{{Field: "previous_order_id", Detail: "no order with this ID is registered"}}}
		} else if err != nil {
			return nil, err
		}
	}
	if err := s.searchReady(ctx); err != nil {
		if o.OverrideReason != "" {
			return nil, nil
		}
		return nil, ccpor.Errorf(ccpor.EUnavailable, "The duplicate check is unavailable (%s) Retry shortly, or give override_reason to enter the order without it.", ccpor.ErrorMessage(err))
	}
	matches, err := s.Index.Duplicates(ctx, o, s.Match)
	if err != nil {
		return nil, err
	}
	byID := map[string]index.Match{}
	var ids []string
	for _, m := range matches {
		if m.Result.Level == matching.LevelMatch {
			byID[m.OrderID] = m
			ids = append(ids, m.OrderID)
		}
	}
	existing, err := s.Orders.FindOrdersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	// Orders the clerk may not see are not shown as candidates; the
	// same order entered twice is still refused by the store.
	existing, _ = visibleOrders(ctx, existing)
	if len(existing) == 0 {
		return nil, nil
	}
	bench := matching.NewBench(o, existing, ccpor.DateOf(s.Now()), s.Index.Calibrate(s.Match))
	var likely []index.Match
	var predecessor *ccpor.Order
	for k, e := range existing {
		switch bench.Intake(k) {
		case matching.IntakeDuplicate:
			return nil, &ccpor.Error{Code: ccpor.EConflict, Existing: e.ID,
				Message: fmt.Sprintf("This order is already registered as order %s: same county, case number, type, phase, issue date and people.", e.ID)}
		case matching.IntakeFollows:
			if predecessor == nil || e.IssuedOn.After(predecessor.IssuedOn) ||
				(e.IssuedOn == predecessor.IssuedOn && phaseAfter(e.Phase, predecessor.Phase)) {
				predecessor = e
			}
		case matching.IntakeLikelyDuplicate:
			likely = append(likely, byID[e.ID])
		}
	}
	if predecessor != nil && ccpor.SameCase(o, predecessor) {
		// The case is in the registry, so its number is no slip: orders of
		// other cases are other cases.
		likely = slices.DeleteFunc(likely, func(m index.Match) bool {
			e := existing[slices.IndexFunc(existing, func(e *ccpor.Order) bool { return e.ID == m.OrderID })]
			return !ccpor.SameCase(o, e)
		})
	}
	if len(likely) > 0 {
		slices.SortStableFunc(likely, func(a, b index.Match) int { return -cmp.Compare(a.Result.Score, b.Result.Score) })
		for _, m := range likely {
			flagged = append(flagged, m.OrderID)
		}
		if o.OverrideReason == "" {
			cands, err := s.candidates(ctx, likely)
			if err != nil {
				return nil, err
			}
			return nil, &likelyDuplicate{candidates: cands}
		}
	}
	if predecessor != nil && o.PreviousOrderID == "" {
		o.PreviousOrderID = predecessor.ID
		o.Warnings = append(o.Warnings, fmt.Sprintf("Linked to order %s (%s, issued %s) as the next step of case %s.",
			predecessor.ID, predecessor.Form, predecessor.IssuedOn, predecessor.CaseNumber))
	}
	return flagged, nil
}

func phaseAfter(a, b ccpor.Phase) bool {
	rank := map[ccpor.Phase]int{ccpor.PhaseEmergency: 0, ccpor.PhaseTemporary: 1, ccpor.PhaseAfterHearing: 2}
	return rank[a] > rank[b]
}

// likelyDuplicate refuses an intake that looks like an order already
// registered; the answer carries the candidates.
type likelyDuplicate struct{ candidates []Candidate }

func (e *likelyDuplicate) Error() string {
	return "This order looks like an order already registered: the same people, the same type, and the same or a similar case number or overlapping dates. Check the candidates; if it is a different order, enter it again with override_reason saying why."
}

// handleOrderView returns one order with its history.
func (s *Server) handleOrderView(c *gin.Context) error {
	o, docs, err := s.viewOrder(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, orderView{Order: o, Documents: docs})
	return nil
}

// viewOrder reads an order and its documents as the acting user may see
// them, and records that they saw it: the API's view and the order page.
// ENotFound for an order they may not see.
func (s *Server) viewOrder(ctx context.Context, id string) (*ccpor.Order, []documentView, error) {
	o, err := s.Orders.FindOrderByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := showOrder(ctx, o); err != nil {
		return nil, nil, err
	}
	docs, err := s.orderDocuments(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	if err := s.Audit.Audit(ctx, "order.view", o.ID, nil); err != nil {
		return nil, nil, err
	}
	return o, docs, nil
}

// orderView is an order with its documents.
type orderView struct {
	*ccpor.Order
	Documents []documentView `json:"documents"`
}

// orderDocuments lists o's documents as the acting user may see them. The
// access is decided on the order as stored, before redaction.
func (s *Server) orderDocuments(ctx context.Context, o *ccpor.Order) ([]documentView, error) {
	views := []documentView{}
	if s.Documents == nil {
		return views, nil
	}
	docs, err := s.Documents.FindDocuments(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	access, err := s.Orders.FindOrderAccess(ctx, []string{o.ID})
	if err != nil {
		return nil, err
	}
	u := ccpor.UserFromContext(ctx)
	for _, d := range docs {
		views = append(views, s.viewDocument(u, access[o.ID], d))
	}
	return views, nil
}

// readOrder reads the order in the request body, strictly, and prepares
// it: EInvalid names every problem.
func (s *Server) readOrder(c *gin.Context) (*ccpor.Order, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
	if err != nil {
		return nil, ccpor.Errorf(ccpor.EInvalid, "The order could not be read: it must be JSON of at most %d bytes.", maxBodyBytes)
	}
	o, err := ccpor.ParseOrder(body)
	if err != nil {
		return nil, err
	}
	if err := o.Prepare(s.Now()); err != nil {
		return nil, err
	}
	return o, nil
}

// addNCICWarnings warns of what the NCIC Protection Order File would
// reject in o. The order is entered all the same: a court may not refuse
// an order for missing descriptors (Family Code 6385(b)), but the clerk
// can still add them before the message reaches law enforcement.
func addNCICWarnings(o *ccpor.Order) {
	ps := ccpor.NCICProblems(o)
	if len(ps) == 0 {
		return
	}
	d := make([]string, len(ps))
	for i, p := range ps {
		d[i] = p.Detail
	}
	o.Warnings = append(o.Warnings, "NCIC would reject: "+strings.Join(d, "; "))
}

// mayEnter returns EForbidden unless u may enter o, at the API's intake or
// the intake page: a clerk enters their own court's orders, and nobody
// enters an order they could not read back (juvenile orders are for
// juvenile-division clerks, sealed ones for the issuing court).
func mayEnter(u *ccpor.User, o *ccpor.Order) error {
	if u.Role == ccpor.RoleClerk && u.County != "" && u.County != o.County {
		return ccpor.Errorf(ccpor.EForbidden, "A clerk of %s County cannot enter an order of %s County.", u.County, o.County)
	}
	if !u.MaySee(ccpor.AccessOf(o)) {
		return ccpor.Errorf(ccpor.EForbidden, "This user may not enter a juvenile or sealed order.")
	}
	return nil
}
