package promote

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestBadHoldout: a --data file the models cannot score is an error naming
// the file (and line or column), and nothing is promoted.
func TestBadHoldout(t *testing.T) {
	f := newFixture(t, testkit.TrackingURI(t))
	ctx := context.Background()
	v1, v2 := f.register(strong), f.register(strong)
	if _, err := Promote(ctx, f.c, f.opts(v1, loose())); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(fullHoldout(t))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(full)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := rows[0]
	label := len(header) - 1
	// edit returns the CSV with fn applied to a copy of every row (row 0 is
	// the header).
	edit := func(fn func(i int, row []string) []string) string {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		for i, r := range rows {
			if err := w.Write(fn(i, slices.Clone(r))); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		return b.String()
	}
	without := func(col int) string {
		return edit(func(_ int, r []string) []string { return slices.Delete(r, col, col+1) })
	}
	tests := []struct {
		name, content, want string
	}{
		{"no label column", without(label), `no label column "creditability"`},
		{"no feature column", without(0), header[0]},
		{"empty label", edit(func(i int, r []string) []string {
			if i == 3 {
				r[label] = ""
			}
			return r
		}), "line 4"},
		{"header only", strings.SplitAfter(string(full), "\n")[0], "has no rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.csv")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			o := f.opts(v2, loose())
			o.Data = path
			_, err := Promote(ctx, f.c, o)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want the path and %q", err, tt.want)
			}
		})
	}
	if got := f.alias(DefaultAlias); got != v1 {
		t.Errorf("champion moved to %s", got)
	}
}
