package index

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/matching"
)

// Query is an officer's search: any part of a name, a birth date, birth
// year or age range, narrowed by county, type and status.
type Query struct {
	Last      string     // a family name or its beginning (two letters at least)
	First     string     // a given name or an initial
	DOB       ccpor.Date // exact birth date
	BirthYear int
	AgeMin    int // age range today
	AgeMax    int
	Filter    Filter
}

// Limits on what one search may ask for.
const (
	minLastLen = 2
	// SearchCap caps the orders one search re-scores, best first by how
	// well they answer: enough for a name and an initial, too few to dump
	// the registry. More is "truncated": narrow the search.
	SearchCap = 120
	// CandidateCap caps the orders a duplicate or conflict check
	// re-scores.
	CandidateCap = 100
)

// Check returns an EInvalid error when q is too broad or malformed: a
// search must name a family name of two letters or more, or a full birth
// date, so nobody can list the registry.
func (q *Query) Check() error {
	last := foldQuery(q.Last)
	if strings.ContainsAny(q.Last+q.First, "*?%_") {
		return ccpor.Errorf(ccpor.EInvalid, "Wildcards are not accepted: type the beginning of the name instead.")
	}
	if q.Last != "" && len([]rune(strings.ReplaceAll(last, " ", ""))) < minLastLen {
		return ccpor.Errorf(ccpor.EInvalid, "Give at least %d letters of the last name.", minLastLen)
	}
	if q.Last == "" && q.DOB.IsZero() {
		return ccpor.Errorf(ccpor.EInvalid, "Give a last name (at least %d letters) or a full date of birth.", minLastLen)
	}
	if q.AgeMin < 0 || q.AgeMax < 0 || (q.AgeMax > 0 && q.AgeMin > q.AgeMax) || q.AgeMax > 130 {
		return ccpor.Errorf(ccpor.EInvalid, "The age range is not valid.")
	}
	return nil
}

// foldQuery folds and lower-cases typed text to the index's alphabet.
func foldQuery(s string) string {
	s = matching.Fold(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }), " ")
}

// Search returns the orders whose people may answer q, up to the
// candidate cap, for re-scoring. Every clause is built from terms; typed
// text never reaches Bleve's query-string syntax.
func (ix *Index) Search(ctx context.Context, q Query, today ccpor.Date) ([]Hit, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var must []query.Query
	lastToks, firstToks := strings.Fields(foldQuery(q.Last)), strings.Fields(foldQuery(q.First))
	if len(lastToks) > 0 && len(firstToks) > 0 {
		// The common case, a name and a first name or initial, is asked
		// through composite terms a few hundred orders long, rather than
		// as the crossing of "every García" with "every R".
		must = append(must, pairClauses(lastToks, firstToks[0]))
	} else {
		if len(lastToks) > 0 {
			var any []query.Query
			for _, t := range lastToks {
				any = append(any, nameClauses(fieldLast, t)...)
			}
			must = append(must, bleve.NewDisjunctionQuery(any...))
		}
		if len(firstToks) > 0 {
			t := firstToks[0]
			any := nameClauses(fieldFirst, t)
			for _, c := range matching.CanonicalGiven(t) {
				tq := bleve.NewTermQuery(c)
				tq.SetField(fieldFirst)
				any = append(any, tq)
			}
			must = append(must, bleve.NewDisjunctionQuery(any...))
		}
	}
	if !q.DOB.IsZero() {
		// The d: and ds: blocking keys: the birth date, and the same
		// with day and month sorted, so a swap meets.
		d := bleve.NewTermQuery("d:" + dobKey(q.DOB))
		d.SetField(fieldKeys)
		ds := bleve.NewTermQuery("ds:" + dobSortedKey(q.DOB))
		ds.SetField(fieldKeys)
		any := []query.Query{d, ds}
		if q.Last != "" {
			// With a name, a person whose record has only a birth year or
			// an age must still be found.
			any = append(any, yearRange(q.DOB.Year()-1, q.DOB.Year()+1))
		}
		must = append(must, bleve.NewDisjunctionQuery(any...))
	}
	if q.BirthYear != 0 {
		must = append(must, yearRange(q.BirthYear-1, q.BirthYear+1))
	}
	if q.AgeMin > 0 || q.AgeMax > 0 {
		hi := today.Year() - q.AgeMin
		lo := today.Year() - 130
		if q.AgeMax > 0 {
			lo = today.Year() - q.AgeMax - 1
		}
		must = append(must, yearRange(lo, hi))
	}
	return ix.run(ctx, bleve.NewConjunctionQuery(must...), q.Filter, SearchCap)
}

