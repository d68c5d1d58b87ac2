package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/gin-gonic/gin"
)

// Public statistics (GET /api/v1/stats and the page /stats): counts of
// orders by month, county and type, open to anyone. What is counted and
// what is withheld is store/stats.go's: only counts leave it, small ones
// suppressed, sealed orders not counted, juvenile ones statewide only.

// Stats serves the public statistics; store.DB is one.
type Stats interface {
	// OrderStats returns the published counts q selects, or EInvalid.
	OrderStats(ctx context.Context, q store.StatsQuery) (*store.Stats, error)
}

// statsParams are the query parameters of the statistics.
var statsParams = []string{"county", "type", "from", "to"}

func (s *Server) registerStatsRoutes(r *gin.RouterGroup) {
	r.GET("/stats", s.statsThrottle(), s.wrap(s.handleStats))
}

// registerStatsPages adds the statistics page.
func (s *Server) registerStatsPages(ui *gin.RouterGroup) {
	ui.GET("/stats", s.statsThrottle(), s.page(s.handleStatsPage))
}

// statsThrottle holds each client address to the search rate of one user
// (RateLimits.Search): the statistics are public, so there is no user to
// hold to a rate, and each answer reads every county of its months.
func (s *Server) statsThrottle() gin.HandlerFunc {
	r := s.Limits.withDefaults().Search
	b := newBuckets(r)
	return func(c *gin.Context) {
		now := time.Now()
		l := b.get(s.clientAddr(c.Request), now)
		if !l.AllowN(now, 1) {
			s.tooMany(c, retryAfter(l, now), fmt.Sprintf("Too many statistics requests: at most %g a second (%d at once) from one address.", r.PerSecond, r.Burst))
			return
		}
		c.Next()
	}
}

// statsQueryOf reads the query's parameters, refusing those it does not
// know: a misspelt filter must not silently widen the answer.
func statsQueryOf(values url.Values) (store.StatsQuery, error) {
	var q store.StatsQuery
	bad := &ccpor.Error{Code: ccpor.EInvalid, Message: "The statistics query is not valid."}
	asked := map[string]string{}
	for k, v := range values {
		switch {
		case !slices.Contains(statsParams, k):
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "unknown parameter; use " + strings.Join(statsParams, ", ")})
		case len(v) != 1:
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "give it once"})
		default:
			asked[k] = strings.TrimSpace(v[0])
		}
	}
	if v := asked["county"]; v != "" {
		county, ok := ccpor.CanonicalCounty(v)
		if !ok {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "county", Detail: "a California county, e.g. Los Angeles"})
		}
		q.County = county
	}
	if v := asked["type"]; v != "" {
		q.Type = ccpor.OrderType(strings.ToUpper(v))
		if !slices.Contains(ccpor.OrderTypes, q.Type) {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "type", Detail: "an order type: DV, CPO, CH, EA, JV, SV, WV or EPO"})
		}
	}
	month := func(k string) ccpor.Date {
		if asked[k] == "" {
			return ccpor.Date{}
		}
		t, err := time.Parse("2006-01", asked[k])
		if err != nil || t.Year() < 1900 {
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "a month such as 2025-01"})
			return ccpor.Date{}
		}
		return ccpor.NewDate(t.Year(), t.Month(), 1)
	}
	q.From, q.To = month("from"), month("to")
	if len(bad.Problems) > 0 {
		slices.SortFunc(bad.Problems, func(a, b ccpor.FieldProblem) int { return strings.Compare(a.Field, b.Field) })
		return q, bad
	}
	return q, nil
}

// orderStats reads the statistics the request asks for, and records the
// question in the audit trail.
func (s *Server) orderStats(c *gin.Context) (*store.Stats, store.StatsQuery, error) {
	q, err := statsQueryOf(c.Request.URL.Query())
	if err != nil {
		return nil, q, err
	}
	if s.Stats == nil {
		return nil, q, ccpor.Errorf(ccpor.EUnavailable, "Statistics are not available on this server.")
	}
	ctx := c.Request.Context()
	st, err := s.Stats.OrderStats(ctx, q)
	if err != nil {
		return nil, q, err
	}
	detail := gin.H{"county": q.County, "type": q.Type, "months": len(st.Months)}
	if len(st.Months) > 0 {
		detail["from"], detail["to"] = monthString(st.Months[0]), monthString(st.Months[len(st.Months)-1])
	}
	if err := s.Audit.Audit(ctx, "stats.read", "", detail); err != nil {
		return nil, q, err
	}
	return st, q, nil
}

// statsAnswer is GET /api/v1/stats's answer.
type statsAnswer struct {
	AsOf        time.Time         `json:"as_of"`
	County      string            `json:"county,omitempty"`
	Type        ccpor.OrderType   `json:"type,omitempty"`
	Months      []string          `json:"months"`
	Series      []statsSeries     `json:"series"`
	Total       *statsSeries      `json:"total,omitempty"`
	Definitions map[string]string `json:"definitions"`
	Suppression statsSuppression  `json:"suppression"`
	Notes       []string          `json:"notes"`
}

