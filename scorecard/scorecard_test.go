package scorecard_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model/family"
	"github.com/creditrisk/engine/reasons"
	"github.com/creditrisk/engine/scorecard"
)

// german is the German credit data split 80/20 (seed 42) and a scorecard
// trained on the training part with the defaults, shared by the tests.
var german = sync.OnceValues(func() (*germanFixture, error) {
	tab, err := data.Default()
	if err != nil {
		return nil, err
	}
	s, err := tab.Split(data.Fractions{Train: 0.8, Test: 0.2}, 42)
	if err != nil {
		return nil, err
	}
	train, test := tab.Subset(s.Train), tab.Subset(s.Test)
	m, err := scorecard.Train(context.Background(), train, nil)
	return &germanFixture{tab, train, test, m}, err
})

type germanFixture struct {
	all, train, test *data.Table
	m                *scorecard.Model
}

func germanModel(t *testing.T) *germanFixture {
	t.Helper()
	g, err := german()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestEvidenceByHand(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "woe_iv_hand.golden"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ns, es []int
	var woe, iv []float64
	var total float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		if fs[0] == "total" {
			total = mustFloat(t, fs[1])
			continue
		}
		ns = append(ns, int(mustFloat(t, fs[1])))
		es = append(es, int(mustFloat(t, fs[2])))
		woe = append(woe, mustFloat(t, fs[3]))
		iv = append(iv, mustFloat(t, fs[4]))
	}
	if len(ns) != 5 {
		t.Fatalf("read %d bins from the hand table, want 5", len(ns))
	}
	gw, gi, gt := scorecard.Evidence(ns, es)
	for i := range ns {
		if math.Abs(gw[i]-woe[i]) > 1e-12 || math.Abs(gi[i]-iv[i]) > 1e-12 {
			t.Errorf("bin %d: WoE %.15g IV %.15g, by hand %.15g %.15g", i, gw[i], gi[i], woe[i], iv[i])
		}
	}
	if math.Abs(gt-total) > 1e-12 {
		t.Errorf("total IV %.15g, by hand %.15g", gt, total)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// synthetic makes a one-feature table: value and label per row.
func synthetic(name string, values, labels []float64) *data.Table {
	return &data.Table{Source: "synthetic", LabelCol: "y", Positive: "1", Negative: "0", Label: labels,
		Columns: []data.Column{{Name: name, Kind: data.Numeric, Values: values}}}
}

func TestBinningMergesSmallBins(t *testing.T) {
	// A discrete feature: values 0 to 4 with 200 rows each and a rising
	// default rate, and value 2.5 in 12 rows (1.2%), too few for a bin of
	// its own (5%): it must be merged, and a note must say so.
	var vals, ys []float64
	for v := range 5 {
		for i := range 200 {
			vals = append(vals, float64(v))
			ys = append(ys, b2f(i < 20+30*v))
		}
	}
	for i := range 12 {
		vals = append(vals, 2.5)
		ys = append(ys, b2f(i < 6))
	}
	m, err := scorecard.Train(t.Context(), synthetic("x", vals, ys), map[string]string{"trend": "ascending"})
	if err != nil {
		t.Fatal(err)
	}
	f := m.Features()[0]
	for _, b := range f.Bins {
		if b.Count < 51 {
			t.Errorf("bin %s has %d rows, below the 5%% minimum (51)", b.Label, b.Count)
		}
	}
	notes := strings.Join(f.Notes, "\n")
	for _, want := range []string{
		"6 quantile pre-bins (1 of them below the limits) merged into 5 bins (event rate ascending)",
		"value 2.5: 12 rows (1.2%) < min_bin_share (51 rows); merged into bin [2.25, 3.5)",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not say %q:\n%s", want, notes)
		}
	}
	// Its rate (0.5) lies between those of 2 (0.4) and 3 (0.55); joining 3
	// keeps more IV.
	if b := f.Bins[3]; b.Label != "[2.25, 3.5)" || b.Count != 212 {
		t.Errorf("bin 3 is %s with %d rows, want [2.25, 3.5) with 212", b.Label, b.Count)
	}
}

func TestBinningRefuses(t *testing.T) {
	vals := make([]float64, 200)
	ys := make([]float64, 200)
	for i := range vals {
		vals[i] = float64(i)
	}
	ys[10], ys[20], ys[150] = 1, 1, 1
	ft := data.Feature{Name: "x", Type: data.Numeric}
	// Three defaults cannot fill even one bin of 5 events: refused, one
	// bin, IV 0, and a note that says why.
	p := scorecard.DefaultParams()
	p.MinBinEvents = 5
	f, err := scorecard.BinFeature(ft, vals, ys, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Bins) != 1 || f.IV != 0 || len(f.Splits) != 0 ||
		!strings.Contains(strings.Join(f.Notes, "\n"), "refused to split: no binning of the 200 non-missing rows has every bin within the limits (all together: 3 events < min_bin_events 5); one bin") {
		t.Errorf("%d bins, IV %v, notes %q; want one bin, IV 0 and the refusal", len(f.Bins), f.IV, f.Notes)
	}
	// Two events per bin allow one bin only: said so too.
	p.MinBinEvents = 2
	if f, err = scorecard.BinFeature(ft, vals, ys, p); err != nil {
		t.Fatal(err)
	}
	if len(f.Bins) != 1 || !strings.Contains(strings.Join(f.Notes, "\n"), "one bin: no split of the 50 pre-bins keeps every bin within the limits") {
		t.Errorf("%d bins, notes %q", len(f.Bins), f.Notes)
	}
	// A categorical level below the minimum share is merged, and said so.
	levels := []string{"a", "b", "c"}
	codes := make([]float64, 200)
	for i := range codes {
		codes[i] = float64(i % 2) // a and b, half each
	}
	codes[0], codes[2], codes[4] = 2, 2, 2 // c: 3 rows (1.5%)
	ys2 := make([]float64, 200)
	for i := range ys2 {
		ys2[i] = b2f(i%7 == 0 || (codes[i] == 1 && i%3 == 0))
	}
	p = scorecard.DefaultParams()
	p.RareShare = 0
	if f, err = scorecard.BinFeature(data.Feature{Name: "c", Type: data.Categorical, Levels: levels}, codes, ys2, p); err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(f.Notes, "\n")
	if !strings.Contains(notes, "levels {c}: 3 rows (1.5%) < min_bin_share (10 rows); merged into bin {") {
		t.Errorf("notes %q do not report the small level c", notes)
	}
	for _, b := range f.Bins {
		if b.Count < 10 {
			t.Errorf("bin %s has %d rows, below 5%%", b.Label, b.Count)
		}
	}

	tab := synthetic("x", vals, ys)
	_, err = scorecard.Train(t.Context(), tab, map[string]string{"min_bin_events": "5"})
	if err == nil || !strings.Contains(err.Error(), `no feature has IV ≥ min_iv 0.02 (the highest is "x" with 0)`) {
		t.Fatalf("got %v, want a refusal naming min_iv", err)
	}
	for _, c := range []struct{ key, value, want string }{
		{"min_bin_share", "0.7", "outside [0, 0.5]"},
		{"max_prebins", "1", "outside [2, 100]"},
		{"trend", "wavy", `trend "wavy"`},
		{"trend.nosuch", "peak", "trend.nosuch names no feature"},
		{"pdo", "0", "outside"},
		{"colour", "red", `parameter "colour": unknown`},
	} {
		_, err := scorecard.Train(t.Context(), tab, map[string]string{c.key: c.value})
		if !errors.Is(err, family.ErrParam) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: got %v, want ErrParam containing %q", c.key, c.value, err, c.want)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// checkTrend checks that the event rate, and so the WoE, follows the trend
// strictly across the bins.
func checkTrend(t *testing.T, f scorecard.Feature) {
	t.Helper()
	var dirs []int // +1 WoE rises, -1 falls, between neighbouring bins
	for i := 1; i < len(f.Bins); i++ {
		a, b := f.Bins[i-1], f.Bins[i]
		switch {
		case b.WoE > a.WoE && b.EventRate < a.EventRate:
			dirs = append(dirs, +1)
		case b.WoE < a.WoE && b.EventRate > a.EventRate:
			dirs = append(dirs, -1)
		default:
			t.Errorf("%s: bins %s and %s: WoE %v, %v, event rate %v, %v are not strictly monotone", f.Name, a.Label, b.Label, a.WoE, b.WoE, a.EventRate, b.EventRate)
			return
		}
	}
	// The WoE pattern each event-rate trend allows.
	var first, second int
	switch f.Trend {
	case scorecard.Ascending:
		first, second = -1, -1
	case scorecard.Descending:
		first, second = +1, +1
	case scorecard.Peak:
		first, second = -1, +1
	case scorecard.Valley:
		first, second = +1, -1
	default:
		t.Fatalf("%s: trend %q", f.Name, f.Trend)
	}
	turned := false
	for i, d := range dirs {
		if !turned && d == second && d != first {
			turned = true
		}
		if want := map[bool]int{false: first, true: second}[turned]; d != want {
			t.Errorf("%s: trend %s, but the WoE steps are %v (step %d)", f.Name, f.Trend, dirs, i)
			return
		}
	}
}

func TestMonotoneWoE(t *testing.T) {
	g := germanModel(t)
	tables := map[string]*data.Table{"german": g.train}
	if p := testkit.Path(t, "taiwan_default.csv"); p != "" {
		tw, err := data.LoadFile(p, data.Options{Label: "default payment next month", Positive: "1", Types: map[string]data.Kind{"ID": data.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		tables["taiwan"] = tw
	}
	for name, tab := range tables {
		for _, tr := range []scorecard.Trend{scorecard.Auto, scorecard.Ascending, scorecard.Descending, scorecard.Peak, scorecard.Valley} {
			t.Run(name+"/"+string(tr), func(t *testing.T) {
				m, err := scorecard.Train(t.Context(), tab, map[string]string{"trend": string(tr), "min_iv": "0"})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range m.Features() {
					if f.Type == data.Numeric && tr != scorecard.Auto && f.Trend != tr {
						t.Errorf("%s: trend %s, asked %s", f.Name, f.Trend, tr)
					}
					checkTrend(t, f)
				}
			})
		}
	}
}

func TestPointsSumToScoreAndReasons(t *testing.T) {
	g := germanModel(t)
	m := g.m
	rows := g.test.Matrix(nil)
	scores, err := m.Score(rows)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := m.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	feats := m.Features()
	nsel := 0
	for _, f := range feats {
		if f.Selected {
			nsel++
		}
	}
	sc := m.Scaling()
	statements := reasons.Default()
	for i, r := range rows {
		pts, score, err := m.Points(r)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, p := range pts {
			sum += p
		}
		if sum != score || score != scores[i] {
			t.Fatalf("row %d: points sum to %d, Points says %d, Score %d", i, sum, score, scores[i])
		}
		// The score is the scaled log-odds of good, up to the rounding of
		// each feature's points.
		logOddsGood := math.Log((1 - probs[i]) / probs[i])
		if exact := sc.Offset + sc.Factor*logOddsGood; math.Abs(float64(score)-exact) > 0.5*float64(nsel)+1e-9 {
			t.Fatalf("row %d: score %d, scaled log-odds %.3f: more apart than rounding allows", i, score, exact)
		}
		contrib, base, err := m.Explain(r)
		if err != nil {
			t.Fatal(err)
		}
		var lo float64 = base
		for _, c := range contrib {
			lo += c
		}
		if math.Abs(lo-math.Log(probs[i]/(1-probs[i]))) > 1e-9 {
			t.Fatalf("row %d: contributions sum to %v, Predict's log-odds %v", i, lo, math.Log(probs[i]/(1-probs[i])))
		}
		rs, err := m.Reasons(r)
		if err != nil {
			t.Fatal(err)
		}
		// Every selected feature where the row scores below the feature's
		// best bin is a reason, with exactly the points lost, and no other.
		want := map[string]int{}
		for j, f := range feats {
			if !f.Selected {
				continue
			}
			best := math.MinInt
			for _, b := range append(slices.Clone(f.Bins), f.Missing) {
				if b.Count > 0 {
					best = max(best, b.Points)
				}
			}
			if pts[j] < best {
				want[f.Name] = best - pts[j]
			}
		}
		var refs []reasons.Ref
		if len(rs) != len(want) {
			t.Fatalf("row %d: %d reasons, %d features lost points: %v", i, len(rs), len(want), rs)
		}
		for k, rr := range rs {
			if want[rr.Feature] != rr.Lost || rr.Best-rr.Points != rr.Lost {
				t.Fatalf("row %d: reason %v: lost %d, the points say %d", i, rr, rr.Lost, want[rr.Feature])
			}
			if k > 0 && rs[k-1].Lost < rr.Lost {
				t.Fatalf("row %d: reasons not sorted by points lost: %v", i, rs)
			}
			j := slices.IndexFunc(feats, func(f scorecard.Feature) bool { return f.Name == rr.Feature })
			if f := feats[j]; f.Type == data.Categorical && rr.Direction != reasons.Any && rr.Direction != reasons.Missing {
				t.Fatalf("row %d: categorical %s has direction %s", i, f.Name, rr.Direction)
			}
			// Every reason reads as a statement of the default set, but for
			// a protected feature (age here: the lead keeps it out of the
			// features), which must not be cited.
			text, ok := statements.Statement(rr.Feature, rr.Direction)
			if ok == statements.Protected(rr.Feature) || (text == "") != statements.Protected(rr.Feature) {
				t.Fatalf("row %d: reason %v reads %q (ok %v)", i, rr, text, ok)
			}
			refs = append(refs, reasons.Ref{Feature: rr.Feature, Direction: rr.Direction})
		}
		if top := statements.Top(refs, 4); slices.Contains(top, statements.Fallback()) || len(top) > 4 {
			t.Fatalf("row %d: top statements %q", i, top)
		}
	}
	if m.Flavor() != scorecard.Flavor || m.Schema() == nil || m.Params()["pdo"] != "20" {
		t.Errorf("flavor %q, params %v", m.Flavor(), m.Params())
	}
}

func TestReasonDirection(t *testing.T) {
	// Risk rises with x: the best bin is the lowest, so a high x loses
	// points in direction "high".
	rng := rand.New(rand.NewPCG(3, 4))
	var vals, ys []float64
	for range 2000 {
		v := rng.Float64() * 100
		vals = append(vals, v)
		ys = append(ys, b2f(rng.Float64() < 0.05+v/150))
	}
	m, err := scorecard.Train(t.Context(), synthetic("x", vals, ys), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x    float64
		want reasons.Direction
		n    int
	}{{1, "", 0}, {95, reasons.High, 1}, {math.NaN(), reasons.Missing, 1}} {
		rs, err := m.Reasons([]float64{c.x})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != c.n || c.n == 1 && rs[0].Direction != c.want {
			t.Errorf("x=%v: reasons %+v, want %d in direction %q", c.x, rs, c.n, c.want)
		}
	}
	if f := m.Features()[0]; f.Trend != scorecard.Ascending || f.Missing.WoE != 0 {
		t.Errorf("trend %s, missing WoE %v: want ascending, 0 (no missing rows in training)", f.Trend, f.Missing.WoE)
	}
}

func TestSaveLoad(t *testing.T) {
	g := germanModel(t)
	dir := t.TempDir()
	if err := g.m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := scorecard.Load(filepath.Join(dir, scorecard.FileName), g.m.Schema())
	if err != nil {
		t.Fatal(err)
	}
	rows := g.test.Matrix(nil)
	p1, _ := g.m.Predict(rows)
	p2, err := back.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := g.m.Score(rows)
	s2, _ := back.Score(rows)
	if !slices.Equal(p1, p2) || !slices.Equal(s1, s2) {
		t.Fatal("the loaded model scores differently")
	}
	// Saving again gives the same bytes.
	dir2 := t.TempDir()
	if err := back.Save(dir2); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, scorecard.FileName))
	b, _ := os.ReadFile(filepath.Join(dir2, scorecard.FileName))
	if !bytes.Equal(a, b) {
		t.Fatal("save, load, save changed the file")
	}
	// A wrong row length is an error, not a guess.
	if _, err := back.Predict([][]float64{{1}}); !errors.Is(err, family.ErrRowLength) {
		t.Errorf("short row: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	g := germanModel(t)
	dir := t.TempDir()
	if err := g.m.Save(dir); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, scorecard.FileName))
	if err != nil {
		t.Fatal(err)
	}
	s := g.m.Schema()
	f := g.m.Features()
	first := slices.IndexFunc(f, func(f scorecard.Feature) bool { return f.Selected })
	pts := fmt.Sprintf(`"points": %d`, f[first].Bins[0].Points)
	for _, c := range []struct{ name, old, new, want string }{
		{"version", `"format_version": 1`, `"format_version": 9`, "format_version 9"},
		{"unknown field", `"format_version": 1`, `"format_version": 1, "colour": 1`, `unknown field "colour"`},
		{"points", pts, fmt.Sprintf(`"points": %d`, f[first].Bins[0].Points+1), "but coefficient, WoE and scaling give"},
		{"level", `"... < 0 DM"`, `"... < 1 DM"`, `level "... < 1 DM" is not in the schema`},
		{"label", `"label": "[`, `"label": "(`, `but its splits make it "[`},
		{"trend", `"trend": "ascending"`, `"trend": "auto"`, `trend "auto"`},
		{"factor", `"factor": `, `"factor": 1`, "do not follow from pdo"},
		{"counts", `"count": `, `"count": 1`, "want non-negative counts that add up"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := bytes.Replace(good, []byte(c.old), []byte(c.new), 1)
			if c.name == "level" { // in the bin's label and its levels
				in = bytes.ReplaceAll(good, []byte(c.old), []byte(c.new))
			}
			if bytes.Equal(in, good) {
				t.Fatalf("%q not found in the model file", c.old)
			}
			_, err := scorecard.Parse(in, s)
			if !errors.Is(err, scorecard.ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrFormat containing %q", err, c.want)
			}
		})
	}
	// Another schema: a feature fewer.
	other := *s
	other.Features = s.Features[1:]
	if _, err := scorecard.Parse(good, &other); !errors.Is(err, scorecard.ErrFormat) || !strings.Contains(err.Error(), "20 features for a schema of 19") {
		t.Errorf("other schema: %v", err)
	}
}

func TestArtifacts(t *testing.T) {
	g := germanModel(t)
	dir := t.TempDir()
	paths, err := g.m.WriteArtifacts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 4+len(g.m.Features()) {
		t.Fatalf("%d artifacts: %v", len(paths), paths)
	}
	for _, p := range paths {
		if !strings.HasSuffix(p, ".png") {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
			t.Errorf("%s is %dx%d, too small to read", p, b.Dx(), b.Dy())
		}
	}
	table, err := os.ReadFile(filepath.Join(dir, scorecard.TableFile))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "german_scorecard.csv", table)
	iv, err := os.ReadFile(filepath.Join(dir, scorecard.IVFile))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "german_iv.csv", iv)
	// The table's points reproduce every test row's score.
	points := map[string]map[string]int{}
	recs, err := csv.NewReader(bytes.NewReader(table)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		if points[rec[0]] == nil {
			points[rec[0]] = map[string]int{}
		}
		points[rec[0]][rec[1]], _ = strconv.Atoi(rec[9])
	}
	rows := g.test.Matrix(nil)
	scores, _ := g.m.Score(rows)
	feats := g.m.Features()
	for i, r := range rows {
		sum := 0
		for j, f := range feats {
			if !f.Selected {
				continue
			}
			sum += points[f.Name][binLabel(f, r[j])]
		}
		if sum != scores[i] {
			t.Fatalf("row %d: the table's points sum to %d, Score %d", i, sum, scores[i])
		}
	}
}

// binLabel finds a value's bin from the binning table alone.
func binLabel(f scorecard.Feature, v float64) string {
	if math.IsNaN(v) {
		return "missing"
	}
	if f.Type == data.Categorical {
		return f.Bins[slices.IndexFunc(f.Bins, func(b scorecard.Bin) bool { return slices.Contains(b.Levels, levelOf(f, v)) })].Label
	}
	i := 0
	for i < len(f.Splits) && v >= f.Splits[i] {
		i++
	}
	return f.Bins[i].Label
}

var germanLevels = sync.OnceValue(func() *data.Schema {
	tab, _ := data.Default()
	return tab.Schema()
})

func levelOf(f scorecard.Feature, v float64) string {
	for _, ft := range germanLevels().Features {
		if ft.Name == f.Name {
			return ft.Levels[int(v)]
		}
	}
	return ""
}