// pairClauses finds a family name (or its start) typed with a given name
// or initial: the start of the family name with the initial (the
// last_initial field), the two names by sound (nn keys, when the given
// name is more than an initial) and the family name within a typing slip
// with the initial (fx keys).
func pairClauses(lastToks []string, first string) query.Query {
	initial := string([]rune(first)[:1])
	term := func(field, v string) query.Query {
		t := bleve.NewTermQuery(v)
		t.SetField(field)
		return t
	}
	var any []query.Query
	var given []string
	if len([]rune(first)) > 1 {
		given = appendPrimary(given, first)
		for _, c := range matching.CanonicalGiven(first) {
			given = appendPrimary(given, c)
		}
	}
	for _, t := range lastToks {
		any = append(any, term(fieldLastInitial, lastInitialKey(t, initial)))
		if len([]rune(t)) < 4 {
			continue
		}
		for _, f := range matching.PhoneticKeys(t) {
			for _, g := range given {
				any = append(any, term(fieldKeys, nnKey(f, g)))
			}
		}
		any = append(any, fuzzyClauses(slipKey(t, initial))...)
	}
	return bleve.NewDisjunctionQuery(any...)
}

// nameClauses finds a typed name token: as the start of a name, by sound,
// and within one or two typing slips.
func nameClauses(field, tok string) []query.Query {
	p := bleve.NewPrefixQuery(tok)
	p.SetField(field)
	qs := []query.Query{p}
	n := len([]rune(tok))
	// Two or three letters are the start of a name, not a spelling: sound
	// and slips only make sense for more.
	if n >= 4 {
		m := bleve.NewMatchQuery(tok)
		m.SetField(fieldNames) // the phonetic analyzer codes the typed token
		qs = append(qs, m)
	}
	if n >= 5 {
		f := bleve.NewFuzzyQuery(tok)
		f.SetField(field)
		f.SetFuzziness(1)
		if n >= 8 {
			f.SetFuzziness(2)
		}
		qs = append(qs, f)
	}
	return qs
}

