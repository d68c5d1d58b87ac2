package ccpor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// ParseOrder decodes one order from JSON, strictly: unknown fields are
// refused (a misspelt "expire_at" would otherwise vanish), and so is
// anything after the object. It returns an *Error with code EInvalid that
// says where the input went wrong. The order still needs Prepare.
func ParseOrder(data []byte) (*Order, error) {
	if !utf8.Valid(data) {
		// encoding/json would turn each bad byte into U+FFFD, and a name
		// sent in Latin-1 would be stored as "Garc\uFFFDa".
		return nil, Errorf(EInvalid, "Not a valid order: the body is not UTF-8 text.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	// An order as the API shows it lists its documents: read-only, and
	// ignored here, so that an order exported through GET imports as it
	// is (its scans travel separately).
	var in struct {
		Order
		Documents json.RawMessage `json:"documents"`
	}
	if err := dec.Decode(&in); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Errorf(EInvalid, "Not a valid order: unexpected data after the JSON object.")
	}
	return &in.Order, nil
}

func jsonError(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return Errorf(EInvalid, "Not a valid order: the body is empty.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(EInvalid, "Not a valid order: the JSON ends too early.")
	case errors.As(err, &syn):
		return Errorf(EInvalid, "Not a valid order: broken JSON at byte %d: %v.", syn.Offset, syn)
	case errors.As(err, &typ):
		return &Error{Code: EInvalid, Message: "Not a valid order.",
			Problems: []FieldProblem{{Field: typ.Field, Detail: fmt.Sprintf("expected %s, got JSON %s", typ.Type, typ.Value)}}}
	}
	// Unknown fields and the Date type's own messages ("2023-02-29" is not
	// a real date) come as plain errors that already read well.
	return Errorf(EInvalid, "Not a valid order: %v.", err)
}