type statsSeries struct {
	Type   ccpor.OrderType `json:"type,omitempty"`
	Name   string          `json:"name,omitempty"`
	Active []store.Count   `json:"active"`
	Issued []store.Count   `json:"issued"`
}

type statsSuppression struct {
	// Threshold is the smallest count published; below it, but above 0,
	// a count is null.
	Threshold int    `json:"threshold"`
	Rule      string `json:"rule"`
}

// The words that come with the statistics, in the answer and on the page.
var (
	statsDefinitions = map[string]string{
		"active": "Orders in effect at the end of the month: issued by then, neither expired nor terminated, and not yet followed by the next order of their case (the order after hearing that follows a temporary order, a renewal), so that a case counts once.",
		"issued": "Orders issued in the month.",
	}
	statsRule = fmt.Sprintf("A count from 1 to %d is withheld (null), since a small count in a small county can point to a person "+
		"(18 USC 2265(d)(3) forbids publishing what is likely to reveal a protected party's identity or location). "+
		"So is, where needed, a second count of the same county, type or month's total, so that a withheld count cannot be "+
		"worked out by subtracting the published ones from a total: a withheld count may therefore be of any size. 0 is published.",
		store.SuppressBelow-1)
	statsNotes = []string{
		"Only counts are published: no name, date of birth, case number or other detail of any order.",
		"Sealed orders (Family Code 6404(a)(2)) are not counted.",
		"Juvenile orders (Welfare and Institutions Code 827) are counted statewide only: a county's figures and total leave them out.",
		"Only complete months are published, counted as the registry stood at as_of: an order entered late changes a month already published.",
		"Months before the registry's first order are not shown.",
	}
)

func monthString(d ccpor.Date) string { return d.Time().Format("2006-01") }

func typeName(t ccpor.OrderType) string { return ccpor.TypeRules[t].Name }

func (s *Server) handleStats(c *gin.Context) error {
	st, _, err := s.orderStats(c)
	if err != nil {
		return err
	}
	ans := statsAnswer{AsOf: st.AsOf.UTC(), County: st.County, Type: st.Type, Months: make([]string, len(st.Months)),
		Series: make([]statsSeries, len(st.Series)), Definitions: statsDefinitions, Notes: statsNotes,
		Suppression: statsSuppression{Threshold: store.SuppressBelow, Rule: statsRule}}
	for i, m := range st.Months {
		ans.Months[i] = monthString(m)
	}
	series := func(s store.StatsSeries) statsSeries {
		out := statsSeries{Type: s.Type, Active: s.Active, Issued: s.Issued}
		if s.Type != "" {
			out.Name = typeName(s.Type)
		}
		if out.Active == nil {
			out.Active, out.Issued = []store.Count{}, []store.Count{}
		}
		return out
	}
	for i, sr := range st.Series {
		ans.Series[i] = series(sr)
	}
	if st.Total != nil {
		t := series(*st.Total)
		ans.Total = &t
	}
	c.JSON(http.StatusOK, ans)
	return nil
}

// Chart geometry, in the SVG's own units: the chart scales to the page.
const (
	chartWidth, chartHeight                      = 720, 300
	chartLeft, chartRight, chartTop, chartBottom = 84, 12, 12, 40
	chartPlotWidth, chartPlotHeight              = chartWidth - chartLeft - chartRight, chartHeight - chartTop - chartBottom
	chartMaxXLabels                              = 8
)

// chartView is the chart of orders in effect by type, drawn on the server
// as SVG: lines, broken where a count is withheld.
type chartView struct {
	Width, Height int
	Left, Right   int // the plot's edges
	Top, Bottom   int
	Lines         []chartLine
	YTicks        []chartTick
	XTicks        []chartTick
}

type chartLine struct {
	Type   ccpor.OrderType
	Name   string
	D      string // the path: one M…L… run per stretch of published counts
	Points []chartPoint
}

type chartPoint struct{ X, Y string }

type chartTick struct {
	At    string // x or y
	Label string
}

