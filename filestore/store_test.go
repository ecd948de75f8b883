package filestore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlflow"
)

func open(t testing.TB) (*filestore.Store, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "mlruns")
	s, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	s, root := open(t)
	// Nothing is written before the store is used.
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("Open made %s before any use: %v", root, err)
	}
	e, err := s.GetExperiment(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "Default" || e.ArtifactLocation != "file://"+root+"/0" || e.LifecycleStage != "active" {
		t.Errorf("default experiment %+v", e)
	}
	if s.TrackingURI() != "file://"+root {
		t.Errorf("TrackingURI %s", s.TrackingURI())
	}
	for _, d := range []string{".trash", "models"} {
		if fi, err := os.Stat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
	// Reopening, also as a file: URI, keeps the one Default experiment.
	s2, err := filestore.Open("file:" + root)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Root() != root {
		t.Errorf("root %s, want %s", s2.Root(), root)
	}
	ents, _ := os.ReadDir(root)
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if strings.Join(dirs, ",") != ".trash,0,models" {
		t.Errorf("root folders %v", dirs)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := filestore.Open(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open(file) = %v", err)
	}
	if _, err := filestore.Open("file://otherhost/x"); err == nil {
		t.Error("Open(file://otherhost/x) succeeded")
	}
}

func TestExperiments(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	a, err := s.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "credit"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.ID) != 18 {
		t.Errorf("experiment id %q: want 18 digits like MLflow", a.ID)
	}
	b, err := s.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "credit"})
	if err != nil || b.ID != a.ID {
		t.Errorf("second GetOrCreate = %v, %v; want %s", b, err, a.ID)
	}
	if _, err := s.CreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "credit"}); !errors.Is(err, mlflow.ErrAlreadyExists) {
		t.Errorf("CreateExperiment(taken) = %v", err)
	}
	if _, err := s.GetExperimentByName(ctx, "nope"); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("GetExperimentByName(nope) = %v", err)
	}
	for _, id := range []string{"../x", "123"} {
		if _, err := s.GetExperiment(ctx, id); err == nil {
			t.Errorf("GetExperiment(%q) succeeded", id)
		}
	}
	if _, err := s.CreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: ""}); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("CreateExperiment(\"\") = %v", err)
	}
}

func TestRunLifecycle(t *testing.T) {
	ctx := context.Background()
	s, root := open(t)
	r, err := s.CreateRun(ctx, mlflow.CreateRunRequest{}) // Default experiment, made-up name
	if err != nil {
		t.Fatal(err)
	}
	id := r.Info.RunID
	if len(id) != 32 || r.Info.ExperimentID != "0" || r.Info.Status != mlflow.RunRunning || r.Info.RunName == "" || r.Info.UserID != "unknown" {
		t.Errorf("new run %+v", r.Info)
	}
	if name, _ := r.Tag(mlflow.TagRunName); name != r.Info.RunName {
		t.Errorf("runName tag %q, run name %q", name, r.Info.RunName)
	}
	if r.Info.ArtifactURI != "file://"+root+"/0/"+id+"/artifacts" {
		t.Errorf("artifact uri %s", r.Info.ArtifactURI)
	}
	for _, d := range []string{"metrics", "params", "artifacts", "tags"} {
		if _, err := os.Stat(filepath.Join(root, "0", id, d)); err != nil {
			t.Error(err)
		}
	}
	if err := s.LogBatch(ctx, id, mlflow.Batch{Params: []mlflow.Param{{Key: "lr", Value: "0.1"}}}); err != nil {
		t.Fatal(err)
	}
	// Same value again is fine, another is refused and leaves the first.
	if err := s.LogBatch(ctx, id, mlflow.Batch{Params: []mlflow.Param{{Key: "lr", Value: "0.1"}}}); err != nil {
		t.Errorf("same param again: %v", err)
	}
	if err := s.LogBatch(ctx, id, mlflow.Batch{Params: []mlflow.Param{{Key: "lr", Value: "0.2"}}}); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("changed param: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "0", id, "params", "lr"))
	if string(b) != "0.1" {
		t.Errorf("params/lr = %q", b)
	}
	// Renaming through the tag changes meta.yaml too.
	if err := s.SetTag(ctx, id, mlflow.TagRunName, "renamed"); err != nil {
		t.Fatal(err)
	}
	if err := s.LogBatch(ctx, id, mlflow.Batch{Metrics: []mlflow.Metric{{Key: "m", Value: 1}, {Key: "m", Value: 2, Step: 1}}}); err != nil {
		t.Fatal(err)
	}
	h, err := s.GetMetricHistory(ctx, id, "m")
	if err != nil || len(h) != 2 || h[0].Timestamp == 0 || h[1].Value != 2 {
		t.Errorf("history %+v, %v", h, err)
	}
	if h, err := s.GetMetricHistory(ctx, id, "never"); err != nil || len(h) != 0 {
		t.Errorf("history of an unlogged metric: %+v, %v", h, err)
	}
	if err := s.TerminateRun(ctx, id, mlflow.RunFailed); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Info.RunName != "renamed" || got.Info.Status != mlflow.RunFailed || got.Info.EndTime < got.Info.StartTime {
		t.Errorf("ended run %+v", got.Info)
	}
	meta, _ := os.ReadFile(filepath.Join(root, "0", id, "meta.yaml"))
	for _, line := range []string{"status: 4\n", "run_name: renamed\n", "run_uuid: \"?" + id + "\"?\n", "lifecycle_stage: active\n", `tags: \[\]\n`, "source_type: 4\n"} {
		if !regexp.MustCompile("(?m)^" + line).Match(meta) {
			t.Errorf("meta.yaml lacks %q:\n%s", line, meta)
		}
	}
	if _, err := s.GetRun(ctx, strings.Repeat("0", 32)); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("GetRun(unknown) = %v", err)
	}
	page, err := s.SearchRuns(ctx, mlflow.SearchRunsRequest{ExperimentIDs: []string{"0"}})
	if err != nil || len(page.Runs) != 1 || page.Runs[0].Info.RunID != id {
		t.Errorf("SearchRuns = %+v, %v", page, err)
	}
	if _, err := s.SearchRuns(ctx, mlflow.SearchRunsRequest{ExperimentIDs: []string{"0"}, Filter: "metrics.m > 1"}); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("SearchRuns with a filter = %v; want a refusal", err)
	}
}

