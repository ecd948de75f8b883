package data_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

func TestManifestRoundTrip(t *testing.T) {
	tab := testkit.German(t)
	s, err := tab.Split(data.DefaultFractions(), 42)
	if err != nil {
		t.Fatal(err)
	}
	m := data.NewManifest(tab, tab.Digest(), s)
	path := filepath.Join(t.TempDir(), "split_manifest.json")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := data.ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("read back %+v\nwrote %+v", back, m)
	}
	got, err := back.Splits(tab)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatal("the manifest's splits differ from the split it recorded")
	}
	// The same data saved with LF endings is the same data.
	lf, err := data.Load(strings.NewReader(strings.ReplaceAll(string(data.DefaultCSV()), "\r\n", "\n")),
		data.Options{Name: "lf.csv", Label: "creditability", Positive: "bad"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := back.Splits(lf); err != nil {
		t.Fatalf("LF copy of the same data refused: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"digest": "`+tab.Digest()+`"`)) || !bytes.HasSuffix(b, []byte("}\n")) {
		t.Fatalf("manifest file lacks the digest or the final newline:\n%.300s", b)
	}
}

func TestManifestRefusesOtherData(t *testing.T) {
	tab := testkit.German(t)
	s, err := tab.Split(data.DefaultFractions(), 42)
	if err != nil {
		t.Fatal(err)
	}
	m := data.NewManifest(tab, tab.Digest(), s)
	// One changed value makes other data.
	csv := strings.Replace(string(data.DefaultCSV()), ",1169,", ",1170,", 1)
	other, err := data.Load(strings.NewReader(csv), data.Options{Name: "changed.csv", Label: "creditability", Positive: "bad"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Splits(other)
	if !errors.Is(err, data.ErrDigestMismatch) {
		t.Fatalf("got %v, want ErrDigestMismatch", err)
	}
	for _, want := range []string{tab.Digest(), other.Digest(), "changed.csv"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestParseManifestErrors(t *testing.T) {
	d := strings.Repeat("ab", 32)
	ok := func(rows int, train, valid, test string) string {
		return fmt.Sprintf(`{"format_version":1,"source":"x.csv","digest":%q,"rows":%d,"train":%s,"validation":%s,"test":%s}`,
			d, rows, train, valid, test)
	}
	for _, c := range []struct {
		name, in, want string
	}{
		{"not json", `{`, "unexpected EOF"},
		{"unknown field", `{"format_version":1,"seed":3}`, `unknown field "seed"`},
		{"trailing", ok(3, "[0]", "[]", "[1]") + `{}`, "data after the JSON object"},
		{"version", strings.Replace(ok(3, "[0]", "[]", "[1]"), `"format_version":1`, `"format_version":2`, 1), "format_version 2, want 1"},
		{"digest", strings.Replace(ok(3, "[0]", "[]", "[1]"), d, "ABC", 1), `digest "ABC" is not a SHA-256`},
		{"rows", ok(0, "[0]", "[]", "[]"), "rows is 0"},
		{"no train", ok(3, "[]", "[]", "[1]"), "train lists no rows"},
		{"out of range", ok(3, "[0,3]", "[]", "[1]"), "train[1] = 3 is not a row of a 3-row input"},
		{"negative", ok(3, "[0]", "[-1]", "[1]"), "validation[0] = -1 is not a row"},
		{"twice in a part", ok(5, "[0,2,2]", "[]", "[1]"), "row 2 is listed twice: train[1] and train[2]"},
		{"in two parts", ok(5, "[0,4]", "[1]", "[4]"), "row 4 is listed twice: train[1] and test[0]"},
		{"not an int", ok(5, "[0.5]", "[]", "[]"), "cannot unmarshal number 0.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := data.ParseManifest([]byte(c.in), "m.json")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, data.ErrManifest) || !strings.Contains(err.Error(), "m.json") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q: want ErrManifest naming m.json and containing %q", err, c.want)
			}
		})
	}
	// Parts need not cover every row (a holdout may be kept out).
	m, err := data.ParseManifest([]byte(ok(10, "[3,1]", "[]", "[2]")), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 10 || !slices.Equal(m.Train, []int{3, 1}) {
		t.Fatalf("parsed %+v", m)
	}
}

// FuzzParseManifest checks that the decoder never panics, that every
// error wraps ErrManifest, and that what it accepts writes back to JSON
// that parses to the same manifest.
func FuzzParseManifest(f *testing.F) {
	d := strings.Repeat("0f", 32)
	f.Add([]byte(`{"format_version":1,"source":"a.csv","digest":"` + d + `","rows":4,"train":[0,3],"validation":[1],"test":[2]}`))
	f.Add([]byte(`{"format_version":1,"digest":"` + d + `","rows":1e9,"train":[999999999],"validation":null,"test":[]}`))
	f.Add([]byte(`{"format_version":1,"rows":2,"train":[1,1]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := data.ParseManifest(in, "fuzz.json")
		if err != nil {
			if !errors.Is(err, data.ErrManifest) || !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error %v does not wrap ErrManifest naming the file", err)
			}
			return
		}
		var b bytes.Buffer
		if err := m.WriteJSON(&b); err != nil {
			t.Fatalf("an accepted manifest does not write: %v", err)
		}
		back, err := data.ParseManifest(b.Bytes(), "again.json")
		if err != nil {
			t.Fatalf("written manifest does not parse: %v\n%s", err, b.Bytes())
		}
		norm := func(p []int) []int {
			if p == nil {
				return []int{}
			}
			return p
		}
		if back.Source != m.Source || back.Digest != m.Digest || back.Rows != m.Rows ||
			!slices.Equal(norm(back.Train), norm(m.Train)) || !slices.Equal(norm(back.Validation), norm(m.Validation)) ||
			!slices.Equal(norm(back.Test), norm(m.Test)) {
			t.Fatalf("round trip changed the manifest: %+v -> %+v", m, back)
		}
	})
}
