package mlflow

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Client-side limits, the stricter of MLflow 2.9 and 3.x
// (mlflow/utils/validation.py): 3.x takes tag values up to 8000 characters
// and truncates longer params and tags silently, 2.9 rejects more than 5000
// (tags) and 6000 (params). Failing early and alike on both is clearer.
const (
	maxKeyLen      = 250
	maxParamValLen = 6000
	maxTagValLen   = 5000
)

// validateKey applies MLflow's rules for metric, param and tag keys: at most
// 250 characters of letters, digits, _ - . / space and colon (3.x accepts
// the colon, 2.9 rejects it), a normalized relative path.
func validateKey(kind, key string) error {
	if key == "" {
		return fmt.Errorf("%s key is empty", kind)
	}
	if n := utf8.RuneCountInString(key); n > maxKeyLen {
		return fmt.Errorf("%s key %q is %d characters long; the limit is %d", kind, string([]rune(key)[:40])+"…", n, maxKeyLen)
	}
	for _, r := range key {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r) || strings.ContainsRune("_-./ :", r)) {
			return fmt.Errorf("%s key %q: character %q is not allowed (letters, digits, _ - . / space and colon only)", kind, key, r)
		}
	}
	if key == "." || strings.HasPrefix(key, "/") || strings.HasPrefix(key, "..") || !isNormPath(key) {
		return fmt.Errorf("%s key %q must be a normalized relative path (no leading / or .., no //, /./, /../ or trailing /)", kind, key)
	}
	return nil
}

// isNormPath reports whether posixpath.normpath would leave key unchanged.
func isNormPath(key string) bool {
	if strings.HasSuffix(key, "/") || strings.HasPrefix(key, "./") {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func validateParam(key, value string) error {
	if err := validateKey("param", key); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(value); n > maxParamValLen {
		return fmt.Errorf("param %q: value is %d characters long; the limit is %d", key, n, maxParamValLen)
	}
	return nil
}

func validateTag(key, value string) error {
	if err := validateKey("tag", key); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(value); n > maxTagValLen {
		return fmt.Errorf("tag %q: value is %d characters long; the limit is %d", key, n, maxTagValLen)
	}
	return nil
}
