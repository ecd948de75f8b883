package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/promote"
	"github.com/creditrisk/engine/promote/promotetest"
	"github.com/creditrisk/engine/tracking"
)

// registry runs the command line, as pipeline does.
func registry(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return pipeline(t, args...)
}

func TestRegistryUsage(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"promote"}, "--name is required"},
		{[]string{"promote", "--name", "m"}, "exactly one of --version, --run and --latest"},
		{[]string{"promote", "--name", "m", "--version", "1", "--latest"}, "exactly one"},
		{[]string{"promote", "--name", "m", "--version", "1", "--force"}, "--force needs --reason"},
		{[]string{"promote", "--name", "m", "--version", "1", "--reason", "x"}, "--reason goes with --force"},
		{[]string{"promote", "--name", "m", "--version", "one"}, `version "one" is not a positive integer`},
		{[]string{"promote", "--name", "m", "--version", "1", "--alias", "latest"}, `alias "latest"`},
		{[]string{"promote", "--name", "m", "--version", "1", "--stage", "Prod"}, `stage "Prod"`},
		{[]string{"promote", "--name", "m", "--version", "1", "--policy", "no-such-policy.yaml"}, "no-such-policy.yaml"},
		{[]string{"promote", "--name", "m", "--version", "1", "--data", "no-such.csv"}, "no-such.csv"},
		{[]string{"promote", "--name", "m", "--version", "1", "--output", "yaml"}, "--output"},
		{[]string{"promote", "--name", "m", "--version", "1", "extra"}, "no arguments"},
		{[]string{"promote", "--bogus"}, "flag provided but not defined"},
		{[]string{"rollback"}, "--name is required"},
		{[]string{"rollback", "--name", "m", "--to", "v2"}, `version "v2"`},
		{[]string{"models", "list", "x"}, "no arguments"},
		{[]string{"models", "show"}, "one model NAME"},
		{[]string{"models", "show", "m", "--output", "csv"}, "--output"},
		{[]string{"models", "show", "--output", "csv", "m"}, "--output"},
		{[]string{"models", "show", "m", "--output=csv"}, "--output"},
		{[]string{"models", "show", "a", "b"}, "one model NAME, got 2"},
		{[]string{"models", "list", "--bogus"}, "flag provided but not defined"},
		{[]string{"rollback", "--bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			localTracking(t)
			code, _, stderr := registry(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.wantErr)
			}
		})
	}
}

