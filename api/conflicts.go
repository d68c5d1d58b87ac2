package api

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/matching"
	"github.com/gin-gonic/gin"
)

func (s *Server) registerCheckRoutes(r *gin.RouterGroup) {
	r.POST("/checks/conflicts", s.wrap(s.handleCheckConflicts))
}

// RelatedOrder is an existing order that involves a person of the proposed
// order.
type RelatedOrder struct {
	OrderID string `json:"order_id"`
	// Role is how the order touches the proposed one, from its strongest
	// link: "restrained" (it restrains the same person), "protected" (it
	// protects one of the same people), "reversed" (the same people in
	// reversed roles) or "possible" (a person may be the same; not enough
	// to apply the conflict rules).
	Role      string   `json:"role"`
	Relations []string `json:"relations"`
	// Score and Level are those of the best person link.
	Score float64 `json:"score"`
	Level string  `json:"level"`
	// Follows is set when the proposed order is the next step of this
	// order's case (it replaces it rather than conflicting with it).
	Follows bool         `json:"follows,omitempty"`
	People  []PersonLink `json:"people"`
	Order   orderSummary `json:"order"`
	Court   string       `json:"court,omitempty"`
}

// PersonLink says which person of the proposed order a person of the
// related order may be, and why.
type PersonLink struct {
	// Proposed is "restrained" or "protected[i]" in the proposed order.
	Proposed string `json:"proposed"`
	// Existing is the person's place in the related order, same form.
	Existing    string           `json:"existing"`
	Name        string           `json:"name"`
	Score       float64          `json:"score"`
	Level       string           `json:"level"`
	Explanation []matching.Piece `json:"explanation"`
}

// conflictAnswer is the answer of a conflict check.
type conflictAnswer struct {
	Related    []RelatedOrder     `json:"related"`
	Conflicts  []ccpor.Conflict   `json:"conflicts"`
	Precedence []ccpor.Precedence `json:"precedence"`
	Searched   searchedBlock      `json:"searched"`
	// Notices say that orders the judge may not see exist, and whom to
	// ask: "a confidential order exists; contact the issuing court".
	Notices []string `json:"notices,omitempty"`
	// orders are the related orders as judged, by ID, for the page that
	// shows them: read once, so the page shows the terms that were judged.
	orders map[string]*ccpor.Order
}

func sealedNotice(o *ccpor.Order) string {
	return "A sealed order involving these people exists; contact the Superior Court of " + o.County + " County."
}

// searchedBlock says exactly what a conflict check looked at, so that
// "nothing found" is a statement a judge can print and rely on.
type searchedBlock struct {
	Scope    string     `json:"scope"`
	AsOf     ccpor.Date `json:"as_of"`
	At       time.Time  `json:"at"`
	Statuses []string   `json:"statuses"`
	// People is how many people of the proposed order were searched for:
	// the restrained person and each protected person.
	People int `json:"people"`
	// IndexOrders and IndexPosition say which state of the registry the
	// index reflected: its order count and the last change applied.
	IndexOrders   uint64 `json:"index_orders"`
	IndexPosition int64  `json:"index_position"`
	// Complete is false when a person's candidates reached the cap, so
	// more orders may involve them than were examined.
	Complete bool   `json:"complete"`
	Note     string `json:"note"`
}

// handleCheckConflicts is a judge's conflict check of an order before it
// is signed. The order is not saved.
func (s *Server) handleCheckConflicts(c *gin.Context) error {
	o, err := s.readOrder(c)
	if err != nil {
		return err
	}
	includeExpired := false
	if v := c.Query("include_expired"); v != "" {
		if includeExpired, err = strconv.ParseBool(v); err != nil {
			return ccpor.Errorf(ccpor.EInvalid, "include_expired must be true or false.")
		}
	}
	ctx := c.Request.Context()
	if err := s.searchReady(ctx); err != nil {
		return err
	}
	ans, err := s.checkConflicts(ctx, o, includeExpired)
	if err != nil {
		return err
	}
	if err := s.auditReturned(ctx, "check.conflicts", relatedIDs(ans.Related), gin.H{"case_number": o.CaseNumber, "county": o.County,
		"related": len(ans.Related), "conflicts": len(ans.Conflicts)}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, ans)
	return nil
}