// yearRange matches birth years lo to hi, one term each.
func yearRange(lo, hi int) query.Query {
	var qs []query.Query
	for y := lo; y <= hi; y++ {
		t := bleve.NewTermQuery(strconv.Itoa(y))
		t.SetField(fieldBirthYear)
		qs = append(qs, t)
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// Match is one person of a hit who answers the query, with the verdict.
// Its Result carries no explanation: see Explanation.
type Match struct {
	OrderID string
	Person  Person
	Result  matching.Result
	// Access is who may see the order, as the index last saw it.
	Access ccpor.OrderAccess

	// What the verdict was reached from, to explain it when it is shown.
	probe, rec *matching.Record
	cfg        *matching.Config
}

// Explanation says, field by field, why m scored as it did. Ranking
// scores every candidate (matching.Assess) and a page shows a fifth of
// them: only what someone will read is explained, with the records and
// the configuration that gave the score.
func (m Match) Explanation() []matching.Piece {
	if m.probe == nil {
		return m.Result.Explanation
	}
	return matching.CompareRecords(m.probe, m.rec, *m.cfg).Explanation
}

// Rank re-scores the hits of q: in each order, the person who best answers
// it, best orders first. A typed prefix or initial is completed from the
// candidate's own name before comparing, so "Garc" finds García at the
// strength of the rest of the evidence.
func Rank(q Query, hits []Hit, cfg matching.Config) []Match {
	last, first := foldQuery(q.Last), foldQuery(q.First)
	typed := typedNames{last: last, lastToks: strings.Fields(last), lastKeys: map[string][]string{}}
	for _, t := range typed.lastToks {
		typed.lastKeys[t] = matching.PhoneticKeys(t)
	}
	if f := strings.Fields(first); len(f) > 0 {
		typed.first = f[0]
	}
	// Scoring a hundred candidates is half of a search's time; an
	// officer waits for it, so it takes every core that is free. Each
	// worker keeps the best match of its own hits in place, and the
	// stable sort below sees them in the hits' order whatever the split.
	best := make([]Match, len(hits))
	found := make([]bool, len(hits))
	workers := 1
	if len(hits) >= rankParallelMin {
		workers = runtime.GOMAXPROCS(0)
	}
	per := (len(hits) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for lo := 0; lo < len(hits); lo += per {
		hi := min(lo+per, len(hits))
		wg.Go(func() {
			probes := map[string]*matching.Record{} // the probe depends on the completion only
			for i := lo; i < hi; i++ {
				best[i], found[i] = rankHit(&typed, q, hits[i], probes, &cfg)
			}
		})
	}
	wg.Wait()
	out := make([]Match, 0, len(hits))
	for i, ok := range found {
		if ok {
			out = append(out, best[i])
		}
	}
	slices.SortStableFunc(out, byScore)
	return out
}

// rankParallelMin is how many hits make sharing the scoring across cores
// worth starting goroutines.
const rankParallelMin = 16

// rankHit returns the person of h who best answers the query, if any does.
func rankHit(typed *typedNames, q Query, h Hit, probes map[string]*matching.Record, cfg *matching.Config) (Match, bool) {
	var best Match
	ok := false
	for _, p := range h.Persons {
		names := matching.NamesOf(p.Person)
		probe, answers := completeQuery(typed, q, p.Person, names)
		if !answers {
			continue
		}
		hp := matching.PrepareNamed(p.Person, h.IssuedOn, names)
		key := probe.First + "|" + probe.Last
		rec := probes[key]
		if rec == nil {
			rec = matching.Prepare(probe, ccpor.Date{})
			probes[key] = rec
		}
		r := matching.Assess(rec, hp, *cfg)
		if !ok || r.Score > best.Result.Score {
			best, ok = Match{OrderID: h.OrderID, Person: p, Result: r, Access: h.Access, probe: rec, rec: hp, cfg: cfg}, true
		}
	}
	return best, ok
}

// typedNames is the name part of a query as ranking reads it, folded and
// split once a search rather than once a candidate.
type typedNames struct {
	last     string              // the family name typed, folded
	lastToks []string            // its tokens
	lastKeys map[string][]string // each token's phonetic keys
	first    string              // the first token of the given name typed
}

// completeQuery turns the typed query into a person to compare with p,
// filling a typed prefix with p's own name, and reports whether p answers
// the name part at all (a hit can come from another person in the order).
// names are matching.NamesOf(p).
func completeQuery(typed *typedNames, q Query, p ccpor.Person, names []matching.Name) (ccpor.Person, bool) {
	probe := ccpor.Person{DOB: q.DOB, BirthYear: q.BirthYear}
	if q.Last == "" {
		// A search by birth date alone: the name is no evidence either way.
		probe.First, probe.Last = p.First, p.Last
	} else {
		answered := false
		for _, n := range names {
			// Names entered in the wrong boxes are still this person.
			for _, toks := range [2][]string{n.Family, n.Given} {
				for _, tok := range toks {
					for _, lt := range typed.lastToks {
						switch {
						case strings.HasPrefix(tok, lt) && len(tok) > len(lt):
							answered, probe.Last = true, strings.Join(n.Family, " ")
						case tok == lt || oneSlip(tok, lt) || soundsLike(tok, typed.lastKeys[lt]):
							answered, probe.Last = true, typed.last
						}
					}
				}
			}
		}
		if !answered {
			return probe, false
		}
	}
	if tok := typed.first; tok != "" {
		probe.First = tok
		if len([]rune(tok)) > 1 {
			for _, n := range names {
				for _, g := range n.Given {
					if strings.HasPrefix(g, tok) {
						probe.First = g
					}
				}
			}
		}
	}
	return probe, true
}

// oneSlip reports whether a and b are within the edit distance the fuzzy
// query allowed: one edit, or two for long names.
func oneSlip(a, b string) bool {
	max := 1
	if len(b) >= 8 {
		max = 2
	}
	if len(b) < 4 {
		return false
	}
	return matching.WithinEdits(a, b, max)
}

func soundsLike(a string, kb []string) bool {
	for _, x := range matching.PhoneticKeys(a) {
		for _, y := range kb {
			if x == y {
				return true
			}
		}
	}
	return false
}
