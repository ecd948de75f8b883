package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/promote"
	"github.com/creditrisk/engine/tracking"
)

// TestLocalRegistryFlow: with no MLflow variables set, the whole job runs
// against ./mlruns: two trainings, promotion of the first and then of the
// better second (its gates scored on the local holdout), the registry
// listings, a rollback, and a server following the alias that picks up a
// later promotion. MLflow's client (2.9.2, and 3.x with file stores allowed)
// then reads the alias, the version's promotion tags and the promotion run
// from the same directory.
func TestLocalRegistryFlow(t *testing.T) {
	script, err := filepath.Abs("testdata/read_local_store.py")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	t.Setenv("MLFLOW_TRACKING_URI", "")
	const name = "credit-risk"

	for i, extra := range [][]string{nil, {"--set", "num_leaves=7", "--set", "learning_rate=0.1"}} {
		args := append([]string{"train", "--register", name}, extra...)
		if code, _, stderr := pipeline(t, args...); code != 0 {
			t.Fatalf("train %d: exit %d: %s", i+1, code, stderr)
		}
	}

	promoteJSON := func(args ...string) promote.Decision {
		t.Helper()
		code, stdout, stderr := pipeline(t, append([]string{"promote", "--name", name, "--output", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("promote %v: exit %d: %s%s", args, code, stdout, stderr)
		}
		var d promote.Decision
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("promote %v output: %v\n%s", args, err, stdout)
		}
		return d
	}
	d := promoteJSON("--version", "1")
	if !d.Applied || d.Candidate.Version != "1" || d.Champion != nil || d.HoldoutRows == 0 {
		t.Fatalf("first promotion: applied %v, candidate %s, champion %v, %d holdout rows",
			d.Applied, d.Candidate.Version, d.Champion, d.HoldoutRows)
	}
	d = promoteJSON("--latest")
	if !d.Applied || d.Candidate.Version != "2" || d.Champion == nil || d.Champion.Version != "1" {
		t.Fatalf("second promotion: applied %v, candidate %s, champion %+v", d.Applied, d.Candidate.Version, d.Champion)
	}
	if d.Comparison == nil || d.HoldoutRows != 200 || !strings.HasSuffix(d.Holdout, "/"+tracking.HoldoutFile) {
		t.Errorf("champion gates not scored on the candidate run's holdout: %q, %d rows, comparison %v", d.Holdout, d.HoldoutRows, d.Comparison)
	}
	if d.CandidateHoldout["auc"] <= d.ChampionHoldout["auc"] {
		t.Errorf("holdout AUC: candidate %v, champion %v; the second config should be better", d.CandidateHoldout["auc"], d.ChampionHoldout["auc"])
	}
	// The same candidate again is refused: it already holds the alias.
	if code, _, stderr := pipeline(t, "promote", "--name", name, "--latest"); code != 1 || !strings.Contains(stderr, "already holds") {
		t.Errorf("promoting the champion again: exit %d: %s", code, stderr)
	}

	code, stdout, stderr := pipeline(t, "models", "list", "--output", "json")
	var list []promote.ModelSummary
	if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil {
		t.Fatalf("models list: exit %d: %s%s", code, stdout, stderr)
	}
	if len(list) != 1 || list[0].Name != name || list[0].Versions != 2 || list[0].Aliases[promote.DefaultAlias] != "2" {
		t.Errorf("models list: %+v", list)
	}
	show := func() promote.ModelDetail {
		t.Helper()
		code, stdout, stderr := pipeline(t, "models", "show", name, "--output", "json")
		var m promote.ModelDetail
		if code != 0 || json.Unmarshal([]byte(stdout), &m) != nil {
			t.Fatalf("models show: exit %d: %s%s", code, stdout, stderr)
		}
		return m
	}
	m := show()
	if h := m.History[promote.DefaultAlias]; !slices.Equal(h, []string{"1", "2"}) {
		t.Errorf("history of @champion %v, want [1 2]", h)
	}
	if len(m.Versions) != 2 || m.Versions[0].Version != "2" || m.Versions[0].Kind != "promote" || m.Versions[0].Metrics["test_auc"] == 0 {
		t.Errorf("models show versions: %+v", m.Versions)
	}
	if code, stdout, _ := pipeline(t, "models", "show", name); code != 0 || !strings.Contains(stdout, "champion") {
		t.Errorf("models show (text): exit %d:\n%s", code, stdout)
	}

	code, stdout, stderr = pipeline(t, "rollback", "--name", name, "--reason", "test", "--output", "json")
	var rb promote.RollbackResult
	if code != 0 || json.Unmarshal([]byte(stdout), &rb) != nil {
		t.Fatalf("rollback: exit %d: %s%s", code, stdout, stderr)
	}
	if rb.From != "2" || rb.To != "1" {
		t.Errorf("rollback %s -> %s, want 2 -> 1", rb.From, rb.To)
	}
	if a := show().Aliases[promote.DefaultAlias]; a != "1" {
		t.Errorf("after rollback @champion = %q, want 1", a)
	}

	// A server follows the local alias and picks up the next promotion.
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- runServeCLI(ctx, &errOut, "serve", "--model", "models:/"+name+"@champion", "--addr", addr, "--poll", "200ms")
	}()
	waitStatus(t, "http://"+addr+"/ready", 200)
	tb, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(tb.Record(4))
	served := func() string {
		t.Helper()
		resp, err := http.Post("http://"+addr+"/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			Model struct{ Name, Version string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("predict: status %d, %v", resp.StatusCode, err)
		}
		return got.Model.Name + "/" + got.Model.Version
	}
	if v := served(); v != name+"/1" {
		t.Fatalf("serving %s, want %s/1", v, name)
	}
	promoteJSON("--version", "2")
	start := time.Now()
	for served() != name+"/2" && time.Since(start) < 5*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	if v := served(); v != name+"/2" {
		t.Errorf("5s after the promotion the server still answers with %s; logs:\n%s", v, errOut.String())
	} else {
		t.Logf("server switched to version 2 %v after the promotion", time.Since(start).Round(time.Millisecond))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve: exit %d: %s", code, errOut.String())
	}

	root, err := filepath.Abs("mlruns")
	if err != nil {
		t.Fatal(err)
	}
	// MLflow 2.9.2 reads the local store directly, 3.x once file stores are
	// allowed.
	t.Run("mlflow-2.9.2", func(t *testing.T) {
		checkLocalStore(t, testkit.Python2(t), script, root, name)
	})
	t.Run("mlflow-3", func(t *testing.T) {
		t.Setenv("MLFLOW_ALLOW_FILE_STORE", "true")
		checkLocalStore(t, testkit.Python(t), script, root, name)
	})
}

