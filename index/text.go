package index

import (
	"context"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/ccpor/ccpor"
)

// maxTextWords caps the words of a text search: conditions are found by a
// few words ("firearm", "school"), and each word is a query clause.
const maxTextWords = 12

// SearchText returns up to limit orders whose scans' machine-read text
// holds every word of text (English-stemmed: "firearms" finds "firearm"),
// best first. The words only ever become terms of the text field: query
// syntax in text is text. It returns EInvalid when text has no word.
func (ix *Index) SearchText(ctx context.Context, text string, f Filter, limit int) ([]Hit, error) {
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil, ccpor.Errorf(ccpor.EInvalid, "Type at least one word to look for in the scans.")
	}
	if len(words) > maxTextWords {
		return nil, ccpor.Errorf(ccpor.EInvalid, "Look for at most %d words at once.", maxTextWords)
	}
	q := bleve.NewMatchQuery(strings.Join(words, " "))
	q.SetField(fieldText)
	q.SetOperator(query.MatchQueryOperatorAnd) // every word must be on the scan
	return ix.run(ctx, q, f, limit)
}
