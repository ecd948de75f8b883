// Package reasons maps model explanations to adverse-action statements: the
// sentences a declined applicant reads ("Requested loan term is too
// long"), as fair-lending rules ask, instead of feature names.
//
// A [Set] is read from YAML (configs/reasons.yaml; [Default] is the copy
// embedded here, covering the German credit and Taiwan data sets):
//
//	version: 1
//	fallback: Other factors in your application
//	features:
//	  duration_in_month:
//	    high: Requested loan term is too long
//	    any: Term of the requested loan
//	  personal_status_and_sex:
//	    protected: true
//
// A statement is keyed by feature and [Direction]: High or Low when the
// applicant's value lies above or below where the feature scores best,
// Missing when the value is missing, Any for everything else (and the
// fallback of the other directions). Both explainers use the same set: a
// points scorecard gives the direction of its points lost (the row's bin
// against the best bin), a tree model's TreeSHAP reasons the side of a
// reference value ([DirectionOf]).
//
// A feature marked protected (sex, marital status, age, national origin)
// has no statements: the law forbids citing it, so [Set.Statement] returns
// nothing for it and [Set.Top] skips it.
//
// Every error of [Parse] names the file and, where there is one, the line.
// A Set is not modified after Parse and is safe for concurrent use.
package reasons

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Direction says on which side of the feature's best values the
// applicant's value lies.
type Direction string

// Directions, as written in the YAML file.
const (
	High    Direction = "high"
	Low     Direction = "low"
	Missing Direction = "missing"
	Any     Direction = "any"
)

var directions = []Direction{High, Low, Missing, Any}

// DirectionOf places value against reference (for example the training
// median, or the start of the best bin): High above, Low below, Missing
// for NaN, Any when equal.
func DirectionOf(value, reference float64) Direction {
	switch {
	case math.IsNaN(value):
		return Missing
	case value > reference:
		return High
	case value < reference:
		return Low
	}
	return Any
}

// ErrFormat is wrapped by every error about a malformed reasons file.
var ErrFormat = errors.New("malformed reasons file")

// Limits on the input, so a hostile file cannot exhaust memory.
const (
	maxFileSize  = 1 << 20
	maxStatement = 300 // characters; an adverse-action notice cites a few short lines
)

// Set is a mapping from features and directions to statements.
type Set struct {
	fallback string
	features map[string]feature
}

type feature struct {
	protected bool
	text      map[Direction]string
}

//go:embed default.yaml
var defaultYAML []byte

// Default returns the embedded default set (a copy of
// configs/reasons.yaml) for the German credit and Taiwan features.
func Default() *Set {
	s, err := Parse(defaultYAML, "embedded:reasons.yaml")
	if err != nil {
		panic(err) // the embedded file is tested; this cannot happen
	}
	return s
}

// DefaultYAML returns a copy of the embedded default file.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Load reads a reasons file.
func Load(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load reasons: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load reasons: %w", err)
	}
	return Parse(b, path)
}

// doc is the file's layout.
type doc struct {
	Version  int                  `yaml:"version"`
	Fallback string               `yaml:"fallback"`
	Features map[string]entryNode `yaml:"features"`
}

// entryNode is one feature's entry with the line it starts on.
type entryNode struct {
	line      int
	Protected bool   `yaml:"protected"`
	High      string `yaml:"high"`
	Low       string `yaml:"low"`
	Missing   string `yaml:"missing"`
	Any       string `yaml:"any"`
}

func (e *entryNode) UnmarshalYAML(n *yaml.Node) error {
	type plain entryNode // without this method
	var p plain
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a feature's entry must be a mapping of direction: statement", n.Line)
	}
	// Decode strictly: Node.Decode ignores the decoder's KnownFields.
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if k != "protected" && !slices.Contains(directions, Direction(k)) {
			return fmt.Errorf("line %d: unknown key %q (want high, low, missing, any or protected)", n.Content[i].Line, k)
		}
	}
	if err := n.Decode(&p); err != nil {
		return err
	}
	*e = entryNode(p)
	e.line = n.Line
	return nil
}

