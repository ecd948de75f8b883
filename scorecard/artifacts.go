package scorecard

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/creditrisk/engine/evaluate"
)

// Artifact file names written by WriteArtifacts; binning plots go into
// BinningDir as NN_feature.png (NN the feature's position in the schema).
const (
	TableFile     = "scorecard.csv"
	TablePlotFile = "scorecard.png"
	IVFile        = "iv.csv"
	IVPlotFile    = "iv.png"
	BinningDir    = "binning"
)

// WriteArtifacts writes the scorecard table (CSV and PNG), the IV ranking
// (CSV and PNG) and one binning plot per feature into dir (created if
// missing) and returns their paths.
func (m *Model) WriteArtifacts(dir string) ([]string, error) {
	if err := os.MkdirAll(filepath.Join(dir, BinningDir), 0o755); err != nil {
		return nil, fmt.Errorf("scorecard artifacts: %w", err)
	}
	type job struct {
		path string
		run  func(path string) error
	}
	jobs := []job{
		{filepath.Join(dir, TableFile), func(p string) error { return writeFile(p, m.WriteTable) }},
		{filepath.Join(dir, IVFile), func(p string) error { return writeFile(p, m.WriteIV) }},
		{filepath.Join(dir, TablePlotFile), m.TablePlot},
		{filepath.Join(dir, IVPlotFile), m.IVPlot},
	}
	for j, f := range m.f.Features {
		jobs = append(jobs, job{filepath.Join(dir, BinningDir, fmt.Sprintf("%02d_%s.png", j, safeName(f.Name))),
			func(p string) error { return m.BinningPlot(p, f.Name) }})
	}
	// Rendering dominates; the charts are independent.
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, jb := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = jb.run(jb.path)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("scorecard artifacts: %w", err)
	}
	paths := make([]string, len(jobs))
	for i, jb := range jobs {
		paths[i] = jb.path
	}
	return paths, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// safeName keeps letters, digits, '.', '-' and '_' of a feature name for
// a file name.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 60 {
			break
		}
	}
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// WriteTable writes the scorecard table as CSV: one row per bin of each
// selected feature, its missing bin last, with the columns feature, bin,
// count, share (of the training rows), non_events, events, event_rate,
// woe, iv and points. The table fully describes the scoring: a row's
// score is the sum over features of the points of the bin its value falls
// in.
func (m *Model) WriteTable(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"feature", "bin", "count", "share", "non_events", "events", "event_rate", "woe", "iv", "points"})
	for _, j := range m.sel {
		f := m.f.Features[j]
		total := f.Missing.Count
		for _, b := range f.Bins {
			total += b.Count
		}
		for _, b := range append(slices.Clone(f.Bins), f.Missing) {
			share := 0.0
			if total > 0 {
				share = float64(b.Count) / float64(total)
			}
			cw.Write([]string{f.Name, b.Label, strconv.Itoa(b.Count), num(share), strconv.Itoa(b.NonEvents),
				strconv.Itoa(b.Events), num(b.EventRate), num(b.WoE), num(b.IV), strconv.Itoa(b.Points)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write scorecard table: %w", err)
	}
	return nil
}

// ranking returns the feature indexes by IV, highest first (ties in
// schema order).
func (m *Model) ranking() []int {
	idx := make([]int, len(m.f.Features))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(m.f.Features[b].IV, m.f.Features[a].IV) })
	return idx
}

// WriteIV writes the IV ranking as CSV, highest IV first: rank, feature,
// type, iv, bins, trend, selected, coef and the binning's notes.
func (m *Model) WriteIV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"rank", "feature", "type", "iv", "bins", "trend", "selected", "coef", "notes"})
	for r, j := range m.ranking() {
		f := m.f.Features[j]
		cw.Write([]string{strconv.Itoa(r + 1), f.Name, f.Type.String(), num(f.IV), strconv.Itoa(len(f.Bins)),
			string(f.Trend), strconv.FormatBool(f.Selected), num(f.Coef), strings.Join(f.Notes, "; ")})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write IV ranking: %w", err)
	}
	return nil
}

