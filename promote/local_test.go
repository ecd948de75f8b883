package promote

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/promote/promotetest"
)

// localStore is a file store in the test's temporary directory with a
// registered model.
func localStore(t *testing.T) (root string, st *filestore.Store, name string) {
	t.Helper()
	root = filepath.Join(t.TempDir(), "mlruns")
	st, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, st, promotetest.NewModel(t, st)
}

func localOpts(t *testing.T, name, version string) Options {
	// The logistic versions of promotetest have no python_function flavor.
	return Options{Name: name, Version: version, Policy: loose(), User: "promote-test", Experiment: "promotions", WorkDir: t.TempDir(), AllowNoPyfunc: true}
}

// TestLocalPromoteRollback: the promotion flow on a local file store —
// gates on the candidate run's holdout, the promotion run with its
// artifacts, tags, history, rollback and the listings.
func TestLocalPromoteRollback(t *testing.T) {
	ctx := context.Background()
	_, st, name := localStore(t)
	reg := func(r promotetest.Recipe) string { return promotetest.Register(t, st, name, "runs", r) }
	v1, v2 := reg(strong), reg(mid)
	if d, err := Promote(ctx, st, localOpts(t, name, v1)); err != nil || !d.Applied {
		t.Fatalf("promote v%s: %+v, %v", v1, d, err)
	}
	d, err := Promote(ctx, st, localOpts(t, name, v2))
	if err != nil {
		t.Fatalf("promote v%s: %v", v2, err)
	}
	if d.Comparison == nil || d.HoldoutRows == 0 || d.Champion == nil || d.Champion.Version != v1 {
		t.Errorf("champion gates not run on the holdout: %+v", d)
	}
	run, err := st.GetRun(ctx, d.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Info.Status != mlflow.RunFinished {
		t.Errorf("promotion run %s", run.Info.Status)
	}
	files, err := st.ListArtifacts(ctx, d.RunID, "")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	if !slices.Contains(paths, DecisionFile) || !slices.Contains(paths, ROCFile) {
		t.Errorf("promotion run artifacts %v", paths)
	}
	mv, err := st.GetModelVersion(ctx, name, v2)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := mv.Tag(TagPreviousChampion); p != v1 {
		t.Errorf("v%s previous_champion %q", v2, p)
	}
	if rid, _ := mv.Tag(TagRunID); rid != d.RunID {
		t.Errorf("v%s promotion_run_id %q, want %s", v2, rid, d.RunID)
	}

	r, err := Rollback(ctx, st, RollbackOptions{Name: name, User: "promote-test", Reason: "test"})
	if err != nil || r.From != v2 || r.To != v1 {
		t.Fatalf("rollback: %+v, %v", r, err)
	}
	if _, err := Rollback(ctx, st, RollbackOptions{Name: name, User: "promote-test"}); !errors.Is(err, ErrNoHistory) {
		t.Errorf("second rollback: %v, want ErrNoHistory", err)
	}
	list, err := List(ctx, st)
	if err != nil || len(list) != 1 || list[0].Versions != 2 || list[0].Aliases[DefaultAlias] != v1 {
		t.Errorf("List: %+v, %v", list, err)
	}
	m, err := Show(ctx, st, name)
	if err != nil || !slices.Equal(m.History[DefaultAlias], []string{v1}) || m.Versions[1].Kind != "rollback" {
		t.Errorf("Show: %+v, %v", m, err)
	}
}

// TestLocalRace: the alias moved by another writer before or after this
// promotion's write is caught on a file store as on a server.
func TestLocalRace(t *testing.T) {
	ctx := context.Background()
	_, st, name := localStore(t)
	reg := func(r promotetest.Recipe) string { return promotetest.Register(t, st, name, "runs", r) }
	v1, v2, v3 := reg(strong), reg(strong), reg(strong)
	if _, err := Promote(ctx, st, localOpts(t, name, v1)); err != nil {
		t.Fatal(err)
	}
	other := func(ctx context.Context) error { return st.SetRegisteredModelAlias(ctx, name, DefaultAlias, v3) }
	for _, step := range []string{"before the write", "after the write"} {
		t.Run(step, func(t *testing.T) {
			if err := st.SetRegisteredModelAlias(ctx, name, DefaultAlias, v1); err != nil {
				t.Fatal(err)
			}
			o := localOpts(t, name, v2)
			if step == "before the write" {
				o.beforeWrite = other
			} else {
				o.afterWrite = other
			}
			d, err := Promote(ctx, st, o)
			var re *RaceError
			if !errors.As(err, &re) || re.Step != step || re.Actual != v3 {
				t.Fatalf("err = %v, want a race %s seeing v%s", err, step, v3)
			}
			run, err := st.GetRun(ctx, d.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if run.Info.Status != mlflow.RunFailed {
				t.Errorf("promotion run of a raced promotion is %s", run.Info.Status)
			}
		})
	}
}

// TestLocalConcurrentPromotions: two promotions from the same champion at
// once, each through its own handle on the store as two processes would
// be. A promotion that succeeded holds the alias, a failed one failed as a
// race, and the store stays readable.
func TestLocalConcurrentPromotions(t *testing.T) {
	ctx := context.Background()
	root, st, name := localStore(t)
	reg := func(r promotetest.Recipe) string { return promotetest.Register(t, st, name, "runs", r) }
	v1, v2, v3 := reg(strong), reg(strong), reg(mid)
	if _, err := Promote(ctx, st, localOpts(t, name, v1)); err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, v := range []string{v2, v3} {
		other, err := filestore.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		o := localOpts(t, name, v)
		wg.Go(func() {
			_, err := Promote(ctx, other, o)
			mu.Lock()
			errs[v] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	cur, err := aliasVersion(ctx, st, name, DefaultAlias)
	if err != nil {
		t.Fatal(err)
	}
	final := versionOf(cur)
	if final != v2 && final != v3 {
		t.Fatalf("alias ends on v%s; results %v", final, errs)
	}
	// A promotion that reported success holds the alias: none was undone
	// silently. Both may fail as races (each saw the other's write), which
	// leaves the alias for a person to check.
	for v, err := range errs {
		if err == nil && v != final {
			t.Errorf("v%s was promoted but the alias ends on v%s", v, final)
		}
		if err != nil && !errors.Is(err, ErrRaced) {
			t.Errorf("v%s: %v, want nil or ErrRaced", v, err)
		}
	}
	if _, err := Show(ctx, st, name); err != nil {
		t.Errorf("store after concurrent promotions: %v", err)
	}
	t.Logf("final @%s = v%s; results %v", DefaultAlias, final, errs)
}
