package mlsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/mlsync"
	"github.com/creditrisk/engine/tracking"
	"github.com/creditrisk/engine/train"
)

// local is a store with two real trainings registered as versions 1 and 2
// of model, and alias champion on version 1.
type local struct {
	store      *filestore.Store
	experiment string
	model      string
	runs       []string // local run ids, in training order
}

func newLocal(t *testing.T, ctx context.Context) *local {
	t.Helper()
	s, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())
	l := &local{store: s, experiment: "sync-test-" + suffix, model: "sync-model-" + suffix}
	for i := range 2 {
		cfg := train.DefaultConfig()
		cfg.Tracking.Experiment = l.experiment
		cfg.Tracking.Register = l.model
		res, err := train.Run(ctx, cfg, train.Options{Tracking: s, OutDir: filepath.Join(t.TempDir(), "run")})
		if err != nil {
			t.Fatal(err)
		}
		if res.Registered == nil || res.Registered.Version != fmt.Sprint(i+1) {
			t.Fatalf("training %d registered %+v", i, res.Registered)
		}
		l.runs = append(l.runs, res.RunID)
	}
	if err := s.SetRegisteredModelAlias(ctx, l.model, "champion", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TransitionModelVersionStage(ctx, l.model, "2", "Staging", false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegisteredModelTag(ctx, l.model, "owner", "risk-team"); err != nil {
		t.Fatal(err)
	}
	return l
}

// count is what the server holds for a test: runs, versions and metric
// points in all histories.
type count struct{ runs, versions, points, artifacts int }

func serverCount(t *testing.T, ctx context.Context, c *mlflow.Client, l *local) count {
	t.Helper()
	exp, err := c.GetExperimentByName(ctx, l.experiment)
	if err != nil {
		t.Fatal(err)
	}
	var n count
	for r, err := range c.AllRuns(ctx, mlflow.SearchRunsRequest{ExperimentIDs: []string{exp.ID}}) {
		if err != nil {
			t.Fatal(err)
		}
		n.runs++
		for _, m := range r.Data.Metrics {
			h, err := c.GetMetricHistory(ctx, r.Info.RunID, m.Key)
			if err != nil {
				t.Fatal(err)
			}
			n.points += len(h)
		}
		fis, err := c.ListArtifacts(ctx, r.Info.RunID, "")
		if err != nil {
			t.Fatal(err)
		}
		n.artifacts += len(fis)
	}
	for _, err := range c.AllModelVersions(ctx, mlflow.SearchModelVersionsRequest{Filter: fmt.Sprintf("name='%s'", l.model)}) {
		if err != nil {
			t.Fatal(err)
		}
		n.versions++
	}
	return n
}

func TestSyncToServers(t *testing.T) {
	ctx := context.Background()
	for _, srv := range testkit.Servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			l := newLocal(t, ctx)
			c, err := mlflow.NewClient(srv.URI)
			if err != nil {
				t.Fatal(err)
			}
			dry, err := mlsync.Sync(ctx, l.store, server(c), mlsync.Options{DryRun: true})
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if dry.Totals.RunsCopied != 2 || dry.Totals.VersionsCopied != 2 || dry.Totals.AliasesSet != 1 || dry.MappingFile != "" {
				t.Errorf("dry run totals %+v", dry.Totals)
			}
			if _, err := c.GetExperimentByName(ctx, l.experiment); !errors.Is(err, mlflow.ErrNotFound) {
				t.Fatalf("dry run created the experiment: %v", err)
			}

			start := time.Now()
			rep, err := mlsync.Sync(ctx, l.store, server(c), mlsync.Options{})
			if err != nil {
				t.Fatal(err)
			}
			first := time.Since(start)
			if rep.Totals.RunsCopied != 2 || rep.Totals.VersionsCopied != 2 || rep.Totals.AliasesSet != 1 || rep.Totals.RunsSkipped != 0 {
				t.Fatalf("first sync totals %+v", rep.Totals)
			}
			if rep.Totals != dry.Totals {
				t.Errorf("dry run promised %+v, sync did %+v", dry.Totals, rep.Totals)
			}
			var text strings.Builder
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("first sync:\n%s", text.String())
			checkRuns(t, ctx, c, l, rep)
			checkRegistry(t, ctx, c, l, rep)
			before := serverCount(t, ctx, c, l)
			if before.runs != 2 || before.versions != 2 || before.points != rep.Totals.MetricPoints {
				t.Errorf("server holds %+v after the first sync; report %+v", before, rep.Totals)
			}

			start = time.Now()
			again, err := mlsync.Sync(ctx, l.store, server(c), mlsync.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("first sync %v, second (nothing to do) %v", first.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			want := mlsync.Totals{RunsSkipped: 2, VersionsSkipped: 2, AliasesSkipped: 1}
			if again.Totals != want {
				t.Errorf("second sync totals %+v, want %+v", again.Totals, want)
			}
			if after := serverCount(t, ctx, c, l); after != before {
				t.Errorf("second sync changed the server: %+v, was %+v", after, before)
			}
			if _, err := os.Stat(rep.MappingFile); err != nil {
				t.Errorf("mapping file: %v", err)
			}

			// Without the mapping file, the server's tags still say what is there.
			if err := os.Remove(rep.MappingFile); err != nil {
				t.Fatal(err)
			}
			third, err := mlsync.Sync(ctx, l.store, server(c), mlsync.Options{})
			if err != nil || third.Totals != want {
				t.Errorf("sync without mapping file: %+v, %v", third.Totals, err)
			}

			py, load := testkit.Python(t), "1"
			if srv.Name != "3.x" {
				py, load = testkit.Python2(t), "0"
			}
			checkPython(t, py, srv.URI, l, rep, load, srv.Name == "3.x")
		})
	}
}

