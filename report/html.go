package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/scorecard"
)

//go:embed report.html.tmpl
var pageTemplate string

// Thresholds the report flags against.
const (
	// PSIWatch and PSIShift are the usual population stability bands:
	// below 0.10 stable, 0.10 to 0.25 worth watching, above 0.25 shifted.
	PSIWatch = 0.10
	PSIShift = 0.25
	// HLAlpha is the level below which the Hosmer–Lemeshow p-value flags
	// miscalibration.
	HLAlpha = 0.05
)

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"f4":  func(v float64) string { return fmtNum(v, 4) },
	"f2":  func(v float64) string { return fmtNum(v, 2) },
	"pct": func(v float64) string { return fmtNum(100*v, 1) + "%" },
	"full": func(v float64) string {
		return strconv.FormatFloat(v, 'g', -1, 64)
	},
	"deref": func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	},
	"chart": func(r *Report, name string) template.URL {
		b, ok := r.Charts[name]
		if !ok {
			return ""
		}
		// The PNG bytes are ours; a data: URI keeps the file self-contained.
		return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
	},
	"hasChart":   func(r *Report, name string) bool { _, ok := r.Charts[name]; return ok },
	"metricKey":  evaluate.MetricKey,
	"prefix":     MetricPrefix,
	"fourFifths": func() float64 { return evaluate.FourFifths },
	"psiClass": func(v float64) string {
		switch {
		case v > PSIShift:
			return "bad"
		case v > PSIWatch:
			return "warn"
		}
		return "ok"
	},
	"psiWord": func(v float64) string {
		switch {
		case v > PSIShift:
			return "shifted"
		case v > PSIWatch:
			return "watch"
		}
		return "stable"
	},
	"hlAlpha": func() float64 { return HLAlpha },
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n]
	},
	"join": strings.Join,
	"levels": func(b scorecard.Bin) string {
		if len(b.Levels) == 0 {
			return b.Label
		}
		return strings.Join(b.Levels, "; ")
	},
	"date": func(r *Report) string { return r.Generated.Format("2006-01-02 15:04 MST") },
	"sub":  func(a, b int) int { return a - b },
	"topEffects": func(r *Report) []Effect {
		return r.Effects[:min(maxEffects, len(r.Effects))]
	},
	"status": func(ok bool) string {
		if ok {
			return "ok"
		}
		return "bad"
	},
	"id": func(s string) string {
		var b strings.Builder
		for _, c := range strings.ToLower(s) {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				b.WriteRune(c)
			} else {
				b.WriteByte('-')
			}
		}
		return b.String()
	},
}).Parse(pageTemplate))

// fmtNum formats v with d decimals; NaN and infinities as a dash.
func fmtNum(v float64, d int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

// WriteHTML renders the report as one self-contained HTML page: styles
// inline, charts as data: URIs, no script and no external resource.
func (r *Report) WriteHTML(w io.Writer) error {
	var buf bytes.Buffer
	if err := page.Execute(&buf, r); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}

// WriteFile renders the report to path.
func (r *Report) WriteFile(path string) error {
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o666); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// ChecksOK reports whether every recomputed figure equals the logged one.
func (r *Report) ChecksOK() bool {
	for _, c := range append(append([]Check(nil), r.Checks...), r.FairnessCheck...) {
		if !c.OK {
			return false
		}
	}
	return true
}

// Sample returns the test split's or holdout's figures by name, for the
// template.
func (r *Report) Samples() []*Performance {
	var out []*Performance
	for _, p := range []*Performance{r.Test, r.Holdout} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// FairnessOf returns a sample's recomputed fairness for a column.
func (p *Performance) FairnessOf(column string) *evaluate.FairnessReport {
	return p.fairness[column]
}
