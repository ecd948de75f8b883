package report_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/report"
	"github.com/creditrisk/engine/tracking"
	"github.com/creditrisk/engine/train"
)

// registered trains a version of family into a fresh local store (German
// credit, its two protected characteristics measured, with cfg's other
// settings) and returns the backend and the registration.
func registered(t *testing.T, family string, server bool) (tracking.Backend, *train.Result) {
	t.Helper()
	store := tracking.Config{URI: "file://" + filepath.Join(t.TempDir(), "mlruns")}
	if server {
		store = tracking.Config{URI: testkit.TrackingURI(t), S3: s3.EnvConfig(os.Getenv)}
	}
	b, err := tracking.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	tc := train.DefaultConfig()
	cfg := &tc
	cfg.Model.Family = family
	cfg.Tracking.Experiment = "report-test"
	cfg.Tracking.Register = fmt.Sprintf("report-test-%s-%d", family, time.Now().UnixNano())
	cfg.Fairness.Protected = []report.Protected{{Column: "personal_status_and_sex"}, {Column: "age_in_years", Bands: []float64{25, 35, 50}}}
	if family == model.FamilyGBDT {
		cfg.Model.Params = map[string]string{"num_iterations": "60"} // enough trees for effects; quick under -race
	}
	if server {
		t.Cleanup(func() { _ = b.DeleteRegisteredModel(context.Background(), cfg.Tracking.Register) })
	}
	res, err := train.Run(t.Context(), tc, train.Options{Tracking: b, OutDir: t.TempDir(),
		Tags: map[string]string{"mlflow.user": "validator", "mlflow.source.git.commit": "0123456789abcdef0123456789abcdef01234567"}})
	if err != nil {
		t.Fatal(err)
	}
	return b, res
}

// TestReportInChromium builds the report of a registered scorecard and of
// a gbdt model in a local store, and of a scorecard on MLflow 3.x (whose
// report links to the run's page in the MLflow UI), renders each in Debian's headless Chromium, and checks that
// the page has no console errors and asks for nothing outside itself,
// every image loads from a data: URI, every link leads somewhere, and every
// number it marks as a logged metric equals the run's metric (to 1e-12,
// and as printed to four decimals).
func TestReportInChromium(t *testing.T) {
	for _, tc := range []struct {
		family string
		server bool
	}{{model.FamilyScorecard, false}, {model.FamilyGBDT, false}, {model.FamilyScorecard, true}} {
		family := tc.family
		name := map[bool]string{false: "local/", true: "mlflow3/"}[tc.server] + family
		t.Run(name, func(t *testing.T) {
			b, res := registered(t, family, tc.server)
			ctx := context.Background()
			ref := "models:/" + res.Registered.Name + "/" + res.Registered.Version
			holdout := filepath.Join(res.OutDir, tracking.HoldoutFile)
			rep, err := report.Build(ctx, b, ref, report.Options{Holdout: holdout, Resamples: 200})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.ChecksOK() || len(rep.Checks) < 5 || len(rep.FairnessCheck) != 2 {
				t.Fatalf("checks %+v %+v", rep.Checks, rep.FairnessCheck)
			}
			path := filepath.Join(t.TempDir(), tracking.ReportFile)
			if err := rep.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			html, _ := os.ReadFile(path)
			for _, bad := range []string{"<script", "<link", "src=\"http", "src=\"file:", "@import", "url("} {
				if strings.Contains(string(html), bad) {
					t.Errorf("the report holds %q: not self-contained", bad)
				}
			}
			if tc.server != strings.Contains(string(html), `href="http`) {
				t.Errorf("link to the MLflow UI: %v on a server", !tc.server)
			}
			p := render(t, path)
			checkPage(t, p)
			if !strings.Contains(p.Heading, res.Registered.Name) || len(p.Sections) < 8 {
				t.Errorf("heading %q, sections %v", p.Heading, p.Sections)
			}
			run, err := b.GetRun(ctx, res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			logged := map[string]float64{}
			for _, m := range run.Data.Metrics {
				logged[m.Key] = m.Value
			}
			seen := map[string]bool{}
			for _, m := range p.Metrics {
				want, ok := logged[m.Key]
				if !ok {
					t.Errorf("the page shows %s, which the run did not log", m.Key)
					continue
				}
				v, err := strconv.ParseFloat(m.Value, 64)
				if err != nil || math.Abs(v-want) > 1e-12 || m.Text != strconv.FormatFloat(want, 'f', 4, 64) {
					t.Errorf("%s: page %q (%s), run %v", m.Key, m.Text, m.Value, want)
				}
				seen[m.Key] = true
			}
			for _, k := range []string{"test_auc", "test_gini", "test_ks",
				"test_fairness/personal_status_and_sex/min_adverse_impact_ratio", "test_fairness/age_in_years/tpr_gap"} {
				if !seen[k] {
					t.Errorf("the page does not show %s", k)
				}
			}
			t.Logf("%d numbers equal the run's metrics; %d images, %d links; page %.0f px high", len(seen), len(p.Images), len(p.Links), p.Height)
		})
	}
}

// The report refuses a version whose run is gone and a reference that is
// not a registered version, naming it.
func TestReportRefuses(t *testing.T) {
	b, err := tracking.Open(tracking.Config{URI: "file://" + filepath.Join(t.TempDir(), "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"runs:/abc/model": "runs:/abc/model", "models:/nothing/1": "nothing", "/tmp": "/tmp"} {
		_, err := report.Build(context.Background(), b, ref, report.Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %q", ref, err, want)
		}
	}
	if _, err := report.Build(context.Background(), b, "models:/nothing/1", report.Options{}); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("missing version: %v, want mlflow.ErrNotFound", err)
	}
}
