package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditrisk/engine/mlflow"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestReloadUnderLoad moves the alias through three good versions and one
// corrupt one while 8 clients score: no request fails, every answer's
// probability is the one of the version it names, and the corrupt version
// is refused while its predecessor keeps serving.
func TestReloadUnderLoad(t *testing.T) {
	iters := map[string]int{"1": 5, "2": 10, "3": 20, "4": 15, "5": 30}
	src := &fakeSource{dirs: map[string]string{}, cur: "1"}
	want := map[string]float64{}
	row := table(t).Matrix([]int{7})
	for v, n := range iters {
		src.dirs[v] = writeModel(t, t.TempDir(), n, "run"+v)
		p, err := tinyModel(t, n).Predict(row)
		if err != nil {
			t.Fatal(err)
		}
		want[v] = p[0]
	}
	corrupt(t, src.dirs["4"])
	s, _ := newServer(t, src, Options{})
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	body := []byte(mustJSON(t, record(t, 7)))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var total, failed atomic.Int64
	seen := sync.Map{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := ts.Client().Post(ts.URL+"/predict", ctJSON, bytes.NewReader(body))
				total.Add(1)
				if err != nil {
					failed.Add(1)
					t.Errorf("request: %v", err)
					continue
				}
				if resp.StatusCode != 200 {
					failed.Add(1)
					t.Errorf("status %d", resp.StatusCode)
				}
				r := decode[PredictResponse](t, resp.Body)
				resp.Body.Close()
				if r.ProbabilityOfDefault != want[r.Model.Version] {
					failed.Add(1)
					t.Errorf("answer names version %s but has probability %v, that version gives %v", r.Model.Version, r.ProbabilityOfDefault, want[r.Model.Version])
				}
				seen.Store(r.Model.Version, true)
			}
		}()
	}
	step := func(v string, wantErr bool) {
		time.Sleep(300 * time.Millisecond)
		src.set(v)
		_, err := s.Reload(ctx, false)
		if (err != nil) != wantErr {
			t.Errorf("reload to %s: err %v, want error %v", v, err, wantErr)
		}
	}
	step("2", false)
	step("3", false)
	step("4", true) // corrupt: refused
	if cur := s.current.Load().ver.Version; cur != "3" {
		t.Errorf("after the corrupt version, serving %s, want 3", cur)
	}
	if _, err := s.Reload(ctx, false); err != nil { // polling again skips it
		t.Errorf("second poll of the refused version: %v", err)
	}
	step("5", false)
	time.Sleep(300 * time.Millisecond)
	cancel()
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed", failed.Load(), total.Load())
	}
	for _, v := range []string{"1", "2", "3", "5"} {
		if _, ok := seen.Load(v); !ok {
			t.Errorf("no answer from version %s", v)
		}
	}
	if _, ok := seen.Load("4"); ok {
		t.Error("the corrupt version answered")
	}
	for res, n := range map[string]float64{"success": 4, "failure": 1, "skipped": 1} {
		if got := testutil.ToFloat64(s.m.reloads.WithLabelValues(res)); got != n {
			t.Errorf("model_reloads_total{result=%q} = %v, want %v", res, got, n)
		}
	}
	if got := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepVerify)); got != 1 {
		t.Errorf("verify failures %v", got)
	}
	if n := testutil.CollectAndCount(s.m.info); n != 1 {
		t.Errorf("model_info has %d series after reloads, want 1", n)
	}
	t.Logf("%d requests, 0 failed", total.Load())
}

func TestReloadFailures(t *testing.T) {
	dir := writeModel(t, t.TempDir(), 10, "run1")
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, src *fakeSource)
		step  string
	}{
		{"registry down", func(t *testing.T, src *fakeSource) { src.fail = errors.New("connection refused") }, StepResolve},
		{"download", func(t *testing.T, src *fakeSource) { src.set("9") }, StepDownload},
		{"checksum", func(t *testing.T, src *fakeSource) {
			d := writeModel(t, t.TempDir(), 20, "run2")
			corrupt(t, d)
			src.dirs["2"] = d
			src.set("2")
		}, StepVerify},
		{"not a model", func(t *testing.T, src *fakeSource) {
			d := t.TempDir()
			src.dirs["2"] = d
			src.set("2")
		}, StepLoad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{dirs: map[string]string{"1": dir}, cur: "1"}
			s, _ := newServer(t, src, Options{})
			if _, err := s.Reload(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, src)
			_, err := s.Reload(context.Background(), false)
			var re *ReloadError
			if !errors.As(err, &re) || re.Step != tc.step {
				t.Fatalf("err %v, want a ReloadError at step %s", err, tc.step)
			}
			h := s.Handler()
			if w := do(t, h, "GET", "/ready", "", ""); w.Code != 200 {
				t.Errorf("/ready %d after a failed reload", w.Code)
			}
			w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, 0)))
			if w.Code != 200 || decode[PredictResponse](t, w.Body).Model.Version != "1" {
				t.Errorf("predict after a failed reload: %d", w.Code)
			}
			if got := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(tc.step)); got != 1 {
				t.Errorf("failures{step=%s} = %v", tc.step, got)
			}
		})
	}
}

