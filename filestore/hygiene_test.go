package filestore_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/train"
)

// TestSweepStaleLeftovers: temporary files and staged folders that a
// killed writer left (at the root, in models/, in a model's folder, in a
// run's folder) are removed when the store is next used, once they are an
// hour old; fresh ones (a writer at work) are kept. They once stayed
// forever.
func TestSweepStaleLeftovers(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "mlruns")
	s, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := s.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "sweep"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOrCreateRegisteredModel(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(root, exp.ID, run.Info.RunID)
	old := time.Now().Add(-2 * time.Hour)
	stale := []string{
		filepath.Join(root, ".tmp-123"),
		filepath.Join(root, "models", ".tmp-deleted-x"),
		filepath.Join(root, "models", "m", ".tmp-version-abc"),
		filepath.Join(runDir, ".tmp-def"),
	}
	fresh := filepath.Join(root, "models", "m", ".tmp-version-now")
	for i, p := range append(stale, fresh) {
		if i%2 == 0 {
			err = os.WriteFile(p, []byte("x"), 0o644)
		} else {
			err = os.MkdirAll(filepath.Join(p, "tags"), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
		if p != fresh {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.Remove(filepath.Join(root, ".swept")) // as if the last sweep were long ago

	again, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.GetExperimentByName(ctx, "sweep"); err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("stale %s survived", p)
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh %s was removed: %v", fresh, err)
	}
	if v, err := again.GetRun(ctx, run.Info.RunID); err != nil || v.Info.RunID != run.Info.RunID {
		t.Errorf("the run itself: %v", err)
	}
}

// TestUmaskRespected: under umask 077 a whole training, registered into
// the store, leaves no file or folder that others can read; under 022 the
// holdout of applicants' rows is still not world-readable. Files were once
// forced to 0644 whatever the umask. (Not parallel: the umask belongs to
// the process.)
func TestUmaskRespected(t *testing.T) {
	for _, umask := range []int{0o077, 0o022} {
		old := syscall.Umask(umask)
		root := filepath.Join(t.TempDir(), "mlruns")
		s, err := filestore.Open(root)
		if err != nil {
			syscall.Umask(old)
			t.Fatal(err)
		}
		cfg := train.DefaultConfig()
		cfg.Model.Params = map[string]string{"num_iterations": "10"}
		cfg.Tracking.Register = "umask"
		out := filepath.Join(t.TempDir(), "run")
		_, err = train.Run(t.Context(), cfg, train.Options{Tracking: s, OutDir: out})
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{root, out} {
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					t.Fatal(err)
				}
				info, err := d.Info()
				if err != nil {
					t.Fatal(err)
				}
				mode := info.Mode().Perm()
				switch {
				case umask == 0o077 && mode&0o077 != 0:
					t.Errorf("umask 077: %s is %v", p, mode)
				case strings.HasSuffix(p, "holdout.csv") && mode&0o004 != 0:
					t.Errorf("umask %03o: %s is world-readable (%v)", umask, p, mode)
				}
				return nil
			})
		}
	}
}
