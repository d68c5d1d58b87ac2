package api

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

// Exchange formats: an order, or a page of an officer search, as the
// API's JSON or as a NIEM exchange document (ccpor.NewNIEMOrder). The
// export routes sit beside the JSON ones, which stay as they are, and
// read through the same confidentiality (showOrder, visibleMatches) and
// the same audit: a protected address or a confidential minor the user
// may not see is in no format.

// xmlType is the media type of an exchange document.
const xmlType = "application/xml; charset=utf-8"

// registerExchangeRoutes adds the export routes. Their policies are in
// auth.go: an order's export is open to every role, as its view is; the
// search export to every role but tribal courts, whom TestRoutePolicies
// holds to GETs and the POSTs it lists as reads.
func (s *Server) registerExchangeRoutes(r *gin.RouterGroup) {
	r.GET("/orders/:id/export", s.wrap(s.handleOrderExport))
	r.POST("/search/export", s.wrap(s.handleSearchExport))
}

// exportFormat reads ?format=: niem (the default) or json. Any other
// parameter is refused, so a misspelt one does not go unnoticed.
func exportFormat(c *gin.Context) (string, error) {
	bad := &ccpor.Error{Code: ccpor.EInvalid, Message: "The export is not valid."}
	q := c.Request.URL.Query()
	for k, v := range q {
		switch {
		case k != "format":
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "unknown parameter; use format"})
		case len(v) != 1:
			bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: k, Detail: "give it once"})
		}
	}
	f := q.Get("format")
	if f == "" {
		f = "niem"
	}
	if f != "niem" && f != "json" {
		bad.Problems = append(bad.Problems, ccpor.FieldProblem{Field: "format", Detail: "niem (a NIEM XML document) or json"})
	}
	if len(bad.Problems) > 0 {
		slices.SortFunc(bad.Problems, func(a, b ccpor.FieldProblem) int { return strings.Compare(a.Field, b.Field) })
		return "", bad
	}
	return f, nil
}

// handleOrderExport answers one order as an exchange document; json is
// GET /api/v1/orders/{id} itself.
func (s *Server) handleOrderExport(c *gin.Context) error {
	format, err := exportFormat(c)
	if err != nil {
		return err
	}
	if format == "json" {
		return s.handleOrderView(c)
	}
	ctx := c.Request.Context()
	o, err := s.Orders.FindOrderByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := showOrder(ctx, o); err != nil {
		return err
	}
	doc, err := ccpor.MarshalNIEM(o)
	if err != nil {
		return err
	}
	if err := s.Audit.Audit(ctx, "order.export", o.ID, gin.H{"format": format}); err != nil {
		return err
	}
	c.Data(http.StatusOK, xmlType, doc)
	return nil
}

// searchResultXML is a page of an officer search as an exchange
// document: what the JSON answer says, each hit's order a j:ProtectionOrder
// summary (ccpor.NewNIEMOrderSummary).
type searchResultXML struct {
	XMLName xml.Name `xml:"ccpor:SearchResult"`
	ccpor.NIEMNamespaces
	Scope     string         `xml:"ccpor:SearchScopeText"`
	Status    string         `xml:"ccpor:SearchStatusCode"`
	AsOf      string         `xml:"ccpor:SearchAsOfDate>nc:Date"`
	Total     int            `xml:"ccpor:SearchTotalQuantity"`
	Page      int            `xml:"ccpor:SearchPageNumber"`
	PerPage   int            `xml:"ccpor:SearchPerPageQuantity"`
	Truncated bool           `xml:"ccpor:SearchTruncatedIndicator"`
	Hits      []searchHitXML `xml:"ccpor:SearchHit"`
}

type searchHitXML struct {
	Score       float64          `xml:"ccpor:MatchScoreValue"`
	Level       string           `xml:"ccpor:MatchLevelCode,omitempty"`
	Role        string           `xml:"ccpor:MatchRoleCode"`
	Person      matchedPersonXML `xml:"ccpor:MatchedPerson"`
	Explanation []explanationXML `xml:"ccpor:MatchExplanation"`
	Order       *ccpor.NIEMOrder `xml:"j:ProtectionOrder"`
}

