package artifact_test

import (
	"strings"
	"testing"

	"github.com/creditrisk/engine/artifact"
)

func TestParseModelURI(t *testing.T) {
	for _, tt := range []struct {
		uri  string
		want artifact.ModelRef
		bad  bool
	}{
		{uri: "models:/credit@champion", want: artifact.ModelRef{Name: "credit", Alias: "champion"}},
		{uri: "models:credit@champion", want: artifact.ModelRef{Name: "credit", Alias: "champion"}},
		{uri: "models:/credit/3", want: artifact.ModelRef{Name: "credit", Version: "3"}},
		{uri: "models:/credit/Production", want: artifact.ModelRef{Name: "credit", Stage: "Production"}},
		{uri: "models:/credit v2/1", want: artifact.ModelRef{Name: "credit v2", Version: "1"}},
		{uri: "models:/credit", bad: true},
		{uri: "models:/credit/", bad: true},
		{uri: "models:/credit/1/model", bad: true},
		{uri: "models:/@champion", bad: true},
		{uri: "models:/credit@", bad: true},
		{uri: "models:/a/b@c", bad: true},
		{uri: "models:/a@b@c", bad: true},
		{uri: "runs:/x/y", bad: true},
	} {
		got, err := artifact.ParseModelURI(tt.uri)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseModelURI(%q) = %+v, want an error", tt.uri, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseModelURI(%q) = %+v, %v; want %+v", tt.uri, got, err, tt.want)
		}
	}
}

func TestParseRunURI(t *testing.T) {
	for _, tt := range []struct {
		uri, run, path string
		bad            bool
	}{
		{uri: "runs:/abc/model", run: "abc", path: "model"},
		{uri: "runs:/abc/model/MLmodel", run: "abc", path: "model/MLmodel"},
		{uri: "runs:/abc", run: "abc"},
		{uri: "runs:///abc/x", run: "abc", path: "x"},
		{uri: "runs:/", bad: true},
		{uri: "runs:/abc/../x", bad: true},
		{uri: "models:/x/1", bad: true},
	} {
		run, p, err := artifact.ParseRunURI(tt.uri)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseRunURI(%q) = %q, %q; want an error", tt.uri, run, p)
			}
			continue
		}
		if err != nil || run != tt.run || p != tt.path {
			t.Errorf("ParseRunURI(%q) = %q, %q, %v; want %q, %q", tt.uri, run, p, err, tt.run, tt.path)
		}
	}
}

// FuzzParseRefs: any accepted reference has exactly one selector and no
// path tricks.
func FuzzParseRefs(f *testing.F) {
	for _, s := range []string{"models:/m@a", "models:/m/1", "models:/m/Staging", "runs:/r/model", "runs:/r/../x", "models:/@", "runs:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if ref, err := artifact.ParseModelURI(uri); err == nil {
			n := 0
			for _, s := range []string{ref.Version, ref.Stage, ref.Alias} {
				if s != "" {
					n++
				}
			}
			if n != 1 || ref.Name == "" || strings.Contains(ref.Name, "/") {
				t.Fatalf("ParseModelURI(%q) = %+v", uri, ref)
			}
		}
		if run, p, err := artifact.ParseRunURI(uri); err == nil {
			if run == "" || strings.Contains(run, "/") || strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") {
				t.Fatalf("ParseRunURI(%q) = %q, %q", uri, run, p)
			}
		}
	})
}
