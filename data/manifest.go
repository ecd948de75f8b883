package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
)

// Errors of split manifests, for errors.Is.
var (
	// ErrManifest is wrapped by every error about a malformed manifest.
	ErrManifest = errors.New("malformed split manifest")
	// ErrDigestMismatch is wrapped when a manifest is applied to data whose
	// digest is not the one it was made from.
	ErrDigestMismatch = errors.New("split manifest is for other data")
)

// manifestVersion is the version of the manifest's JSON layout.
const manifestVersion = 1

// Manifest records which rows of an input went to each part of a split, so
// that a run can be repeated on exactly the same rows, by this program
// ([Manifest.Splits]) or by another tool. Its JSON form is
//
//	{"format_version":1,"source":"german_credit.csv","digest":"2c0b…",
//	 "rows":1000,"train":[0,2,…],"validation":[…],"test":[…]}
//
// Row numbers count the input's data rows from 0 in file order (the header
// is not a row), which is also the default index pandas.read_csv gives
// them. Digest is [Table.Digest] of the input, the dataset digest a run
// logs: it depends on the content training sees (values, types, label), not
// on line endings or quoting, so a manifest applies to the same data saved
// differently but never to changed data. Source is the input's name and is
// informational only.
type Manifest struct {
	FormatVersion int    `json:"format_version"`
	Source        string `json:"source"`
	Digest        string `json:"digest"`
	Rows          int    `json:"rows"`
	Train         []int  `json:"train"`
	Validation    []int  `json:"validation"`
	Test          []int  `json:"test"`
}

// NewManifest records the split s of table t, whose Digest is digest: the
// caller has it already, as a whole table's digest is worth computing once.
func NewManifest(t *Table, digest string, s Splits) *Manifest {
	return &Manifest{
		FormatVersion: manifestVersion,
		Source:        t.Source,
		Digest:        digest,
		Rows:          t.Rows(),
		Train:         nonNil(s.Train),
		Validation:    nonNil(s.Validation),
		Test:          nonNil(s.Test),
	}
}

// nonNil copies rows, writing an empty part as [] rather than null.
func nonNil(rows []int) []int {
	if rows == nil {
		return []int{}
	}
	return slices.Clone(rows)
}

// WriteJSON writes the manifest as JSON, one line per part.
func (m *Manifest) WriteJSON(w io.Writer) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("write split manifest: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"format_version\": %d,\n", m.FormatVersion)
	for _, f := range []struct {
		key string
		v   any
	}{{"source", m.Source}, {"digest", m.Digest}, {"rows", m.Rows},
		{"train", nonNil(m.Train)}, {"validation", nonNil(m.Validation)}, {"test", nonNil(m.Test)}} {
		v, err := json.Marshal(f.v)
		if err != nil {
			return fmt.Errorf("write split manifest: %w", err)
		}
		fmt.Fprintf(&b, "  %q: %s", f.key, v)
		if f.key != "test" {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write split manifest: %w", err)
	}
	return nil
}

// WriteFile writes the manifest's JSON to path.
func (m *Manifest) WriteFile(path string) error {
	var b bytes.Buffer
	if err := m.WriteJSON(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write split manifest: %w", err)
	}
	return nil
}

// ReadManifest reads and checks a manifest file; see [ParseManifest].
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read split manifest: %w", err)
	}
	return ParseManifest(b, path)
}

// ParseManifest reads a manifest's JSON, name being the file's name in
// errors. It refuses unknown fields, an unknown format version, a digest
// that is not 64 hex digits, and row numbers that are negative, not below
// rows, or listed twice (within a part or across parts); the training part
// must not be empty. Parts need not cover every row. Every error wraps
// ErrManifest and names the file and the field.
func ParseManifest(b []byte, name string) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("split manifest %s: %w: %v", name, ErrManifest, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("split manifest %s: %w: data after the JSON object", name, ErrManifest)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("split manifest %s: %w", name, err)
	}
	return &m, nil
}

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// check validates the manifest as ParseManifest describes.
func (m *Manifest) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrManifest, fmt.Sprintf(format, args...))
	}
	if m.FormatVersion != manifestVersion {
		return bad("format_version %d, want %d", m.FormatVersion, manifestVersion)
	}
	if !hexDigest.MatchString(m.Digest) {
		return bad("digest %.80q is not a SHA-256 in lower-case hex (64 digits)", m.Digest)
	}
	if m.Rows <= 0 {
		return bad("rows is %d, want the input's row count (> 0)", m.Rows)
	}
	if len(m.Train) == 0 {
		return bad("train lists no rows")
	}
	// Sorting (row, part) pairs finds duplicates with memory proportional
	// to the manifest, whatever "rows" claims.
	type entry struct{ row, part, pos int }
	names := [3]string{"train", "validation", "test"}
	var all []entry
	for p, part := range [3][]int{m.Train, m.Validation, m.Test} {
		for i, r := range part {
			if r < 0 || r >= m.Rows {
				return bad("%s[%d] = %d is not a row of a %d-row input (rows count from 0)", names[p], i, r, m.Rows)
			}
			all = append(all, entry{r, p, i})
		}
	}
	slices.SortFunc(all, func(a, b entry) int {
		if a.row != b.row {
			return a.row - b.row
		}
		if a.part != b.part {
			return a.part - b.part
		}
		return a.pos - b.pos
	})
	for i := 1; i < len(all); i++ {
		if a, b := all[i-1], all[i]; a.row == b.row {
			return bad("row %d is listed twice: %s[%d] and %s[%d]", a.row, names[a.part], a.pos, names[b.part], b.pos)
		}
	}
	return nil
}

// Splits returns the manifest's parts for table t, each sorted ascending
// (the order [StratifiedSplit] gives). It refuses a table whose digest is
// not the manifest's, naming both digests, so a split is never replayed on
// data that has changed.
func (m *Manifest) Splits(t *Table) (Splits, error) {
	if err := m.check(); err != nil {
		return Splits{}, fmt.Errorf("apply split manifest: %w", err)
	}
	if d := t.Digest(); d != m.Digest {
		return Splits{}, fmt.Errorf("apply split manifest: %w: the manifest was made from %s (digest %s, %d rows); %s has digest %s (%d rows)",
			ErrDigestMismatch, m.Source, m.Digest, m.Rows, t.Source, d, t.Rows())
	}
	sorted := func(rows []int) []int {
		out := slices.Clone(rows)
		slices.Sort(out)
		return out
	}
	return Splits{Train: sorted(m.Train), Validation: sorted(m.Validation), Test: sorted(m.Test)}, nil
}
