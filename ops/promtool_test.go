package ops_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

func promtool(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		testkit.Unavailable(t, "%s is unavailable", "promtool (Debian's prometheus package; scripts/stack up installs it)")
	}
	return bin
}

// TestPromtool checks the committed configuration and rule files as
// Prometheus itself would load them; the config check also loads the rule
// files it names, from the repository root as scripts/stack does.
func TestPromtool(t *testing.T) {
	bin := promtool(t)
	rules, err := filepath.Glob(filepath.Join(root, "configs", "prometheus", "rules", "*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files under configs/prometheus/rules (%v)", err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"config", []string{"check", "config", "prometheus.yml"}, "SUCCESS: 1 rule files found"},
		{"rules", append([]string{"check", "rules"}, rel(rules)...), "SUCCESS"},
		{"rule tests", []string{"test", "rules", "ops/testdata/rules_test.yml"}, "SUCCESS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), bin, tt.args...)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("promtool %s: no %q in\n%s", strings.Join(tt.args, " "), tt.want, out)
			}
		})
	}
}

func rel(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		r, _ := filepath.Rel(root, p)
		out[i] = r
	}
	return out
}
