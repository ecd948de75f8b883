package serve

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// TestRegistryHotReload runs against both real MLflow servers: model
// versions uploaded to MinIO and registered; the server follows the
// champion alias under load through a proxy in front of MLflow, picks each
// move up within poll+2s, refuses a corrupt version while its predecessor
// serves, retries after MinIO was unreachable, and keeps serving when
// MLflow goes away.
func TestRegistryHotReload(t *testing.T) {
	testkit.S3(t)
	for _, srv := range testkit.Servers(t) {
		t.Run(srv.Name, func(t *testing.T) { registryHotReload(t, srv.URI) })
	}
}

func registryHotReload(t *testing.T, trackingURI string) {
	ctx := t.Context()
	target, _ := url.Parse(trackingURI)
	var calls sync.Map // path -> *atomic.Int64, requests that reached MLflow
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := calls.LoadOrStore(r.URL.Path, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	c, err := mlflow.NewClient(proxy.URL, mlflow.WithRetries(0, 0, 0), mlflow.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprint(time.Now().UnixNano())
	exp, err := c.CreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "serve-test-" + suffix})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp, RunName: "serve-test"})
	if err != nil {
		t.Fatal(err)
	}
	// Serve reaches MinIO through a switch that can make it unreachable.
	minio := newSwitch(t)
	s3cfg := s3.EnvConfig(os.Getenv)
	s3cfg.Endpoint = minio.URL
	backend := tracking.NewServer(c, s3cfg)
	store, err := server(c).Artifacts(run.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	name := "serve-test-" + suffix
	if _, err := c.CreateRegisteredModel(ctx, mlflow.CreateRegisteredModelRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteRegisteredModel(context.Background(), name) })

	// versions 1..4: 3 is corrupt (a file changed after checksums.json)
	iters := []int{5, 10, 20, 15}
	want := map[string]float64{}
	row := table(t).Matrix([]int{7})
	for i, n := range iters {
		v := fmt.Sprint(i + 1)
		dir := writeModel(t, t.TempDir(), n, run.Info.RunID)
		tags := registrationTags(t, dir)
		if v == "3" {
			corrupt(t, dir)
		}
		path := "model-" + v
		if err := store.UploadDir(ctx, dir, path); err != nil {
			t.Fatal(err)
		}
		mv, err := c.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name, Source: run.Info.ArtifactURI + "/" + path, RunID: run.Info.RunID, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		if mv.Version != v {
			t.Fatalf("registered version %s, want %s", mv.Version, v)
		}
		p, _ := tinyModel(t, n).Predict(row)
		want[v] = p[0]
	}
	alias := func(v string) {
		t.Helper()
		if err := c.SetRegisteredModelAlias(ctx, name, "champion", v); err != nil {
			t.Fatal(err)
		}
	}
	alias("1")

	src, err := NewSource("models:/"+name+"@champion", backend)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newServer(t, src, Options{})
	if _, err := s.Reload(ctx, false); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	const poll = 500 * time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go s.Run(runCtx, poll)

	body := []byte(mustJSON(t, record(t, 7)))
	var wg sync.WaitGroup
	var total, failed atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				resp, err := ts.Client().Post(ts.URL+"/predict", ctJSON, bytes.NewReader(body))
				total.Add(1)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					t.Errorf("request: %v %v", err, resp)
					continue
				}
				r := decode[PredictResponse](t, resp.Body)
				resp.Body.Close()
				if r.ProbabilityOfDefault != want[r.Model.Version] || r.Model.Name != name || r.Model.RunID != run.Info.RunID {
					failed.Add(1)
					t.Errorf("answer %+v: version %s gives %v", r, r.Model.Version, want[r.Model.Version])
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}

	follow := func(v string) time.Duration {
		t.Helper()
		start := time.Now()
		alias(v)
		waitVersion(t, s, v, poll+poll/10+2*time.Second)
		return time.Since(start)
	}
	t.Logf("alias -> 2 served after %v", follow("2"))
	alias("3")
	deadline := time.Now().Add(3 * poll)
	for time.Now().Before(deadline) && testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepVerify)) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if got := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepVerify)); got != 1 {
		t.Errorf("corrupt version: verify failures %v, want 1", got)
	}
	time.Sleep(2 * poll) // later polls skip it, without downloading again
	if v := s.current.Load().ver.Version; v != "2" {
		t.Errorf("after the corrupt version, serving %s, want 2", v)
	}
	if got := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepVerify)); got != 1 {
		t.Errorf("corrupt version downloaded again: verify failures %v", got)
	}
	// MinIO unreachable (refusing every request): the download fails, is
	// counted, and version 2 keeps serving; once MinIO is back, the next
	// poll loads version 4.
	minio.down.Store(true)
	start := time.Now()
	alias("4")
	deadline = time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepDownload)) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if got := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepDownload)); got < 1 {
		t.Errorf("MinIO down: download failures %v", got)
	}
	t.Logf("MinIO down: download failure counted after %v", time.Since(start))
	if v := s.current.Load().ver.Version; v != "2" {
		t.Errorf("MinIO down: serving %s, want 2", v)
	}
	minio.down.Store(false)
	start = time.Now()
	waitVersion(t, s, "4", poll+poll/10+2*time.Second+30*time.Second)
	t.Logf("MinIO back: version 4 served after %v", time.Since(start))

	// Nothing changes: each poll is one get-by-alias request, nothing else.
	time.Sleep(poll)
	calls.Clear()
	time.Sleep(4 * poll)
	calls.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		if k != "/api/2.0/mlflow/registered-models/alias" || n < 2 || n > 5 {
			t.Errorf("idle polling for %v: %d requests to %s; want 2-5 get-by-alias (one per poll) and nothing else", 4*poll, n, k)
		}
		return true
	})

	// MLflow goes away: polls fail and are counted; serving goes on.
	proxy.CloseClientConnections()
	proxy.Close()
	before := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepResolve))
	// two more polls, each one failed resolve (generous on a loaded machine)
	deadline = time.Now().Add(2*poll + 5*time.Second)
	for time.Now().Before(deadline) && testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepResolve)) < before+2 {
		time.Sleep(20 * time.Millisecond)
	}
	if after := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepResolve)); after < before+2 {
		t.Errorf("registry down: resolve failures %v -> %v, want at least 2 more", before, after)
	}
	if code := do(t, s.Handler(), "GET", "/ready", "", "").Code; code != 200 {
		t.Errorf("/ready %d with the registry down", code)
	}
	stop()
	wg.Wait()
	if failed.Load() != 0 || total.Load() < 100 {
		t.Fatalf("%d of %d requests failed", failed.Load(), total.Load())
	}
	t.Logf("%d requests during 3 alias moves, a corrupt version, a MinIO and a registry outage; 0 failed", total.Load())
}