// checkConflicts finds every order involving o's people and applies the
// conflict and precedence rules.
func (s *Server) checkConflicts(ctx context.Context, o *ccpor.Order, includeExpired bool) (*conflictAnswer, error) {
	now := s.Now()
	today := ccpor.DateOf(now)
	var f index.Filter
	statuses := []string{"active"}
	if !includeExpired {
		f.ActiveOn = today
	} else {
		statuses = append(statuses, "expired", "terminated")
	}
	position := s.Index.Seq()
	people := matching.Slots(o)
	hits, truncated, err := s.Index.Related(ctx, people, o.IssuedOn, f, s.Match)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(hits))
	for _, h := range hits {
		if h.OrderID != o.ID {
			ids = append(ids, h.OrderID)
		}
	}
	existing, err := s.Orders.FindOrdersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	existing, sealed := visibleOrders(ctx, existing)
	// The store is the truth: an order terminated since the index saw it
	// is not in effect, whatever the index says.
	if !includeExpired {
		existing = slices.DeleteFunc(existing, func(e *ccpor.Order) bool { return e.StatusAt(now) != ccpor.StatusActive })
	}
	slices.SortFunc(existing, func(a, b *ccpor.Order) int {
		if c := -a.IssuedOn.Compare(b.IssuedOn); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	bench := matching.NewBench(o, existing, today, s.Index.Calibrate(s.Match))
	ans := &conflictAnswer{Related: []RelatedOrder{}, Conflicts: bench.Conflicts(), Precedence: bench.Precedence(),
		orders: map[string]*ccpor.Order{}}
	if ans.Conflicts == nil {
		ans.Conflicts = []ccpor.Conflict{}
	}
	if ans.Precedence == nil {
		ans.Precedence = []ccpor.Precedence{}
	}
	for k, e := range existing {
		if !bench.Related(k) {
			continue
		}
		ans.Related = append(ans.Related, s.relatedOrder(bench, k, e, now))
		ans.orders[e.ID] = e
	}
	slices.SortStableFunc(ans.Related, func(a, b RelatedOrder) int { return -cmp.Compare(a.Score, b.Score) })
	for _, e := range sealed {
		// A sealed order of another court is not shown, but a judge
		// must know to ask (FC 6306); only links at the match level
		// count, as for the rules.
		b := matching.NewBench(o, []*ccpor.Order{e}, today, s.Index.Calibrate(s.Match))
		if len(b.Relations(0)) > 0 && !slices.Contains(ans.Notices, sealedNotice(e)) {
			ans.Notices = append(ans.Notices, sealedNotice(e))
		}
	}
	n, _ := s.Index.Count()
	ans.Searched = searchedBlock{Scope: "all counties", AsOf: today, At: now.UTC(), Statuses: statuses,
		People: len(people), IndexOrders: n, IndexPosition: position, Complete: !truncated}
	switch {
	case truncated:
		ans.Searched.Note = "Search incomplete: a person of this order has more candidate orders than were examined, and the last ones examined still involved them; narrow the check with birth dates."
	case len(ans.Related) == 0:
		ans.Searched.Note = "No order in the registry involves these people (" + joinStatuses(statuses) + " orders, all counties, as of " + today.String() + ")."
	default:
		ans.Searched.Note = "Every " + joinStatuses(statuses) + " order in the registry involving these people was examined."
	}
	return ans, nil
}

func (s *Server) relatedOrder(b *matching.Bench, k int, e *ccpor.Order, now time.Time) RelatedOrder {
	links := b.Links[k]
	best := links[0]
	rel := b.Relations(k)
	role := "possible"
	if len(rel) > 0 {
		role = rel[0]
	}
	if rel == nil {
		rel = []string{}
	}
	r := RelatedOrder{OrderID: e.ID, Role: role, Relations: rel, Score: round3(best.Result.Score), Level: best.Result.Level,
		Follows: slices.Contains(rel, "restrained") && matching.Follows(b.Proposed, e),
		Order:   summarize(e, now), Court: e.Court}
	exPeople := matching.Slots(e)
	for _, l := range links {
		r.People = append(r.People, PersonLink{
			Proposed: slotName(l.Proposed), Existing: slotName(l.Existing), Name: exPeople[l.Existing].FullName(),
			Score: round3(l.Result.Score), Level: l.Result.Level, Explanation: l.Result.Explanation,
		})
	}
	return r
}

func slotName(i int) string {
	if i == 0 {
		return "restrained"
	}
	return "protected[" + strconv.Itoa(i-1) + "]"
}

func joinStatuses(s []string) string {
	switch len(s) {
	case 1:
		return s[0]
	case 3:
		return s[0] + ", " + s[1] + " or " + s[2]
	}
	return s[0] + " or " + s[1]
}
