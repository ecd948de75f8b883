package filestore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlflow"
)

// trainOnce is what one training does to the store: a run in the shared
// experiment, params, a metric history, a dataset, a registered version
// with a tag, the alias moved to it. It returns the run and version.
func trainOnce(ctx context.Context, s *filestore.Store, worker int) (runID, version string, err error) {
	exp, err := s.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "shared"})
	if err != nil {
		return "", "", err
	}
	r, err := s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID, RunName: fmt.Sprintf("w%d", worker)})
	if err != nil {
		return "", "", err
	}
	b := mlflow.Batch{Params: []mlflow.Param{{Key: "worker", Value: strconv.Itoa(worker)}}, Tags: []mlflow.Tag{{Key: "t/nested", Value: "x"}}}
	for i := range 50 {
		b.Metrics = append(b.Metrics, mlflow.Metric{Key: "loss", Value: 1 / float64(i+1), Timestamp: 1700000000000 + int64(i), Step: int64(i)})
	}
	if err := s.LogBatch(ctx, r.Info.RunID, b); err != nil {
		return "", "", err
	}
	in := mlflow.DatasetInput{Dataset: mlflow.Dataset{Name: "german_credit", Digest: "abcd1234", SourceType: "local", Source: `{"uri": "x"}`}}
	if err := s.LogInputs(ctx, r.Info.RunID, []mlflow.DatasetInput{in}); err != nil {
		return "", "", err
	}
	if err := s.LogModel(ctx, r.Info.RunID, []byte(`{"artifact_path": "model"}`)); err != nil {
		return "", "", err
	}
	if _, err := s.GetOrCreateRegisteredModel(ctx, "credit"); err != nil {
		return "", "", err
	}
	mv, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: "credit", Source: r.Info.ArtifactURI + "/model", RunID: r.Info.RunID})
	if err != nil {
		return "", "", err
	}
	if err := s.SetModelVersionTag(ctx, "credit", mv.Version, "worker", strconv.Itoa(worker)); err != nil {
		return "", "", err
	}
	if err := s.SetRegisteredModelAlias(ctx, "credit", "champion", mv.Version); err != nil {
		return "", "", err
	}
	if err := s.TerminateRun(ctx, r.Info.RunID, mlflow.RunFinished); err != nil {
		return "", "", err
	}
	return r.Info.RunID, mv.Version, nil
}

// checkStore verifies a store after n trainings: one shared experiment,
// n intact runs, versions 1..n each pointing at its own run, no
// temporary files left.
func checkStore(t *testing.T, root string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := s.GetExperimentByName(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(root)
	var exps int
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left", e.Name())
		}
		if e.IsDir() && e.Name() != "models" && e.Name() != ".trash" {
			exps++
		}
	}
	if exps != 2 {
		t.Errorf("%d experiment folders, want 2 (Default and shared)", exps)
	}
	var runs []mlflow.Run
	for r, err := range allRuns(ctx, s, exp.ID) {
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	if len(runs) != n {
		t.Fatalf("%d runs, want %d", len(runs), n)
	}
	byRun := map[string]bool{}
	for _, r := range runs {
		byRun[r.Info.RunID] = true
		if r.Info.Status != mlflow.RunFinished || len(r.Inputs.DatasetInputs) != 1 {
			t.Errorf("run %s: %+v, %d inputs", r.Info.RunID, r.Info, len(r.Inputs.DatasetInputs))
		}
		h, err := s.GetMetricHistory(ctx, r.Info.RunID, "loss")
		if err != nil || len(h) != 50 {
			t.Errorf("run %s: %d points, %v", r.Info.RunID, len(h), err)
		}
	}
	ds, _ := os.ReadDir(filepath.Join(root, exp.ID, "datasets"))
	if len(ds) != 1 {
		t.Errorf("%d datasets, want 1", len(ds))
	}
	var nums []int
	seenRun := map[string]bool{}
	for v, err := range s.AllModelVersions(ctx, mlflow.SearchModelVersionsRequest{Filter: "name='credit'"}) {
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(v.Version)
		nums = append(nums, n)
		if !byRun[v.RunID] || seenRun[v.RunID] {
			t.Errorf("version %s: run %s unknown or registered twice", v.Version, v.RunID)
		}
		seenRun[v.RunID] = true
		if w, ok := v.Tag("worker"); !ok || w == "" {
			t.Errorf("version %s lacks its tag", v.Version)
		}
	}
	sort.Ints(nums)
	for i, v := range nums {
		if v != i+1 {
			t.Fatalf("versions %v, want 1..%d", nums, n)
		}
	}
	if len(nums) != n {
		t.Errorf("%d versions, want %d", len(nums), n)
	}
	if _, err := s.GetModelVersionByAlias(ctx, "credit", "champion"); err != nil {
		t.Error(err)
	}
}

func allRuns(ctx context.Context, s *filestore.Store, expID string) func(func(mlflow.Run, error) bool) {
	return func(yield func(mlflow.Run, error) bool) {
		req := mlflow.SearchRunsRequest{ExperimentIDs: []string{expID}}
		for {
			p, err := s.SearchRuns(ctx, req)
			if err != nil {
				yield(mlflow.Run{}, err)
				return
			}
			for _, r := range p.Runs {
				if !yield(r, nil) {
					return
				}
			}
			if p.NextPageToken == "" {
				return
			}
			req.PageToken = p.NextPageToken
		}
	}
}

// TestConcurrentTrainings runs trainings at once, each with its own Store
// on one root (as separate processes would have): the flock, not the
// in-process mutex, keeps them apart. Half share one Store, so both paths
// run.
func TestConcurrentTrainings(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	shared, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range n {
		wg.Go(func() {
			s := shared
			if w%2 == 0 {
				var err error
				if s, err = filestore.Open(root); err != nil {
					errs <- err
					return
				}
			}
			if _, _, err := trainOnce(context.Background(), s, w); err != nil {
				errs <- fmt.Errorf("worker %d: %w", w, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkStore(t, root, n)
}

// TestConcurrentProcesses runs trainings in separate processes (this test
// binary, re-executed) on one root.
func TestConcurrentProcesses(t *testing.T) {
	if root := os.Getenv("FILESTORE_TEST_WRITER_ROOT"); root != "" {
		s, err := filestore.Open(root)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		w, _ := strconv.Atoi(os.Getenv("FILESTORE_TEST_WORKER"))
		for i := range 3 {
			if _, _, err := trainOnce(context.Background(), s, w*10+i); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	root := filepath.Join(t.TempDir(), "mlruns")
	const procs = 4
	var wg sync.WaitGroup
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	for p := range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentProcesses$")
			cmd.Env = append(os.Environ(), "FILESTORE_TEST_WRITER_ROOT="+root, "FILESTORE_TEST_WORKER="+strconv.Itoa(p))
			outs[p], errs[p] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for p := range procs {
		if errs[p] != nil {
			t.Errorf("writer %d: %v\n%s", p, errs[p], outs[p])
		}
	}
	checkStore(t, root, procs*3)
}
