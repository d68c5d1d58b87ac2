package index

import (
	"context"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/matching"
)

// Person is one person of an indexed order.
type Person struct {
	Role   Role
	Index  int // position in Order.Protected; 0 for the restrained person
	Person ccpor.Person
}

// Hit is an order the index offers as a candidate, with its people for
// matching to score. The record itself is read from the store.
type Hit struct {
	OrderID  string
	IssuedOn ccpor.Date
	Persons  []Person
}

// Filter narrows candidates by order.
type Filter struct {
	// ActiveOn keeps orders in effect on that date; zero keeps all.
	ActiveOn ccpor.Date
	// ExpiredOn keeps orders no longer in effect on that date.
	ExpiredOn ccpor.Date
	County    string
	Types     []ccpor.OrderType
}

// Candidates returns up to limit orders that share a blocking key with p,
// those sharing the rarest and most keys first. It never passes user text
// to Bleve's query-string syntax: every clause is a term query, or a
// fuzzy query of an fx key (see fuzzyClauses).
func (ix *Index) Candidates(ctx context.Context, p ccpor.Person, asOf ccpor.Date, f Filter, limit int) ([]Hit, error) {
	var l termList
	blockKeys(&l, p, matching.NamesOf(p), asOf)
	keys, err := ix.usefulKeys(ctx, l.strings())
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	terms := make([]query.Query, 0, len(keys))
	for _, k := range keys {
		if strings.HasPrefix(k, "fx:") {
			terms = append(terms, fuzzyClauses(k)...)
			continue
		}
		t := bleve.NewTermQuery(k)
		t.SetField(fieldKeys)
		terms = append(terms, t)
	}
	return ix.run(ctx, bleve.NewDisjunctionQuery(terms...), f, limit)
}

// broadKeyLimit is how many orders a single-name key (f:, g:) may match
// and still be asked: a rare surname alone finds a record whose every
// other field was garbled, while "f:" of García would only cost time.
const broadKeyLimit = 2000

// usefulKeys drops the single-name keys too common to help, reading each
// one's document frequency from the term dictionary.
func (ix *Index) usefulKeys(ctx context.Context, keys []string) ([]string, error) {
	ix.mu.RLock()
	bi := ix.bi
	ix.mu.RUnlock()
	if bi == nil {
		return nil, errClosed
	}
	adv, err := bi.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := keys[:0]
	for _, k := range keys {
		if strings.HasPrefix(k, "f:") || strings.HasPrefix(k, "g:") {
			tfr, err := r.TermFieldReader(ctx, []byte(k), fieldKeys, false, false, false)
			if err != nil {
				return nil, err
			}
			n := tfr.Count()
			tfr.Close()
			if n > broadKeyLimit {
				continue
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// run executes q under the filter and decodes the hits. Whether an order
// is in effect is decided on its stored dates, after the search, so the
// dates need no index terms; the search asks for more hits to make up.
func (ix *Index) run(ctx context.Context, q query.Query, f Filter, limit int) ([]Hit, error) {
	must := []query.Query{q}
	must = append(must, f.queries()...)
	var full query.Query = q
	if len(must) > 1 {
		full = bleve.NewConjunctionQuery(must...)
	}
	size := limit
	if !f.ActiveOn.IsZero() || !f.ExpiredOn.IsZero() {
		size = 2 * limit
	}
	req := bleve.NewSearchRequestOptions(full, size, 0, false)
	req.Fields = []string{fieldPersons}
	req.Score = "" // default TF-IDF: rarer shared keys weigh more
	ix.mu.RLock()
	bi := ix.bi
	ix.mu.RUnlock()
	if bi == nil {
		return nil, errClosed
	}
	res, err := bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		s, _ := h.Fields[fieldPersons].(string)
		var sd storedDoc
		if err := decodeStoredDoc(s, &sd); err != nil {
			return nil, fmt.Errorf("index document %s: %w", h.ID, err)
		}
		if (!f.ActiveOn.IsZero() && !sd.activeOn(f.ActiveOn)) || (!f.ExpiredOn.IsZero() && sd.activeOn(f.ExpiredOn)) {
			continue
		}
		if len(hits) == limit {
			break
		}
		hit := Hit{OrderID: h.ID, IssuedOn: sd.IssuedOn, Persons: make([]Person, len(sd.Persons))}
		for i, sp := range sd.Persons {
			hit.Persons[i] = Person(sp)
		}
		hits = append(hits, hit)
	}
	return hits, nil
}

func (f Filter) queries() []query.Query {
	var qs []query.Query
	if f.County != "" {
		t := bleve.NewTermQuery(f.County)
		t.SetField(fieldCounty)
		qs = append(qs, t)
	}
	if len(f.Types) > 0 {
		var ts []query.Query
		for _, typ := range f.Types {
			t := bleve.NewTermQuery(string(typ))
			t.SetField(fieldType)
			ts = append(ts, t)
		}
		qs = append(qs, bleve.NewDisjunctionQuery(ts...))
	}
	return qs
}
