package integrity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Types of the statement; see the package documentation.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://github.com/creditrisk/engine/model-signature/v1"
)

// MaxManifestSize bounds the manifest Parse reads: ten files take about
// 1.5 KB.
const MaxManifestSize = 1 << 20

// Registration is the registered version a manifest vouches for.
type Registration struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	RunID   string `json:"run_id"`
}

// URI is the version as a model reference, the manifest's subject name.
func (r Registration) URI() string { return "models:/" + r.Name + "/" + r.Version }

// Manifest is the signed statement about a version's files.
type Manifest struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject names the version and carries the directory's Digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Predicate lists the files and the registration.
type Predicate struct {
	Serialization Serialization `json:"serialization"`
	Resources     []Resource    `json:"resources"`
	Model         Registration  `json:"model"`
}

// Serialization says how the files were hashed: each whole file on its
// own ("files"), with SHA-256, links refused.
type Serialization struct {
	Method        string `json:"method"`
	HashType      string `json:"hash_type"`
	AllowSymlinks bool   `json:"allow_symlinks"`
}

// Resource is one file: its "/"-separated path in the model directory and
// its digest.
type Resource struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
}

// NewManifest returns the manifest of a registration whose model
// directory has the files (path -> SHA-256, as HashDir returns them).
func NewManifest(reg Registration, files map[string]string) *Manifest {
	m := &Manifest{
		Type:          StatementType,
		Subject:       []Subject{{Name: reg.URI(), Digest: map[string]string{"sha256": Digest(files)}}},
		PredicateType: PredicateType,
		Predicate: Predicate{
			Serialization: Serialization{Method: "files", HashType: "sha256"},
			Model:         reg,
		},
	}
	for _, p := range sortedKeys(files) {
		m.Predicate.Resources = append(m.Predicate.Resources, Resource{Name: p, Algorithm: "sha256", Digest: strings.ToLower(files[p])})
	}
	return m
}

// Marshal returns the bytes that are signed (see the package
// documentation): compact JSON and a newline.
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// Files returns the digests the manifest lists, keyed by path.
func (m *Manifest) Files() map[string]string {
	out := make(map[string]string, len(m.Predicate.Resources))
	for _, r := range m.Predicate.Resources {
		out[r.Name] = r.Digest
	}
	return out
}

// Digest is the subject's digest of the whole directory.
func (m *Manifest) Digest() string { return m.Subject[0].Digest["sha256"] }

// Parse decodes and checks a manifest: the statement and predicate types,
// one subject named after the registration whose digest is the Digest of
// the resources, sorted unique clean paths with SHA-256 digests. Unknown
// fields and trailing data are errors. Every error wraps ErrManifest.
// Parse does not verify a signature: call Verify on the same bytes first.
func Parse(b []byte) (*Manifest, error) {
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("manifest is %d bytes, more than %d: %w", len(b), MaxManifestSize, ErrManifest)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode manifest: %v: %w", err, ErrManifest)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decode manifest: data after the statement: %w", ErrManifest)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("manifest: %v: %w", err, ErrManifest)
	}
	return &m, nil
}

func (m *Manifest) check() error {
	if m.Type != StatementType {
		return fmt.Errorf("_type %q, want %q", clip(m.Type), StatementType)
	}
	if m.PredicateType != PredicateType {
		return fmt.Errorf("predicateType %q, want %q", clip(m.PredicateType), PredicateType)
	}
	p := &m.Predicate
	if s := p.Serialization; s.Method != "files" || s.HashType != "sha256" || s.AllowSymlinks {
		return fmt.Errorf("serialization %+v, want method files, hash_type sha256, no symlinks", s)
	}
	if p.Model.Name == "" || p.Model.Version == "" {
		return fmt.Errorf("model name and version are required")
	}
	if len(m.Subject) != 1 {
		return fmt.Errorf("%d subjects, want 1", len(m.Subject))
	}
	s := m.Subject[0]
	if s.Name != p.Model.URI() {
		return fmt.Errorf("subject %q, want %q", clip(s.Name), p.Model.URI())
	}
	if len(s.Digest) != 1 || !isHex(s.Digest["sha256"]) {
		return fmt.Errorf("subject digest: want exactly one lowercase hex sha256")
	}
	if len(p.Resources) == 0 || len(p.Resources) > MaxFiles {
		return fmt.Errorf("%d resources, want 1 to %d", len(p.Resources), MaxFiles)
	}
	for i, r := range p.Resources {
		if err := checkName(r.Name); err != nil {
			return fmt.Errorf("resource %d: %v", i, err)
		}
		if i > 0 && r.Name <= p.Resources[i-1].Name {
			return fmt.Errorf("resource %d: %q is not after %q (resources are sorted and unique)", i, clip(r.Name), clip(p.Resources[i-1].Name))
		}
		if r.Algorithm != "sha256" || !isHex(r.Digest) {
			return fmt.Errorf("resource %q: want algorithm sha256 and a lowercase hex digest", clip(r.Name))
		}
	}
	if got := Digest(m.Files()); got != s.Digest["sha256"] {
		return fmt.Errorf("subject digest %s is not the digest of the resources (%s)", s.Digest["sha256"], got)
	}
	return nil
}

// Check reports whether the manifest vouches for reg with exactly the
// files (path -> SHA-256): an error wrapping ErrMismatch says what
// differs.
func (m *Manifest) Check(reg Registration, files map[string]string) error {
	if m.Predicate.Model != reg {
		return fmt.Errorf("the manifest is for %s (run %s), not %s (run %s): %w",
			m.Predicate.Model.URI(), m.Predicate.Model.RunID, reg.URI(), reg.RunID, ErrMismatch)
	}
	if err := Compare(m.Files(), files); err != nil {
		return fmt.Errorf("against the signed manifest: %w", err)
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