// TestRegistryCommands drives promote, rollback and models against MLflow
// 3.x and checks the exit codes: 0 promoted, 3 refused by a gate (also as a
// dry run), 1 other failures.
func TestRegistryCommands(t *testing.T) {
	uri := testkit.TrackingURI(t)
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	c, err := tracking.Open(tracking.Config{URI: uri, S3: s3.EnvConfig(os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	name := promotetest.NewModel(t, c)
	v1 := promotetest.Register(t, c, name, "promote-test-runs", promotetest.Strong)
	v2 := promotetest.Register(t, c, name, "promote-test-runs", promotetest.Weak)
	exp := []string{"--experiment", "promote-test-promotions"}

	alias := func() string {
		mv, err := c.GetModelVersionByAlias(context.Background(), name, promote.DefaultAlias)
		if err != nil {
			t.Fatal(err)
		}
		return mv.Version
	}
	must := func(wantCode int, args ...string) string {
		t.Helper()
		code, out, stderr := registry(t, args...)
		if code != wantCode {
			t.Fatalf("pipeline %s: exit %d, want %d\nstdout %s\nstderr %s", strings.Join(args, " "), code, wantCode, out, stderr)
		}
		return out + stderr
	}

	// v1 is logistic regression, which has no python_function flavor:
	// refused, the gate table saying why, until --allow-no-pyfunc.
	out := must(3, append([]string{"promote", "--name", name, "--version", v1}, exp...)...)
	for _, want := range []string{"pyfunc", "no python_function", "--allow-no-pyfunc", "gate(s) pyfunc"} {
		if !strings.Contains(out, want) {
			t.Errorf("refusal of a model without pyfunc lacks %q:\n%s", want, out)
		}
	}
	out = must(0, append([]string{"promote", "--name", name, "--version", v1, "--allow-no-pyfunc"}, exp...)...)
	if !strings.Contains(out, "promoted: "+name+"@champion -> version "+v1) || alias() != v1 || !strings.Contains(out, "allowed by --allow-no-pyfunc") {
		t.Fatalf("first promotion:\n%s", out)
	}
	out = must(3, append([]string{"promote", "--name", name, "--latest"}, exp...)...)
	for _, want := range []string{"GATE", "min_auc", "fail", "THRESHOLD", "MARGIN", "refused", "gate(s) min_auc"} {
		if !strings.Contains(out, want) {
			t.Errorf("refusal output lacks %q:\n%s", want, out)
		}
	}
	out = must(3, append([]string{"promote", "--name", name, "--version", v2, "--dry-run", "--output", "json"}, exp...)...)
	var d promote.Decision
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &d); err != nil || d.Passed || d.Applied || d.Candidate.Version != v2 {
		t.Fatalf("dry-run json: %+v, %v\n%s", d, err, out)
	}
	if alias() != v1 {
		t.Fatal("refused promotion moved the alias")
	}
	must(0, append([]string{"promote", "--name", name, "--version", v2, "--force", "--reason", "CLI test"}, exp...)...)
	if alias() != v2 {
		t.Fatal("forced promotion did not move the alias")
	}
	must(1, append([]string{"promote", "--name", name, "--version", v2}, exp...)...) // already champion
	must(1, append([]string{"promote", "--name", name, "--version", "999"}, exp...)...)

	out = must(0, "rollback", "--name", name, "--output", "json")
	var r promote.RollbackResult
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &r); err != nil || r.From != v2 || r.To != v1 || alias() != v1 {
		t.Fatalf("rollback: %+v, %v\n%s", r, err, out)
	}
	must(1, "rollback", "--name", name) // nothing older than v1

	out = must(0, "models", "list", "--output", "json")
	var ms []promote.ModelSummary
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "]")+1]), &ms); err != nil {
		t.Fatalf("models list json: %v\n%s", err, out)
	}
	found := false
	for _, m := range ms {
		if m.Name == name {
			found = m.Versions == 2 && m.Aliases[promote.DefaultAlias] == v1 && m.LatestVersion == v2
		}
	}
	if !found {
		t.Errorf("models list has no correct entry for %s", name)
	}
	out = must(0, "models", "show", name)
	var md promote.ModelDetail
	if err := json.Unmarshal([]byte(must(0, "models", "show", name, "--output", "json")), &md); err != nil || len(md.Versions) != 2 || md.Versions[0].Version != v2 || md.Versions[1].Aliases[0] != "champion" {
		t.Errorf("models show json: %+v, %v", md, err)
	}
	for _, want := range []string{"VERSION", "@champion", "history @champion: [" + v1 + "]", "(rollback)", "TEST AUC"} {
		if !strings.Contains(out, want) {
			t.Errorf("models show lacks %q:\n%s", want, out)
		}
	}
	must(0, "models", "list")
	must(1, "models", "show", name+"-no-such-model")
}

// TestPromoteStageCLI: stage mode through the command line on MLflow 2.9.2.
func TestPromoteStageCLI(t *testing.T) {
	uri := testkit.TrackingURI2(t)
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	c, err := tracking.Open(tracking.Config{URI: uri, S3: s3.EnvConfig(os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	name := promotetest.NewModel(t, c)
	v1 := promotetest.Register(t, c, name, "promote-test-runs", promotetest.Strong)
	v2 := promotetest.Register(t, c, name, "promote-test-runs", promotetest.Strong)
	for _, v := range []string{v1, v2} {
		code, out, stderr := registry(t, "promote", "--name", name, "--version", v, "--stage", "Production", "--experiment", "promote-test-promotions", "--allow-no-pyfunc")
		if code != 0 {
			t.Fatalf("promote v%s: exit %d\n%s%s", v, code, out, stderr)
		}
	}
	for v, want := range map[string]string{v1: "Archived", v2: "Production"} {
		mv, err := c.GetModelVersion(context.Background(), name, v)
		if err != nil {
			t.Fatal(err)
		}
		if mv.CurrentStage != want {
			t.Errorf("v%s stage %s, want %s", v, mv.CurrentStage, want)
		}
	}
}
