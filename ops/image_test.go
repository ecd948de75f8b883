package ops_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// buildStatic builds a package of this module as a static binary
// (CGO_ENABLED=0), the way the Dockerfile's build stage does.
func buildStatic(t *testing.T, pkg, out string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.Version=image-test", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// TestHealthcheck: `pipeline healthcheck`, the image's health check, exits
// 0 only on a 2xx answer, 1 on any other answer or none within its
// timeout, and 2 on a bad URL.
func TestHealthcheck(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pipeline")
	buildStatic(t, "./pipeline", bin)
	var status atomic.Int64 // the answer of the next request
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-block
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	defer close(block)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tt := range []struct {
		name   string
		status int
		env    string
		args   []string
		code   int
	}{
		{"ok", 200, "", []string{srv.URL + "/health"}, 0},
		{"no content", 204, "", []string{srv.URL + "/ready"}, 0},
		{"unready", 503, "", []string{srv.URL + "/ready"}, 1},
		{"not found", 404, "", []string{srv.URL + "/healthz"}, 1},
		{"refused", 200, "", []string{closed.URL + "/health"}, 1},
		{"timeout", 200, "", []string{"--timeout", "300ms", srv.URL + "/slow"}, 1},
		{"port from PIPELINE_SERVE_ADDR", 200, "PIPELINE_SERVE_ADDR=:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:], nil, 0},
		{"bad PIPELINE_SERVE_ADDR", 200, "PIPELINE_SERVE_ADDR=8000", nil, 2},
		{"bad URL", 200, "", []string{"ftp://127.0.0.1/health"}, 2},
		{"two URLs", 200, "", []string{srv.URL, srv.URL}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(int64(tt.status))
			cmd := exec.CommandContext(t.Context(), bin, append([]string{"healthcheck"}, tt.args...)...)
			cmd.Env = append(os.Environ(), "PIPELINE_SERVE_ADDR=", tt.env)
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, out)
			}
		})
	}
}

