package serve

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// startWebhookMLflow starts a private MLflow 3.x server (SQLite registry,
// artifacts in the stack's MinIO) that may deliver webhooks to plain HTTP
// on loopback, which the stack's servers are not configured to do.
func startWebhookMLflow(t *testing.T) (uri string, log *testkit.Log) {
	t.Helper()
	python := testkit.Python(t)
	endpoint, key, secret := testkit.S3(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	dir := t.TempDir()
	p := testkit.Start(t, []string{"MLFLOW_S3_ENDPOINT_URL=" + endpoint, "AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secret,
		"MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true", "MLFLOW_WEBHOOK_CACHE_TTL=1",
		"MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false"},
		filepath.Join(filepath.Dir(python), "mlflow"), "server",
		"--backend-store-uri", "sqlite:///"+filepath.Join(dir, "mlflow.db"),
		"--default-artifact-root", "s3://mlflow/serve-webhook/",
		"--host", "127.0.0.1", "--port", fmt.Sprint(addr.Port), "--workers", "1",
		"--allowed-hosts", "127.0.0.1,127.0.0.1:*,localhost,localhost:*")
	uri = fmt.Sprintf("http://127.0.0.1:%d", addr.Port)
	// mlflow server runs uvicorn as a child, which stopping mlflow alone
	// left serving on: nothing may answer once the server is stopped.
	t.Cleanup(func() {
		p.Stop()
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(uri + "/health")
			if err != nil {
				return
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Errorf("%s still answers after the server was stopped", uri)
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(uri + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return uri, p.Log
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("MLflow server did not start:\n%s", p.Log.String())
	return "", nil
}

// TestMLflowWebhookReload: a real MLflow 3.x delivers a signed
// model_version_alias.created webhook when the alias moves, the server
// verifies it and serves the new version without polling.
func TestMLflowWebhookReload(t *testing.T) {
	uri, serverLog := startWebhookMLflow(t)
	var s *Server
	defer func() {
		if t.Failed() && s != nil {
			t.Logf("MLflow server log:\n%s", serverLog.String())
			t.Logf("deliveries accepted %v ignored %v rejected %v", testutil.ToFloat64(s.m.webhooks.WithLabelValues("accepted")),
				testutil.ToFloat64(s.m.webhooks.WithLabelValues("ignored")), testutil.ToFloat64(s.m.webhooks.WithLabelValues("rejected")))
		}
	}()
	ctx := t.Context()
	c, err := mlflow.NewClient(uri, mlflow.WithRetries(1, 100*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprint(time.Now().UnixNano())
	exp, err := c.CreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "serve-webhook", ArtifactLocation: "s3://mlflow/serve-webhook/" + suffix})
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
	const name = "credit-webhook"
	if _, err := c.CreateRegisteredModel(ctx, mlflow.CreateRegisteredModelRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	for i, n := range []int{5, 10} {
		path := fmt.Sprint("model-", i+1)
		dir := writeModel(t, t.TempDir(), n, run.Info.RunID)
		if err := store.UploadDir(ctx, dir, path); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name, Source: run.Info.ArtifactURI + "/" + path, RunID: run.Info.RunID, Tags: registrationTags(t, dir)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetRegisteredModelAlias(ctx, name, "champion", "1"); err != nil {
		t.Fatal(err)
	}
	const secret = "webhook-test-secret-0123456789abcdef"
	src, _ := NewSource("models:/"+name+"@champion", server(c))
	s, _ = newServer(t, src, Options{WebhookSecret: secret})
	if _, err := s.Reload(ctx, false); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go s.Run(runCtx, 0) // no polling: only the webhook can trigger the reload

	wh, err := c.CreateWebhook(ctx, mlflow.CreateWebhookRequest{Name: "serve-reload", URL: ts.URL + "/webhooks/mlflow",
		Events: []mlflow.WebhookEvent{{Entity: "MODEL_VERSION_ALIAS", Action: "CREATED"}}, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWebhook(context.Background(), wh.ID) })
	// The server caches the webhooks of each event for
	// MLFLOW_WEBHOOK_CACHE_TTL (1 s here); setting the first alias cached
	// an empty list for this event.
	time.Sleep(1200 * time.Millisecond)

	start := time.Now()
	if err := c.SetRegisteredModelAlias(ctx, name, "champion", "2"); err != nil {
		t.Fatal(err)
	}
	waitVersion(t, s, "2", 5*time.Second)
	took := time.Since(start)
	t.Logf("alias moved -> webhook -> version 2 served in %v", took)
	if took > time.Second {
		t.Errorf("webhook reload took %v, want within 1s", took)
	}
	if got := testutil.ToFloat64(s.m.webhooks.WithLabelValues("accepted")); got < 1 {
		t.Errorf("accepted deliveries %v", got)
	}
	if got := testutil.ToFloat64(s.m.webhooks.WithLabelValues("rejected")); got != 0 {
		t.Errorf("MLflow's own deliveries rejected: %v", got)
	}
}
