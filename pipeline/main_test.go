package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// pipeline runs the command line and returns its exit code and output.
func pipeline(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), append([]string{"pipeline"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"nosuch"}, 2, `unknown command "nosuch"`},
		{[]string{"train", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"models", "list", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"predict"}, 2, "--model is required"},
		{[]string{"predict", "--model", "x"}, 2, "--data is required"},
		{[]string{"train", "--model", "xgboost"}, 2, `unknown family "xgboost"`},
		{[]string{"train", "--set", "nokey"}, 2, "want key=value"},
		{[]string{"train", "--output", "yaml"}, 2, "--output"},
		{[]string{"train", "--set", "num_leaves=abc"}, 2, `parameter "num_leaves"`},
		{[]string{"train", "--model", "logistic", "--set", "num_leaves=3"}, 2, `parameter "num_leaves": unknown`},
		{[]string{"train", "--config", "does-not-exist.yaml"}, 2, "does-not-exist.yaml"},
		{[]string{"train", "--data", "does-not-exist.csv", "--label", "y", "--positive", "1", "--out", "/dev/null/x"}, 1, "does-not-exist.csv"},
		{[]string{"predict", "--model", "does-not-exist", "--data", "x.csv"}, 1, "does-not-exist"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			localTracking(t)
			code, _, stderr := pipeline(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.wantErr)
			}
		})
	}
}

// localTracking points the command at a local file store of the test's own,
// as an unset MLFLOW_TRACKING_URI would at ./mlruns.
func localTracking(t *testing.T) {
	t.Setenv("MLFLOW_TRACKING_URI", "file://"+filepath.Join(t.TempDir(), "mlruns"))
}

// Without MLFLOW_TRACKING_URI, train records into ./mlruns, and predict
// finds the registered model there.
func TestLocalTracking(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("MLFLOW_TRACKING_URI", "")
	code, stdout, stderr := pipeline(t, "train", "--register", "credit-risk")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "mlflow ui --backend-store-uri") || !strings.Contains(stdout, "models:/credit-risk/1") {
		t.Errorf("the summary does not say where the run went:\n%s", stdout)
	}
	if _, err := os.Stat("mlruns/models/credit-risk/version-1/meta.yaml"); err != nil {
		t.Fatalf("no registered version in ./mlruns: %v", err)
	}
	holdout := filepath.Join(t.TempDir(), "applicants.csv")
	if err := os.WriteFile(holdout, data.DefaultCSV(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = pipeline(t, "predict", "--model", "models:/credit-risk/1", "--data", holdout)
	if code != 0 || strings.Count(stdout, "\n") != 1001 {
		t.Fatalf("predict from ./mlruns: exit %d, %d lines: %s", code, strings.Count(stdout, "\n"), stderr)
	}
}

// TestDeadServer: against a tracking server nobody listens on, every
// command says on stderr that it retries (attempt n of N, next in X) and
// gives up with an error naming the server, without its credentials.
// (It once waited four minutes in silence.)
func TestDeadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.05")
	t.Setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
	t.Setenv("MLFLOW_TRACKING_URI", "http://user:s3cret-pw@"+addr)
	for _, args := range [][]string{
		{"models", "list"},
		{"promote", "--name", "m", "--latest"},
		{"train", "--set", "num_iterations=3"},
		{"sync", "--dry-run", "--from", t.TempDir(), "--to", "http://user:s3cret-pw@" + addr},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, stdout, stderr := pipeline(t, args...)
			if code != 1 || !strings.Contains(stderr, "http://"+addr) || !strings.Contains(stderr, "retrying, attempt 2 of 8") ||
				!strings.Contains(stderr, "connection refused") || strings.Contains(stderr, "s3cret-pw") || strings.Contains(stdout, "0 copied") {
				t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
			}
		})
	}
}

// TestKilledRegistration kills `pipeline train --register` (SIGKILL, no
// chance to clean up) while its registration is on the wire, through a
// proxy in front of the real MLflow 3.x that holds the create-version
// request. The run must not stay RUNNING and no version may exist: the
// run is closed before a version is made of it. Runs once stayed RUNNING
// beside their versions forever.
func TestKilledRegistration(t *testing.T) {
	target, err := url.Parse(testkit.TrackingURI(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := testkit.Pipeline(t)
	registering := make(chan struct{}, 1)
	fwd := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/model-versions/create") {
			// Read whole, so the server watches the connection and
			// ends the request's context when the client is gone.
			io.Copy(io.Discard, r.Body)
			select {
			case registering <- struct{}{}:
			default:
			}
			<-r.Context().Done() // held until the client is gone
			return
		}
		fwd.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	suffix := fmt.Sprint(time.Now().UnixNano())
	exp, name := "killed-"+suffix, "killed-"+suffix
	cmd := exec.Command(bin, "train", "--experiment", exp, "--register", name, "--set", "num_iterations=10")
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+proxy.URL)
	var stderr testkit.Log
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-registering:
		cmd.Process.Kill()
		cmd.Wait()
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the registration never started:\n%s", stderr.String())
	}

	b, err := tracking.Open(tracking.Config{URI: target.String(), S3: s3.EnvConfig(os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := b.GetExperimentByName(t.Context(), exp)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r, err := range b.AllRuns(t.Context(), mlflow.SearchRunsRequest{ExperimentIDs: []string{e.ID}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if r.Info.Status == mlflow.RunRunning {
			t.Errorf("run %s is still RUNNING after the kill", r.Info.RunID)
		}
	}
	if n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
	for v, err := range b.AllModelVersions(t.Context(), mlflow.SearchModelVersionsRequest{Filter: "name='" + name + "'"}) {
		if err == nil {
			t.Errorf("version %s exists after the kill", v.Version)
		}
	}
}
