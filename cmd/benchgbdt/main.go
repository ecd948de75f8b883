// Command benchgbdt is our side of scripts/bench-gbdt: it generates the
// synthetic benchmark data, trains with gbdt, measures batch prediction
// through gbdt.Flat (what pipeline predict and serve use) or leaves and
// computes test AUCs, so that the script can run Python
// LightGBM on exactly the same files.
//
//	benchgbdt gen -rows N -features F -seed S -out data.csv
//	benchgbdt convert -in raw.csv -label L -positive P -drop ID -out data.csv
//	benchgbdt split -data data.csv -test 0.2 -seed S -out split.json
//	benchgbdt train -data data.csv -split split.json -params k=v,... -model m.txt -out result.json
//	benchgbdt predict -model m.txt -data data.csv -rows N -repeat R -threads T [-with flat|leaves]
//	benchgbdt auc -data data.csv -split split.json -result result.json
//
// data.csv has the features and a last "label" column (0/1), as
// tabular.Table.WriteCSV writes it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dmitryikh/leaves"

	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/internal/tabular"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchgbdt gen|split|train|predict|auc [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{"gen": gen, "convert": convert, "split": split, "train": train, "predict": predict, "auc": auc}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchgbdt: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchgbdt %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	rows := fs.Int("rows", 1000000, "rows")
	features := fs.Int("features", 28, "features")
	seed := fs.Uint64("seed", 1, "seed")
	out := fs.String("out", "", "output CSV")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := tabular.Numeric(*rows, *features, *seed).WriteCSV(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func convert(args []string) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	in := fs.String("in", "", "input CSV with a header")
	label := fs.String("label", "", "label column")
	positive := fs.String("positive", "1", "label value of the positive class")
	drop := fs.String("drop", "", "comma-separated columns that are not features")
	out := fs.String("out", "", "output CSV")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	var dropped []string
	if *drop != "" {
		dropped = strings.Split(*drop, ",")
	}
	t, err := tabular.ReadCSV(f, *label, *positive, dropped...)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	for i, c := range t.Categorical {
		if c {
			return fmt.Errorf("%s: column %s is not numeric; the benchmark takes numeric data", *in, t.Names[i])
		}
	}
	o, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := t.WriteCSV(o); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

func load(path string) (*tabular.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := tabular.ReadCSV(f, "label", "1")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func split(args []string) error {
	fs := flag.NewFlagSet("split", flag.ContinueOnError)
	data := fs.String("data", "", "data CSV")
	test := fs.Float64("test", 0.2, "fraction of rows held out")
	seed := fs.Uint64("seed", 1, "seed")
	out := fs.String("out", "", "output JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := countRows(*data)
	if err != nil {
		return err
	}
	s := tabular.NewSplit(n, *seed, 1-*test, 0)
	return writeJSON(*out, s)
}

// countRows counts the data lines of a CSV file (all but the header).
func countRows(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n := strings.Count(string(b), "\n")
	if n < 2 {
		return 0, fmt.Errorf("%s: no data rows", path)
	}
	return n - 1, nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func readSplit(path string) (tabular.Split, error) {
	var s tabular.Split
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func train(args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	data := fs.String("data", "", "data CSV")
	splitPath := fs.String("split", "", "split JSON")
	params := fs.String("params", "", "comma-separated key=value LightGBM parameters")
	model := fs.String("model", "", "output model file")
	out := fs.String("out", "", "output result JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p := gbdt.DefaultParams()
	for _, kv := range strings.Split(*params, ",") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("-params %q: want key=value", kv)
		}
		if err := p.Set(k, v); err != nil {
			return err
		}
	}
	tab, err := load(*data)
	if err != nil {
		return err
	}
	s, err := readSplit(*splitPath)
	if err != nil {
		return err
	}
	tr := tab.Subset(s.Train)
	ds, err := gbdt.DatasetFromRows(tr.Rows, tr.Labels, slices.Clone(tr.Names), tr.Categorical)
	if err != nil {
		return err
	}
	// Keep copies of the test rows only, so that the table's memory is
	// free while training, as Python's is once the training rows are
	// copied out.
	testRows := make([][]float64, len(s.Test))
	for i, r := range s.Test {
		testRows[i] = slices.Clone(tab.Rows[r])
	}
	tab, tr = nil, nil
	runtime.GC()
	debug.FreeOSMemory()
	before := memoryMiB("VmRSS")
	resetPeak()
	cpu0 := cpuSeconds()
	start := time.Now()
	m, err := gbdt.Train(context.Background(), p, ds, nil, nil)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpu0
	peak := memoryMiB("VmHWM")
	f, err := os.Create(*model)
	if err != nil {
		return err
	}
	if err := m.WriteText(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	raw := make([]float64, len(testRows))
	for i, row := range testRows {
		raw[i] = m.PredictRaw(row)
	}
	return writeJSON(*out, map[string]any{"test_raw": raw, "train_seconds": secs, "train_cpu_seconds": cpu, "num_trees": len(m.Trees),
		"train_rss_before_mib": before, "train_peak_rss_mib": peak})
}

// memoryMiB is this process's VmRSS or VmHWM (peak resident size) in MiB,
// from /proc/self/status; nil where that cannot be read (not Linux).
func memoryMiB(field string) any {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%g kB", &kb); err == nil {
				return kb / 1024
			}
		}
	}
	return nil
}

// resetPeak sets VmHWM back to the current resident size (Linux), so that
// memoryMiB("VmHWM") is the peak of what follows.
func resetPeak() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func predict(args []string) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	model := fs.String("model", "", "model file")
	data := fs.String("data", "", "data CSV")
	rows := fs.Int("rows", 100000, "rows to predict")
	repeat := fs.Int("repeat", 5, "timed repetitions")
	threads := fs.Int("threads", 2, "goroutines (leaves: PredictDense threads)")
	with := fs.String("with", "flat", "predictor: flat (gbdt.Flat) or leaves")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, err := leaves.LGEnsembleFromFile(*model, true)
	if err != nil {
		return err
	}
	f, err := os.Open(*model)
	if err != nil {
		return err
	}
	m, err := gbdt.ReadText(bufio.NewReader(f))
	f.Close()
	if err != nil {
		return err
	}
	flat := m.Flatten()
	tab, err := load(*data)
	if err != nil {
		return err
	}
	n := min(*rows, len(tab.Rows))
	nf := e.NFeatures()
	if nf != len(tab.Names) {
		return fmt.Errorf("model has %d features, data %d", nf, len(tab.Names))
	}
	dense := make([]float64, 0, n*nf)
	for _, row := range tab.Rows[:n] {
		dense = append(dense, row...)
	}
	out := make([]float64, n)
	var secs []float64
	for range *repeat {
		start := time.Now()
		switch *with {
		case "leaves":
			if err := e.PredictDense(dense, n, nf, out, 0, *threads); err != nil {
				return err
			}
		case "flat":
			var wg sync.WaitGroup
			for t := range *threads {
				lo, hi := n*t / *threads, n*(t+1) / *threads
				wg.Go(func() { flat.Predict(tab.Rows[lo:hi], out[lo:hi]) })
			}
			wg.Wait()
		default:
			return fmt.Errorf("-with %q: want flat or leaves", *with)
		}
		secs = append(secs, time.Since(start).Seconds())
	}
	sort.Float64s(secs)
	med := secs[len(secs)/2]
	fmt.Printf(`{"rows": %d, "median_seconds": %.4f, "rows_per_second": %.0f, "runs": %d}`+"\n", n, med, float64(n)/med, len(secs))
	return nil
}

func auc(args []string) error {
	fs := flag.NewFlagSet("auc", flag.ContinueOnError)
	data := fs.String("data", "", "data CSV")
	splitPath := fs.String("split", "", "split JSON")
	result := fs.String("result", "", "result JSON with test_raw")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tab, err := load(*data)
	if err != nil {
		return err
	}
	s, err := readSplit(*splitPath)
	if err != nil {
		return err
	}
	var res struct {
		TestRaw []float64 `json:"test_raw"`
	}
	b, err := os.ReadFile(*result)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", *result, err)
	}
	te := tab.Subset(s.Test)
	if len(res.TestRaw) != len(te.Labels) {
		return fmt.Errorf("%s: %d scores for %d test rows", *result, len(res.TestRaw), len(te.Labels))
	}
	v, err := rocAUC(res.TestRaw, te.Labels)
	if err != nil {
		return err
	}
	fmt.Printf("%.5f\n", v)
	return nil
}

// rocAUC is the Mann-Whitney AUC, ties counting one half.
func rocAUC(score, labels []float64) (float64, error) {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var pos, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		for _, k := range idx[i:j] {
			if labels[k] == 1 {
				rankSum += float64(i+j+1) / 2
			}
		}
		i = j
	}
	for _, l := range labels {
		pos += l
	}
	neg := float64(len(labels)) - pos
	if pos == 0 || neg == 0 {
		return math.NaN(), errors.New("test rows hold one class only")
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg), nil
}
