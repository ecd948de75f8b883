package ops_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/engine/dashboards"
	"github.com/creditrisk/engine/internal/testkit"
)

// TestLive runs a real Prometheus (the native stack's binary, on its own port
// and data folder) with the committed prometheus.yml and rule files against
// a real `pipeline serve` built from this tree, drives a short load, then
// checks through Prometheus' HTTP API that every dashboard query returns
// data and that each induced fault makes its alert pending or firing. The
// only changes to the committed files: 1 s scrape and evaluation intervals,
// `for:` shortened to 2 s, and the target files naming this test's ports.
func TestLive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the pipeline binary and runs Prometheus")
	}
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		testkit.Unavailable(t, "%s is unavailable", "the prometheus binary (Debian's prometheus package; scripts/stack up installs it)")
	}
	mlflowURI := testkit.TrackingURI(t) // the real MLflow 3.x, scraped as job mlflow
	ctx := t.Context()
	tmp := t.TempDir()

	bin := testkit.Pipeline(t)
	// A model directory with a reference profile, trained without MLflow.
	run := filepath.Join(tmp, "run")
	if out, err := runCmd(ctx, bin, []string{"MLFLOW_TRACKING_URI="}, "train", "--out", run); err != nil {
		t.Fatalf("pipeline train: %v\n%s", err, out)
	}
	modelDir := filepath.Join(run, "model")
	rows := holdoutRows(t, filepath.Join(run, "holdout.csv"))

	const token = "ops-test-token-0123456789abcdef01234"
	tokenFile := filepath.Join(tmp, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	portA := testkit.Port(t)
	startServe(t, bin, "a", portA, modelDir, "--admin-token-file", tokenFile, "--drift-window", "200")
	serveA := fmt.Sprintf("http://127.0.0.1:%d", portA)
	waitHTTP(t, serveA+"/ready", 30*time.Second)

	promPort := testkit.Port(t)
	promURL := fmt.Sprintf("http://127.0.0.1:%d", promPort)
	cfgDir := filepath.Join(tmp, "prometheus")
	targets := filepath.Join(cfgDir, "configs", "prometheus", "targets", "native")
	mlflowTarget := testkit.HostPort(t, mlflowURI)
	writeConfig(t, cfgDir)
	writeTargets(t, targets, "prometheus.yml", fmt.Sprintf("127.0.0.1:%d", promPort))
	writeTargets(t, targets, "serve.yml", fmt.Sprintf("127.0.0.1:%d", portA))
	writeTargets(t, targets, "mlflow.yml", mlflowTarget)
	testkit.Start(t, []string{"MLFLOW_TRACKING_URI="}, prom,
		"--config.file="+filepath.Join(cfgDir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(tmp, "tsdb"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort))
	waitHTTP(t, promURL+"/-/ready", 30*time.Second)

	instA := fmt.Sprintf("127.0.0.1:%d", portA)
	waitQuery(t, promURL, fmt.Sprintf(`up{job="serve",instance=%q} == 1`, instA), 30*time.Second)
	waitQuery(t, promURL, `up{job="mlflow"} == 1`, 30*time.Second)

	// A healthy load: single rows, batches, explanations and the MLflow
	// scoring protocol, every answer 200.
	client := &http.Client{Timeout: 10 * time.Second}
	for i, row := range rows[:min(len(rows), 200)] {
		post(t, client, serveA+"/predict", row, 200)
		if i%10 == 0 {
			post(t, client, serveA+"/explain", row, 200)
			post(t, client, serveA+"/predict", map[string]any{"instances": []any{row, rows[(i+1)%len(rows)]}}, 200)
			post(t, client, serveA+"/invocations", map[string]any{"dataframe_records": []any{row}}, 200)
		}
	}
	// A category the model never saw is scored as missing and counted.
	unseen := maps(rows[0])
	unseen["purpose"] = "a category never seen in training"
	post(t, client, serveA+"/predict", unseen, 200)
	waitQuery(t, promURL, `sum(api_requests_total{job="serve",endpoint="/predict",status="200"}) >= 221`, 30*time.Second)
	waitQuery(t, promURL, `model_unseen_categories_total{job="serve",feature="purpose"}`, 30*time.Second)
	waitQuery(t, promURL, `model_score_psi{job="serve"}`, 30*time.Second)
	time.Sleep(3 * time.Second) // a few evaluations of the rules on the healthy data
	// Latency is left out: on a machine busy with other tests a healthy
	// service can be slow, and that alert would be right.
	for _, name := range []string{"ServeDown", "ServeErrorRatioHigh", "ServeBadRequestRatioHigh", "ServeNoModelLoaded", "ModelReloadFailing", "MLflowDown"} {
		if st := alertStates(t, promURL)[name]; len(st) > 0 {
			t.Errorf("alert %s is %v before any fault", name, st)
		}
	}

	// Faults, each behind an alert.
	// A burst of bad requests (an unknown field) to serve A. A counter series
	// is born with its first increment, and rate() cannot see the increments
	// before the first scrape: one request, a scrape, then the burst.
	bad := map[string]any{"no_such_feature": 1}
	post(t, client, serveA+"/predict", bad, 400)
	waitQuery(t, promURL, fmt.Sprintf(`api_requests_total{instance=%q,endpoint="/predict",status="400"}`, instA), 30*time.Second)
	for range 300 {
		post(t, client, serveA+"/predict", bad, 400)
	}
	// Slow requests: clients that take 400 ms to send their body.
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() { slowPost(t, serveA+"/predict", rows[0], 400*time.Millisecond) })
	}
	wg.Wait()
	// Drift: the window (200 rows) filled with one unusual applicant.
	odd := maps(rows[0])
	odd["credit_amount"], odd["duration_in_month"], odd["age_in_years"] = 250000.0, 72.0, 19.0
	for range 200 {
		post(t, client, serveA+"/predict", odd, 200)
	}
	// A failing reload: the model file is corrupted and reloaded by hand.
	if err := os.WriteFile(filepath.Join(modelDir, "model.lgb"), []byte("not a model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, serveA+"/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /admin/reload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("POST /admin/reload of a corrupted model answered 200")
	}
	post(t, client, serveA+"/predict", rows[1], 200) // the old model still serves
	// A second instance without a model (its directory is empty; --wait keeps
	// it up), whose scoring requests fail with 503.
	portB := testkit.Port(t)
	instB := fmt.Sprintf("127.0.0.1:%d", portB)
	stopB := startServe(t, bin, "b", portB, t.TempDir(), "--wait")
	serveB := "http://" + instB
	waitHTTP(t, serveB+"/health", 30*time.Second)
	writeTargets(t, targets, "serve.yml", instA, instB)
	post(t, client, serveB+"/predict", rows[0], 503)
	waitQuery(t, promURL, fmt.Sprintf(`api_requests_total{instance=%q,endpoint="/predict",status="503"}`, instB), 30*time.Second)
	for range 20 {
		post(t, client, serveB+"/predict", rows[0], 503)
	}
	// An MLflow instance that is down: nothing listens on its port.
	deadMLflow := fmt.Sprintf("127.0.0.1:%d", testkit.Port(t))
	writeTargets(t, targets, "mlflow.yml", mlflowTarget, deadMLflow)

	want := map[string]string{ // alert -> instance it must name
		"ServeErrorRatioHigh":      instB,
		"ServeBadRequestRatioHigh": instA,
		"ServeLatencyP95High":      instA,
		"ServeNoModelLoaded":       instB,
		"ModelReloadFailing":       instA,
		"ModelScoreDrift":          instA,
		"ModelFeatureDrift":        instA,
		"MLflowDown":               deadMLflow,
	}
	waitAlerts(t, promURL, want, 60*time.Second)

	// Every dashboard query returns data (with Grafana's interval variables
	// replaced), and so does every alert expression, now that each fault is
	// on.
	data, err := os.ReadFile(filepath.Join(root, "configs", "grafana", "dashboards", "pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := dashboards.Queries(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		expr := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "15s", "$__range", "5m").Replace(q.Expr)
		if n := query(t, promURL, expr); n == 0 {
			t.Errorf("panel %q query %s: no data: %s", q.Panel, q.RefID, expr)
		}
	}
	for name, expr := range alertExprs(t) {
		if _, ok := want[name]; !ok {
			if name != "ServeDown" { // checked below
				t.Errorf("alert %s: no fault of this test induces it", name)
			}
			continue
		}
		if n := query(t, promURL, expr); n == 0 {
			t.Errorf("alert %s: its expression returns no data with the fault on", name)
		}
	}

	// Serve B goes down.
	stopB()
	waitAlerts(t, promURL, map[string]string{"ServeDown": instB}, 30*time.Second)
	if n := query(t, promURL, alertExprs(t)["ServeDown"]); n == 0 {
		t.Errorf("alert ServeDown: its expression returns no data with serve b down")
	}
	if t.Failed() {
		t.Logf("prometheus config and log: %s", tmp)
	}
}

func runCmd(ctx context.Context, bin string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = os.TempDir()
	return cmd.CombinedOutput()
}

func startServe(t *testing.T, bin, name string, port int, dir string, extra ...string) func() {
	t.Helper()
	args := append([]string{"serve", "--model", dir, "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--poll", "0", "--log-format", "text", "--log-level", "warn"}, extra...)
	return testkit.Start(t, []string{"MLFLOW_TRACKING_URI="}, bin, args...).Stop
}

func waitHTTP(t *testing.T, u string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %v (last error %v)", u, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// writeConfig copies the committed prometheus.yml and rule files into dir
// with 1 s intervals and 2 s `for:` durations.
func writeConfig(t *testing.T, dir string) {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(root, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(cfg)
	for _, k := range []string{"scrape_interval", "evaluation_interval"} {
		re := regexp.MustCompile(`(?m)^(\s+` + k + `:) 15s$`)
		if !re.MatchString(s) {
			t.Fatalf("prometheus.yml: no %s: 15s to shorten", k)
		}
		s = re.ReplaceAllString(s, "${1} 1s")
	}
	write(t, filepath.Join(dir, "prometheus.yml"), s)
	rules, err := filepath.Glob(filepath.Join(root, "configs", "prometheus", "rules", "*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files (%v)", err)
	}
	forRE := regexp.MustCompile(`(?m)^(\s+for:) \S+$`)
	for _, r := range rules {
		data, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, "configs", "prometheus", "rules", filepath.Base(r)),
			forRE.ReplaceAllString(string(data), "${1} 2s"))
	}
}

func writeTargets(t *testing.T, dir, file string, targets ...string) {
	t.Helper()
	b, _ := json.Marshal([]map[string]any{{"targets": targets}})
	// Write and rename so that Prometheus' file watcher never reads half a file.
	tmp := filepath.Join(dir, "."+file+".tmp")
	write(t, tmp, string(b))
	if err := os.Rename(tmp, filepath.Join(dir, file)); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// holdoutRows reads the run's holdout CSV as request objects (numbers as
// numbers, the label left out).
func holdoutRows(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) < 50 {
		t.Fatalf("%s: %d rows, want at least 50", path, len(recs)-1)
	}
	var rows []map[string]any
	for _, rec := range recs[1:] {
		row := map[string]any{}
		for j, col := range recs[0] {
			if col == "creditability" {
				continue
			}
			if v, err := strconv.ParseFloat(rec[j], 64); err == nil {
				row[col] = v
			} else {
				row[col] = rec[j]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func maps(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func post(t *testing.T, c *http.Client, u string, body any, want int) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d: %s", u, resp.StatusCode, want, out)
	}
}

// slowPost sends half the body, waits, then the rest: the request's latency
// as serve measures it includes reading the body.
func slowPost(t *testing.T, u string, body any, pause time.Duration) {
	b, _ := json.Marshal(body)
	pr, pw := io.Pipe()
	go func() {
		pw.Write(b[:len(b)/2])
		time.Sleep(pause)
		pw.Write(b[len(b)/2:])
		pw.Close()
	}()
	resp, err := http.Post(u, "application/json", pr)
	if err != nil {
		t.Errorf("slow POST %s: %v", u, err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("slow POST %s: %d", u, resp.StatusCode)
	}
}

// query runs an instant query and returns how many series it gave; an
// error fails the test.
func query(t *testing.T, promURL, expr string) int {
	t.Helper()
	resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("query %s: decode: %v", expr, err)
	}
	if r.Status != "success" {
		t.Errorf("query %s: %s: %s", expr, r.Status, r.Error)
		return 0
	}
	var vec []json.RawMessage
	if err := json.Unmarshal(r.Data.Result, &vec); err != nil {
		return 1 // a scalar
	}
	return len(vec)
}

func waitQuery(t *testing.T, promURL, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for query(t, promURL, expr) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no data for %s within %v", expr, timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// alertStates maps each active alert to its "state@instance" entries.
func alertStates(t *testing.T, promURL string) map[string][]string {
	t.Helper()
	resp, err := http.Get(promURL + "/api/v1/alerts")
	if err != nil {
		t.Fatalf("GET /api/v1/alerts: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode /api/v1/alerts: %v", err)
	}
	st := map[string][]string{}
	for _, a := range r.Data.Alerts {
		st[a.Labels["alertname"]] = append(st[a.Labels["alertname"]], a.State+"@"+a.Labels["instance"])
	}
	return st
}

// waitAlerts waits until each alert is pending or firing for its instance.
func waitAlerts(t *testing.T, promURL string, want map[string]string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := alertStates(t, promURL)
		var missing []string
		for name, inst := range want {
			ok := false
			for _, s := range st[name] {
				if strings.HasSuffix(s, "@"+inst) {
					ok = true
				}
			}
			if !ok {
				missing = append(missing, name+"@"+inst)
			}
		}
		if len(missing) == 0 {
			for name := range want {
				t.Logf("alert %s: %v", name, st[name])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts not pending or firing within %v: %v (active: %v)", timeout, missing, st)
		}
		time.Sleep(time.Second)
	}
}

// alertExprs reads the alert expressions of the committed rule files.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, "configs/prometheus/rules/pipeline.yml", &rf)
	exprs := map[string]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			exprs[r.Alert] = r.Expr
		}
	}
	return exprs
}