// podman runs podman with runc: crun fails on these machines' hybrid
// cgroups.
func podman(ctx context.Context, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, "podman", append([]string{"--runtime", "runc"}, args...)...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// TestImage builds the runtime image of the Dockerfile with podman and runs
// `pipeline serve` in it. No registry is reachable here, so the golang
// build stage is replaced (podman build --build-context build=DIR) by a
// folder laid out as that stage's /out, made by the stage's own script
// (deploy/image/rootfs) from a static binary built on this machine; the
// runtime stage itself (FROM scratch, user, health check, entrypoint) is
// the Dockerfile's, unchanged. The container runs read-only, as user
// 10001, without capabilities, on the host's network at a free loopback
// port; it must answer /ready, /predict and /metrics, and its image's
// HEALTHCHECK (the binary's own healthcheck) must pass.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a container image")
	}
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			testkit.Unavailable(t, "%s is unavailable", tool+" (Debian's podman, buildah and runc; scripts/stack up installs them)")
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "pipeline")
	buildStatic(t, "./pipeline", bin)
	if f, err := elf.Open(bin); err != nil {
		t.Fatal(err)
	} else {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Fatalf("%s is dynamically linked: it cannot run FROM scratch", bin)
			}
		}
		f.Close()
	}
	rootfs := filepath.Join(tmp, "build", "out", "rootfs")
	if out, err := exec.Command(filepath.Join(root, "deploy", "image", "rootfs"), bin, "/etc/ssl/certs/ca-certificates.crt", rootfs).CombinedOutput(); err != nil {
		t.Fatalf("deploy/image/rootfs: %v\n%s", err, out)
	}
	model := filepath.Join(tmp, "model")
	request := filepath.Join(tmp, "request.json")
	mkmodel := filepath.Join(tmp, "mkmodel")
	buildStatic(t, "./cmd/mkmodel", mkmodel)
	if out, err := exec.Command(mkmodel, model, request).CombinedOutput(); err != nil {
		t.Fatalf("mkmodel: %v\n%s", err, out)
	}

	tag := fmt.Sprintf("localhost/creditrisk/pipeline:test-%d", os.Getpid())
	if _, err := podman(ctx, "build", "--format", "docker", "--pull=never",
		"--build-context", "build="+filepath.Join(tmp, "build"),
		"--file", filepath.Join(root, "Dockerfile"), "--tag", tag, root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { podman(context.Background(), "rmi", "--force", tag) })

	// The image: user, entrypoint and health check as the chart and compose
	// expect them, and nothing but the files of deploy/image/rootfs.
	out, err := podman(ctx, "image", "inspect", "--format", "json", tag)
	if err != nil {
		t.Fatal(err)
	}
	var images []struct {
		Config struct {
			User       string
			Entrypoint []string
			Env        []string
		}
		HealthCheck struct{ Test []string }
		RootFS      struct{ Layers []string }
	}
	if err := json.Unmarshal(out, &images); err != nil || len(images) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	img := images[0]
	if img.Config.User != "10001:10001" {
		t.Errorf("image user %q, want the numeric 10001:10001", img.Config.User)
	}
	if !slices.Equal(img.Config.Entrypoint, []string{"/usr/local/bin/pipeline"}) {
		t.Errorf("entrypoint %q", img.Config.Entrypoint)
	}
	if len(img.HealthCheck.Test) < 3 || img.HealthCheck.Test[0] != "CMD" || img.HealthCheck.Test[1] != "/usr/local/bin/pipeline" || img.HealthCheck.Test[2] != "healthcheck" {
		t.Errorf("health check %q: want the binary's own healthcheck, no shell", img.HealthCheck.Test)
	}
	if len(img.RootFS.Layers) != 1 {
		t.Errorf("%d layers, want 1 (FROM scratch, one COPY)", len(img.RootFS.Layers))
	}

	port := testkit.Port(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	name := fmt.Sprintf("pipeline-image-test-%d", os.Getpid())
	// Lower limits than the host's: runc may not raise them here.
	if _, err := podman(ctx, "run", "--detach", "--name", name,
		"--network", "host", "--read-only", "--tmpfs", "/tmp:rw,mode=1777",
		"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--ulimit", "nofile=4096:4096", "--ulimit", "nproc=1024:1024",
		"--volume", model+":/models/credit-risk:ro",
		"--env", "PIPELINE_SERVE_ADDR="+addr,
		tag, "serve", "--model", "/models/credit-risk", "--log-format", "text"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := podman(context.Background(), "logs", name)
			t.Logf("container log:\n%s", logs)
		}
		podman(context.Background(), "rm", "--force", "--time", "5", name)
	})

	base := "http://" + addr
	waitHTTP(t, base+"/ready", time.Minute)
	body, err := os.ReadFile(request)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/invocations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("predictions")) {
		t.Errorf("POST /invocations: %s: %s", resp.Status, b)
	}
	pb, _ := json.Marshal(requestRows(t, body)[0])
	resp, err = http.Post(base+"/predict", "application/json", bytes.NewReader(pb))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("probability")) {
		t.Errorf("POST /predict: %s: %s", resp.Status, b)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`api_requests_total{endpoint="/predict"`)) {
		t.Errorf("GET /metrics: %s: no api_requests_total of /predict", resp.Status)
	}

	// From inside the container: the image's HEALTHCHECK, and /ready asked
	// by the binary in the container.
	if out, err := podman(ctx, "healthcheck", "run", name); err != nil {
		t.Errorf("the image's HEALTHCHECK fails: %v", err)
	} else {
		t.Logf("podman healthcheck run: %s", bytes.TrimSpace(out))
	}
	if _, err := podman(ctx, "exec", name, "/usr/local/bin/pipeline", "healthcheck", base+"/ready"); err != nil {
		t.Errorf("pipeline healthcheck /ready inside the container: %v", err)
	}
	if _, err := podman(ctx, "exec", name, "/usr/local/bin/pipeline", "healthcheck", base+"/no-such-endpoint"); err == nil {
		t.Errorf("pipeline healthcheck of a 404 inside the container exited 0")
	}
	// The process, seen from the host: user 10001, no capabilities.
	pid, err := podman(ctx, "inspect", "--format", "{{.State.Pid}}", name)
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Uid:\t10001\t10001\t10001\t10001", "Gid:\t10001\t10001\t10001\t10001", "CapEff:\t0000000000000000", "NoNewPrivs:\t1"} {
		if !strings.Contains(string(status), want+"\n") {
			t.Errorf("serve's process status lacks %q:\n%s", want, status)
		}
	}
	if _, err := podman(ctx, "exec", name, "/bin/sh", "-c", "true"); err == nil {
		t.Errorf("the image has a shell; the runtime image is FROM scratch")
	}
}

// requestRows turns an MLflow dataframe_split request into /predict's
// objects (one per row, feature name to value).
func requestRows(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var req struct {
		DataframeSplit struct {
			Columns []string `json:"columns"`
			Data    [][]any  `json:"data"`
		} `json:"dataframe_split"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.DataframeSplit.Data) == 0 {
		t.Fatalf("request: %v", err)
	}
	var rows []map[string]any
	for _, d := range req.DataframeSplit.Data {
		row := map[string]any{}
		for i, c := range req.DataframeSplit.Columns {
			if d[i] != nil {
				row[c] = d[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}
