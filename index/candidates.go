package index

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
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
	// Access is who may see the order, as the index last saw it.
	Access ccpor.OrderAccess
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
	ix.mu.RLock()
	bi := ix.bi
	ix.mu.RUnlock()
	if bi == nil {
		return nil, errClosed
	}
	hits := make([]Hit, 0, min(size, 128))
	err := searchStored(ctx, bi, full, size, func(id string, stored string) (bool, error) {
		var sd storedDoc
		if err := decodeStoredDoc(stored, &sd); err != nil {
			return false, fmt.Errorf("index document %s: %w", id, err)
		}
		if (!f.ActiveOn.IsZero() && !sd.activeOn(f.ActiveOn)) || (!f.ExpiredOn.IsZero() && sd.activeOn(f.ExpiredOn)) {
			return true, nil
		}
		if len(hits) == limit {
			return false, nil
		}
		hits = append(hits, Hit{OrderID: id, IssuedOn: sd.IssuedOn, Persons: sd.Persons, Access: sd.Access})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return hits, nil
}

// searchStored runs q on one snapshot of the index and calls visit with
// the ID and the stored persons of each of the best size hits, best first
// (Bleve's default TF-IDF scoring), until visit returns false.
//
// It is what Bleve's SearchInContext does for a request of one stored
// field, less two costs that were a third of a search at a million orders:
// loading a hit's stored fields looks its ID up again in every segment's
// term dictionary (IndexSnapshot.Document, "FIXME could be done more
// efficiently directly"), and copies each field twice. Here a hit's
// fields are read by its number within the snapshot the search ran on,
// which the snapshot's segments and their sizes locate.
func searchStored(ctx context.Context, bi bleve.Index, q query.Query, size int, visit func(id, stored string) (bool, error)) error {
	adv, err := bi.Advanced()
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		r.Close()
		return fmt.Errorf("search index: a %T, not a scorch index", r)
	}
	if snap == nil {
		return errClosed // closed since bi was read: it has no snapshot
	}
	// The snapshot is counted as in use until closed: a merge or a close
	// of the index meanwhile leaves its segments readable.
	defer snap.Close()
	s, err := q.Searcher(ctx, r, bi.Mapping(), search.SearcherOptions{})
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	defer s.Close()
	coll := collector.NewTopNCollector(size, 0, search.SortOrder{&search.SortScore{Desc: true}})
	if err := coll.Collect(ctx, s, r); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	// A document's number in a snapshot is its segment's offset (the
	// documents of the segments before it, deleted ones included) plus its
	// number within the segment.
	segs := snap.Segments()
	offsets := make([]uint64, len(segs))
	var running uint64
	for i, ss := range segs {
		offsets[i] = running
		running += ss.Segment().Count()
	}
	for _, h := range coll.Results() {
		num := h.IndexInternalID.Value()
		i := sort.Search(len(offsets), func(x int) bool { return offsets[x] > num }) - 1
		if i < 0 {
			return fmt.Errorf("search index: hit %s outside the snapshot", h.ID)
		}
		var stored string
		found := false
		err := segs[i].VisitDocument(num-offsets[i], func(field string, _ byte, val []byte, _ []uint64) bool {
			if field == fieldPersons {
				// val lives in a pooled buffer: the string copies it.
				stored, found = string(val), true
				return false
			}
			return true
		})
		if err != nil {
			return fmt.Errorf("search index: document %s: %w", h.ID, err)
		}
		if !found {
			return fmt.Errorf("search index: document %s has no stored persons", h.ID)
		}
		more, err := visit(h.ID, stored)
		if err != nil || !more {
			return err
		}
	}
	return nil
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
