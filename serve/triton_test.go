package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

// TestTritonClient: a real `pipeline serve` of a model trained and
// registered by `pipeline train`, asked by the official Triton HTTP client
// (tritonclient[http] from PyPI, in PIPELINE_PYTHON): liveness, readiness,
// model metadata and readiness, and infer with one tensor per feature built
// from the metadata (BYTES levels, FP64 numbers; then [N, 1] with INT64
// numbers; then the client's default, binary tensor data) on real German rows, which must equal /predict's answers for the
// same rows to 1e-12, warnings included; and the client reads the server's
// refusals.
func TestTritonClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pipeline train, pipeline serve and Python's tritonclient")
	}
	python := testkit.Python(t)
	if out, err := exec.Command(python, "-c", "import tritonclient.http").CombinedOutput(); err != nil {
		testkit.Unavailable(t, "tritonclient[http] in %s (requirements/mlflow3.txt; scripts/stack up installs it): %v\n%s", python, err, out)
	}
	bin := testkit.Pipeline(t)
	tmp := t.TempDir()
	env := []string{"MLFLOW_TRACKING_URI=file://" + filepath.Join(tmp, "mlruns")}
	train := exec.Command(bin, "train", "--model", "gbdt", "--set", "num_iterations=30", "--register", "credit", "--out", filepath.Join(tmp, "run"))
	train.Env = append(os.Environ(), env...)
	if out, err := train.CombinedOutput(); err != nil {
		t.Fatalf("pipeline train: %v\n%s", err, out)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.Port(t))
	base := "http://" + addr
	testkit.Start(t, env, bin, "serve", "--model", "models:/credit/1", "--addr", addr, "--log-level", "warn")
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipeline serve not ready after a minute: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Every 10th German applicant, and one with a level never seen in
	// training (scored as missing, with a warning on both paths).
	tb := testkit.German(t)
	var rows []map[string]any
	for i := 0; i < tb.Rows(); i += 10 {
		rows = append(rows, tb.Record(i))
	}
	odd := tb.Record(1)
	odd["purpose"] = "crypto"
	rows = append(rows, odd)
	rowsPath, outPath := filepath.Join(tmp, "rows.json"), filepath.Join(tmp, "triton.json")
	if err := os.WriteFile(rowsPath, []byte(mustJSON(t, rows)), 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.RunPython(t, 2*time.Minute, python, nil, filepath.Join("testdata", "triton_infer.py"), addr, "credit", rowsPath, outPath)
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ServerLive      bool `json:"server_live"`
		ServerReady     bool `json:"server_ready"`
		ModelReady      bool `json:"model_ready"`
		OtherModelReady bool `json:"other_model_ready"`
		VersionReady    bool `json:"version_ready"`

		Metadata                 V2ModelMetadata    `json:"metadata"`
		Probabilities            []float64          `json:"probabilities"`
		ProbabilitiesColumnInt64 []float64          `json:"probabilities_column_int64"`
		ProbabilitiesBinary      []float64          `json:"probabilities_binary"`
		WarningsBinary           []InstanceWarning  `json:"warnings_binary"`
		ID                       string             `json:"id"`
		ModelName                string             `json:"model_name"`
		ModelVersion             string             `json:"model_version"`
		Warnings                 []InstanceWarning  `json:"warnings"`
		Errors                   map[string]*string `json:"errors"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if !got.ServerLive || !got.ServerReady || !got.ModelReady || !got.VersionReady || got.OtherModelReady {
		t.Errorf("tritonclient saw live %v, ready %v, model ready %v, version ready %v, another model ready %v",
			got.ServerLive, got.ServerReady, got.ModelReady, got.VersionReady, got.OtherModelReady)
	}
	md := got.Metadata
	if md.Name != "credit" || len(md.Versions) != 1 || md.Versions[0] != "1" || len(md.Inputs) != len(tb.FeatureNames()) {
		t.Errorf("metadata %+v", md)
	}
	for _, in := range md.Inputs {
		c, _ := tb.Column(in.Name)
		if want := map[bool]string{true: "BYTES", false: "FP64"}[c.Kind == data.Categorical]; in.Datatype != want {
			t.Errorf("metadata input %s: %s, want %s", in.Name, in.Datatype, want)
		}
	}
	if got.ID != "triton-test" || got.ModelName != "credit" || got.ModelVersion != "1" {
		t.Errorf("infer answer id %q, model %q version %q", got.ID, got.ModelName, got.ModelVersion)
	}

	// /predict for the same rows, from the same server
	resp, err := http.Post(base+"/predict", ctJSON, bytes.NewReader([]byte(mustJSON(t, map[string]any{"instances": rows}))))
	if err != nil {
		t.Fatal(err)
	}
	want := decode[BatchResponse](t, resp.Body)
	resp.Body.Close()
	if len(want.Predictions) != len(rows) {
		t.Fatalf("/predict: %d answers for %d rows", len(want.Predictions), len(rows))
	}
	for name, ps := range map[string][]float64{"FP64 [N]": got.Probabilities, "INT64 [N, 1]": got.ProbabilitiesColumnInt64, "binary": got.ProbabilitiesBinary} {
		if len(ps) != len(rows) {
			t.Errorf("%s: %d probabilities for %d rows", name, len(ps), len(rows))
			continue
		}
		worst := 0.0
		for i, p := range ps {
			worst = math.Max(worst, math.Abs(p-want.Predictions[i].ProbabilityOfDefault))
		}
		if worst > 1e-12 {
			t.Errorf("%s: largest difference from /predict %g", name, worst)
		}
		t.Logf("tritonclient %s: %d rows, largest difference from /predict %g", name, len(ps), worst)
	}
	last := len(rows) - 1
	for _, ws := range [][]InstanceWarning{got.Warnings, got.WarningsBinary} {
		if len(ws) != 1 || ws[0].Instance != last || len(want.Predictions[last].Warnings) != 1 ||
			ws[0].Warning != want.Predictions[last].Warnings[0] {
			t.Errorf("warnings %+v, /predict %+v", ws, want.Predictions[last].Warnings)
		}
	}
	for name, sub := range map[string]string{
		"wrong_datatype": "datatype FP64: want BYTES", "missing_input": "required feature is missing",
		"unknown_model": `unknown model "credit-nope"`, "unknown_input": `field "zodiac": not a feature of the model`,
	} {
		if msg := got.Errors[name]; msg == nil || !strings.Contains(*msg, sub) {
			t.Errorf("%s: tritonclient raised %v, want a message with %q", name, deref(msg), sub)
		} else {
			t.Logf("%s: tritonclient raised %s", name, *msg)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "nothing"
	}
	return *s
}
