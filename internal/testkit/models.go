package testkit

import (
	"context"
	"math"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
)

// German is the embedded German credit table, a new copy each call (so a
// test may change it).
func German(t testing.TB) *data.Table {
	t.Helper()
	tab, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// AllRows is every row of t as model input (feature vectors in schema
// order).
func AllRows(t *data.Table) [][]float64 {
	idx := make([]int, t.Rows())
	for i := range idx {
		idx[i] = i
	}
	return t.Matrix(idx)
}

// AUC is the area under the ROC curve of scores for labels (1 positive, 0
// negative; ties count one half), by ranks: a reference computed here so
// that tests do not check the code under test with itself. It is NaN when
// a class is missing.
func AUC(labels, scores []float64) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // the tie group's average 1-based rank
		for _, k := range idx[i:j] {
			if labels[k] == 1 {
				rankSum += mid
			}
		}
		i = j
	}
	for _, l := range labels {
		if l == 1 {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// RunPython runs python with args (a script and its arguments) and fails
// the test with the script's output when it exits non-zero or runs longer
// than timeout. env adds KEY=VALUE pairs to this process's environment;
// MLFLOW_TRACKING_URI is cleared unless env sets it, so a script never
// writes to a server by accident.
func RunPython(t testing.TB, timeout time.Duration, python string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = append(append(os.Environ(), "MLFLOW_TRACKING_URI=", "PYTHONWARNINGS=ignore"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", python, strings.Join(args, " "), err, out)
	}
	return out
}
