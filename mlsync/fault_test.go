package mlsync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/mlsync"
)

// TestSyncResumes fails a sync part-way, at the first run's dataset inputs
// (after its params, metrics and tags arrived), through a proxy in front of
// the real server. The server run must be left FAILED and unmarked, and the
// next sync must finish it without duplicating what it already holds.
func TestSyncResumes(t *testing.T) {
	ctx := context.Background()
	uri := testkit.TrackingURI(t)
	target, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	faulty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/runs/log-inputs") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error_code": "INVALID_PARAMETER_VALUE", "message": "injected failure"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer faulty.Close()
	bad, err := mlflow.NewClient(faulty.URL)
	if err != nil {
		t.Fatal(err)
	}
	good, err := mlflow.NewClient(uri)
	if err != nil {
		t.Fatal(err)
	}

	l := newLocal(t, ctx)
	rep, err := mlsync.Sync(ctx, l.store, server(bad), mlsync.Options{})
	var re *mlsync.RunError
	if !errors.As(err, &re) || re.RunID != l.runs[0] || re.RemoteID == "" || !strings.Contains(err.Error(), l.runs[0]) {
		t.Fatalf("sync through the faulty proxy: %v; want a RunError naming run %s", err, l.runs[0])
	}
	if len(rep.Versions) != 0 || rep.MappingFile == "" {
		t.Errorf("partial report %+v", rep)
	}
	r, err := good.GetRun(ctx, re.RemoteID)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := r.Tag(mlsync.TagComplete); r.Info.Status != mlflow.RunFailed || ok {
		t.Errorf("server run after the failure: status %s, %s=%q; want FAILED and no mark", r.Info.Status, mlsync.TagComplete, v)
	}
	if len(r.Data.Metrics) == 0 {
		t.Fatal("the failure came before any metric arrived; the test checks nothing")
	}

	// Resuming sends both dataset inputs (training data and test split)
	// that the failed call did not record.
	dry, err := mlsync.Sync(ctx, l.store, server(good), mlsync.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := dry.Runs[0]; d.Action != mlsync.Completed || d.MetricPoints != 0 || d.Params != 0 || d.Inputs != 2 || d.Artifacts == 0 {
		t.Errorf("dry run of the resume: %+v", d)
	}
	rep, err = mlsync.Sync(ctx, l.store, server(good), mlsync.Options{})
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep.Runs)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("resumed runs %+v", rep.Runs)
	}
	if rep.Runs[0].Action != mlsync.Completed || rep.Runs[0].RemoteID != re.RemoteID || rep.Runs[0].MetricPoints != 0 ||
		rep.Runs[0].Params != 0 || rep.Runs[0].Inputs != 2 || rep.Runs[1].Action != mlsync.Created {
		t.Errorf("resumed runs %+v", rep.Runs)
	}
	checkRuns(t, ctx, good, l, rep)
	checkRegistry(t, ctx, good, l, rep)
	if n := serverCount(t, ctx, good, l); n.runs != 2 || n.versions != 2 {
		t.Errorf("server holds %+v", n)
	}
}

// TestSyncNestedRun checks that a child run's mlflow.parentRunId names the
// server's parent run, and that a run still RUNNING locally is skipped and
// reported.
func TestSyncNestedRun(t *testing.T) {
	ctx := context.Background()
	c, err := mlflow.NewClient(testkit.TrackingURI(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := s.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: fmt.Sprint("sync-nested-", time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	parent, err := s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID, RunName: "parent", StartTime: start})
	if err != nil {
		t.Fatal(err)
	}
	child, err := s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID, RunName: "child", StartTime: start.Add(time.Second),
		Tags: []mlflow.Tag{{Key: mlflow.TagParentRunID, Value: parent.Info.RunID}}})
	if err != nil {
		t.Fatal(err)
	}
	running, err := s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID, RunName: "running"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{parent.Info.RunID, child.Info.RunID} {
		if err := s.LogBatch(ctx, id, mlflow.Batch{Metrics: []mlflow.Metric{{Key: "loss", Value: 0.5, Step: 1, Timestamp: 1}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.TerminateRun(ctx, id, mlflow.RunFinished); err != nil {
			t.Fatal(err)
		}
	}
	// A training still under way has registered its version already.
	model := exp.Name
	if _, err := s.GetOrCreateRegisteredModel(ctx, model); err != nil {
		t.Fatal(err)
	}
	art, err := s.RunArtifactURI(ctx, running.Info.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: model, Source: art + "/model", RunID: running.Info.RunID}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegisteredModelAlias(ctx, model, "candidate", "1"); err != nil {
		t.Fatal(err)
	}
	rep, err := mlsync.Sync(ctx, s, server(c), mlsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Versions) != 1 || rep.Versions[0].Action != mlsync.Skipped || !strings.Contains(rep.Versions[0].Reason, "still running") ||
		len(rep.Aliases) != 1 || rep.Aliases[0].Action != mlsync.Skipped {
		t.Errorf("version of a running run: %+v, aliases %+v", rep.Versions, rep.Aliases)
	}
	remote := map[string]mlsync.RunReport{}
	for _, r := range rep.Runs {
		remote[r.LocalID] = r
	}
	if r := remote[running.Info.RunID]; r.Action != mlsync.Skipped || !strings.Contains(r.Reason, "RUNNING") {
		t.Errorf("running run reported %+v", r)
	}
	rc, err := c.GetRun(ctx, remote[child.Info.RunID].RemoteID)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := rc.Tag(mlflow.TagParentRunID); v == "" || v != remote[parent.Info.RunID].RemoteID {
		t.Errorf("child's parent tag %q, want the server parent %q", v, remote[parent.Info.RunID].RemoteID)
	}
}