// matchedPersonXML is the person who matched, as the JSON's person: no
// address, ever.
type matchedPersonXML struct {
	Age   *ageXML    `xml:"nc:PersonAgeMeasure"`
	Birth []birthXML `xml:"nc:PersonBirthDate"`
	Name  string     `xml:"nc:PersonName>nc:PersonFullName"`
	Race  string     `xml:"nc:PersonRaceText,omitempty"`
	Sex   string     `xml:"nc:PersonSexText,omitempty"`
}

type ageXML struct {
	Years int    `xml:"nc:MeasureIntegerValue"`
	Unit  string `xml:"nc:TimeUnitCode"`
}

type birthXML struct {
	Date string `xml:"nc:Date,omitempty"`
	Year string `xml:"nc:Year,omitempty"`
}

type explanationXML struct {
	Field   string  `xml:"ccpor:ExplanationFieldText"`
	Outcome string  `xml:"ccpor:ExplanationOutcomeCode"`
	Weight  float64 `xml:"ccpor:ExplanationWeightValue"`
	Text    string  `xml:"ccpor:ExplanationText"`
}

// handleSearchExport runs an officer search (s.search: the same ranking,
// visibility and audit as POST /api/v1/search) and answers the page as an
// exchange document; json is POST /api/v1/search itself.
func (s *Server) handleSearchExport(c *gin.Context) error {
	format, err := exportFormat(c)
	if err != nil {
		return err
	}
	if format == "json" {
		return s.handleSearch(c)
	}
	today := ccpor.DateOf(s.Now())
	req, q, err := readSearchRequest(c, today)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	res, err := s.search(ctx, req, q, today)
	if err != nil {
		return err
	}
	// The summaries' condition codes need the orders' terms and people,
	// which the JSON summary does not carry.
	orders, err := s.Orders.FindOrdersByIDs(ctx, candidateIDs(res.hits))
	if err != nil {
		return err
	}
	byID := make(map[string]*ccpor.Order, len(orders))
	for _, o := range orders {
		byID[o.ID] = o
	}
	doc := searchResultXML{NIEMNamespaces: ccpor.DeclareNIEM(), Scope: "all counties", Status: res.Status,
		AsOf: res.AsOf.String(), Total: res.Total, Page: res.Page, PerPage: res.PerPage, Truncated: res.Truncated}
	for _, h := range res.hits {
		o := byID[h.OrderID]
		if o == nil || showOrder(ctx, o) != nil {
			continue // deleted, or sealed, since the search read it
		}
		o.Status = o.StatusAt(s.Now())
		p := h.Person
		hit := searchHitXML{Score: h.Score, Level: h.Level, Role: string(h.Role), Order: ccpor.NewNIEMOrderSummary(o),
			Person: matchedPersonXML{Name: p.Name, Race: p.Race, Sex: p.Sex}}
		if p.Age != 0 {
			hit.Person.Age = &ageXML{Years: p.Age, Unit: "ANN"}
		}
		if !p.DOB.IsZero() {
			hit.Person.Birth = append(hit.Person.Birth, birthXML{Date: p.DOB.String()})
		}
		if p.BirthYear != 0 {
			hit.Person.Birth = append(hit.Person.Birth, birthXML{Year: fmt.Sprintf("%04d", p.BirthYear)})
		}
		for _, p := range h.Explanation {
			hit.Explanation = append(hit.Explanation, explanationXML{Field: p.Field, Outcome: p.Outcome, Weight: p.Weight, Text: p.Text})
		}
		doc.Hits = append(doc.Hits, hit)
	}
	body, err := ccpor.MarshalNIEMDocument(doc)
	if err != nil {
		return err
	}
	c.Data(http.StatusOK, xmlType, body)
	return nil
}
