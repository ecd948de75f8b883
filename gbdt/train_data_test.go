package gbdt

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// trainDatasetDir is where the shared credit datasets live; GBDT_DATASETS
// overrides it.
func trainDatasetDir() string {
	if d := os.Getenv("GBDT_DATASETS"); d != "" {
		return d
	}
	return "/work/shared/datasets"
}

// trainCSV is a credit dataset loaded the way testdata/train_compare.py
// loads it, so Go and Python LightGBM see the same numbers: numeric columns
// as floats, text columns as integer codes in sorted order of their values.
type trainCSV struct {
	names       []string
	cols        [][]float64
	categorical []bool
	labels      []float64
}

func loadTrainCSV(t testing.TB, file, label, positive string, drop ...string) *trainCSV {
	t.Helper()
	path := filepath.Join(trainDatasetDir(), file)
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("dataset %s not available (set GBDT_DATASETS): %v", path, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	header, rows := recs[0], recs[1:]
	d := &trainCSV{}
	for c, name := range header {
		if slices.Contains(drop, name) {
			continue
		}
		if name == label {
			d.labels = make([]float64, len(rows))
			for r, row := range rows {
				if row[c] == positive {
					d.labels[r] = 1
				}
			}
			continue
		}
		col := make([]float64, len(rows))
		numeric := true
		for r, row := range rows {
			v, err := strconv.ParseFloat(row[c], 64)
			if err != nil {
				numeric = false
				break
			}
			col[r] = v
		}
		if !numeric {
			var distinct []string
			for _, row := range rows {
				distinct = append(distinct, row[c])
			}
			slices.Sort(distinct)
			distinct = slices.Compact(distinct)
			for r, row := range rows {
				k, _ := slices.BinarySearch(distinct, row[c])
				col[r] = float64(k)
			}
		}
		d.names = append(d.names, name)
		d.cols = append(d.cols, col)
		d.categorical = append(d.categorical, !numeric)
	}
	return d
}

// dataset is d as a Dataset, every row.
func (d *trainCSV) dataset() *Dataset {
	return &Dataset{Columns: d.cols, Labels: d.labels, Names: d.names, Categorical: d.categorical}
}

// split returns the training rows (index % 5 != 0) and the test rows.
func (d *trainCSV) split() (train, test *Dataset) {
	pick := func(keep func(i int) bool) *Dataset {
		out := &Dataset{Names: d.names, Categorical: d.categorical, Columns: make([][]float64, len(d.cols))}
		for i, y := range d.labels {
			if !keep(i) {
				continue
			}
			out.Labels = append(out.Labels, y)
			for f := range d.cols {
				out.Columns[f] = append(out.Columns[f], d.cols[f][i])
			}
		}
		return out
	}
	return pick(func(i int) bool { return i%5 != 0 }), pick(func(i int) bool { return i%5 == 0 })
}

func loadGerman(t testing.TB) *trainCSV {
	return loadTrainCSV(t, "german_credit.csv", "creditability", "bad")
}

func loadTaiwan(t testing.TB) *trainCSV {
	return loadTrainCSV(t, "taiwan_default.csv", "default payment next month", "1", "ID")
}

// modelScores returns the raw scores of every row of d under m.
func modelScores(m *Model, d *Dataset) []float64 {
	out := make([]float64, d.rows())
	row := make([]float64, len(d.Columns))
	for r := range out {
		for f := range row {
			row[f] = d.Columns[f][r]
		}
		out[r] = m.PredictRaw(row)
	}
	return out
}

// splitRows splits d into its first n rows and the rest.
func splitRows(d *Dataset, n int) (head, tail *Dataset) {
	head, tail = &Dataset{Labels: d.Labels[:n]}, &Dataset{Labels: d.Labels[n:]}
	for _, c := range d.Columns {
		head.Columns, tail.Columns = append(head.Columns, c[:n]), append(tail.Columns, c[n:])
	}
	return head, tail
}

// synthetic makes a random numeric dataset whose label depends on the first
// features non-linearly.
func synthetic(n, nf int, seed uint64) *Dataset {
	r := newRand(seed)
	d := &Dataset{Columns: make([][]float64, nf), Labels: make([]float64, n)}
	for f := range d.Columns {
		d.Columns[f] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		var s float64
		for f := 0; f < nf; f++ {
			v := r.float()*2 - 1
			d.Columns[f][i] = v
			switch f {
			case 0:
				s += 2 * v
			case 1:
				s += 3 * v * v
			case 2:
				s -= math.Sin(3 * v)
			case 3:
				if v > 0.3 {
					s += 1
				}
			}
		}
		if r.float() < 1/(1+math.Exp(-s+1)) {
			d.Labels[i] = 1
		}
	}
	return d
}
