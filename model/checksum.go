package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/creditrisk/engine/integrity"
)

// checksums is the form of checksums.json.
type checksums struct {
	Algorithm string            `json:"algorithm"`
	Files     map[string]string `json:"files"` // slash path -> hex sha256
}

// hashDir returns the sha256 of every regular file under dir except
// checksums.json, keyed by slash-separated relative path.
func hashDir(dir string) (map[string]string, error) {
	sums, err := integrity.HashDir(dir)
	if err != nil {
		return nil, fmt.Errorf("hash files: %w", err)
	}
	delete(sums, ChecksumsFile)
	return sums, nil
}

// Checksums reads checksums.json: the sha256 (hex) of every file of the
// directory but itself, keyed by slash-separated path relative to dir. A
// directory without it gives an error wrapping ErrNoChecksums.
func Checksums(dir string) (map[string]string, error) {
	p := filepath.Join(dir, ChecksumsFile)
	b, err := readFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("verify %s: %w", dir, ErrNoChecksums)
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dir, err)
	}
	return ParseChecksums(p, b)
}

// ParseChecksums reads the content of a checksums.json; name is used in
// errors.
func ParseChecksums(name string, b []byte) (map[string]string, error) {
	var c checksums
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", name, err, ErrFormat)
	}
	if c.Algorithm != "sha256" {
		return nil, fmt.Errorf("%s: algorithm %q, want sha256: %w", name, c.Algorithm, ErrFormat)
	}
	if len(c.Files) == 0 {
		return nil, fmt.Errorf("%s: no files listed: %w", name, ErrFormat)
	}
	for f, h := range c.Files {
		if !localName(f) || f == ChecksumsFile {
			return nil, fmt.Errorf("%s: %q is not a file of the model directory: %w", name, f, ErrFormat)
		}
		if len(h) != 64 || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
			return nil, fmt.Errorf("%s: %s: %q is not a hex sha256: %w", name, f, h, ErrFormat)
		}
	}
	return c.Files, nil
}

// Verify checks every file of dir against checksums.json: a changed,
// missing or unlisted file is an error wrapping ErrChecksum that names it.
// Without checksums.json the error wraps ErrNoChecksums (a directory
// written by Python's mlflow has none; the caller decides).
//
// checksums.json lies beside the files it lists: whoever rewrites a file
// can rewrite it too. It catches damage, not tampering; see package
// integrity for digests kept in the registry.
func Verify(dir string) error {
	want, err := Checksums(dir)
	if err != nil {
		return err
	}
	got, err := hashDir(dir)
	if err != nil {
		return fmt.Errorf("verify %s: %w", dir, err)
	}
	return compareChecksums(dir, want, got)
}

// VerifyFiles is Verify with the digests of the directory's files already
// computed (path -> sha256, as integrity.HashDir returns them, with or
// without checksums.json itself), so that a caller hashes each file once.
func VerifyFiles(dir string, files map[string]string) error {
	want, err := Checksums(dir)
	if err != nil {
		return err
	}
	got := make(map[string]string, len(files))
	for p, h := range files {
		if p != ChecksumsFile {
			got[p] = h
		}
	}
	return compareChecksums(dir, want, got)
}

func compareChecksums(dir string, want, got map[string]string) error {
	var problems []string
	for _, f := range sortedKeys(want) {
		h, ok := got[f]
		switch {
		case !ok:
			problems = append(problems, f+" is missing")
		case !strings.EqualFold(h, want[f]):
			problems = append(problems, fmt.Sprintf("%s has sha256 %s, want %s", f, h, want[f]))
		}
	}
	for _, f := range sortedKeys(got) {
		if _, ok := want[f]; !ok {
			problems = append(problems, f+" is not listed in "+ChecksumsFile)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("verify %s: %s: %w", dir, strings.Join(problems, "; "), ErrChecksum)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