// TestPythonDirWithoutChecksums: a version for which the registry recorded
// nothing (logged by Python's mlflow, no checksums.json) is refused by
// default and loads with AllowUnverified, said so by /version and
// model_info.
func TestPythonDirWithoutChecksums(t *testing.T) {
	dir := writeModel(t, t.TempDir(), 10, "run1")
	if err := removeFile(dir, "checksums.json"); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{dirs: map[string]string{"1": dir}, recorded: map[string]Recorded{"1": {}}, cur: "1"}
	s, _ := newServer(t, src, Options{})
	_, err := s.Reload(context.Background(), false)
	var re *ReloadError
	if !errors.As(err, &re) || re.Step != StepVerify || !errors.Is(err, ErrUnverified) || !strings.Contains(err.Error(), "--allow-unverified") {
		t.Errorf("a version with nothing recorded: %v, want ErrUnverified at the verify step naming --allow-unverified", err)
	}
	s2, _ := newServer(t, src, Options{AllowUnverified: true})
	if _, err := s2.Reload(context.Background(), false); err != nil {
		t.Fatalf("with AllowUnverified: %v", err)
	}
	v := decode[VersionResponse](t, do(t, s2.Handler(), "GET", "/version", "", "").Body)
	if v.Model == nil || v.Model.Integrity != IntegrityUnverified {
		t.Errorf("/version model: %+v, want integrity %q", v.Model, IntegrityUnverified)
	}
	want := `model_info{alias="champion",integrity="unverified",name="fake",run_id="run1",version="1"} 1`
	if w := do(t, s2.Handler(), "GET", "/metrics", "", ""); !strings.Contains(w.Body.String(), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

func TestLocalSource(t *testing.T) {
	dir := writeModel(t, t.TempDir(), 10, "run1")
	src, err := NewSource(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newServer(t, src, Options{})
	res, err := s.Reload(context.Background(), false)
	if err != nil || !res.Changed {
		t.Fatalf("load: %v %+v", err, res)
	}
	if res, _ := s.Reload(context.Background(), false); res.Changed {
		t.Error("unchanged directory reloaded")
	}
	// rewrite the directory with another model: the key changes
	if err := removeAll(dir); err != nil {
		t.Fatal(err)
	}
	writeModel(t, dir, 20, "run2")
	if res, err := s.Reload(context.Background(), false); err != nil || !res.Changed {
		t.Errorf("rewritten directory: %v %+v", err, res)
	}
	for _, bad := range []string{"models:/", "s3://bucket/x", "models:/m@champion"} {
		if _, err := NewSource(bad, nil); err == nil {
			t.Errorf("NewSource(%q) without a client: no error", bad)
		}
	}
}

func TestPollAndTrigger(t *testing.T) {
	s, _, src := loaded(t, Options{})
	src.dirs["2"] = writeModel(t, t.TempDir(), 20, "run2")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, 200*time.Millisecond); close(done) }()
	src.set("2")
	waitVersion(t, s, "2", 200*time.Millisecond+2*time.Second)
	src.set("1")
	s.Trigger()
	waitVersion(t, s, "1", time.Second)
	cancel()
	<-done
}

func waitVersion(t *testing.T, s *Server, v string, within time.Duration) {
	t.Helper()
	// within is how soon the switch is expected on a quiet machine; it is
	// logged when exceeded, not failed (no test asserts wall time), and
	// the switch must come within a generous deadline.
	start := time.Now()
	deadline := start.Add(within + 30*time.Second)
	for time.Now().Before(deadline) {
		if s.current.Load().ver.Version == v {
			if took := time.Since(start); took > within {
				t.Logf("version %s served after %v, expected within %v (a loaded machine?)", v, took.Round(time.Millisecond), within)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("version %s not served within %v (serving %s)", v, within+30*time.Second, s.current.Load().ver.Version)
}

const adminToken = "s3cret-0123456789abcdef0123456789abcdef"

func TestAdminReload(t *testing.T) {
	s, _, src := loaded(t, Options{AdminToken: adminToken})
	src.dirs["2"] = writeModel(t, t.TempDir(), 20, "run2")
	h := s.Handler()
	for _, tc := range []struct {
		auth string
		code int
	}{{"", 401}, {"Bearer nope", 401}, {"Basic " + adminToken, 401}, {"Bearer " + adminToken, 200}} {
		w := do(t, h, "POST", "/admin/reload", "", "", "Authorization", tc.auth)
		if w.Code != tc.code {
			t.Errorf("auth %q: %d, want %d", tc.auth, w.Code, tc.code)
		}
	}
	src.set("2")
	w := do(t, h, "POST", "/admin/reload", "", "", "Authorization", "Bearer "+adminToken)
	if w.Code != 200 || s.current.Load().ver.Version != "2" {
		t.Fatalf("reload: %d %s", w.Code, w.Body)
	}
	src.set("7")
	if w := do(t, h, "POST", "/admin/reload", "", "", "Authorization", "Bearer "+adminToken); w.Code != http.StatusBadGateway {
		t.Errorf("reload of a missing version: %d %s", w.Code, w.Body)
	}
	s2, _, _ := loaded(t, Options{})
	if w := do(t, s2.Handler(), "POST", "/admin/reload", "", "", "Authorization", "Bearer "); w.Code != 404 {
		t.Errorf("without a token configured: %d", w.Code)
	}
}

func TestWebhook(t *testing.T) {
	const secret = "whsec-0123456789abcdef0123456789abcdef"
	s, _, src := loaded(t, Options{WebhookSecret: secret})
	src.dirs["2"] = writeModel(t, t.TempDir(), 20, "run2")
	h := s.Handler()
	body := `{"entity":"model_version_alias","action":"created","timestamp":"2026-01-01T00:00:00Z","data":{"name":"fake","alias":"champion","version":"2"}}`
	now := strconv.FormatInt(time.Now().Unix(), 10)
	send := func(id, ts, sig, b string) int {
		return do(t, h, "POST", "/webhooks/mlflow", ctJSON, b, mlflow.HeaderDeliveryID, id, mlflow.HeaderTimestamp, ts, mlflow.HeaderSignature, sig).Code
	}
	old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	for _, tc := range []struct {
		name, id, ts, sig, body string
		code                    int
	}{
		{"no signature", "d1", now, "", body, 401},
		{"wrong secret", "d1", now, mlflow.SignWebhook("other", "d1", now, []byte(body)), body, 401},
		{"body changed", "d1", now, mlflow.SignWebhook(secret, "d1", now, []byte(body)), body + " ", 401},
		{"id changed", "d2", now, mlflow.SignWebhook(secret, "d1", now, []byte(body)), body, 401},
		{"old timestamp", "d3", old, mlflow.SignWebhook(secret, "d3", old, []byte(body)), body, 401},
		{"bad timestamp", "d3", "soon", mlflow.SignWebhook(secret, "d3", "soon", []byte(body)), body, 401},
		{"other model", "d4", now, mlflow.SignWebhook(secret, "d4", now, []byte(`{"entity":"model_version_alias","data":{"name":"x"}}`)), `{"entity":"model_version_alias","data":{"name":"x"}}`, 200},
		{"rotated secrets", "d6", now, "v1,AAAA " + mlflow.SignWebhook(secret, "d6", now, []byte(body)), body, 202},
		{"good", "d5", now, mlflow.SignWebhook(secret, "d5", now, []byte(body)), body, 202},
		{"replay", "d5", now, mlflow.SignWebhook(secret, "d5", now, []byte(body)), body, 409},
	} {
		if code := send(tc.id, tc.ts, tc.sig, tc.body); code != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.code)
		}
	}
	// the trigger reaches Run, which loads version 2 at once (no polling)
	src.set("2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx, 0)
	waitVersion(t, s, "2", time.Second)
	if got := testutil.ToFloat64(s.m.webhooks.WithLabelValues("rejected")); got != 7 {
		t.Errorf("rejected deliveries %v, want 7", got)
	}
}

func TestGracefulShutdown(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	slow := make(chan struct{})
	hs := s.HTTPServer("127.0.0.1:0")
	inner := hs.Handler
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(slow)
			time.Sleep(300 * time.Millisecond)
			r.URL.Path = "/health"
		}
		inner.ServeHTTP(w, r)
	})
	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, hs, ln, 5*time.Second) }()
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/slow", ln.Addr()))
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-slow
	cancel() // SIGTERM in the command
	if code := <-got; code != 200 {
		t.Errorf("in-flight request during shutdown: %d", code)
	}
	if err := <-errc; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Get(fmt.Sprintf("http://%s/health", ln.Addr())); err == nil {
		t.Error("still accepting after shutdown")
	}
}
