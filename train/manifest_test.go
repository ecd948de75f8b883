package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

// TestManifestReplay: every run records its split manifest; a run with
// --split-manifest (and another seed, which it must then ignore) trains on
// exactly those rows and writes the same model file, byte for byte, and the
// same manifest. The other seed alone gives another gbdt model, so the
// comparison can fail.
func TestManifestReplay(t *testing.T) {
	for _, family := range []string{model.FamilyGBDT, model.FamilyScorecard} {
		t.Run(family, func(t *testing.T) {
			fam, _ := model.LookupFamily(family)
			run := func(seed int64, manifest string) (modelFile, manifestFile []byte) {
				cfg := DefaultConfig()
				cfg.Model.Family = family
				cfg.Split.Seed, cfg.Split.Manifest = seed, manifest
				if family == model.FamilyGBDT {
					cfg.Model.Params = map[string]string{"num_iterations": "40"} // quick under -race
				}
				res, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				mb, err := os.ReadFile(filepath.Join(res.ModelDir, fam.File))
				if err != nil {
					t.Fatal(err)
				}
				man, err := os.ReadFile(filepath.Join(res.OutDir, tracking.SplitManifestFile))
				if err != nil {
					t.Fatal(err)
				}
				return mb, man
			}
			first, man := run(7, "")
			path := filepath.Join(t.TempDir(), "manifest.json")
			if err := os.WriteFile(path, man, 0o644); err != nil {
				t.Fatal(err)
			}
			again, man2 := run(99, path)
			if !bytes.Equal(first, again) {
				t.Errorf("the replayed run wrote another %s", fam.File)
			}
			if !bytes.Equal(man, man2) {
				t.Errorf("the replayed run recorded another manifest")
			}
			// That the seed matters at all is shown once (runs are slow
			// under -race).
			if family == model.FamilyGBDT {
				if other, _ := run(99, ""); bytes.Equal(first, other) {
					t.Errorf("seed 99 without the manifest gives the same model: the test proves nothing")
				}
			}
		})
	}
}

// A manifest applies to its data only, and a broken one is refused with
// the file named, before any training.
func TestManifestRefused(t *testing.T) {
	tab := testkit.German(t)
	splits, err := tab.Split(data.DefaultFractions(), 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	german := filepath.Join(dir, "german.json")
	if err := data.NewManifest(tab, tab.Digest(), splits).WriteFile(german); err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(dir, "german.csv")
	csv := bytes.Replace(data.DefaultCSV(), []byte(",6,"), []byte(",7,"), 1) // one loan term differs
	if err := os.WriteFile(changed, csv, 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"format_version":1,"train":[1,1]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data, manifest string
		want                 error
	}{
		{"other data", changed, german, data.ErrDigestMismatch},
		{"broken", "", broken, data.ErrManifest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Split.Manifest = tc.manifest
			if tc.data != "" {
				cfg.Data = DataConfig{Path: tc.data, Label: "creditability", Positive: "bad"}
			}
			_, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != "split.manifest" || !bytes.Contains([]byte(err.Error()), []byte(filepath.Base(tc.manifest))) {
				t.Fatalf("error %v: want a split.manifest config error naming %s", err, tc.manifest)
			}
			if tc.name == "other data" && !bytes.Contains([]byte(err.Error()), []byte("digest")) {
				t.Errorf("error %v does not say the digests differ", err)
			}
		})
	}
}

// TestManifestPythonLightGBM: a validator repeats a gbdt run with Python
// LightGBM on the manifest's rows (train, validation for early stopping)
// with the parameters the model file records, and gets the test AUC the
// run logged, to 1e-4.
func TestManifestPythonLightGBM(t *testing.T) {
	py := testkit.Python(t)
	cfg := DefaultConfig()
	res, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	csv := filepath.Join(dir, "german_credit.csv")
	if err := os.WriteFile(csv, data.DefaultCSV(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "lgb.json")
	testkit.RunPython(t, 5*time.Minute, py, nil, filepath.Join("testdata", "manifest_lightgbm.py"),
		csv, filepath.Join(res.OutDir, tracking.SplitManifestFile), res.ModelDir, out)
	var got struct {
		TestAUC       float64 `json:"test_auc"`
		BestIteration int     `json:"best_iteration"`
		LightGBM      string
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := res.Metrics["test_auc"]
	t.Logf("test AUC: run %.6f, Python LightGBM %s %.6f (best iteration %d, ours %d iterations)", want, got.LightGBM, got.TestAUC, got.BestIteration, res.Iterations)
	if math.Abs(got.TestAUC-want) > 1e-4 {
		t.Errorf("Python LightGBM on the manifest's rows: test AUC %.6f, the run logged %.6f", got.TestAUC, want)
	}
}