// Parse reads a reasons file's YAML; name is the file's name in errors.
// It refuses unknown keys, a version other than 1, an empty or overlong
// (300 characters) statement or one with control characters, a feature
// without statements, and statements for a protected feature.
func Parse(b []byte, name string) (*Set, error) {
	bad := func(line int, format string, args ...any) error {
		where := name
		if line > 0 {
			where = fmt.Sprintf("%s:%d", name, line)
		}
		return fmt.Errorf("reasons %s: %w: %s", where, ErrFormat, fmt.Sprintf(format, args...))
	}
	if len(b) > maxFileSize {
		return nil, bad(0, "larger than %d bytes", maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var d doc
	if err := dec.Decode(&d); err != nil {
		if err == io.EOF {
			return nil, bad(0, "empty file")
		}
		return nil, bad(0, "%v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, bad(0, "more than one YAML document")
	}
	if d.Version != 1 {
		return nil, bad(0, "version %d, want 1", d.Version)
	}
	if err := checkText(d.Fallback); err != nil {
		return nil, bad(0, "fallback: %v", err)
	}
	s := &Set{fallback: d.Fallback, features: make(map[string]feature, len(d.Features))}
	for _, name := range slices.Sorted(maps.Keys(d.Features)) {
		e := d.Features[name]
		if strings.TrimSpace(name) == "" {
			return nil, bad(e.line, "a feature with an empty name")
		}
		text := map[Direction]string{High: e.High, Low: e.Low, Missing: e.Missing, Any: e.Any}
		f := feature{protected: e.Protected, text: map[Direction]string{}}
		for _, dir := range directions {
			t := text[dir]
			if t == "" {
				continue
			}
			if e.Protected {
				return nil, bad(e.line, "feature %q is protected and must not give adverse-action statements (%s: %q)", name, dir, t)
			}
			if err := checkText(t); err != nil {
				return nil, bad(e.line, "feature %q, %s: %v", name, dir, err)
			}
			f.text[dir] = t
		}
		if !e.Protected && len(f.text) == 0 {
			return nil, bad(e.line, "feature %q has no statement (give high, low, missing or any, or mark it protected)", name)
		}
		s.features[name] = f
	}
	return s, nil
}

func checkText(t string) error {
	switch {
	case strings.TrimSpace(t) == "":
		return errors.New("empty statement")
	case !utf8.ValidString(t):
		return errors.New("statement is not valid UTF-8")
	case utf8.RuneCountInString(t) > maxStatement:
		return fmt.Errorf("statement longer than %d characters", maxStatement)
	case strings.IndexFunc(t, unicode.IsControl) >= 0:
		return fmt.Errorf("statement %.60q holds a control character (one line, please)", t)
	}
	return nil
}

// Fallback returns the statement for features the set does not name.
func (s *Set) Fallback() string { return s.fallback }

// Protected reports whether the feature is marked protected.
func (s *Set) Protected(feature string) bool { return s.features[feature].protected }

// Features returns the names of the features the set describes, sorted.
func (s *Set) Features() []string { return slices.Sorted(maps.Keys(s.features)) }

// Statement returns the statement for the feature and direction: the
// direction's own, else the feature's "any" statement; ok is false when
// the set has neither (then text is the fallback) and for a protected
// feature (then text is empty: it must not be cited).
func (s *Set) Statement(feature string, d Direction) (text string, ok bool) {
	f, known := s.features[feature]
	if f.protected {
		return "", false
	}
	if known {
		if t, ok := f.text[d]; ok {
			return t, true
		}
		if t, ok := f.text[Any]; ok {
			return t, true
		}
	}
	return s.fallback, false
}

// Ref is one reason an explainer found, most important first in a list.
type Ref struct {
	Feature   string
	Direction Direction
}

// Top returns the statements of refs in order, skipping protected features
// and statements already given (several features may share one, such as
// the months of a payment history), at most n of them (all when n <= 0).
// Features the set does not name give the fallback, once.
func (s *Set) Top(refs []Ref, n int) []string {
	var out []string
	for _, r := range refs {
		if n > 0 && len(out) == n {
			break
		}
		t, _ := s.Statement(r.Feature, r.Direction)
		if t == "" || slices.Contains(out, t) {
			continue
		}
		out = append(out, t)
	}
	return out
}