func TestSearchRunsPages(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	want := map[string]bool{}
	for range 5 {
		r, err := s.CreateRun(ctx, mlflow.CreateRunRequest{})
		if err != nil {
			t.Fatal(err)
		}
		want[r.Info.RunID] = true
	}
	seen := map[string]bool{}
	req := mlflow.SearchRunsRequest{ExperimentIDs: []string{"0"}, MaxResults: 2}
	for pages := 0; ; pages++ {
		p, err := s.SearchRuns(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Runs {
			if seen[r.Info.RunID] {
				t.Errorf("run %s on two pages", r.Info.RunID)
			}
			seen[r.Info.RunID] = true
		}
		if p.NextPageToken == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		req.PageToken = p.NextPageToken
	}
	if len(seen) != len(want) {
		t.Errorf("saw %d runs, want %d", len(seen), len(want))
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	r, err := s.CreateRun(ctx, mlflow.CreateRunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	id := r.Info.RunID
	for _, key := range []string{"", "../escape", "/abs", "a//b", "a/", "a/./b", "bad*char", strings.Repeat("k", 251)} {
		for name, b := range map[string]mlflow.Batch{
			"param":  {Params: []mlflow.Param{{Key: key, Value: "v"}}},
			"metric": {Metrics: []mlflow.Metric{{Key: key, Value: 1}}},
			"tag":    {Tags: []mlflow.Tag{{Key: key, Value: "v"}}},
		} {
			if err := s.LogBatch(ctx, id, b); !errors.Is(err, mlflow.ErrInvalidParameter) {
				t.Errorf("%s key %q: %v", name, key, err)
			}
		}
	}
	if err := s.LogBatch(ctx, id, mlflow.Batch{Params: []mlflow.Param{{Key: "p", Value: strings.Repeat("v", 6001)}}}); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("long param: %v", err)
	}
	if err := s.LogBatch(ctx, "../../etc", mlflow.Batch{}); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("run id ../../etc: %v", err)
	}
	if err := s.TerminateRun(ctx, id, "DONE"); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("status DONE: %v", err)
	}
	if err := s.LogModel(ctx, id, []byte("{")); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("LogModel(bad JSON): %v", err)
	}
	for _, name := range []string{"", "a/b", `a\b`, "..", ".hidden"} {
		if _, err := s.GetOrCreateRegisteredModel(ctx, name); !errors.Is(err, mlflow.ErrInvalidParameter) {
			t.Errorf("model name %q: %v", name, err)
		}
	}
	if _, err := s.GetOrCreateRegisteredModel(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: "m"}); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("empty source: %v", err)
	}
	if _, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: "absent", Source: "file:///x"}); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("version of a missing model: %v", err)
	}
	for _, v := range []string{"0", "abc", "../1", "-1"} {
		if _, err := s.GetModelVersion(ctx, "m", v); !errors.Is(err, mlflow.ErrInvalidParameter) {
			t.Errorf("version %q: %v", v, err)
		}
	}
	if _, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: "m", Source: "file:///x"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"latest", "v1", "V12", "a/b", "", "sp ace"} {
		if err := s.SetRegisteredModelAlias(ctx, "m", a, "1"); !errors.Is(err, mlflow.ErrInvalidParameter) {
			t.Errorf("alias %q: %v", a, err)
		}
	}
	if err := s.SetRegisteredModelAlias(ctx, "m", "prod", "9"); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("alias to a missing version: %v", err)
	}
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	s, root := open(t)
	const name = "credit"
	if _, err := s.GetRegisteredModel(ctx, name); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("GetRegisteredModel before create = %v", err)
	}
	rm, err := s.GetOrCreateRegisteredModel(ctx, name)
	if err != nil || rm.Name != name || rm.CreationTimestamp == 0 {
		t.Fatalf("%+v, %v", rm, err)
	}
	var vs []string
	for range 3 {
		mv, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name, Source: "file:///m", RunID: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		if mv.Status != "READY" || mv.CurrentStage != "None" {
			t.Errorf("new version %+v", mv)
		}
		vs = append(vs, mv.Version)
	}
	if strings.Join(vs, ",") != "1,2,3" {
		t.Errorf("versions %v", vs)
	}
	if err := s.SetRegisteredModelAlias(ctx, name, "champion", "3"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegisteredModelAlias(ctx, name, "challenger", "2"); err != nil {
		t.Fatal(err)
	}
	// Moving an alias.
	if err := s.SetRegisteredModelAlias(ctx, name, "challenger", "1"); err != nil {
		t.Fatal(err)
	}
	mv, err := s.GetModelVersionByAlias(ctx, name, "challenger")
	if err != nil || mv.Version != "1" || strings.Join(mv.Aliases, ",") != "challenger" {
		t.Errorf("challenger = %+v, %v", mv, err)
	}
	// Deleting version 3 drops its alias; its number is never reused.
	if err := s.DeleteModelVersion(ctx, name, "3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetModelVersion(ctx, name, "3"); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("deleted version: %v", err)
	}
	_, err = s.GetModelVersionByAlias(ctx, name, "champion")
	var anf *mlflow.AliasNotFoundError
	if !errors.As(err, &anf) || !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("alias of a deleted version: %v", err)
	}
	if err := s.DeleteModelVersion(ctx, name, "3"); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	mv, err = s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name, Source: "file:///m", RunID: "r2"})
	if err != nil || mv.Version != "4" {
		t.Errorf("version after a delete = %+v, %v; want 4", mv, err)
	}
	if err := s.DeleteRegisteredModelAlias(ctx, name, "challenger"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRegisteredModelAlias(ctx, name, "challenger"); err != nil {
		t.Errorf("deleting a missing alias: %v", err)
	}
	rm, err = s.GetRegisteredModel(ctx, name)
	if err != nil || len(rm.Aliases) != 0 || len(rm.LatestVersions) != 1 || rm.LatestVersions[0].Version != "4" || rm.LastUpdatedTimestamp < rm.CreationTimestamp {
		t.Errorf("model %+v, %v", rm, err)
	}
	meta, _ := os.ReadFile(filepath.Join(root, "models", name, "meta.yaml"))
	if !strings.Contains(string(meta), "aliases: {}\n") {
		t.Errorf("model meta.yaml keeps stale aliases:\n%s", meta)
	}
	if err := s.SetModelVersionTag(ctx, name, "2", "k", "v"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filter string
		want   string
	}{
		{"name='credit'", "4,2,1"},
		{"name='credit' and run_id='r2'", "4"},
		{"run_id='r1'", "2,1"},
		{"name='other'", ""},
		{"", "4,2,1"},
	} {
		var got []string
		for v, err := range s.AllModelVersions(ctx, mlflow.SearchModelVersionsRequest{Filter: tc.filter, MaxResults: 1}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v.Version)
		}
		// Newest update first: version 2 was tagged after 1 was created.
		if strings.Join(got, ",") != tc.want && !(tc.want == "4,2,1" && strings.Join(got, ",") == "2,4,1") {
			t.Errorf("search %q = %v, want %s", tc.filter, got, tc.want)
		}
	}
	if _, err := s.SearchModelVersions(ctx, mlflow.SearchModelVersionsRequest{Filter: "tags.k='v'"}); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("unsupported filter: %v", err)
	}
	if _, err := s.WaitModelVersionReady(ctx, name, "2", 0); err != nil {
		t.Errorf("WaitModelVersionReady: %v", err)
	}
}

