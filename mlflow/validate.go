package mlflow

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The protocol's rules for names and values, checked before a request is
// sent (here) or a file is written (by the local store, which calls the
// same functions): one copy, so both backends refuse the same things with
// the same error, which matches ErrInvalidParameter.
//
// Limits are the stricter of MLflow 2.9 and 3.x (mlflow/utils/validation.py):
// 3.x takes tag values up to 8000 characters and truncates longer params and
// tags silently, 2.9 rejects more than 5000 (tags) and 6000 (params).
// Failing early and alike on both is clearer.
const (
	maxKeyLen         = 250
	maxParamValLen    = 6000
	maxTagValLen      = 5000
	maxExpNameLen     = 500
	maxAliasLen       = 255
	maxDatasetName    = 500
	maxDatasetDigest  = 36
	maxDatasetSource  = 65535
	maxDatasetSchema  = 65535
	maxDatasetProfile = 16777215
	maxInputTagKey    = 255
	maxInputTagValue  = 500
)

// invalid is a rule's error: it names the value and matches
// ErrInvalidParameter, as the server's INVALID_PARAMETER_VALUE does.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidParameter)
}

// ValidateKey applies MLflow's rule for metric, param and tag keys
// (kind names which, for the message): at most 250 characters of letters,
// numbers, _ - . / space and colon — Python's \w, so letters and numbers of
// any script but not combining marks; 3.x accepts the colon, 2.9 refuses
// it — forming a normalized relative path, which also keeps a key from
// escaping its folder in a file store.
func ValidateKey(kind, key string) error {
	if key == "" {
		return invalid("%s key is empty", kind)
	}
	if n := utf8.RuneCountInString(key); n > maxKeyLen {
		return invalid("%s key %q is %d characters long; the limit is %d", kind, string([]rune(key)[:40])+"…", n, maxKeyLen)
	}
	for _, r := range key {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || strings.ContainsRune("_-./ :", r)) {
			return invalid("%s key %q: character %q is not allowed (letters, digits, _ - . / space and colon only)", kind, key, r)
		}
	}
	if !isNormPath(key) {
		return invalid("%s key %q must be a normalized relative path (no leading / or .., no //, /./, /../ or trailing /)", kind, key)
	}
	return nil
}

// isNormPath reports whether posixpath.normpath would leave key unchanged
// and it neither is "." nor starts with ".." or "/" (MLflow's
// path_not_unique).
func isNormPath(key string) bool {
	if key == "." || strings.HasPrefix(key, "..") || strings.HasSuffix(key, "/") {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// ValidateParam checks a param's key and the length of its value.
func ValidateParam(key, value string) error {
	if err := ValidateKey("param", key); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(value); n > maxParamValLen {
		return invalid("param %q: value is %d characters long; the limit is %d", key, n, maxParamValLen)
	}
	return nil
}

// ValidateTag checks a run, experiment, model or version tag.
func ValidateTag(key, value string) error {
	if err := ValidateKey("tag", key); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(value); n > maxTagValLen {
		return invalid("tag %q: value is %d characters long; the limit is %d", key, n, maxTagValLen)
	}
	return nil
}

// ValidateExperimentName checks an experiment's name: 1 to 500 characters.
func ValidateExperimentName(name string) error {
	if n := utf8.RuneCountInString(name); n == 0 || n > maxExpNameLen {
		return invalid("experiment name %q must have 1 to %d characters", name, maxExpNameLen)
	}
	return nil
}

// ValidateAlias applies MLflow's alias rules (_validate_model_alias_name):
// 1 to 255 letters, digits, _ and -, and neither "latest" nor v<number>,
// which name versions in models:/ URIs.
func ValidateAlias(alias string) error {
	ok := alias != "" && utf8.RuneCountInString(alias) <= maxAliasLen && !strings.EqualFold(alias, "latest")
	for _, r := range alias {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' || r == '-') {
			ok = false
		}
	}
	if rest, v := strings.CutPrefix(strings.ToLower(alias), "v"); v && rest != "" && strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		ok = false
	}
	if !ok {
		return invalid("alias %q: want letters, digits, _ and -, not \"latest\" or v<number>", alias)
	}
	return nil
}

// Stages of a model version. The server compares them case-insensitively.
// Stages are deprecated since MLflow 2.9 in favour of aliases, but both the
// 2.x and 3.x servers still implement them.
const (
	StageNone       = "None"
	StageStaging    = "Staging"
	StageProduction = "Production"
	StageArchived   = "Archived"
)

// CanonicalStage returns MLflow's spelling of a stage name, matched
// case-insensitively as the server does.
func CanonicalStage(s string) (string, error) {
	for _, st := range []string{StageNone, StageStaging, StageProduction, StageArchived} {
		if strings.EqualFold(s, st) {
			return st, nil
		}
	}
	return "", invalid("stage %q: want Staging, Production, Archived or None", s)
}

// ValidateDatasetInput checks a dataset input against the limits of the
// dataset entity and its input tags.
func ValidateDatasetInput(in DatasetInput) error {
	d := in.Dataset
	for _, f := range []struct {
		name, value string
		max         int
		required    bool
	}{
		{"name", d.Name, maxDatasetName, true},
		{"digest", d.Digest, maxDatasetDigest, true},
		{"source_type", d.SourceType, maxDatasetSource, true},
		{"source", d.Source, maxDatasetSource, true},
		{"schema", d.Schema, maxDatasetSchema, false},
		{"profile", d.Profile, maxDatasetProfile, false},
	} {
		if f.required && f.value == "" {
			return invalid("dataset %q: %s is required", d.Name, f.name)
		}
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return invalid("dataset %q: %s is %d characters long; the limit is %d", d.Name, f.name, n, f.max)
		}
	}
	for _, t := range in.Tags {
		if t.Key == "" {
			return invalid("input tag with an empty key")
		}
		if n := utf8.RuneCountInString(t.Key); n > maxInputTagKey {
			return invalid("input tag key %q is %d characters long; the limit is %d", t.Key, n, maxInputTagKey)
		}
		if n := utf8.RuneCountInString(t.Value); n > maxInputTagValue {
			return invalid("input tag %q: value is %d characters long; the limit is %d", t.Key, n, maxInputTagValue)
		}
	}
	return nil
}

// ValidateLoggedModelName applies _validate_logged_model_name: empty means
// "let the store pick one"; otherwise no / : . % " or '.
func ValidateLoggedModelName(name string) error {
	if name == "" {
		return nil
	}
	if strings.ContainsAny(name, `/:.%"'`) {
		return invalid("logged model name %q: / : . %% \" and ' are not allowed", name)
	}
	if n := utf8.RuneCountInString(name); n > maxKeyLen {
		return invalid("logged model name %q is %d characters long; the limit is %d", string([]rune(name)[:40])+"…", n, maxKeyLen)
	}
	return nil
}

// maxModelIDLen bounds a logged model's id (MLflow's are m- and 32 hex
// digits).
const maxModelIDLen = 64

// ValidateLoggedModelID checks a logged model's id before it becomes part
// of a URL path or a folder name: 1 to 64 letters, digits, - and _.
func ValidateLoggedModelID(id string) error {
	ok := id != "" && len(id) <= maxModelIDLen
	for _, r := range id {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_')) {
			ok = false
		}
	}
	if !ok {
		return invalid("logged model id %q: want 1 to %d ASCII letters, digits, - and _ (such as m-<32 hex digits>)", id, maxModelIDLen)
	}
	return nil
}
