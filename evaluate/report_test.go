package evaluate_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/testkit"
)

// TestReportGolden pins the layout of evaluation.json: field names and
// values for score_a of scores.csv at cut-off 0.3. Regenerate with
// go test ./evaluate -run TestReportGolden -update after a deliberate
// change (and bump SchemaVersion when a field is renamed or removed).
func TestReportGolden(t *testing.T) {
	t.Parallel()
	labels, cols := scores(t)
	r, err := evaluate.Evaluate(labels, cols["score_a"], 0.3)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "report_golden.json")
	if testkit.Update() {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Same keys, numbers within tol: a byte comparison would break on
	// platforms that fuse multiply-adds.
	var got, exp any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	compareJSON(t, "evaluation.json", got, exp)
	if t.Failed() {
		t.Logf("rerun with -update if the change is intended; new output:\n%s", buf.String())
	}
	back, err := evaluate.ReadReport(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if back.AUC != r.AUC || back.AtCutoff != r.AtCutoff || len(back.Lift) != 10 || len(back.Calibration) != 10 {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	labels, cols := scores(t)
	r, err := evaluate.Evaluate(labels, cols["score_b"], 0.5)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics()
	want := []string{"accuracy", "approval_rate", "auc", "bad_rate_approved", "brier", "ece",
		"f1", "gini", "ks", "log_loss", "precision", "recall"}
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
		t.Fatalf("metric names %v, want %v", got, want)
	}
	for name, v := range map[string]float64{"auc": r.AUC, "ks": r.KS, "f1": r.AtCutoff.F1, "ece": r.ECE,
		"bad_rate_approved": r.AtCutoff.BadRateApproved} {
		if m[name] != v {
			t.Errorf("Metrics()[%q] = %v, want %v", name, m[name], v)
		}
	}
	for name, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < -1 {
			t.Errorf("metric %s = %v", name, v)
		}
	}
}

func TestReadReportErrors(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(filepath.Join("testdata", "report_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, in string }{
		{"empty", ""},
		{"not JSON", "auc=0.7"},
		{"wrong version", strings.Replace(string(good), `"schema_version": 1`, `"schema_version": 2`, 1)},
		{"unknown field", strings.Replace(string(good), `"n":`, `"rows": 1, "n":`, 1)},
		{"auc out of range", strings.Replace(string(good), `"auc": 0.`, `"auc": 1.`, 1)},
		{"counts disagree", strings.Replace(string(good), `"bads": 329`, `"bads": 330`, 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.in == string(good) {
				t.Fatal("replacement did not apply")
			}
			_, err := evaluate.ReadReport(strings.NewReader(tt.in))
			if !errors.Is(err, evaluate.ErrReport) {
				t.Errorf("error %v, want ErrReport", err)
			}
		})
	}
}

// floats decodes fuzz bytes into float64s, 8 bytes each.
func floats(b []byte) []float64 {
	var v []float64
	for len(b) >= 8 {
		v = append(v, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		b = b[8:]
	}
	return v
}

func bytesOf(v ...float64) []byte {
	var b []byte
	for _, f := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	return b
}

// FuzzEvaluate checks that any input, NaN, Inf and empty included, gives
// either an error or a report whose numbers are finite and in range and
// which marshals to JSON; and that DeLong and PSI never panic either.
func FuzzEvaluate(f *testing.F) {
	f.Add(bytesOf(0, 1, 0, 1), bytesOf(0.1, 0.9, 0.4, 0.35), 0.5)
	f.Add(bytesOf(0, 1), bytesOf(math.NaN(), 0.2), 0.5)
	f.Add(bytesOf(0, 1), bytesOf(math.Inf(1), math.Inf(-1)), 0.5)
	f.Add([]byte{}, []byte{}, 0.5)
	f.Add(bytesOf(1, 1, 0), bytesOf(0, 0, 1), math.NaN())
	f.Add(bytesOf(0, 1, 1, 0, 0), bytesOf(1, 1, 0, 0, 1), 1.0)
	f.Add(bytesOf(0, 1, 1, 0, 0), bytesOf(-math.MaxFloat64, math.MaxFloat64, 5e-324, 0, 1), 0.0)
	f.Fuzz(func(t *testing.T, lb, sb []byte, cutoff float64) {
		labels, scores := floats(lb), floats(sb)
		// Labels are mostly valid so the fuzzer reaches the metrics.
		for i, l := range labels {
			if !math.IsNaN(l) && l != 0 && l != 1 && i%3 != 0 {
				labels[i] = float64(int64(math.Abs(l)) % 2)
			}
		}
		r, err := evaluate.Evaluate(labels, scores, cutoff)
		if err == nil {
			for name, v := range r.Metrics() {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < -1 || (v > 1 && name != "log_loss") {
					t.Fatalf("metric %s = %v for labels %v scores %v", name, v, labels, scores)
				}
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("marshal report: %v", err)
			}
			var buf bytes.Buffer
			if err := r.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			if _, err := evaluate.ReadReport(&buf); err != nil {
				t.Fatalf("read back own report: %v", err)
			}
		}
		if d, err := evaluate.DeLong(labels, scores, reversed(scores)); err == nil {
			if _, err := json.Marshal(d); err != nil || d.P < 0 || d.P > 1 {
				t.Fatalf("DeLong %+v: %v", d, err)
			}
		}
		if p, err := evaluate.PSI(labels, scores); err == nil {
			if math.IsNaN(p.PSI) || p.PSI < 0 {
				t.Fatalf("PSI %v", p.PSI)
			}
		}
	})
}

func reversed(v []float64) []float64 {
	r := slices.Clone(v)
	slices.Reverse(r)
	return r
}

// FuzzReadReport feeds arbitrary bytes to the evaluation.json decoder.
func FuzzReadReport(f *testing.F) {
	good, err := os.ReadFile(filepath.Join("testdata", "report_golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"schema_version":1,"n":1,"bads":1,"goods":0,"auc":NaN}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := evaluate.ReadReport(bytes.NewReader(b))
		if err == nil {
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("accepted report does not marshal: %v", err)
			}
		}
	})
}