func remoteOf(t *testing.T, rep *mlsync.Report, local string) string {
	t.Helper()
	for _, r := range rep.Runs {
		if r.LocalID == local {
			return r.RemoteID
		}
	}
	t.Fatalf("run %s not in report", local)
	return ""
}

func checkRuns(t *testing.T, ctx context.Context, c *mlflow.Client, l *local, rep *mlsync.Report) {
	t.Helper()
	for _, id := range l.runs {
		lr, err := l.store.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		rid := remoteOf(t, rep, id)
		rr, err := c.GetRun(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if rr.Info.Status != lr.Info.Status || rr.Info.StartTime != lr.Info.StartTime || rr.Info.EndTime != lr.Info.EndTime || rr.Info.RunName != lr.Info.RunName {
			t.Errorf("run %s info %+v, local %+v", id, rr.Info, lr.Info)
		}
		for _, p := range lr.Data.Params {
			if v, ok := rr.Param(p.Key); !ok || v != p.Value {
				t.Errorf("run %s param %s = %q, local %q", id, p.Key, v, p.Value)
			}
		}
		for _, tg := range lr.Data.Tags {
			v, ok := rr.Tag(tg.Key)
			if tg.Key == "mlflow.log-model.history" {
				tg.Value = strings.ReplaceAll(tg.Value, id, rid)
			}
			if !ok || v != tg.Value {
				t.Errorf("run %s tag %s = %q, local %q", id, tg.Key, v, tg.Value)
			}
		}
		if v, _ := rr.Tag(mlsync.TagSourceRun); v != id {
			t.Errorf("run %s source tag %q", id, v)
		}
		for _, m := range lr.Data.Metrics {
			lh, err := l.store.GetMetricHistory(ctx, id, m.Key)
			if err != nil {
				t.Fatal(err)
			}
			rh, err := c.GetMetricHistory(ctx, rid, m.Key)
			if err != nil {
				t.Fatal(err)
			}
			if len(lh) != len(rh) {
				t.Errorf("run %s metric %s: %d points, local %d", id, m.Key, len(rh), len(lh))
				continue
			}
			key := func(a mlflow.Metric) string { return fmt.Sprint(a.Step, a.Timestamp, a.Value) }
			lk, rk := make([]string, len(lh)), make([]string, len(rh))
			for i := range lh {
				lk[i], rk[i] = key(lh[i]), key(rh[i])
			}
			slices.Sort(lk)
			slices.Sort(rk)
			if !slices.Equal(lk, rk) {
				t.Errorf("run %s metric %s differs", id, m.Key)
			}
		}
		inputs := func(r *mlflow.Run) []string {
			var out []string
			for _, in := range r.Inputs.DatasetInputs {
				out = append(out, in.Dataset.Name+"/"+in.Dataset.Digest)
			}
			slices.Sort(out)
			return out
		}
		if li, ri := inputs(lr), inputs(rr); len(li) == 0 || !slices.Equal(li, ri) {
			t.Errorf("run %s inputs %v, local %v", id, ri, li)
		}
		// The local run made a logged model (the local store has MLflow 3's
		// layout): a 3.x server gets a logged model of its own, linked as
		// the run's output, with the same files, params and metrics; 2.9.2
		// gets the files under the run's model/, as MLflow 2.x writes.
		if len(lr.Outputs.ModelOutputs) != 1 {
			t.Fatalf("local run %s outputs %+v, want its logged model", id, lr.Outputs.ModelOutputs)
		}
		llm, err := l.store.GetLoggedModel(ctx, lr.Outputs.ModelOutputs[0].ModelID)
		if err != nil {
			t.Fatal(err)
		}
		want := artifactFiles(t, ctx, l.store, llm.Info.ArtifactURI)
		if len(want) == 0 {
			t.Fatalf("local logged model %s has no files", llm.Info.ModelID)
		}
		lm, err := c.SupportsLoggedModels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !lm {
			rf := artifactFiles(t, ctx, server(c), rr.Info.ArtifactURI+"/"+llm.Info.Name)
			if !maps.Equal(want, rf) {
				t.Errorf("run %s files under %s/: %v, local logged model %v", id, llm.Info.Name, rf, want)
			}
			continue
		}
		if len(rr.Outputs.ModelOutputs) != 1 {
			t.Fatalf("server run %s outputs %+v, want one logged model", rid, rr.Outputs.ModelOutputs)
		}
		rlm, err := c.GetLoggedModel(ctx, rr.Outputs.ModelOutputs[0].ModelID)
		if err != nil {
			t.Fatal(err)
		}
		// MLflow keeps no order of a logged model's params (the server
		// answers in its database's order): they compare as sets.
		byKey := func(ps []mlflow.Param) []mlflow.Param {
			return slices.SortedFunc(slices.Values(ps), func(a, b mlflow.Param) int { return strings.Compare(a.Key, b.Key) })
		}
		if src, _ := rlm.Tag(mlsync.TagSourceModel); src != llm.Info.ModelID || rlm.Info.Status != llm.Info.Status ||
			rlm.Info.Name != llm.Info.Name || rlm.Info.SourceRunID != rid {
			t.Errorf("server logged model %+v, local %+v", rlm.Info, llm.Info)
		}
		if rp, lp := byKey(rlm.Data.Params), byKey(llm.Data.Params); !slices.Equal(rp, lp) {
			t.Errorf("server logged model params %v, local %v", rp, lp)
		}
		metric := func(ms []mlflow.Metric) []string {
			var out []string
			for _, m := range ms {
				out = append(out, fmt.Sprint(m.Key, m.Value, m.Step, m.Timestamp, m.DatasetName, m.DatasetDigest))
			}
			slices.Sort(out)
			return out
		}
		if lmm, rmm := metric(llm.Data.Metrics), metric(rlm.Data.Metrics); len(lmm) == 0 || !slices.Equal(lmm, rmm) {
			t.Errorf("server logged model metrics %v, local %v", rmm, lmm)
		}
		if rf := artifactFiles(t, ctx, server(c), rlm.Info.ArtifactURI); !maps.Equal(want, rf) {
			t.Errorf("server logged model files %v, local %v", rf, want)
		}
	}
}

// artifactFiles lists the files below an artifact URI with their sizes.
func artifactFiles(t *testing.T, ctx context.Context, b tracking.Backend, uri string) map[string]int64 {
	t.Helper()
	store, err := b.Artifacts(uri)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	var walk func(dir string)
	walk = func(dir string) {
		fis, err := store.List(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, fi := range fis {
			if fi.IsDir {
				walk(fi.Path)
			} else {
				out[fi.Path] = fi.Size
			}
		}
	}
	walk("")
	return out
}

func checkRegistry(t *testing.T, ctx context.Context, c *mlflow.Client, l *local, rep *mlsync.Report) {
	t.Helper()
	for i, id := range l.runs {
		lv, err := l.store.GetModelVersion(ctx, l.model, fmt.Sprint(i+1))
		if err != nil {
			t.Fatal(err)
		}
		var rv *mlflow.ModelVersion
		for _, v := range rep.Versions {
			if v.LocalVersion == lv.Version {
				rv, err = c.GetModelVersion(ctx, l.model, v.RemoteVersion)
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if rv == nil {
			t.Fatalf("version %s not in report", lv.Version)
		}
		rid := remoteOf(t, rep, id)
		// Made from the local run's logged model: from the server's copy
		// on 3.x, from the run's model/ on 2.9.2.
		src, err := c.RunArtifactURI(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		src += "/model"
		rr, err := c.GetRun(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if outs := rr.Outputs.ModelOutputs; len(outs) == 1 {
			src = "models:/" + outs[0].ModelID
		}
		if !strings.HasPrefix(lv.Source, "models:/") || rv.RunID != rid || rv.Source != src || rv.Status != mlflow.StatusReady {
			t.Errorf("version %s (local source %s): run %s source %s status %s; want run %s source %s", lv.Version, lv.Source, rv.RunID, rv.Source, rv.Status, rid, src)
		}
		tags := map[string]string{}
		for _, tg := range rv.Tags {
			tags[tg.Key] = tg.Value
		}
		for _, tg := range lv.Tags {
			if tags[tg.Key] != tg.Value {
				t.Errorf("version %s tag %s = %q, local %q", lv.Version, tg.Key, tags[tg.Key], tg.Value)
			}
		}
		if rv.CurrentStage != lv.CurrentStage {
			t.Errorf("version %s stage %q, local %q", lv.Version, rv.CurrentStage, lv.CurrentStage)
		}
		if tags[mlsync.TagSourceVersion] != lv.Version {
			t.Errorf("version %s source version tag %q", lv.Version, tags[mlsync.TagSourceVersion])
		}
	}
	rm, err := c.GetRegisteredModel(ctx, l.model)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := rm.Tag("owner"); v != "risk-team" {
		t.Errorf("model tag owner = %q", v)
	}
	mv, err := c.GetModelVersionByAlias(ctx, l.model, "champion")
	if err != nil {
		t.Fatal(err)
	}
	if mv.RunID != remoteOf(t, rep, l.runs[0]) {
		t.Errorf("champion is version %s of run %s; want the first run %s", mv.Version, mv.RunID, remoteOf(t, rep, l.runs[0]))
	}
}

// checkPython reads the server with MLflow's client; logged says the
// server has logged models, so the runs hold no model/ of their own.
func checkPython(t *testing.T, py, uri string, l *local, rep *mlsync.Report, load string, logged bool) {
	t.Helper()
	cmd := exec.Command(py, filepath.Join("testdata", "read_synced.py"), l.experiment, l.model, "champion", load)
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+uri)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("read_synced.py: %v\n%s", err, stderr.String())
	}
	var got struct {
		Runs []struct {
			RunID          string   `json:"run_id"`
			SourceRunID    string   `json:"source_run_id"`
			Status         string   `json:"status"`
			Params         int      `json:"params"`
			Inputs         int      `json:"inputs"`
			Artifacts      []string `json:"artifacts"`
			TrainAUCPoints int      `json:"train_auc_points"`
		} `json:"runs"`
		Versions []struct {
			Version       string `json:"version"`
			RunID         string `json:"run_id"`
			SourceVersion string `json:"source_version"`
		} `json:"versions"`
		AliasVersion string `json:"alias_version"`
		Scored       int    `json:"scored"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if len(got.Runs) != 2 || len(got.Versions) != 2 {
		t.Fatalf("Python saw %d runs and %d versions, want 2 and 2: %s", len(got.Runs), len(got.Versions), b)
	}
	for _, r := range got.Runs {
		// Inputs: the training data and the test split (eval).
		if remoteOf(t, rep, r.SourceRunID) != r.RunID || r.Status != "FINISHED" || r.Params == 0 || r.Inputs != 2 ||
			slices.Contains(r.Artifacts, "model") == logged || r.TrainAUCPoints < 2 {
			t.Errorf("Python saw run %+v", r)
		}
	}
	for _, v := range got.Versions {
		if v.SourceVersion == "1" && v.Version != got.AliasVersion {
			t.Errorf("alias on %s, local version 1 is %s", got.AliasVersion, v.Version)
		}
	}
	if load == "1" && got.Scored != 3 {
		t.Errorf("model loaded by alias scored %d rows, want 3", got.Scored)
	}
}

// server is the tracking backend of the server c talks to.
func server(c *mlflow.Client) tracking.Backend {
	return tracking.NewServer(c, s3.EnvConfig(os.Getenv))
}