func TestStagesAndReads(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	r, err := s.CreateRun(ctx, mlflow.CreateRunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	dir := artifactDir(t, s, r)
	os.MkdirAll(filepath.Join(dir, "model"), 0o755)
	os.WriteFile(filepath.Join(dir, "model", "MLmodel"), []byte("x"), 0o644)
	files, err := s.ListArtifacts(ctx, r.Info.RunID, "")
	if err != nil || len(files) != 1 || files[0].Path != "model" || !files[0].IsDir {
		t.Errorf("ListArtifacts = %+v, %v", files, err)
	}
	for _, name := range []string{"b", "a"} {
		if _, err := s.GetOrCreateRegisteredModel(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: "a", Source: r.Info.ArtifactURI + "/model", RunID: r.Info.RunID}); err != nil {
			t.Fatal(err)
		}
	}
	if u, err := s.GetModelVersionDownloadURI(ctx, "a", "2"); err != nil || u != r.Info.ArtifactURI+"/model" {
		t.Errorf("download URI = %s, %v", u, err)
	}
	if _, err := s.TransitionModelVersionStage(ctx, "a", "1", "Production", false); err != nil {
		t.Fatal(err)
	}
	mv, err := s.TransitionModelVersionStage(ctx, "a", "2", "production", true)
	if err != nil || mv.CurrentStage != "Production" {
		t.Fatalf("%+v, %v", mv, err)
	}
	if v1, _ := s.GetModelVersion(ctx, "a", "1"); v1.CurrentStage != "Archived" {
		t.Errorf("version 1 stage %s, want Archived", v1.CurrentStage)
	}
	if _, err := s.TransitionModelVersionStage(ctx, "a", "3", "Archived", true); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("archive existing into Archived: %v", err)
	}
	if _, err := s.TransitionModelVersionStage(ctx, "a", "3", "Prod", false); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("unknown stage: %v", err)
	}
	lv, err := s.GetLatestVersions(ctx, "a", "Production", "None")
	if err != nil || len(lv) != 2 || lv[0].Version != "2" || lv[1].Version != "3" {
		t.Errorf("latest versions = %+v, %v", lv, err)
	}
	var names []string
	for m, err := range s.AllRegisteredModels(ctx, mlflow.SearchRegisteredModelsRequest{MaxResults: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "a,b" {
		t.Errorf("registered models %v", names)
	}
	p, err := s.SearchRegisteredModels(ctx, mlflow.SearchRegisteredModelsRequest{Filter: "name='b'"})
	if err != nil || len(p.RegisteredModels) != 1 || p.RegisteredModels[0].Name != "b" {
		t.Errorf("search name='b' = %+v, %v", p, err)
	}
}

func artifactDir(t *testing.T, s *filestore.Store, r *mlflow.Run) string {
	t.Helper()
	u, err := s.RunArtifactURI(context.Background(), r.Info.RunID)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u, "file://")
}

