// Package testkit holds the helpers every package's tests share, one copy
// each:
//
//   - the addresses of the real services that scripts/stack runs (MLflow
//     3.x and 2.9.2, MinIO, PostgreSQL, Prometheus, the Python reference
//     tools) and the shared data sets (stack.go, datasets.go);
//   - the one rule for what a test does when something it needs is missing
//     (Unavailable): skip with a message saying how to get it, or, with
//     PIPELINE_INTEGRATION=1 or CI=true (as scripts/test and .ci/run set),
//     fail, so a broken stack can never pass CI silently;
//   - golden files under testdata/ (Golden, rewritten with -update), the
//     German credit table, a reference AUC and running a Python script.
package testkit

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

const hint = `start the stack with "scripts/stack up" and load its variables with eval "$(scripts/stack env)"`

// Enabled reports whether integration tests must run: PIPELINE_INTEGRATION=1
// or CI=true.
func Enabled() bool { return os.Getenv("PIPELINE_INTEGRATION") == "1" || os.Getenv("CI") == "true" }

// Unavailable skips the test, saying what is missing, or fails it when
// Enabled: the one rule for every missing service, tool or data set.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if Enabled() {
		t.Fatalf(format+" (PIPELINE_INTEGRATION=1 or CI=true, so this fails instead of skipping)", args...)
	}
	t.Skipf(format+"; "+hint, args...)
}

// env returns the value of the environment variable, or skips/fails.
func env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Unavailable(t, "integration test needs %s", name)
	}
	return v
}

// httpUp checks that base answers GET base+path with a status below 500.
func httpUp(t testing.TB, name, base, path string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + path)
	if err != nil {
		Unavailable(t, "%s at %s is unreachable: %v", name, base, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		Unavailable(t, "%s at %s answered %s", name, base, resp.Status)
	}
}

// TrackingURI is the MLflow 3.x server (MLFLOW_TRACKING_URI).
func TrackingURI(t testing.TB) string {
	t.Helper()
	u := env(t, "MLFLOW_TRACKING_URI")
	httpUp(t, "MLflow 3.x", u, "/health")
	return u
}

// TrackingURI2 is the MLflow 2.9.2 server (PIPELINE_MLFLOW2_URI).
func TrackingURI2(t testing.TB) string {
	t.Helper()
	u := env(t, "PIPELINE_MLFLOW2_URI")
	httpUp(t, "MLflow 2.9.2", u, "/health")
	return u
}

// Server is one MLflow server of the stack.
type Server struct {
	Name string // "3.x" or "2.9.2"
	URI  string
}

// Servers returns both MLflow servers, for tests that run against each.
func Servers(t testing.TB) []Server {
	t.Helper()
	return []Server{{"3.x", TrackingURI(t)}, {"2.9.2", TrackingURI2(t)}}
}

// AuthServer is an MLflow 3.x server started with --app-name basic-auth,
// with the admin's user name and password.
func AuthServer(t testing.TB) (uri, user, password string) {
	t.Helper()
	uri = env(t, "PIPELINE_MLFLOW_AUTH_URI")
	httpUp(t, "MLflow basic-auth", uri, "/health")
	return uri, env(t, "PIPELINE_MLFLOW_AUTH_USERNAME"), env(t, "PIPELINE_MLFLOW_AUTH_PASSWORD")
}

// S3 is MinIO: endpoint URL and credentials (MLFLOW_S3_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
func S3(t testing.TB) (endpoint, accessKey, secretKey string) {
	t.Helper()
	endpoint = env(t, "MLFLOW_S3_ENDPOINT_URL")
	httpUp(t, "MinIO", endpoint, "/minio/health/live")
	return endpoint, env(t, "AWS_ACCESS_KEY_ID"), env(t, "AWS_SECRET_ACCESS_KEY")
}

// Prometheus is the Prometheus server's base URL (PIPELINE_PROMETHEUS_URL).
func Prometheus(t testing.TB) string {
	t.Helper()
	u := env(t, "PIPELINE_PROMETHEUS_URL")
	httpUp(t, "Prometheus", u, "/-/ready")
	return u
}

// Python is the interpreter of the stack's MLflow 3.x virtualenv, which also
// has lightgbm, pandas and numpy (PIPELINE_PYTHON).
func Python(t testing.TB) string {
	t.Helper()
	return executable(t, "PIPELINE_PYTHON")
}

// Python2 is the interpreter of the MLflow 2.9.2 virtualenv (PIPELINE_PYTHON2).
func Python2(t testing.TB) string {
	t.Helper()
	return executable(t, "PIPELINE_PYTHON2")
}

func executable(t testing.TB, name string) string {
	t.Helper()
	p := env(t, name)
	if _, err := exec.LookPath(p); err != nil {
		Unavailable(t, "%s=%s is not runnable: %v", name, p, err)
	}
	return p
}

// Port returns a free TCP port on 127.0.0.1, for servers a test starts.
func Port(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// HostPort returns the host:port of a URL such as http://127.0.0.1:9000.
func HostPort(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	return u.Host
}

// Log collects a started process's output; a test may read it (to report
// a failure) while the process still writes, which a strings.Builder would
// race on.
type Log struct {
	mu  sync.Mutex
	buf []byte
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	return len(p), nil
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}
