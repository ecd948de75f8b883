package main

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlsync"
	"github.com/creditrisk/engine/train"
)

// syncPipeline runs the command line as main does.
func syncPipeline(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return pipeline(t, args...)
}

func TestSyncUsage(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"sync"}, 2, "sync needs --to URI"},
		{[]string{"sync", "--to", "ftp://x"}, 2, `--to "ftp://x"`},
		{[]string{"sync", "--to", "http://127.0.0.1:1", "--output", "yaml"}, 2, "--output"},
		{[]string{"sync", "--to", "http://127.0.0.1:1", "extra"}, 2, "no arguments"},
		{[]string{"sync", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"sync", "--to", "http://127.0.0.1:1", "--from", "does-not-exist"}, 1, "does-not-exist: no such directory"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			localTracking(t)
			code, _, stderr := syncPipeline(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.wantErr)
			}
		})
	}
}

// TestSyncCommand syncs a real training from the store MLFLOW_TRACKING_URI
// names into MLflow 3.x: a dry run, the sync, and a second sync that skips
// everything.
func TestSyncCommand(t *testing.T) {
	uri := testkit.TrackingURI(t)
	root := filepath.Join(t.TempDir(), "mlruns")
	t.Setenv("MLFLOW_TRACKING_URI", "file://"+root)
	s, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	suffix := fmt.Sprint(time.Now().UnixNano())
	cfg.Tracking.Experiment, cfg.Tracking.Register = "sync-cli-"+suffix, "sync-cli-"+suffix
	if _, err := train.Run(t.Context(), cfg, train.Options{Tracking: s, OutDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	report := func(args ...string) mlsync.Report {
		t.Helper()
		code, stdout, stderr := syncPipeline(t, append([]string{"sync", "--to", uri, "--output", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("sync %q: exit %d: %s", args, code, stderr)
		}
		var r mlsync.Report
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		return r
	}
	if r := report("--dry-run"); !r.DryRun || r.Totals.RunsCopied != 1 || r.Totals.VersionsCopied != 1 || r.Totals.MetricPoints == 0 {
		t.Errorf("dry run %+v", r.Totals)
	}
	if r := report(); r.Totals.RunsCopied != 1 || r.Totals.VersionsCopied != 1 || r.Source != root || r.MappingFile == "" {
		t.Errorf("sync %+v", r)
	}
	if r := report(); r.Totals != (mlsync.Totals{RunsSkipped: 1, VersionsSkipped: 1}) {
		t.Errorf("second sync %+v", r.Totals)
	}
	code, stdout, stderr := syncPipeline(t, "sync", "--to", uri)
	if code != 0 || !strings.Contains(stdout, "runs: 0 copied, 1 skipped") {
		t.Errorf("text output: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestSyncCommandAuth syncs into the basic-auth server with the Python
// client's credential variables, and fails clearly without them.
func TestSyncCommandAuth(t *testing.T) {
	uri, user, password := testkit.AuthServer(t)
	root := filepath.Join(t.TempDir(), "mlruns")
	s, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	suffix := fmt.Sprint(time.Now().UnixNano())
	cfg.Tracking.Experiment, cfg.Tracking.Register = "sync-auth-"+suffix, "sync-auth-"+suffix
	if _, err := train.Run(t.Context(), cfg, train.Options{Tracking: s, OutDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MLFLOW_TRACKING_URI", "")
	t.Setenv("MLFLOW_TRACKING_USERNAME", "")
	t.Setenv("MLFLOW_TRACKING_PASSWORD", "")
	t.Setenv("HOME", t.TempDir()) // no ~/.mlflow/credentials
	if code, _, stderr := syncPipeline(t, "sync", "--from", root, "--to", uri); code != 1 || !strings.Contains(stderr, "authentication failed") {
		t.Errorf("without credentials: exit %d, %s", code, stderr)
	}
	t.Setenv("MLFLOW_TRACKING_USERNAME", user)
	t.Setenv("MLFLOW_TRACKING_PASSWORD", password)
	code, stdout, stderr := syncPipeline(t, "sync", "--from", root, "--to", uri)
	if code != 0 || !strings.Contains(stdout, "runs: 1 copied, 0 skipped") || !strings.Contains(stdout, "versions: 1 copied") {
		t.Errorf("with credentials: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestSyncPrivateCA syncs to an HTTPS server whose certificate a private
// CA signed (an httptest TLS server in front of the real MLflow 3.x), with
// the CA given as train gets it: MLFLOW_TRACKING_SERVER_CERT_PATH. Without
// the variable both commands refuse the certificate; with it both work.
// sync once built its own client and skipped the TLS variables.
func TestSyncPrivateCA(t *testing.T) {
	target, err := url.Parse(testkit.TrackingURI(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprint(time.Now().UnixNano())
	root := filepath.Join(t.TempDir(), "mlruns")
	t.Setenv("MLFLOW_TRACKING_URI", "file://"+root)
	t.Setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
	if code, _, stderr := syncPipeline(t, "train", "--experiment", "sync-tls-"+suffix, "--register", "sync-tls-"+suffix, "--set", "num_iterations=20"); code != 0 {
		t.Fatalf("local train: exit %d: %s", code, stderr)
	}

	t.Setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", "")
	if code, _, stderr := syncPipeline(t, "sync", "--to", srv.URL); code != 1 || !strings.Contains(stderr, "certificate") {
		t.Errorf("sync without the CA: exit %d, %s; want a certificate error", code, stderr)
	}
	t.Setenv("MLFLOW_TRACKING_URI", srv.URL)
	if code, _, stderr := syncPipeline(t, "train", "--experiment", "tls-"+suffix, "--set", "num_iterations=5"); code != 1 || !strings.Contains(stderr, "certificate") {
		t.Errorf("train without the CA: exit %d, %s; want a certificate error", code, stderr)
	}

	t.Setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", ca)
	if code, _, stderr := syncPipeline(t, "train", "--experiment", "tls-"+suffix, "--set", "num_iterations=5"); code != 0 {
		t.Errorf("train with the CA: exit %d, %s", code, stderr)
	}
	t.Setenv("MLFLOW_TRACKING_URI", "file://"+root)
	code, stdout, stderr := syncPipeline(t, "sync", "--to", srv.URL)
	if code != 0 || !strings.Contains(stdout, "runs: 1 copied") || !strings.Contains(stdout, "versions: 1 copied") {
		t.Errorf("sync with the CA: exit %d\n%s%s", code, stdout, stderr)
	}
}
