package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/promote"
	"github.com/creditrisk/engine/promote/promotetest"
	"github.com/creditrisk/engine/tracking"
)

func TestReportUsage(t *testing.T) {
	localTracking(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "--model is required"},
		{[]string{"report", "--model", "runs:/abc/model"}, "want a registered version"},
		{[]string{"report", "--model", "models:/m/1", "--data", "/no/such.csv"}, "--data"},
		{[]string{"report", "--model", "models:/m/1", "--resamples", "3"}, "--resamples 3"},
		{[]string{"report", "extra"}, "no arguments"},
		{[]string{"train", "--protected", "age_in_years:30,20"}, "band edges must increase"},
		{[]string{"train", "--protected", ":1"}, "want COLUMN"},
		{[]string{"train", "--date-column", "when"}, "data.date"},
		{[]string{"predict", "--model", "x", "--data", "y", "--explain", "--reason-codes", "-1"}, "--reason-codes -1"},
	} {
		code, _, stderr := pipeline(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("pipeline %s: exit %d, stderr %q; want 2 and %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
	}
}

// TestReportFlow against MLflow 3.x: train --register logs the version's
// validation report with its run; a fairness policy that the version breaks
// refuses the promotion with the gate table saying why; one it meets
// promotes, and the promotion run holds the report with the gates and who
// promoted; pipeline report writes the same report on demand.
func TestReportFlow(t *testing.T) {
	uri := testkit.TrackingURI(t)
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	c, err := tracking.Open(tracking.Config{URI: uri, S3: s3.EnvConfig(os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	name := promotetest.NewModel(t, c)
	code, stdout, stderr := pipeline(t, "train", "--model", "scorecard", "--register", name, "--experiment", "report-test",
		"--protected", "personal_status_and_sex", "--protected", "age_in_years:25,35,50", "--output", "json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var res struct {
		RunID      string `json:"run_id"`
		Registered struct{ Name, Version string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Registered.Version == "" {
		t.Fatalf("train output %q: %v", stdout, err)
	}
	page := loggedReport(t, c, res.RunID)
	for _, want := range []string{"Validation report: " + name, "not been through promotion", "age_in_years", "Hosmer", "open in MLflow"} {
		if !strings.Contains(page, want) {
			t.Errorf("the registered version's report lacks %q", want)
		}
	}
	policy := func(min string) string {
		p := filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(p, []byte("min_auc: 0.5\nmin_adverse_impact_ratio: "+min+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exp := "report-test-promotions"
	code, stdout, stderr = pipeline(t, "promote", "--name", name, "--version", res.Registered.Version, "--policy", policy("0.8"), "--experiment", exp)
	out := stdout + stderr
	if code != exitGate || !strings.Contains(out, "min_adverse_impact_ratio  fail") || !strings.Contains(out, "approved at") {
		t.Fatalf("promote with min_adverse_impact_ratio 0.8: exit %d\n%s", code, out)
	}
	code, stdout, stderr = pipeline(t, "promote", "--name", name, "--version", res.Registered.Version, "--policy", policy("0.7"), "--experiment", exp, "--output", "json")
	if code != 0 {
		t.Fatalf("promote with 0.7: exit %d\n%s%s", code, stdout, stderr)
	}
	var d promote.Decision
	if err := json.Unmarshal([]byte(stdout), &d); err != nil || !d.Applied {
		t.Fatalf("decision %q: %v", stdout, err)
	}
	page = loggedReport(t, c, d.RunID)
	for _, want := range []string{"min_adverse_impact_ratio", "to @champion by", "decision run"} {
		if !strings.Contains(page, want) {
			t.Errorf("the promotion's report lacks %q", want)
		}
	}
	file := filepath.Join(t.TempDir(), "r.html")
	if code, _, stderr := pipeline(t, "report", "--model", "models:/"+name+"@champion", "--out", file, "--resamples", "100"); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), "min_adverse_impact_ratio") {
		t.Errorf("pipeline report: %v", err)
	}
}

// loggedReport returns the validation report logged with run runID.
func loggedReport(t *testing.T, c tracking.Backend, runID string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), tracking.ReportFile)
	root, err := c.RunArtifactURI(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	store, err := c.Artifacts(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Download(context.Background(), tracking.ReportFile, dst); err != nil {
		t.Fatalf("run %s has no %s: %v", runID, tracking.ReportFile, err)
	}
	b, _ := os.ReadFile(dst)
	return string(b)
}
