package promote

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The documented policy file holds exactly the defaults.
func TestPolicyFileIsDefault(t *testing.T) {
	p, err := LoadPolicy(filepath.Join("..", "configs", "promote.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p != DefaultPolicy() {
		t.Errorf("configs/promote.yaml = %+v, DefaultPolicy = %+v", p, DefaultPolicy())
	}
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       func(*Policy)
		wantErr    string
	}{
		{"empty", "", func(*Policy) {}, ""},
		{"comments only", "# nothing\n", func(*Policy) {}, ""},
		{"some keys", "min_auc: 0.8\ngate_psi: true\nauc_margin: -0.01\n", func(p *Policy) { p.MinAUC, p.GatePSI, p.AUCMargin = 0.8, true, -0.01 }, ""},
		{"all keys", "min_auc: 0.6\nmax_brier: 0.2\nmax_ece: 0.05\nauc_margin: 0.01\ndelong_p_value: 0.01\nmax_psi: 0.1\ngate_psi: true\nallow_schema_change: true\nmin_adverse_impact_ratio: 0.8\n",
			func(p *Policy) { *p = Policy{0.6, 0.2, 0.05, 0.01, 0.01, 0.1, true, true, 0.8} }, ""},
		{"adverse impact above one", "min_adverse_impact_ratio: 1.2\n", nil, "min_adverse_impact_ratio: 1.2 is not between 0 and 1"},
		{"unknown key", "min_acu: 0.8\n", nil, "field min_acu not found"},
		{"auc above one", "min_auc: 1.5\n", nil, "min_auc: 1.5 is not between 0 and 1"},
		{"negative brier", "max_brier: -0.1\n", nil, "max_brier"},
		{"p-value", "delong_p_value: 2\n", nil, "delong_p_value"},
		{"margin", "auc_margin: 3\n", nil, "auc_margin"},
		{"psi", "max_psi: -1\n", nil, "max_psi"},
		{"nan", "max_ece: .nan\n", nil, "max_ece"},
		{"not a number", "min_auc: high\n", nil, "cannot unmarshal"},
		{"not a bool", "gate_psi: maybe\n", nil, "cannot unmarshal"},
		{"list", "- 1\n", nil, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy("p.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				var pe *PolicyError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "p.yaml") || !errors.As(err, &pe) {
					t.Fatalf("err = %v, want a PolicyError naming p.yaml and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultPolicy()
			tt.want(&want)
			if p != want {
				t.Errorf("got %+v, want %+v", p, want)
			}
		})
	}
}

func TestLoadPolicyMissing(t *testing.T) {
	_, err := LoadPolicy(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func FuzzParsePolicy(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", "configs", "promote.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(b), "", "min_auc: 2", "gate_psi: [", "max_psi: .inf", "a: b: c", "auc_margin: -1"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy("fuzz.yaml", b)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Errorf("accepted an invalid policy %+v: %v", p, err)
		}
	})
}