// statsChart draws the orders in effect of each series.
func statsChart(st *store.Stats) *chartView {
	n := len(st.Months)
	if n == 0 {
		return nil
	}
	top := 0
	for _, sr := range st.Series {
		for _, c := range sr.Active {
			top = max(top, int(c))
		}
	}
	step := niceStep(top)
	ymax := max(step, int(math.Ceil(float64(top)/float64(step)))*step)
	x := func(i int) float64 {
		if n == 1 {
			return chartLeft + chartPlotWidth/2
		}
		return chartLeft + float64(i)*chartPlotWidth/float64(n-1)
	}
	y := func(v int) float64 { return chartTop + chartPlotHeight - float64(v)*chartPlotHeight/float64(ymax) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	cv := &chartView{Width: chartWidth, Height: chartHeight, Left: chartLeft, Right: chartWidth - chartRight,
		Top: chartTop, Bottom: chartTop + chartPlotHeight}
	for v := 0; v <= ymax; v += step {
		cv.YTicks = append(cv.YTicks, chartTick{At: f(y(v)), Label: thousands(v)})
	}
	every := (n + chartMaxXLabels - 1) / chartMaxXLabels
	for i := 0; i < n; i += every {
		cv.XTicks = append(cv.XTicks, chartTick{At: f(x(i)), Label: monthString(st.Months[i])})
	}
	for _, sr := range st.Series {
		l := chartLine{Type: sr.Type, Name: typeName(sr.Type)}
		var d strings.Builder
		move := true
		for i, c := range sr.Active {
			if !c.Shown() {
				move = true
				continue
			}
			p := chartPoint{X: f(x(i)), Y: f(y(int(c)))}
			if move {
				d.WriteString("M")
			} else {
				d.WriteString(" L")
			}
			d.WriteString(p.X + " " + p.Y)
			move = false
			l.Points = append(l.Points, p)
		}
		l.D = d.String()
		cv.Lines = append(cv.Lines, l)
	}
	return cv
}

// niceStep is a gridline interval for values up to top: 1, 2 or 5 times
// a power of ten, four or five lines to the top.
func niceStep(top int) int {
	if top <= 4 {
		return 1
	}
	raw := float64(top) / 4
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return int(m * p)
		}
	}
	return int(10 * p)
}

// statsTableRow is one month of the page's tables.
type statsTableRow struct {
	Month string
	Cells []statsTableCell
}

type statsTableCell struct {
	Text     string
	Withheld bool
}

func tableCell(c store.Count) statsTableCell {
	if !c.Shown() {
		return statsTableCell{Text: "withheld", Withheld: true}
	}
	return statsTableCell{Text: thousands(int(c))}
}

// thousands writes n with commas between thousands, as the figures are
// read: 561,849.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// handleStatsPage shows the statistics as a chart and, for whoever
// cannot see the chart, the same figures as tables, with the form that
// filters them.
func (s *Server) handleStatsPage(c *gin.Context) error {
	// The page is public; a signed-in user still gets their menu.
	if cookie, err := c.Cookie(sessionCookie); err == nil && cookie != "" && s.Users != nil {
		ctx := c.Request.Context()
		if u, err := s.Users.SessionUser(ctx, cookie); err == nil {
			c.Request = c.Request.WithContext(withVia(ccpor.NewContextWithUser(ctx, u), "session"))
		}
	}
	data := gin.H{"Counties": ccpor.Counties, "Types": ccpor.OrderTypes, "TypeNames": ccpor.TypeRules,
		"County": c.Query("county"), "Type": strings.ToUpper(c.Query("type")),
		"Definitions": statsDefinitions, "Rule": statsRule, "Notes": statsNotes}
	st, q, err := s.orderStats(c)
	if err != nil {
		var e *ccpor.Error
		if ccpor.ErrorCode(err) != ccpor.EInvalid || !errors.As(err, &e) {
			return err
		}
		data["Problem"], data["Problems"] = e.Message, e.Problems
		s.render(c, http.StatusBadRequest, "stats", "Statistics", data)
		return nil
	}
	data["County"], data["Type"] = q.County, string(q.Type)
	data["Stats"] = st
	data["Chart"] = statsChart(st)
	// The tables' columns are headed by the types' codes, which the
	// legend and the form spell out: the full names would make a table
	// wider than a phone many times over.
	type head struct{ Code, Name string }
	var heads []head
	for _, sr := range st.Series {
		heads = append(heads, head{string(sr.Type), typeName(sr.Type)})
	}
	if st.Total != nil {
		heads = append(heads, head{"All", "All types"})
	}
	data["Heads"] = heads
	for _, measure := range []struct {
		key string
		of  func(store.StatsSeries) []store.Count
	}{
		{"Active", func(s store.StatsSeries) []store.Count { return s.Active }},
		{"Issued", func(s store.StatsSeries) []store.Count { return s.Issued }},
	} {
		rows := make([]statsTableRow, len(st.Months))
		for i, m := range st.Months {
			rows[i].Month = monthString(m)
			for _, sr := range st.Series {
				rows[i].Cells = append(rows[i].Cells, tableCell(measure.of(sr)[i]))
			}
			if st.Total != nil {
				rows[i].Cells = append(rows[i].Cells, tableCell(measure.of(*st.Total)[i]))
			}
		}
		data[measure.key] = rows
	}
	api := url.Values{}
	for k, v := range map[string]string{"county": q.County, "type": string(q.Type)} {
		if v != "" {
			api.Set(k, v)
		}
	}
	if len(st.Months) > 0 {
		api.Set("from", monthString(st.Months[0]))
		api.Set("to", monthString(st.Months[len(st.Months)-1]))
	}
	data["API"] = "/api/v1/stats?" + api.Encode()
	title := "Statistics"
	if q.County != "" {
		title += " · " + q.County + " County"
	}
	s.render(c, http.StatusOK, "stats", title, data)
	return nil
}
