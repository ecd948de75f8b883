package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Registry tags; see the package documentation. TagModelFile and
// TagModelSHA256 (the model file alone) are written at registration too.
const (
	TagFilesDigest  = "model_files_sha256"
	TagModelFile    = "model_file"
	TagModelSHA256  = "model_sha256"
	TagSignature    = "model_signature"
	TagSignatureKey = "model_signature_key"
	TagManifest     = "model_manifest"
)

// Files of a signature, as artifacts of the promotion run that made it.
const (
	ManifestFile  = "model_manifest.json"
	SignatureFile = "model_manifest.sig"
)

// MaxFiles bounds the files of a model directory that HashDir hashes and
// a manifest lists: a model directory has about ten.
const MaxFiles = 10000

var (
	// ErrMismatch is wrapped when files differ from the digests they are
	// checked against.
	ErrMismatch = errors.New("model files do not match their recorded digests")
	// ErrSignature is wrapped when a signature is missing, malformed, made
	// by another key or does not verify.
	ErrSignature = errors.New("model signature refused")
	// ErrManifest is wrapped by every error about a malformed manifest.
	ErrManifest = errors.New("malformed model manifest")
)

// HashDir returns the SHA-256 (lowercase hex) of every regular file below
// dir, keyed by "/"-separated relative path. A symbolic link, device or
// other non-regular file is an error (a link could point the loader at a
// file the digests do not cover), and so is a path that the listing of
// Digest cannot hold (a newline, carriage return or backslash), or more
// than MaxFiles files.
func HashDir(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (%s)", rel, d.Type())
		}
		if err := checkName(rel); err != nil {
			return err
		}
		if len(out) == MaxFiles {
			return fmt.Errorf("more than %d files", MaxFiles)
		}
		h, err := hashFile(p)
		if err != nil {
			return err
		}
		out[rel] = h
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash %s: %w", dir, err)
	}
	return out, nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkName accepts a clean relative "/"-separated path that sha256sum
// prints as it is.
func checkName(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\n\r\x00") {
		return fmt.Errorf("file name %q is not a plain relative path", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("file name %q is not a clean relative path", p)
		}
	}
	return nil
}

// isHex reports whether s is a lowercase hex SHA-256.
func isHex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Digest is the digest of a whole directory from the digests of its files
// (as HashDir returns them): the SHA-256, in lowercase hex, of the lines
// "<digest>  <path>\n" sorted by path, which is what sha256sum prints.
func Digest(files map[string]string) string {
	h := sha256.New()
	for _, p := range sortedKeys(files) {
		io.WriteString(h, strings.ToLower(files[p]))
		io.WriteString(h, "  ")
		io.WriteString(h, p)
		io.WriteString(h, "\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Compare checks got (the files found) against want (the files recorded):
// a missing, changed or unlisted file is an error wrapping ErrMismatch that
// names up to five of them.
func Compare(want, got map[string]string) error {
	var problems []string
	for _, p := range sortedKeys(want) {
		h, ok := got[p]
		switch {
		case !ok:
			problems = append(problems, p+" is missing")
		case !strings.EqualFold(h, want[p]):
			problems = append(problems, p+" has changed")
		}
	}
	for _, p := range sortedKeys(got) {
		if _, ok := want[p]; !ok {
			problems = append(problems, p+" is not listed")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	if len(problems) > 5 {
		problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
	}
	return fmt.Errorf("%s: %w", strings.Join(problems, "; "), ErrMismatch)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
