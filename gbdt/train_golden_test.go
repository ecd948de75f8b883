package gbdt

import (
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestTrainGolden pins the model files that training writes, by their
// SHA-256, for cases that take each way of building histograms and of
// searching splits: row-wise (Taiwan), columns and gathered rows shared by
// the goroutines (a synthetic set with NaN and a few-bin feature), and the
// search with L1 and monotone constraints. The hashes were written by the
// build before the assembly and the pruned search (299812f, with the fix
// of bfa8c64, without which the bagging case panics); this build, and
// -tags purego, must write the same bytes.
func TestTrainGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on taiwan_default.csv; skipped with -short")
	}
	taiwan := loadTaiwan(t).dataset()
	syn := sharedSet()
	for i := 0; i < len(syn.Labels); i += 13 {
		syn.Columns[4][i] = math.NaN()
	}
	var lines strings.Builder
	for _, tc := range []struct {
		name   string
		d      *Dataset
		params map[string]string
	}{
		{"taiwan", taiwan, map[string]string{"num_iterations": "60", "num_leaves": "63"}},
		{"taiwan-l1-monotone", taiwan, map[string]string{"num_iterations": "40", "lambda_l1": "0.5", "monotone_constraints": "-1,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0"}},
		{"synthetic", syn, map[string]string{"num_iterations": "30", "num_leaves": "31"}},
		{"synthetic-bagging", syn, map[string]string{"num_iterations": "20", "bagging_fraction": "0.7", "bagging_freq": "1", "feature_fraction": "0.8", "seed": "3"}},
	} {
		p := DefaultParams()
		p.NumThreads = 2
		for k, v := range tc.params {
			if err := p.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		var buf strings.Builder
		if err := trainOrFatal(t, p, tc.d, nil, nil).WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&lines, "%s %x\n", tc.name, sha256.Sum256([]byte(buf.String())))
	}
	testkit.Golden(t, "trained_models.sha256", []byte(lines.String()))
}
