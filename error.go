package ccpor

import (
	"errors"
	"fmt"
)

// Error codes. The api package maps each to one HTTP status.
const (
	EInvalid      = "invalid"
	ENotFound     = "not_found"
	EConflict     = "conflict"
	EUnauthorized = "unauthorized"
	EForbidden    = "forbidden"
	EUnavailable  = "unavailable"
	EInternal     = "internal"
)

// Error is a domain error whose Message is safe to show a clerk. Problems
// lists each field that failed validation, so one answer names them all.
type Error struct {
	Code     string
	Message  string
	Problems []FieldProblem
	// Existing is the ID of the order the input duplicates, for EConflict.
	Existing string
}

// FieldProblem is one thing wrong with one field of the input.
type FieldProblem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e *Error) Error() string {
	if len(e.Problems) == 0 {
		return e.Message
	}
	s := e.Message
	for _, p := range e.Problems {
		s += "; " + p.Field + ": " + p.Detail
	}
	return s
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of a domain error, or EInternal for any other.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of a domain error, or "Internal error."
// for any other, so internal details never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