// TestRegistryStageAndVersion follows a stage and a fixed version.
func TestRegistryStageAndVersion(t *testing.T) {
	testkit.S3(t)
	uri := testkit.TrackingURI2(t)
	ctx := t.Context()
	c, err := mlflow.NewClient(uri, mlflow.WithRetries(1, 100*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprint(time.Now().UnixNano())
	exp, err := c.CreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "serve-stage-" + suffix})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp})
	if err != nil {
		t.Fatal(err)
	}
	store, err := server(c).Artifacts(run.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	name := "serve-stage-" + suffix
	if _, err := c.CreateRegisteredModel(ctx, mlflow.CreateRegisteredModelRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteRegisteredModel(context.Background(), name) })
	for i, n := range []int{5, 10} {
		dir := writeModel(t, t.TempDir(), n, run.Info.RunID)
		if err := store.UploadDir(ctx, dir, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name, Source: fmt.Sprint(run.Info.ArtifactURI, "/m", i), RunID: run.Info.RunID, Tags: registrationTags(t, dir)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.TransitionModelVersionStage(ctx, name, "1", mlflow.StageProduction, false); err != nil {
		t.Fatal(err)
	}
	stage, _ := NewSource("models:/"+name+"/Production", server(c))
	fixed, _ := NewSource("models:/"+name+"/2", server(c))
	sStage, _ := newServer(t, stage, Options{})
	sFixed, _ := newServer(t, fixed, Options{})
	for _, tc := range []struct {
		s    *Server
		want string
	}{{sStage, "1"}, {sFixed, "2"}} {
		if _, err := tc.s.Reload(ctx, false); err != nil {
			t.Fatal(err)
		}
		if v := tc.s.current.Load().ver.Version; v != tc.want {
			t.Errorf("%s: serving %s, want %s", tc.s.src, v, tc.want)
		}
	}
	if _, err := c.TransitionModelVersionStage(ctx, name, "2", mlflow.StageProduction, true); err != nil {
		t.Fatal(err)
	}
	if res, err := sStage.Reload(ctx, false); err != nil || !res.Changed || res.Version.Version != "2" {
		t.Errorf("after promoting 2 to Production: %+v %v", res, err)
	}
	w := do(t, sStage.Handler(), "GET", "/version", "", "")
	if v := decode[VersionResponse](t, w.Body); v.Model == nil || v.Model.Stage != "Production" || v.Model.Version != "2" {
		t.Errorf("/version %+v", v.Model)
	}
}

// server is the tracking backend of the server c talks to.
func server(c *mlflow.Client) tracking.Backend {
	return tracking.NewServer(c, s3.EnvConfig(os.Getenv))
}

// s3Switch is a proxy in front of the stack's MinIO that refuses every
// request (as an S3 server denying access would, at once) while down.
type s3Switch struct {
	*httptest.Server
	down atomic.Bool
}

func newSwitch(t *testing.T) *s3Switch {
	t.Helper()
	endpoint, _, _ := testkit.S3(t)
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	sw := &s3Switch{}
	rp := httputil.NewSingleHostReverseProxy(target)
	sw.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sw.down.Load() {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>MinIO is down (test)</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(sw.Close)
	return sw
}