// IVPlot draws the IV of every feature as horizontal bars, highest at the
// top, with the selection threshold in the title.
func (m *Model) IVPlot(path string) error {
	names := make([]string, len(m.f.Features))
	ivs := make([]float64, len(m.f.Features))
	for j, f := range m.f.Features {
		names[j] = truncate(f.Name, 40)
		if !f.Selected {
			names[j] += " (left out)"
		}
		ivs[j] = f.IV
	}
	title := fmt.Sprintf("Information value (selection: IV ≥ %s)", m.f.Params["min_iv"])
	if err := evaluate.FeatureImportancePlot(path, title, names, ivs); err != nil {
		return fmt.Errorf("IV plot: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

// BinningPlot draws one feature's bins: the event rate of each bin as
// bars and the share of the training rows as a line, with each bin's WoE
// and points (for a selected feature) above its bar. The missing bin is
// drawn when it holds rows.
func (m *Model) BinningPlot(path, feature string) error {
	j := slices.IndexFunc(m.f.Features, func(f Feature) bool { return f.Name == feature })
	if j < 0 {
		return fmt.Errorf("binning plot: no feature %q", feature)
	}
	f := m.f.Features[j]
	bins := slices.Clone(f.Bins)
	if f.Missing.Count > 0 {
		bins = append(bins, f.Missing)
	}
	total := 0
	for _, b := range bins {
		total += b.Count
	}
	rates := make(plotter.Values, len(bins))
	shares := make(plotter.XYs, len(bins))
	names := make([]string, len(bins))
	var lab plotter.XYLabels
	top := 0.0
	for i, b := range bins {
		rates[i] = b.EventRate
		shares[i] = plotter.XY{X: float64(i), Y: float64(b.Count) / float64(max(total, 1))}
		names[i] = truncate(b.Label, 28)
		top = max(top, rates[i], shares[i].Y)
		l := "WoE " + strconv.FormatFloat(b.WoE, 'f', 2, 64)
		if f.Selected {
			l += fmt.Sprintf("\n%d pts", b.Points)
		}
		lab.XYs = append(lab.XYs, plotter.XY{X: float64(i), Y: b.EventRate})
		lab.Labels = append(lab.Labels, l)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: IV %.3f, %d bins, event rate %s", truncate(f.Name, 50), f.IV, len(f.Bins), f.Trend)
	if !f.Selected {
		p.Title.Text += " (left out)"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(8)
	p.Y.Label.Text = "Event rate (bars) / share of rows (line)"
	p.Add(plotter.NewGrid())
	bars, err := plotter.NewBarChart(rates, vg.Points(max(10, 300/float64(len(bins)))))
	if err != nil {
		return fmt.Errorf("binning plot %s: %w", feature, err)
	}
	bars.Color, bars.LineStyle.Width = blue, 0
	line, pts, err := plotter.NewLinePoints(shares)
	if err != nil {
		return fmt.Errorf("binning plot %s: %w", feature, err)
	}
	line.Color, pts.Color, pts.Shape = orange, orange, draw.CircleGlyph{}
	labels, err := plotter.NewLabels(lab)
	if err != nil {
		return fmt.Errorf("binning plot %s: %w", feature, err)
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign = text.XCenter
		labels.TextStyle[i].Font.Size = vg.Points(9)
	}
	labels.Offset = vg.Point{Y: vg.Points(4)}
	p.Add(bars, line, pts, labels)
	p.Legend.Add("event rate", bars)
	p.Legend.Add("share of rows", line, pts)
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), -vg.Points(4)
	p.NominalX(names...)
	if len(bins) > 4 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = text.XRight, text.YCenter
	}
	p.Y.Min, p.Y.Max = 0, math.Min(1, top*1.25+0.05)
	return savePlot(p, path, 8*vg.Inch, 5*vg.Inch)
}

// TablePlot renders the scorecard table as a PNG: one line per bin of the
// selected features, features shaded alternately, long bin labels
// shortened.
func (m *Model) TablePlot(path string) error {
	head := []string{"Feature", "Bin", "Count", "Event rate", "WoE", "IV", "Points"}
	right := []bool{false, false, true, true, true, true, true}
	var rows [][]string
	var shade []bool
	minScore, maxScore := 0, 0
	for k, j := range m.sel {
		f := m.f.Features[j]
		lo, hi := math.MaxInt, math.MinInt
		for i, b := range append(slices.Clone(f.Bins), f.Missing) {
			name := ""
			if i == 0 {
				name = truncate(f.Name, 36)
			}
			rows = append(rows, []string{name, truncate(b.Label, 48), strconv.Itoa(b.Count),
				strconv.FormatFloat(b.EventRate, 'f', 3, 64), strconv.FormatFloat(b.WoE, 'f', 3, 64),
				strconv.FormatFloat(b.IV, 'f', 4, 64), strconv.Itoa(b.Points)})
			shade = append(shade, k%2 == 1)
			if b.Count > 0 || i == len(f.Bins) {
				lo, hi = min(lo, b.Points), max(hi, b.Points)
			}
		}
		minScore += lo
		maxScore += hi
	}
	sc := m.f.Scaling
	title := fmt.Sprintf("Scorecard: %d features; %s points at odds %s:1, %s points to double the odds; scores %d to %d",
		len(m.sel), num(sc.BasePoints), num(sc.BaseOdds), num(sc.PDO), minScore, maxScore)

	sty := text.Style{Color: color.Black, Font: font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, vg.Points(10)),
		Handler: plot.DefaultTextHandler, YAlign: text.YCenter}
	bold := sty // the header: larger, on a darker band
	bold.Font = font.From(bold.Font, vg.Points(10.5))
	pad, rowH := vg.Points(6), vg.Points(16)
	widths := make([]vg.Length, len(head))
	for c, h := range head {
		widths[c] = bold.Width(h)
	}
	for _, r := range rows {
		for c, v := range r {
			widths[c] = max(widths[c], sty.Width(v))
		}
	}
	var w vg.Length
	for _, cw := range widths {
		w += cw + 2*pad
	}
	titleSty := sty
	titleSty.Font = font.From(sty.Font, vg.Points(12))
	w = max(w, titleSty.Width(title)+2*pad) + 2*pad
	h := rowH*vg.Length(len(rows)+1) + 2*rowH + 2*pad

	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(120))
	dc := draw.New(c)
	dc.FillPolygon(color.White, []vg.Point{{X: 0, Y: 0}, {X: w, Y: 0}, {X: w, Y: h}, {X: 0, Y: h}})
	y := h - pad - rowH/2
	dc.FillText(titleSty, vg.Point{X: 2 * pad, Y: y}, title)
	y -= rowH * 1.5
	cell := func(s text.Style, r []string, y vg.Length) {
		x := pad
		for col, v := range r {
			if right[col] {
				s.XAlign = text.XRight
				dc.FillText(s, vg.Point{X: x + pad + widths[col], Y: y}, v)
			} else {
				s.XAlign = text.XLeft
				dc.FillText(s, vg.Point{X: x + pad, Y: y}, v)
			}
			x += widths[col] + 2*pad
		}
	}
	band := func(y vg.Length, clr color.Color) {
		dc.FillPolygon(clr, []vg.Point{{X: pad, Y: y - rowH/2}, {X: w - pad, Y: y - rowH/2}, {X: w - pad, Y: y + rowH/2}, {X: pad, Y: y + rowH/2}})
	}
	band(y, color.RGBA{R: 210, G: 225, B: 240, A: 255})
	cell(bold, head, y)
	for i, r := range rows {
		y -= rowH
		if shade[i] {
			band(y, color.RGBA{R: 243, G: 246, B: 250, A: 255})
		}
		cell(sty, r, y)
	}
	return savePNG(c, path)
}

// savePlot renders p as a PNG; gonum/plot panics on some degenerate
// drawings, which become errors.
func savePlot(p *plot.Plot, path string, w, h vg.Length) (err error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(120))
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("draw %s: %v", path, r)
			}
		}()
		p.Draw(draw.New(c))
	}()
	if err != nil {
		return err
	}
	return savePNG(c, path)
}

func savePNG(c *vgimg.Canvas, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(f, c.Image()); err != nil {
		f.Close()
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	return nil
}
