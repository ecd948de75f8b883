package testkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// These tests check that every service scripts/stack promises is there and
// is the one promised, so that a broken stack fails CI loudly instead of
// every other integration test failing in its own way.

var client = &http.Client{Timeout: 10 * time.Second}

// get fetches base+path (optionally with basic auth) and returns the status
// code and body.
func get(t *testing.T, base, path, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatalf("request %s%s: %v", base, path, err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", base, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read GET %s%s: %v", base, path, err)
	}
	return resp.StatusCode, string(body)
}

const searchPath = "/api/2.0/mlflow/experiments/search?max_results=1"

func TestMLflowVersions(t *testing.T) {
	tests := []struct {
		name   string
		uri    func(testing.TB) string
		prefix string
	}{
		{"3.x", testkit.TrackingURI, "3."},
		{"2.9.2", testkit.TrackingURI2, "2.9.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := tt.uri(t)
			code, body := get(t, uri, "/version", "", "")
			if code != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), tt.prefix) {
				t.Fatalf("GET %s/version = %d %q, want 200 and a version starting with %q", uri, code, body, tt.prefix)
			}
			code, body = get(t, uri, searchPath, "", "")
			if code != http.StatusOK || !strings.Contains(body, `"experiments"`) {
				t.Fatalf("GET %s%s = %d %q, want 200 with experiments", uri, searchPath, code, body)
			}
		})
	}
}

// TestMLflowBehindProxy checks that the 3.x Host-header check lets through
// requests that a test proxy on a random port forwards unchanged.
func TestMLflowBehindProxy(t *testing.T) {
	target, err := url.Parse(testkit.TrackingURI(t))
	if err != nil {
		t.Fatalf("parse tracking URI: %v", err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The Host header stays 127.0.0.1:<proxy port>.
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	code, body := get(t, srv.URL, searchPath, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s%s through a proxy = %d %q, want 200", srv.URL, searchPath, code, body)
	}
}

func TestAuthServer(t *testing.T) {
	uri, user, password := testkit.AuthServer(t)
	if code, body := get(t, uri, searchPath, "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET %s%s without credentials = %d %q, want 401", uri, searchPath, code, body)
	}
	if code, body := get(t, uri, searchPath, user, password+"x"); code != http.StatusUnauthorized {
		t.Errorf("GET %s%s with a wrong password = %d %q, want 401", uri, searchPath, code, body)
	}
	if code, body := get(t, uri, searchPath, user, password); code != http.StatusOK {
		t.Errorf("GET %s%s as %s = %d %q, want 200", uri, searchPath, user, code, body)
	}
	// Unlike the plain server, the auth app guards /version too.
	code, body := get(t, uri, "/version", user, password)
	if code != http.StatusOK || !strings.HasPrefix(body, "3.") {
		t.Errorf("GET %s/version = %d %q, want a 3.x version", uri, code, body)
	}
}

func TestS3Buckets(t *testing.T) {
	endpoint, key, secret := testkit.S3(t)
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("parse %s: %v", endpoint, err)
	}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(key, secret, ""),
		Secure: u.Scheme == "https",
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, bucket := range []string{"mlflow", "mlflow2"} {
		ok, err := mc.BucketExists(ctx, bucket)
		if err != nil || !ok {
			t.Fatalf("bucket %s exists = %v, %v; want true", bucket, ok, err)
		}
	}
	// A round trip proves the credentials can write, not only read.
	obj := "stacktest/" + t.Name() + "-" + time.Now().Format("20060102T150405.000000000")
	data := []byte("stack check")
	if _, err := mc.PutObject(ctx, "mlflow", obj, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put %s: %v", obj, err)
	}
	defer func() {
		if err := mc.RemoveObject(context.Background(), "mlflow", obj, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("remove %s: %v", obj, err)
		}
	}()
	r, err := mc.GetObject(ctx, "mlflow", obj, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", obj, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %s = %q, %v; want %q", obj, got, err, data)
	}
}

func TestPrometheus(t *testing.T) {
	base := testkit.Prometheus(t)
	code, body := get(t, base, "/api/v1/query?query=up", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s/api/v1/query = %d %q", base, code, body)
	}
	var res struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || res.Status != "success" {
		t.Fatalf("query answer %q: status %q, %v; want success", body, res.Status, err)
	}
}

// python runs a short program with the interpreter and returns its output.
func python(t *testing.T, interpreter, program string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), interpreter, append([]string{"-c", program}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -c %q: %v\n%s", interpreter, program, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestPythonTools(t *testing.T) {
	t.Run("3.x", func(t *testing.T) {
		out := python(t, testkit.Python(t),
			"import mlflow, lightgbm, pandas, numpy, sklearn; print(mlflow.__version__, lightgbm.__version__)")
		mlflowVersion, lgbVersion, _ := strings.Cut(out, " ")
		if !strings.HasPrefix(mlflowVersion, "3.") || !strings.HasPrefix(lgbVersion, "4.") {
			t.Fatalf("PIPELINE_PYTHON has mlflow %q and lightgbm %q, want 3.x and 4.x", mlflowVersion, lgbVersion)
		}
	})
	t.Run("2.9.2", func(t *testing.T) {
		out := python(t, testkit.Python2(t), "import mlflow, lightgbm; print(mlflow.__version__, lightgbm.__version__)")
		if mlflowVersion, lgbVersion, _ := strings.Cut(out, " "); mlflowVersion != "2.9.2" || !strings.HasPrefix(lgbVersion, "4.") {
			t.Fatalf("PIPELINE_PYTHON2 has mlflow %q and lightgbm %q, want 2.9.2 and 4.x", mlflowVersion, lgbVersion)
		}
	})
}

// TestPostgres logs in to both MLflow databases with the stack's
// credentials, through psycopg2 of the stack's Python (the module has no Go
// PostgreSQL driver).
func TestPostgres(t *testing.T) {
	py := testkit.Python(t)
	for _, name := range []string{"PIPELINE_MLFLOW_DB_URL", "PIPELINE_MLFLOW2_DB_URL"} {
		dsn := os.Getenv(name)
		if dsn == "" {
			if testkit.Enabled() {
				t.Fatalf("%s is not set (PIPELINE_INTEGRATION=1)", name)
			}
			t.Skipf("%s is not set; load the stack's variables with eval \"$(scripts/stack env)\"", name)
		}
		out := python(t, py, `import sys, psycopg2
c = psycopg2.connect(sys.argv[1], connect_timeout=5)
cur = c.cursor(); cur.execute("SELECT current_database()"); print(cur.fetchone()[0])`, dsn)
		if want := dsn[strings.LastIndex(dsn, "/")+1:]; out != want {
			t.Errorf("%s connects to database %q, want %q", name, out, want)
		}
	}
}
