package api

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
	"golang.org/x/text/unicode/norm"
)

// FuzzSearchRequest: any body gives a checked query or an EInvalid error,
// never a panic; an accepted one has clean names and a page that cannot
// overflow. The seed corpus is in testdata/fuzz/FuzzSearchRequest.
func FuzzSearchRequest(f *testing.F) {
	today := ccpor.DateOf(time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, q, err := parseSearchRequest(body, today)
		if err != nil {
			var e *ccpor.Error
			if !errors.As(err, &e) || e.Code != ccpor.EInvalid {
				t.Fatalf("error %v (%T), want EInvalid", err, err)
			}
			return
		}
		if err := q.Check(); err != nil {
			t.Fatalf("accepted, but Check: %v", err)
		}
		for _, s := range []string{q.Last, q.First} {
			if !norm.NFC.IsNormalString(s) || strings.ContainsFunc(s, func(r rune) bool {
				return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
			}) {
				t.Fatalf("name %+q reaches the index", s)
			}
		}
		if req.Page > index.SearchCap {
			t.Fatalf("page %d accepted", req.Page)
		}
		page, perPage := max(req.Page, 1), min(max(req.PerPage, 1), maxPerPage)
		if from := (page - 1) * perPage; from < 0 {
			t.Fatalf("page %d per %d starts at %d", page, perPage, from)
		}
	})
}
