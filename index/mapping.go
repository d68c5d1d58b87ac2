package index

import (
	"bytes"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/ccpor/ccpor/matching"
)

// Names of the analysis components this package registers with Bleve.
const (
	phoneticFilterName = "ccpor_phonetic"
	phoneticAnalyzer   = "ccpor_name_phonetic"
	termsAnalyzer      = "ccpor_terms"
)

// termSep separates the terms of a keyword list in one field value. Every
// term is folded text, digits and punctuation (see matching.Fold), so it
// never holds a control character.
const termSep = "\x1f"

// termsAnalysis reads a keyword list written as one value, each term
// whole, as the keyword analyzer reads one value of a list. A list of a
// hundred values was a hundred Bleve fields, each mapped, analysed and
// merged on its own: a tenth of a rebuild. The terms and their count
// (the field's length, for scoring) are the same either way.
type termsAnalysis struct{}

func (termsAnalysis) Analyze(in []byte) analysis.TokenStream {
	if len(in) == 0 {
		return nil
	}
	out := make(analysis.TokenStream, 0, bytes.Count(in, []byte(termSep))+1)
	toks := make([]analysis.Token, cap(out))
	start := 0
	for i := range toks {
		end := len(in)
		if j := bytes.IndexByte(in[start:], termSep[0]); j >= 0 {
			end = start + j
		}
		toks[i] = analysis.Token{Term: in[start:end:end], Position: i + 1, Start: start, End: end, Type: analysis.AlphaNumeric}
		out = append(out, &toks[i])
		start = end + 1
	}
	return out
}

// phoneticFilter swaps each name token for its phonetic keys at the same
// position, so "Kathryn" and "Catherine" meet on one term. It calls
// matching.PhoneticKeys, as the scorer does, so
// the two cannot disagree.
type phoneticFilter struct{}

func (phoneticFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(in)*2)
	for _, tok := range in {
		for _, k := range matching.PhoneticKeys(string(tok.Term)) {
			out = append(out, &analysis.Token{Term: []byte(k), Position: tok.Position,
				Start: tok.Start, End: tok.End, Type: tok.Type})
		}
	}
	return out
}

func init() {
	err := registry.RegisterTokenFilter(phoneticFilterName,
		func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
			return phoneticFilter{}, nil
		})
	if err != nil {
		panic(err) // registered twice: a build fault
	}
	err = registry.RegisterAnalyzer(termsAnalyzer,
		func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
			return termsAnalysis{}, nil
		})
	if err != nil {
		panic(err)
	}
}

// Fields of an order document. One document per order holds the names
// and birth dates of everyone in it, so a hit is an order; which person
// matched is decided by re-scoring the stored persons.
const (
	fieldKeys        = "keys"         // composite blocking keys (see blockKeys)
	fieldLast        = "last"         // folded family-name tokens, for prefix and fuzzy queries
	fieldFirst       = "first"        // folded given names and their canonical forms
	fieldInitials    = "initials"     // first letters of given names: an initial is one term, not a prefix scan
	fieldLastInitial = "last_initial" // starts of family names (2 to 6 letters) with a given initial
	fieldNames       = "names"        // every name token, through the phonetic analyzer
	fieldBirthYear   = "birth_year"   // known or estimated birth years, as keywords
	fieldCounty      = "county"       // keyword
	fieldType        = "type"         // keyword
	fieldPersons     = "persons"      // stored only: the people, for re-scoring
	fieldText        = "text"         // machine-read words of the order's scans, English-stemmed
)

func newMapping() mapping.IndexMapping {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer(phoneticAnalyzer, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     whitespace.Name,
		"token_filters": []string{phoneticFilterName},
	}); err != nil {
		panic(err)
	}
	kw := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = analyzer
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = false, false, false, false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fieldKeys, fieldLast, fieldFirst, fieldInitials, fieldLastInitial, fieldBirthYear} {
		doc.AddFieldMappingsAt(name, kw(termsAnalyzer))
	}
	for _, name := range []string{fieldCounty, fieldType} {
		doc.AddFieldMappingsAt(name, kw(keyword.Name))
	}
	names := bleve.NewTextFieldMapping()
	names.Analyzer = phoneticAnalyzer
	names.Store, names.IncludeInAll, names.IncludeTermVectors, names.DocValues = false, false, false, false
	doc.AddFieldMappingsAt(fieldNames, names)
	// The words of a scan are searched as words: "firearms" finds
	// "firearm", and "the" finds nothing.
	text := bleve.NewTextFieldMapping()
	text.Analyzer = en.AnalyzerName
	text.Store, text.IncludeInAll, text.IncludeTermVectors, text.DocValues = false, false, false, false
	doc.AddFieldMappingsAt(fieldText, text)
	// Birth years are keywords, not numbers, and an order's dates are not
	// indexed at all: Bleve writes a numeric or date value as a dozen
	// prefix terms, which made up most of an order's terms. A year range
	// is a handful of term queries; whether an order is in effect is read
	// from its stored dates (see Filter).
	persons := bleve.NewTextFieldMapping()
	persons.Index, persons.Store, persons.IncludeInAll, persons.IncludeTermVectors, persons.DocValues = false, true, false, false, false
	doc.AddFieldMappingsAt(fieldPersons, persons)

	// No catch-all "_all" field: every query names its field, and
	// composing it costs a tenth of indexing time.
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = doc
	im.DefaultAnalyzer = keyword.Name
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	return im
}
