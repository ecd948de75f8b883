package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/train"
)

// TestTrainUsage: mistakes in what an analyst types are refused before any
// run exists, naming the flag typed (not a config key) and the fix.
func TestTrainUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", "loans.csv"}, "--data: a data file needs its label column and positive value: --label and --positive"},
		{[]string{"train", "--set", "num_leave=3"}, "did you mean num_leaves?"},
		{[]string{"train", "--model", "logistic", "--set", "maxiter=3"}, "did you mean max_iter?"},
		{[]string{"train", "--model", "forest", "--set", "num_tree=3"}, "did you mean num_trees?"},
		{[]string{"train", "--set", "types.ID=ignore"}, "give a column's type with --type ID=ignore"},
		{[]string{"train", "--type", "ID=text"}, `--type "ID=text": want COL=numeric, COL=categorical or COL=ignore`},
		{[]string{"train", "--model", "boosted"}, "--model: unknown family"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			localTracking(t)
			code, _, stderr := pipeline(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

// TestTrainTaiwan trains on the Taiwan file as an analyst would: the ID
// column is reported (and left out with --ignore, or given a type with
// --type), the experiment is named after the file, progress and the
// summary name the metrics as logged, say why boosting stopped, and end
// with the next commands.
func TestTrainTaiwan(t *testing.T) {
	localTracking(t)
	csv := testkit.Path(t, "taiwan_default.csv")
	base := []string{"train", "--data", csv, "--label", "default payment next month", "--positive", "1", "--set", "num_iterations=20"}

	code, stdout, stderr := pipeline(t, base...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"warning: column ID: distinct integers in row order", "--ignore ID",
		"kept iteration", "stopped: all 20 iterations"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, want := range []string{"experiment                    taiwan_default", "Next:", "--register taiwan_default",
		"pipeline promote --name taiwan_default --latest", "'default payment next month'"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}

	code, stdout, stderr = pipeline(t, append(base, "--ignore", "ID", "--type", "EDUCATION=categorical", "--output", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res train.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 0 || strings.Contains(stderr, "warning") || res.Experiment != "taiwan_default" || res.Stopped == "" {
		t.Errorf("with --ignore ID: %+v\n%s", res, stderr)
	}
	schema, err := os.ReadFile(filepath.Join(strings.TrimPrefix(res.ArtifactURI, "file://"), "model", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(schema), `"ID"`) || !strings.Contains(string(schema), `"categorical"`) {
		t.Errorf("schema with --ignore ID --type EDUCATION=categorical:\n%s", schema)
	}
}
