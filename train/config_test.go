package train

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string // substring; empty: no error
		check   func(t *testing.T, c Config)
	}{
		{name: "empty file keeps defaults", yaml: "# nothing\n", check: func(t *testing.T, c Config) {
			if c.Model.Family != "gbdt" || c.Split.Seed != 42 || c.Evaluation.Cutoff != 0.5 {
				t.Errorf("defaults lost: %+v", c)
			}
		}},
		{name: "values", yaml: "model:\n  family: logistic\n  params:\n    l2: 0.5\nsplit:\n  seed: 7\n  validation: 0.1\n  test: 0.3\n", check: func(t *testing.T, c Config) {
			if c.Model.Family != "logistic" || c.Model.Params["l2"] != "0.5" || c.Split.Seed != 7 || c.Split.Test != 0.3 {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "unknown key", yaml: "modle:\n  family: gbdt\n", wantErr: "field modle not found"},
		{name: "unknown family", yaml: "model:\n  family: xgboost\n", wantErr: "model.family: unknown family \"xgboost\""},
		{name: "split leaves nothing", yaml: "split:\n  validation: 0.5\n  test: 0.5\n", wantErr: "split:"},
		{name: "cutoff", yaml: "evaluation:\n  cutoff: 1.5\n", wantErr: "evaluation.cutoff: 1.5 is not a probability"},
		{name: "data file without label", yaml: "data:\n  path: x.csv\n", wantErr: "data.path: a data file needs its label column"},
		{name: "bad yaml", yaml: "model: [\n", wantErr: "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "train.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfig(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// The documented config must load as it is committed.
func TestCommittedConfigs(t *testing.T) {
	files, err := filepath.Glob("../configs/train*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("configs: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := LoadConfig(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSet(t *testing.T) {
	c := DefaultConfig()
	if err := c.Set("num_leaves = 7"); err != nil {
		t.Fatal(err)
	}
	if c.Model.Params["num_leaves"] != "7" {
		t.Errorf("params = %v", c.Model.Params)
	}
	var ce *ConfigError
	if err := c.Set("num_leaves"); !errors.As(err, &ce) || !strings.Contains(err.Error(), "want key=value") {
		t.Errorf("Set without '=': %v", err)
	}
}

func TestFamilyDefaults(t *testing.T) {
	c := DefaultConfig()
	if got := c.withFamilyDefaults()["num_iterations"]; got != "500" {
		t.Errorf("default num_iterations = %q", got)
	}
	// An alias set by the user wins over the default's canonical key.
	_ = c.Set("n_estimators=20")
	p := c.withFamilyDefaults()
	if _, ok := p["num_iterations"]; ok || p["n_estimators"] != "20" {
		t.Errorf("alias overridden by default: %v", p)
	}
	c.Model.Family = "logistic"
	c.Model.Params = nil
	if p := c.withFamilyDefaults(); len(p) != 0 {
		t.Errorf("gbdt defaults leak into logistic: %v", p)
	}
}
