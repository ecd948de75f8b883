package data

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

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
