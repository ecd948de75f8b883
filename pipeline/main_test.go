package main

import (
	"bytes"
	"strings"
	"testing"
)

// pipeline runs the command line and returns its exit code and output.
func pipeline(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), append([]string{"pipeline"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"train", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"models", "list", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"predict"}, 2, "--model is required"},
		{[]string{"predict", "--model", "x"}, 2, "--data is required"},
		{[]string{"train", "--model", "xgboost"}, 2, `unknown family "xgboost"`},
		{[]string{"train", "--set", "nokey"}, 2, "want key=value"},
		{[]string{"train", "--output", "yaml"}, 2, "--output"},
		{[]string{"train", "--set", "num_leaves=abc"}, 2, `parameter "num_leaves"`},
		{[]string{"train", "--model", "logistic", "--set", "num_leaves=3"}, 2, `parameter "num_leaves": unknown`},
		{[]string{"train", "--config", "does-not-exist.yaml"}, 2, "does-not-exist.yaml"},
		{[]string{"train", "--data", "does-not-exist.csv", "--label", "y", "--positive", "1", "--out", "/dev/null/x"}, 1, "does-not-exist.csv"},
		{[]string{"predict", "--model", "does-not-exist", "--data", "x.csv"}, 1, "does-not-exist"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", "")
			code, _, stderr := pipeline(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.wantErr)
			}
		})
	}
}