// checkLocalStore has MLflow's client py read the store at root after
// version 2 was promoted over version 1, and checks what it sees.
func checkLocalStore(t *testing.T, py, script, root, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script, name, promote.DefaultAlias)
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI=file://"+root)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var got struct {
		Aliases   map[string]string `json:"aliases"`
		ModelTags map[string]string `json:"model_tags"`
		Version   string            `json:"version"`
		Tags      map[string]string `json:"tags"`
		Run       struct {
			Status     string            `json:"status"`
			Experiment string            `json:"experiment"`
			Params     map[string]string `json:"params"`
			Tags       map[string]string `json:"tags"`
			Artifacts  []string          `json:"artifacts"`
		} `json:"run"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %s: %v", out, err)
	}
	if got.Aliases[promote.DefaultAlias] != "2" || got.Version != "2" {
		t.Errorf("aliases %v, @champion = v%s; want 2", got.Aliases, got.Version)
	}
	if h := got.ModelTags[promote.HistoryTag(promote.DefaultAlias)]; h != "1,2" {
		t.Errorf("history %q, want 1,2", h)
	}
	for k, want := range map[string]string{
		promote.TagPromotedAlias: promote.DefaultAlias, promote.TagPreviousChampion: "1",
		promote.TagKind: "promote", promote.TagForced: "false",
	} {
		if got.Tags[k] != want {
			t.Errorf("version tag %s = %q, want %q (tags %v)", k, got.Tags[k], want, got.Tags)
		}
	}
	if got.Tags[promote.TagPromotedAt] == "" || got.Tags[promote.TagGates] == "" {
		t.Errorf("version tags lack promoted_at or the gates: %v", got.Tags)
	}
	r := got.Run
	if r.Status != "FINISHED" || r.Experiment != promote.DefaultExperiment || r.Params["champion_version"] != "1" || r.Tags["outcome"] != "promoted" {
		t.Errorf("promotion run: %s in %q, params %v, tags %v", r.Status, r.Experiment, r.Params, r.Tags)
	}
	if !slices.Contains(r.Artifacts, promote.DecisionFile) || !slices.Contains(r.Artifacts, promote.ROCFile) {
		t.Errorf("promotion run artifacts %v", r.Artifacts)
	}
}

// TestLocalRegistryEmpty: against an empty local store the registry
// commands name what is missing.
func TestLocalRegistryEmpty(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("MLFLOW_TRACKING_URI", "")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"promote", "--name", "m", "--version", "1"}, 1, "get m version 1"},
		{[]string{"promote", "--name", "m", "--latest"}, 1, "m has no versions"},
		{[]string{"rollback", "--name", "m"}, 1, `m has no alias "champion"`},
		{[]string{"models", "show", "m"}, 1, "get registered model m"},
		{[]string{"models", "list"}, 0, ""},
	} {
		code, stdout, stderr := pipeline(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
		if tc.code == 0 && !strings.HasPrefix(stdout, "NAME") {
			t.Errorf("%v: stdout %q", tc.args, stdout)
		}
	}
}
