package train

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/report"
	"github.com/creditrisk/engine/tracking"
)

// TestDateColumn: a date column gives the data profile its period and
// monthly default rates and is never a feature; a value that is not a date
// is refused naming the column and row.
func TestDateColumn(t *testing.T) {
	lines := bytes.Split(bytes.TrimSpace(data.DefaultCSV()), []byte("\n"))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s,application_date\n", lines[0])
	for i, l := range lines[1:] {
		fmt.Fprintf(&b, "%s,2021-%02d-%02d\n", l, 1+i%12, 1+i%28)
	}
	path := filepath.Join(t.TempDir(), "dated.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Model.Family = model.FamilyLogistic
	cfg.Data = DataConfig{Path: path, Label: "creditability", Positive: "bad", Date: "application_date"}
	res, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(m.Schema().Names(), "application_date") {
		t.Error("the date column is a feature")
	}
	prof, err := report.ReadDataProfile(filepath.Join(res.OutDir, tracking.DataProfileFile))
	if err != nil {
		t.Fatal(err)
	}
	p := prof.Period
	if p == nil || p.First != "2021-01-01" || p.Last != "2021-12-28" || len(p.Months) != 12 || p.Rows != 1000 || p.Months[0].Rows != 84 {
		t.Fatalf("period %+v", p)
	}
	if i := slices.IndexFunc(prof.Columns, func(c report.ColumnProfile) bool { return c.Name == "application_date" }); i < 0 || prof.Columns[i].Role != report.RoleDate {
		t.Errorf("columns %+v", prof.Columns)
	}
	if h, _ := os.ReadFile(filepath.Join(res.OutDir, tracking.HoldoutFile)); !bytes.Contains(h, []byte("application_date")) {
		t.Error("the holdout lost the date column")
	}

	bad := bytes.Replace(b.Bytes(), []byte("2021-03-03\n"), []byte("soon\n"), 1)
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `"soon" is not a date`) || !strings.Contains(err.Error(), "application_date") {
		t.Fatalf("a bad date: %v", err)
	}
}

// A protected column the data lacks, or bands on a categorical one, is a
// config error naming the key, before anything trains.
func TestProtectedRefused(t *testing.T) {
	for _, tc := range []struct {
		p    report.Protected
		want string
	}{
		{report.Protected{Column: "race"}, `no column "race"`},
		{report.Protected{Column: "personal_status_and_sex", Bands: []float64{1}}, "bands apply to numeric columns"},
	} {
		cfg := DefaultConfig()
		cfg.Fairness.Protected = []report.Protected{tc.p}
		_, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != "fairness.protected[0]" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want a fairness.protected[0] error with %q", tc.p, err, tc.want)
		}
	}
}

// TestTrainScoresProfile: the data profile's histogram of training-row
// predictions, which gbdt keeps from boosting instead of scoring the rows
// again, is the saved model's own on the training split.
func TestTrainScoresProfile(t *testing.T) {
	cfg := DefaultConfig() // gbdt with early stopping: trees are cut
	res, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.BestIteration >= res.Iterations {
		t.Fatalf("best iteration %d of %d: early stopping cut nothing", res.BestIteration, res.Iterations)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	in, err := prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := m.Predict(in.features.Subset(in.splits.Train).Matrix(nil))
	if err != nil {
		t.Fatal(err)
	}
	prof, err := report.ReadDataProfile(filepath.Join(res.OutDir, tracking.DataProfileFile))
	if err != nil {
		t.Fatal(err)
	}
	want := data.NewHistogram("score", scores, 10)
	if got := prof.TrainScores; got == nil || !slices.Equal(got.Edges, want.Edges) || !slices.Equal(got.Counts, want.Counts) || *got.Min != *want.Min || *got.Max != *want.Max {
		t.Errorf("training scores %+v, the saved model's %+v", got, want)
	}
}
