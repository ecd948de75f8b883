package data

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kinds of load errors, for errors.Is. The [*Error] that wraps one carries
// the file, line and column and the full message.
var (
	ErrEmpty           = errors.New("empty input")
	ErrSyntax          = errors.New("malformed CSV")
	ErrFieldCount      = errors.New("wrong number of fields")
	ErrDuplicateColumn = errors.New("duplicate column name")
	ErrUnknownColumn   = errors.New("unknown column")
	ErrNotNumber       = errors.New("value is not a number")
	ErrNotFinite       = errors.New("value is not finite")
	ErrNoLabel         = errors.New("label column not found")
	ErrLabelValues     = errors.New("label does not have exactly two values")
	ErrNoPositive      = errors.New("positive label value never occurs")
	ErrMissingLabel    = errors.New("missing label value")
	ErrOptions         = errors.New("invalid options")
)

// Error is a problem with a data file. File is the source name given to
// [Load], Line the 1-based line in the file (0 when the problem is not on one
// line) and Column the column name ("" when it concerns no single column).
// Kind is one of the Err* values above, so errors.Is(err, ErrNotNumber)
// works through an *Error.
type Error struct {
	File   string
	Line   int
	Column string
	Msg    string
	Kind   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the error's kind.
func (e *Error) Unwrap() error { return e.Kind }

// Kinds of request-field errors, for errors.Is.
var (
	ErrMissingFeature = errors.New("missing required feature")
	ErrUnknownFeature = errors.New("unknown feature")
	ErrWrongType      = errors.New("wrong type")
)

// FieldError is a problem with one field of a request row. Kind is
// ErrMissingFeature, ErrUnknownFeature, ErrWrongType or ErrNotFinite.
type FieldError struct {
	Field string
	Msg   string
	Kind  error
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Msg) }

// Unwrap returns the error's kind.
func (e *FieldError) Unwrap() error { return e.Kind }

// RowError collects every problem found in one request row, features in
// schema order first, then unknown fields sorted by name. errors.As(err,
// &fieldErr) finds the first; errors.Is works for each kind.
type RowError struct {
	Fields []*FieldError
}

func (e *RowError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the field errors.
func (e *RowError) Unwrap() []error {
	out := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f
	}
	return out
}

// quoteList renders values for an error message: quoted, at most max of
// them, with a count of the rest.
func quoteList(vals []string, max int) string {
	var b strings.Builder
	for i, v := range vals {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(vals)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}
