package api

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

// textSearchRequest looks for words on the scans: special conditions a
// judge remembers ("firearm", "school") rather than a person.
type textSearchRequest struct {
	Text   string   `json:"text"`
	County string   `json:"county"`
	Types  []string `json:"types"`
	Status string   `json:"status"` // active (default), expired or any
	Limit  int      `json:"limit"`  // at most maxTextHits
}

// TextHit is an order whose scans hold the words, with where.
type TextHit struct {
	OrderID string        `json:"order_id"`
	Order   *orderSummary `json:"order"`
	// Excerpt is a piece of the machine-read text around the first word
	// found: read by a machine, so marked so.
	Excerpt     string `json:"excerpt"`
	MachineRead bool   `json:"machine_read"`
}

const (
	defaultTextHits = 20
	maxTextHits     = 100
	maxTextLength   = 200
)

func (s *Server) handleTextSearch(c *gin.Context) error {
	var req textSearchRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if utf8.RuneCountInString(req.Text) > maxTextLength || strings.IndexFunc(req.Text, unicode.IsControl) >= 0 {
		return invalidField("text", "at most 200 characters, no control characters")
	}
	limit := req.Limit
	if limit <= 0 {
		limit = defaultTextHits
	}
	limit = min(limit, maxTextHits)
	today := ccpor.DateOf(s.Now())
	f, err := filterOf(req.County, req.Types, req.Status, today)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if err := s.searchReady(ctx); err != nil {
		return err
	}
	hits, err := s.Index.SearchText(ctx, req.Text, f, limit)
	if err != nil {
		return err
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.OrderID
	}
	orders, err := s.Orders.FindOrdersByIDs(ctx, ids)
	if err != nil {
		return err
	}
	visible, _ := visibleOrders(ctx, orders)
	byID := make(map[string]*ccpor.Order, len(visible))
	for _, o := range visible {
		byID[o.ID] = o
	}
	out := []TextHit{}
	shown := []string{}
	for _, h := range hits {
		o := byID[h.OrderID]
		if o == nil {
			continue
		}
		sum := summarize(o, s.Now())
		out = append(out, TextHit{OrderID: o.ID, Order: &sum, Excerpt: excerpt(o.ScanText, req.Text), MachineRead: true})
		shown = append(shown, o.ID)
	}
	if err := s.auditReturned(ctx, "search.text", shown, req); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"hits": out, "total": len(out), "notice": ccpor.MachineReadNotice,
		"searched": searched(today, req.Status)})
	return nil
}

// excerptRadius is how many characters of text an excerpt shows on each
// side of the word found.
const excerptRadius = 80

// excerpt returns the text around the first of the words found in it.
// The index stems words, so a word is looked for by its first letters
// ("firearms" by "firear"), case folded.
func excerpt(text, words string) string {
	lower := strings.ToLower(text)
	at := -1
	for _, w := range strings.Fields(strings.ToLower(words)) {
		r := []rune(w)
		if len(r) > 6 {
			w = string(r[:len(r)-2])
		}
		if i := strings.Index(lower, w); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 {
		at = 0
	}
	from, to := min(max(at-excerptRadius, 0), len(text)), min(at+excerptRadius, len(text))
	// Cut at rune boundaries: ToLower keeps byte offsets for the scripts
	// OCR reads here, and a cut must not split a character.
	for from > 0 && !utf8.RuneStart(text[from]) {
		from--
	}
	for to < len(text) && !utf8.RuneStart(text[to]) {
		to++
	}
	ex := strings.Join(strings.Fields(text[from:to]), " ")
	if from > 0 {
		ex = "…" + ex
	}
	if to < len(text) {
		ex += "…"
	}
	return ex
}
