package reasons_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/reasons"
)

func TestDefaultIsTheConfigFile(t *testing.T) {
	cfg, err := os.ReadFile(filepath.Join("..", "configs", "reasons.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cfg, reasons.DefaultYAML()) {
		t.Fatal("configs/reasons.yaml and reasons/default.yaml differ; copy one onto the other")
	}
	if _, err := reasons.Load(filepath.Join("..", "configs", "reasons.yaml")); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultCoversDatasets checks that every feature of the bundled data
// sets has a statement or is marked protected, and that exactly the
// protected characteristics are.
func TestDefaultCoversDatasets(t *testing.T) {
	s := reasons.Default()
	tab, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	names := tab.FeatureNames()
	f, err := os.Open(testkit.Path(t, "taiwan_default.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, err := csv.NewReader(f).Read()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range header {
		if h != "ID" && h != "default payment next month" {
			names = append(names, h)
		}
	}
	protected := []string{"personal_status_and_sex", "age_in_years", "foreign_worker", "SEX", "MARRIAGE", "AGE"}
	for _, n := range names {
		if !slices.Contains(s.Features(), n) {
			t.Errorf("feature %q has no entry", n)
			continue
		}
		if got := s.Protected(n); got != slices.Contains(protected, n) {
			t.Errorf("%s: protected %v", n, got)
		}
		for _, d := range []reasons.Direction{reasons.High, reasons.Low, reasons.Missing, reasons.Any} {
			text, ok := s.Statement(n, d)
			if s.Protected(n) != (!ok && text == "") {
				t.Errorf("%s %s: statement %q, ok %v", n, d, text, ok)
			}
		}
	}
	if len(s.Features()) != len(names) {
		t.Errorf("the default names %d features, the data sets have %d", len(s.Features()), len(names))
	}
}

const sample = `version: 1
fallback: Other factors
features:
  duration:
    high: Term too long
    any: Term of the loan
  savings:
    missing: No savings reported
    any: Savings
  sex:
    protected: true
  pay_1:
    high: Delinquency
  pay_2:
    high: Delinquency
`

func TestStatement(t *testing.T) {
	s, err := reasons.Parse([]byte(sample), "sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		feature string
		dir     reasons.Direction
		text    string
		ok      bool
	}{
		{"duration", reasons.High, "Term too long", true},
		{"duration", reasons.Low, "Term of the loan", true}, // falls back to any
		{"duration", reasons.Missing, "Term of the loan", true},
		{"savings", reasons.Missing, "No savings reported", true},
		{"savings", reasons.High, "Savings", true},
		{"pay_1", reasons.Low, "Other factors", false}, // no any: the fallback
		{"unknown", reasons.High, "Other factors", false},
		{"sex", reasons.Any, "", false}, // protected: nothing to cite
	} {
		text, ok := s.Statement(c.feature, c.dir)
		if text != c.text || ok != c.ok {
			t.Errorf("%s/%s: %q %v, want %q %v", c.feature, c.dir, text, ok, c.text, c.ok)
		}
	}
	top := s.Top([]reasons.Ref{{"sex", reasons.Any}, {"pay_1", reasons.High}, {"pay_2", reasons.High},
		{"duration", reasons.High}, {"x", reasons.Any}, {"y", reasons.Any}, {"savings", reasons.Any}}, 0)
	want := []string{"Delinquency", "Term too long", "Other factors", "Savings"}
	if !slices.Equal(top, want) {
		t.Errorf("Top: %q, want %q", top, want)
	}
	if top := s.Top([]reasons.Ref{{"pay_1", reasons.High}, {"duration", reasons.High}, {"savings", reasons.Any}}, 2); len(top) != 2 {
		t.Errorf("Top with n=2: %q", top)
	}
	if s.Fallback() != "Other factors" {
		t.Errorf("fallback %q", s.Fallback())
	}
}

func TestDirectionOf(t *testing.T) {
	for _, c := range []struct {
		v, ref float64
		want   reasons.Direction
	}{{2, 1, reasons.High}, {0, 1, reasons.Low}, {1, 1, reasons.Any}, {math.NaN(), 1, reasons.Missing}} {
		if got := reasons.DirectionOf(c.v, c.ref); got != c.want {
			t.Errorf("DirectionOf(%v, %v) = %s, want %s", c.v, c.ref, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"empty", ``, "empty file"},
		{"version", "version: 2\nfallback: x\n", "version 2, want 1"},
		{"no fallback", "version: 1\n", "fallback: empty statement"},
		{"unknown top key", "version: 1\nfallback: x\ncolour: red\n", "field colour not found"},
		{"unknown direction", "version: 1\nfallback: x\nfeatures:\n  a:\n    sideways: y\n", `line 5: unknown key "sideways"`},
		{"not a mapping", "version: 1\nfallback: x\nfeatures:\n  a: just text\n", "line 4: a feature's entry must be a mapping"},
		{"no statement", "version: 1\nfallback: x\nfeatures:\n  a:\n    protected: false\n", `bad.yaml:5: malformed reasons file: feature "a" has no statement`},
		{"protected with text", "version: 1\nfallback: x\nfeatures:\n  a:\n    protected: true\n    any: Age\n", `feature "a" is protected and must not give adverse-action statements`},
		{"control", "version: 1\nfallback: x\nfeatures:\n  a:\n    any: \"two\\nlines\"\n", "holds a control character"},
		{"long", "version: 1\nfallback: " + strings.Repeat("x", 301) + "\n", "longer than 300 characters"},
		{"duplicate", "version: 1\nfallback: x\nfeatures:\n  a:\n    any: y\n  a:\n    any: z\n", `mapping key "a" already defined`},
		{"two documents", "version: 1\nfallback: x\n---\nversion: 1\n", "more than one YAML document"},
		{"empty name", "version: 1\nfallback: x\nfeatures:\n  \"\":\n    any: y\n", "a feature with an empty name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := reasons.Parse([]byte(c.in), "bad.yaml")
			if !errors.Is(err, reasons.ErrFormat) || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrFormat naming bad.yaml and containing %q", err, c.want)
			}
		})
	}
	if _, err := reasons.Load(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParse checks that the decoder never panics, that every error wraps
// ErrFormat and names the file, and that an accepted set answers every
// lookup with a statement or, for a protected feature, nothing.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add(reasons.DefaultYAML())
	f.Add([]byte("version: 1\nfallback: &a x\nfeatures: {b: {any: *a}}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := reasons.Parse(in, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, reasons.ErrFormat) || !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %v does not wrap ErrFormat naming the file", err)
			}
			return
		}
		for _, name := range append(s.Features(), "not-there") {
			for _, d := range []reasons.Direction{reasons.High, reasons.Low, reasons.Missing, reasons.Any} {
				text, _ := s.Statement(name, d)
				if (text == "") != s.Protected(name) {
					t.Fatalf("%s/%s: statement %q, protected %v", name, d, text, s.Protected(name))
				}
			}
		}
	})
}
