package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/index"
	"github.com/gin-gonic/gin"
)

// maxSearchName caps a typed name: no name is longer, and every character
// is folded and compared.
const maxSearchName = 100

// readSearchRequest reads an officer's search from the request body; see
// parseSearchRequest.
func readSearchRequest(c *gin.Context, today ccpor.Date) (searchRequest, index.Query, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
	if err != nil {
		return searchRequest{}, index.Query{}, ccpor.Errorf(ccpor.EInvalid, "The search could not be read: it must be JSON of at most %d bytes.", maxBodyBytes)
	}
	return parseSearchRequest(body, today)
}

// parseSearchRequest decodes a search strictly (one JSON object, no
// unknown fields), writes its names as stored names are written
// (ccpor.NormalizeName: an invisible character copied with a name must not
// split it in two), and returns the index query it asks for, checked. It
// returns EInvalid saying what is wrong. The names only ever become index
// terms, so query syntax typed as a name ("+last:x", "*:*") is text.
func parseSearchRequest(body []byte, today ccpor.Date) (searchRequest, index.Query, error) {
	var req searchRequest
	if !utf8.Valid(body) {
		return req, index.Query{}, ccpor.Errorf(ccpor.EInvalid, "Not a valid request: the body is not UTF-8 text.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return req, index.Query{}, ccpor.Errorf(ccpor.EInvalid, "Not a valid request: the body is empty.")
		}
		return req, index.Query{}, ccpor.Errorf(ccpor.EInvalid, "Not a valid request: %v.", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, index.Query{}, ccpor.Errorf(ccpor.EInvalid, "Not a valid request: unexpected data after the JSON object.")
	}
	for _, f := range []struct {
		field string
		val   *string
	}{{"last", &req.Last}, {"first", &req.First}} {
		*f.val = ccpor.NormalizeName(*f.val)
		if utf8.RuneCountInString(*f.val) > maxSearchName {
			return req, index.Query{}, invalidField(f.field, fmt.Sprintf("longer than %d characters", maxSearchName))
		}
		if strings.IndexFunc(*f.val, unicode.IsControl) >= 0 {
			return req, index.Query{}, invalidField(f.field, "contains a control character")
		}
	}
	if req.Page > index.SearchCap {
		// No search has more pages, and (page-1)*per_page must not overflow.
		return req, index.Query{}, invalidField("page", fmt.Sprintf("at most %d", index.SearchCap))
	}
	q := index.Query{Last: req.Last, First: req.First, DOB: req.DOB, BirthYear: req.BirthYear,
		AgeMin: req.AgeMin, AgeMax: req.AgeMax}
	var err error
	if q.Filter, err = filterOf(req.County, req.Types, req.Status, today); err != nil {
		return req, q, err
	}
	if err := q.Check(); err != nil {
		return req, q, err
	}
	return req, q, nil
}

func invalidField(field, detail string) error {
	return &ccpor.Error{Code: ccpor.EInvalid, Message: "The search is not valid.",
		Problems: []ccpor.FieldProblem{{Field: field, Detail: detail}}}
}