// TestRulesAsServer holds the store to the protocol's rules: a key, alias
// or stage is refused exactly when package mlflow's validators refuse it
// (they once differed: the store refused "x²" and the client accepted a
// combining mark), and every refusal matches ErrInvalidParameter.
func TestRulesAsServer(t *testing.T) {
	s, _ := open(t)
	ctx := t.Context()
	exp, err := s.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
	if err != nil {
		t.Fatal(err)
	}
	agree := func(what string, want, got error) {
		t.Helper()
		if (want == nil) != (got == nil) {
			t.Errorf("%s: protocol says %v, store says %v", what, want, got)
		}
		if got != nil && !errors.Is(got, mlflow.ErrInvalidParameter) {
			t.Errorf("%s: %v does not match ErrInvalidParameter", what, got)
		}
	}
	for _, key := range []string{"auc", "x²", "a\u0301", "a=b", "../up", "a//b", "eval/auc:1"} {
		err := s.LogBatch(ctx, run.Info.RunID, mlflow.Batch{Metrics: []mlflow.Metric{{Key: key, Value: 1, Timestamp: 1}}})
		agree("metric key "+key, mlflow.ValidateKey("metric", key), err)
	}
	if _, err := s.GetOrCreateRegisteredModel(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	mv, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: "m", Source: run.Info.ArtifactURI + "/model", RunID: run.Info.RunID})
	if err != nil {
		t.Fatal(err)
	}
	for _, alias := range []string{"champion", "v2", "latest", "a b", "ünï"} {
		agree("alias "+alias, mlflow.ValidateAlias(alias), s.SetRegisteredModelAlias(ctx, "m", alias, mv.Version))
	}
	for _, stage := range []string{"production", "Prod", "archived"} {
		_, want := mlflow.CanonicalStage(stage)
		_, got := s.TransitionModelVersionStage(ctx, "m", mv.Version, stage, false)
		agree("stage "+stage, want, got)
	}
}
