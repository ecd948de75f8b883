package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// csvSource reads records of a CSV file with a header row and turns every
// problem into an *Error naming the file and line.
type csvSource struct {
	name   string
	r      *csv.Reader
	header []string
	line   int // line of the record last returned
}

// openCSV skips a UTF-8 byte order mark, reads the header and checks the
// column names.
func openCSV(r io.Reader, name string) (*csvSource, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked here, to word the error
	cr.ReuseRecord = true
	s := &csvSource{name: name, r: cr}
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: name, Msg: "empty file: no header row", Kind: ErrEmpty}
	}
	if err != nil {
		return nil, s.parseError(err)
	}
	if s.header, err = columnNames(name, rec); err != nil {
		return nil, err
	}
	return s, nil
}

// columnNames checks a header row's fields and returns them trimmed: every
// column has a unique, non-empty, UTF-8 name.
func columnNames(name string, rec []string) ([]string, error) {
	names := make([]string, len(rec))
	seen := make(map[string]int, len(rec))
	for i, h := range rec {
		h = strings.TrimSpace(h)
		if !utf8.ValidString(h) {
			return nil, &Error{File: name, Line: 1, Column: strings.ToValidUTF8(h, "\uFFFD"), Msg: fmt.Sprintf("header field %d is not valid UTF-8 (the file must be UTF-8)", i+1), Kind: ErrSyntax}
		}
		if h == "" {
			return nil, &Error{File: name, Line: 1, Msg: fmt.Sprintf("header field %d is empty: every column needs a name", i+1), Kind: ErrSyntax}
		}
		if j, dup := seen[h]; dup {
			return nil, &Error{File: name, Line: 1, Column: h, Msg: fmt.Sprintf("duplicate column name (fields %d and %d)", j+1, i+1), Kind: ErrDuplicateColumn}
		}
		seen[h] = i
		names[i] = h
	}
	return names, nil
}

// next returns the next record (valid until the following call) and its
// line, or io.EOF.
func (s *csvSource) next() ([]string, int, error) {
	rec, err := s.r.Read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		return nil, 0, s.parseError(err)
	}
	line, _ := s.r.FieldPos(0)
	s.line = line
	if len(rec) != len(s.header) {
		return nil, line, &Error{File: s.name, Line: line,
			Msg:  fmt.Sprintf("line %d has %s, header has %d", line, plural(len(rec), "field"), len(s.header)),
			Kind: ErrFieldCount}
	}
	return rec, line, nil
}

func (s *csvSource) parseError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: s.name, Line: pe.Line,
			Msg:  fmt.Sprintf("malformed CSV at byte %d of the line: %v", pe.Column, pe.Err),
			Kind: ErrSyntax}
	}
	return &Error{File: s.name, Line: s.line, Msg: "read: " + err.Error(), Kind: err}
}

// isMissing reports whether a (trimmed) value means "missing": empty, NA,
// NaN or null in any case.
func isMissing(s string) bool {
	switch len(s) {
	case 0:
		return true
	case 2:
		return strings.EqualFold(s, "na")
	case 3:
		return strings.EqualFold(s, "nan")
	case 4:
		return strings.EqualFold(s, "null")
	}
	return false
}

// plural writes "1 field", "2 fields".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
