package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model"
)

// runServeCLI runs the command line as main does, returning the exit code.
func runServeCLI(ctx context.Context, stderr io.Writer, args ...string) int {
	return run(ctx, append([]string{"pipeline"}, args...), io.Discard, stderr)
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeUsage(t *testing.T) {
	localTracking(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve"}, 2, "--model"},
		{[]string{"serve", "--model", "models:/m@champion", "--addr", freeAddr(t)}, 1, "cannot load models:/m@champion"},
		{[]string{"serve", "--model", "x", "--unknown-features", "drop"}, 2, "drop"},
		{[]string{"serve", "--model", "x", "--threshold", "1.5"}, 2, "threshold"},
		{[]string{"serve", "--model", "x", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"serve", "--model", "s3://b/k"}, 2, "models:/NAME@ALIAS"},
		{[]string{"serve", "--model", t.TempDir(), "--addr", freeAddr(t)}, 1, "cannot load"},
	} {
		var errOut syncBuffer
		code := runServeCLI(context.Background(), &errOut, tc.args...)
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.msg)
		}
	}
}

// TestServeColdStartRegistryDown: with the registry unreachable the command
// exits with a clear error, or with --wait keeps serving /health with /ready
// false until it is stopped.
func TestServeColdStartRegistryDown(t *testing.T) {
	t.Setenv("MLFLOW_TRACKING_URI", "http://"+freeAddr(t))
	t.Setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
	var errOut syncBuffer
	code := runServeCLI(context.Background(), &errOut, "serve", "--model", "models:/credit@champion", "--addr", freeAddr(t))
	if code != 1 || !strings.Contains(errOut.String(), "cannot load models:/credit@champion") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- runServeCLI(ctx, &errOut, "serve", "--model", "models:/credit@champion", "--addr", addr, "--wait")
	}()
	waitStatus(t, "http://"+addr+"/health", 200)
	if code := get(t, "http://"+addr+"/ready"); code != 503 {
		t.Errorf("/ready %d while the registry is down", code)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("--wait: exit %d after cancel; stderr %s", code, errOut.String())
	}
}

func TestServeLocalModel(t *testing.T) {
	localTracking(t)
	tb, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Train(context.Background(), model.FamilyGBDT, tb, nil, model.TrainOptions{Params: map[string]string{"num_iterations": "10", "num_leaves": "7"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/model"
	if err := model.Save(dir, m, model.SaveOptions{Example: tb.Matrix([]int{0, 1})}); err != nil {
		t.Fatal(err)
	}
	want, _ := m.Predict(tb.Matrix([]int{4}))
	addr := freeAddr(t)
	t.Setenv("PIPELINE_SERVE_ADDR", addr) // flags come from the environment too
	t.Setenv("PIPELINE_SERVE_MODEL", dir)
	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncBuffer
	done := make(chan int)
	go func() { done <- runServeCLI(ctx, &errOut, "serve", "--threshold", "0.3") }()
	waitStatus(t, "http://"+addr+"/ready", 200)
	body, _ := json.Marshal(tb.Record(4))
	resp, err := http.Post("http://"+addr+"/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		P        float64 `json:"probability_of_default"`
		Decision string
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	wantD := "approve"
	if want[0] >= 0.3 {
		wantD = "decline"
	}
	if got.P != want[0] || got.Decision != wantD {
		t.Errorf("predict %+v, want %v %s", got, want[0], wantD)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d; stderr %s", code, errOut.String())
	}
	logs := errOut.String()
	if !strings.Contains(logs, `"msg":"model loaded"`) || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("logs lack load and stop lines: %s", logs)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitStatus(t *testing.T, url string, code int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if get(t, url) == code {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d", url, code)
}

// TestServeSIGHUP: after the model directory is rewritten, SIGHUP makes
// the running server load it.
func TestServeSIGHUP(t *testing.T) {
	localTracking(t)
	tb, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	save := func(dir, iters string) float64 {
		m, err := model.Train(context.Background(), model.FamilyGBDT, tb, nil, model.TrainOptions{Params: map[string]string{"num_iterations": iters, "num_leaves": "7"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := model.Save(dir, m, model.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		p, _ := m.Predict(tb.Matrix([]int{4}))
		return p[0]
	}
	dir := t.TempDir() + "/model"
	first := save(dir, "5")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int)
	go func() { done <- runServeCLI(ctx, &errOut, "serve", "--model", dir, "--addr", addr, "--poll", "0") }()
	waitStatus(t, "http://"+addr+"/ready", 200)
	body, _ := json.Marshal(tb.Record(4))
	score := func() float64 {
		resp, err := http.Post("http://"+addr+"/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			P float64 `json:"probability_of_default"`
		}
		json.NewDecoder(resp.Body).Decode(&got)
		return got.P
	}
	if p := score(); p != first {
		t.Fatalf("first model: %v, want %v", p, first)
	}
	tmp := t.TempDir() + "/model"
	second := save(tmp, "25")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for score() != second && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p := score(); p != second {
		t.Errorf("after SIGHUP: %v, want the new model's %v", p, second)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

// TestServeMatchesPredict: a model directory written by `pipeline train`
// is served, and /predict on the hold-out rows answers exactly what
// `pipeline predict` wrote for them. The directory's reference profile
// turns the drift gauges on.
func TestServeMatchesPredict(t *testing.T) {
	localTracking(t)
	out := t.TempDir()
	code, stdout, stderr := pipeline(t, "train", "--out", out, "--output", "json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var res struct {
		ModelDir string `json:"model_dir"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	holdout, scored := filepath.Join(out, "holdout.csv"), filepath.Join(out, "scored.csv")
	if code, _, stderr := pipeline(t, "predict", "--model", res.ModelDir, "--data", holdout, "--out", scored); code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	f, err := os.Open(scored)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	table, err := data.LoadFile(holdout, data.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	instances := make([]map[string]any, table.Rows())
	for i := range instances {
		instances[i] = table.Record(i)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- runServeCLI(ctx, &errOut, "serve", "--model", res.ModelDir, "--addr", addr, "--poll", "0")
	}()
	waitStatus(t, "http://"+addr+"/ready", 200)
	body, _ := json.Marshal(map[string]any{"instances": instances})
	resp, err := http.Post("http://"+addr+"/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Predictions []struct {
			P float64 `json:"probability_of_default"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(got.Predictions) != table.Rows() || len(recs)-1 != table.Rows() {
		t.Fatalf("status %d, %d predictions, %d scored rows, %d hold-out rows", resp.StatusCode, len(got.Predictions), len(recs)-1, table.Rows())
	}
	for i, p := range got.Predictions {
		rec := recs[i+1]
		want, err := strconv.ParseFloat(rec[len(rec)-1], 64)
		if err != nil || p.P != want {
			t.Fatalf("row %d: serve %v, pipeline predict %q", i, p.P, rec[len(rec)-1])
		}
	}
	mresp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if table.Rows() >= 100 && !strings.Contains(string(metrics), "model_score_psi ") {
		t.Errorf("no drift gauges after %d rows; is reference_profile.json in the trained directory?", table.Rows())
	}
	cancel()
	<-done
}
