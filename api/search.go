package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/matching"
	"github.com/gin-gonic/gin"
)

// Search limits.
const (
	defaultPerPage = 20
	maxPerPage     = 50
)

func (s *Server) registerSearchRoutes(r *gin.RouterGroup) {
	r.POST("/search", s.wrap(s.handleSearch))
	r.POST("/search/text", s.wrap(s.handleTextSearch))
	r.POST("/checks/duplicates", s.wrap(s.handleCheckDuplicates))
}

// searchRequest is an officer's search. It comes as a JSON body so that
// names and birth dates never appear in URLs or access logs.
type searchRequest struct {
	Last      string     `json:"last"`
	First     string     `json:"first"`
	DOB       ccpor.Date `json:"dob"`
	BirthYear int        `json:"birth_year"`
	AgeMin    int        `json:"age_min"`
	AgeMax    int        `json:"age_max"`
	County    string     `json:"county"`
	Types     []string   `json:"types"`
	// Status is active (the default), expired or any.
	Status  string `json:"status"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
}

// Candidate is one order offered by a search or a duplicate check.
type Candidate struct {
	OrderID     string           `json:"order_id"`
	Score       float64          `json:"score"`
	Level       string           `json:"level,omitempty"`
	Role        index.Role       `json:"role"` // the matched person's place in the order
	Person      personSummary    `json:"person"`
	Explanation []matching.Piece `json:"explanation"`
	Order       *orderSummary    `json:"order,omitempty"`
}

// personSummary is the matched person as a result list shows them. A
// protected person's address is never shown (FC 6252.5, 18 USC 2265(d)).
type personSummary struct {
	Name      string     `json:"name"`
	DOB       ccpor.Date `json:"dob,omitzero"`
	BirthYear int        `json:"birth_year,omitempty"`
	Age       int        `json:"age,omitempty"`
	Sex       string     `json:"sex,omitempty"`
	Race      string     `json:"race,omitempty"`
}

// orderSummary is what an officer needs at a glance: is it in effect, was
// it served, does it bar firearms or contact.
type orderSummary struct {
	Type       ccpor.OrderType     `json:"type"`
	Phase      ccpor.Phase         `json:"phase"`
	Form       string              `json:"form"`
	County     string              `json:"county"`
	Division   ccpor.Division      `json:"division,omitempty"`
	CaseNumber string              `json:"case_number"`
	IssuedOn   ccpor.Date          `json:"issued_on"`
	ExpiresAt  ccpor.Date          `json:"expires_at,omitzero"`
	Permanent  bool                `json:"permanent,omitempty"`
	Status     ccpor.Status        `json:"status"`
	Service    ccpor.ServiceStatus `json:"service"`
	Served     bool                `json:"served"`
	Firearms   bool                `json:"firearms"`
	NoContact  bool                `json:"no_contact"`
	StayAway   int                 `json:"stay_away_yards"`
	Restrained string              `json:"restrained"`
}

func (s *Server) handleSearch(c *gin.Context) error {
	today := ccpor.DateOf(s.Now())
	req, q, err := readSearchRequest(c, today)
	if err != nil {
		return err
	}
	res, err := s.search(c.Request.Context(), req, q, today)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{
		"hits":      res.hits,
		"total":     res.Total,
		"page":      res.Page,
		"per_page":  res.PerPage,
		"truncated": res.Truncated,
		"searched":  searched(today, req.Status),
	})
	return nil
}

// searchResult is one page of an officer search.
type searchResult struct {
	hits        []Candidate
	Total, Page int
	PerPage     int
	Truncated   bool
	Status      string
	AsOf        ccpor.Date
}

// search runs an officer search for the API and the web page alike: the
// index's candidates ranked, those the user may not see dropped, one page
// of them summarised, and what was returned audited.
func (s *Server) search(ctx context.Context, req searchRequest, q index.Query, today ccpor.Date) (*searchResult, error) {
	page, perPage := max(req.Page, 1), req.PerPage
	if perPage <= 0 {
		perPage = defaultPerPage
	}
	perPage = min(perPage, maxPerPage)
	if err := s.searchReady(ctx); err != nil {
		return nil, err
	}
	hits, err := s.Index.Search(ctx, q, today)
	if err != nil {
		return nil, err
	}
	matches := visibleMatches(ctx, index.Rank(q, hits, s.Index.Calibrate(s.Match)))
	total := len(matches)
	from := min((page-1)*perPage, total)
	to := min(from+perPage, total)
	cands, err := s.candidates(ctx, matches[from:to])
	if err != nil {
		return nil, err
	}
	if err := s.auditReturned(ctx, "search", candidateIDs(cands), req); err != nil {
		return nil, err
	}
	status := req.Status
	if status == "" {
		status = "active"
	}
	return &searchResult{hits: cands, Total: total, Page: page, PerPage: perPage,
		Truncated: len(hits) >= index.SearchCap, Status: status, AsOf: today}, nil
}

func (s *Server) handleCheckDuplicates(c *gin.Context) error {
	o, err := s.readOrder(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if err := s.searchReady(ctx); err != nil {
		return err
	}
	cands, err := s.duplicates(ctx, o)
	if err != nil {
		return err
	}
	if err := s.auditReturned(ctx, "check.duplicates", candidateIDs(cands), gin.H{"case_number": o.CaseNumber, "county": o.County}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"candidates": cands, "searched": searched(ccpor.DateOf(s.Now()), "any")})
	return nil
}

// duplicates returns the existing orders whose restrained person may be
// o's, at the possible level or above, best first.
func (s *Server) duplicates(ctx context.Context, o *ccpor.Order) ([]Candidate, error) {
	matches, err := s.Index.Duplicates(ctx, o, s.Match)
	if err != nil {
		return nil, err
	}
	matches = visibleMatches(ctx, matches)
	return s.candidates(ctx, matches[:min(len(matches), maxPerPage)])
}

// candidates turns matches into answers, with each order's summary read
// from the system of record.
func (s *Server) candidates(ctx context.Context, matches []index.Match) ([]Candidate, error) {
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = m.OrderID
	}
	sums, err := s.Orders.FindOrderSummaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]ccpor.OrderSummary, len(sums))
	for _, sm := range sums {
		byID[sm.Order.ID] = sm
	}
	u := ccpor.UserFromContext(ctx)
	out := make([]Candidate, 0, len(matches))
	for _, m := range matches {
		sm, ok := byID[m.OrderID]
		if !ok {
			continue // deleted since the index saw it
		}
		if !mayShow(u, sm.Access, m) {
			continue // sealed (or the like) since the index saw it
		}
		o := sm.Order
		p := m.Person.Person
		sum := summarize(o, s.Now())
		out = append(out, Candidate{
			OrderID: m.OrderID, Score: round3(m.Result.Score), Level: m.Result.Level, Role: m.Person.Role,
			Person:      personSummary{Name: p.FullName(), DOB: p.DOB, BirthYear: p.BirthYear, Age: p.Age, Sex: p.Sex, Race: p.Race},
			Explanation: m.Explanation(),
			Order:       &sum,
		})
	}
	return out, nil
}

// summarize is an order as a result list shows it. It reads only what
// FindOrderSummaries returns (TestSummaryOfSummary).
func summarize(o *ccpor.Order, now time.Time) orderSummary {
	return orderSummary{
		Type: o.Type, Phase: o.Phase, Form: o.Form, County: o.County, Division: o.Division,
		CaseNumber: o.CaseNumber, IssuedOn: o.IssuedOn, ExpiresAt: o.ExpiresAt, Permanent: o.Permanent,
		Status: o.StatusAt(now), Service: o.Service.Status, Served: o.Service.Served(),
		Firearms: o.Terms.Firearms, NoContact: o.Terms.NoContact, StayAway: o.Terms.StayAwayYards,
		Restrained: o.Restrained.FullName(),
	}
}

// searchReady refuses to answer from an index that is missing or behind:
// an empty result would read as "no orders found".
func (s *Server) searchReady(ctx context.Context) error {
	if s.Index == nil || s.Follower == nil {
		return ccpor.Errorf(ccpor.EUnavailable, "Search unavailable: no index.")
	}
	return s.Follower.Ready(ctx)
}

// searched says what a search covered, so "nothing found" can be relied on.
func searched(today ccpor.Date, status string) gin.H {
	if status == "" {
		status = "active"
	}
	return gin.H{"scope": "all counties", "status": status, "as_of": today}
}

func filterOf(county string, types []string, status string, today ccpor.Date) (index.Filter, error) {
	var f index.Filter
	if county != "" {
		c, ok := ccpor.CanonicalCounty(county)
		if !ok {
			return f, ccpor.Errorf(ccpor.EInvalid, "%q is not a California county.", county)
		}
		f.County = c
	}
	for _, t := range types {
		if _, ok := ccpor.TypeRules[ccpor.OrderType(t)]; !ok {
			return f, ccpor.Errorf(ccpor.EInvalid, "Unknown order type %q.", t)
		}
		f.Types = append(f.Types, ccpor.OrderType(t))
	}
	switch status {
	case "", "active":
		f.ActiveOn = today
	case "expired":
		f.ExpiredOn = today
	case "any":
	default:
		return f, ccpor.Errorf(ccpor.EInvalid, "Status %q: use active, expired or any.", status)
	}
	return f, nil
}

// decodeStrict reads a small JSON body, refusing unknown fields.
func decodeStrict(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return ccpor.Errorf(ccpor.EInvalid, "Not a valid request: %v.", err)
	}
	return nil
}

func round3(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }
