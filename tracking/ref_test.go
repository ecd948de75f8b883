package tracking_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

func TestParseRef(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want tracking.Ref
		bad  bool
	}{
		{in: "models:/credit@champion", want: tracking.Ref{Name: "credit", Alias: "champion"}},
		{in: "models:credit@champion", want: tracking.Ref{Name: "credit", Alias: "champion"}},
		{in: "models:/credit/3", want: tracking.Ref{Name: "credit", Version: "3"}},
		{in: "models:/credit/Production", want: tracking.Ref{Name: "credit", Stage: "Production"}},
		{in: "models:/credit v2/1", want: tracking.Ref{Name: "credit v2", Version: "1"}},
		{in: "runs:/abc/model", want: tracking.Ref{RunID: "abc", Path: "model"}},
		{in: "runs:/abc/model/MLmodel", want: tracking.Ref{RunID: "abc", Path: "model/MLmodel"}},
		{in: "runs:/abc", want: tracking.Ref{RunID: "abc"}},
		{in: "runs:///abc/x", want: tracking.Ref{RunID: "abc", Path: "x"}},
		{in: "./last-run/model", want: tracking.Ref{Dir: "./last-run/model"}},
		{in: "/srv/model", want: tracking.Ref{Dir: "/srv/model"}},
		{in: "file:///srv/model", want: tracking.Ref{Dir: "/srv/model"}},
		{in: "file:/srv/model", want: tracking.Ref{Dir: "/srv/model"}},
		{in: "models:/m-0123456789abcdef0123456789abcdef", want: tracking.Ref{ModelID: "m-0123456789abcdef0123456789abcdef"}},
		{in: "models:m-1", want: tracking.Ref{ModelID: "m-1"}},
		{in: "models:/", bad: true},
		{in: "models:/a b", bad: true},
		{in: "models:/m-1%2F..", bad: true},
		{in: "models:/@alias", bad: true},
		{in: "models:/n/1/2", bad: true},
		{in: "models:/a@b@c", bad: true},
		{in: "runs:/", bad: true},
		{in: "runs:/abc/../x", bad: true},
		{in: "s3://bucket/model", bad: true},
		{in: "http://host/model", bad: true},
		{in: "", bad: true},
	} {
		got, err := tracking.ParseRef(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseRef(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRef(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.in {
			t.Errorf("ParseRef(%q).String() = %q", tt.in, got)
		}
		if fields(got) != fields(tt.want) {
			t.Errorf("ParseRef(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// fields are a reference's parts, leaving out the text it was parsed from.
func fields(r tracking.Ref) [8]string {
	return [8]string{r.Name, r.Version, r.Alias, r.Stage, r.ModelID, r.RunID, r.Path, r.Dir}
}

// FuzzParseRef: any accepted reference names exactly one kind of thing,
// with no path tricks in run paths.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"models:/m@a", "models:/m/1", "models:/m/Staging", "models:/m-1", "runs:/r/model", "runs:/r/../x", "models:/@", "runs:", "file:/x", "dir"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := tracking.ParseRef(s)
		if err != nil {
			return
		}
		kinds := 0
		for _, set := range []bool{r.Registered(), r.ModelID != "", r.RunID != "", r.Dir != ""} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			t.Fatalf("ParseRef(%q) = %+v: %d kinds", s, r, kinds)
		}
		if r.Registered() {
			n := 0
			for _, sel := range []string{r.Version, r.Stage, r.Alias} {
				if sel != "" {
					n++
				}
			}
			if n != 1 || strings.Contains(r.Name, "/") {
				t.Fatalf("ParseRef(%q) = %+v", s, r)
			}
		}
		if p := r.Path; strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") || strings.Contains(r.RunID, "/") {
			t.Fatalf("ParseRef(%q) = %+v", s, r)
		}
	})
}

func TestIsLocal(t *testing.T) {
	for uri, want := range map[string]bool{
		"": true, "mlruns": true, "./mlruns": true, "/var/mlruns": true, "file:///var/mlruns": true, "file:mlruns": true,
		`C:\mlruns`: true, "http://127.0.0.1:5000": false, "https://mlflow.example": false, "databricks": true,
		"databricks://profile": false, "sqlite:///mlflow.db": false,
	} {
		if got := tracking.IsLocal(uri); got != want {
			t.Errorf("IsLocal(%q) = %v, want %v", uri, got, want)
		}
	}
}

// backends are the stack's servers and a fresh local store, each as a
// Backend opened from its URI.
func backends(t *testing.T) map[string]tracking.Backend {
	t.Helper()
	out := map[string]tracking.Backend{}
	for _, s := range testkit.Servers(t) {
		b, err := tracking.Open(tracking.Config{URI: s.URI, S3: s3.EnvConfig(os.Getenv),
			Client: []mlflow.Option{mlflow.WithRetries(2, 100*time.Millisecond, 50*time.Millisecond)}})
		if err != nil {
			t.Fatal(err)
		}
		out[s.Name] = b
	}
	local, err := tracking.Open(tracking.Config{URI: filepath.Join(t.TempDir(), "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	out["local"] = local
	return out
}

// TestLookupAndLocation: models:/ and runs:/ references resolve alike on
// both servers and the local store — by alias, version and stage — and a
// missing model, version, alias or stage matches ErrNotFound on each.
func TestLookupAndLocation(t *testing.T) {
	for name, b := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			sfx := fmt.Sprint(time.Now().UnixNano())
			exp, err := b.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "tracking-test-" + sfx})
			if err != nil {
				t.Fatal(err)
			}
			run, err := b.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
			if err != nil {
				t.Fatal(err)
			}
			model := "resolve-" + sfx
			if _, err := b.GetOrCreateRegisteredModel(ctx, model); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.DeleteRegisteredModel(ctx, model) })
			var sources []string
			for i := range 2 {
				src := fmt.Sprintf("%s/model-%d", run.Info.ArtifactURI, i)
				mv, err := b.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: model, Source: src, RunID: run.Info.RunID})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.WaitModelVersionReady(ctx, model, mv.Version, time.Minute); err != nil {
					t.Fatal(err)
				}
				sources = append(sources, src)
			}
			if err := b.SetRegisteredModelAlias(ctx, model, "champion", "2"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.TransitionModelVersionStage(ctx, model, "1", mlflow.StageProduction, false); err != nil {
				t.Fatal(err)
			}
			for ref, want := range map[string]string{
				"models:/" + model + "@champion":     sources[1],
				"models:/" + model + "/1":            sources[0],
				"models:/" + model + "/2":            sources[1],
				"models:/" + model + "/Production":   sources[0],
				"runs:/" + run.Info.RunID + "/model": run.Info.ArtifactURI + "/model",
			} {
				r, err := tracking.ParseRef(ref)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := tracking.Location(ctx, b, r); err != nil || got != want {
					t.Errorf("Location(%s) = %q, %v; want %q", ref, got, err, want)
				}
			}
			for _, ref := range []string{"models:/" + model + "@nobody", "models:/" + model + "/Staging", "models:/" + model + "-missing/1", "models:/" + model + "/9"} {
				r, _ := tracking.ParseRef(ref)
				if mv, err := tracking.Lookup(ctx, b, r); !errors.Is(err, mlflow.ErrNotFound) {
					t.Errorf("Lookup(%s) = %+v, %v; want ErrNotFound", ref, mv, err)
				}
			}
		})
	}
}
