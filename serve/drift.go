package serve

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/engine/data"
)

// window keeps the bucket of each feature (and of the score) for the last
// size scored rows, and the count per bucket, so that the PSI against the
// reference profile is computed at scrape time without rescanning rows.
type window struct {
	prof  *data.Profile
	hists []*data.Histogram // features, then the score if profiled
	size  int

	mu     sync.Mutex
	ring   [][]int32 // ring[i][j]: bucket of histogram j for row i
	next   int
	full   bool
	counts [][]float64
}

// newWindow returns nil when there is no profile or it does not match the
// schema's features (the caller logs that drift is off).
func newWindow(p *data.Profile, s *data.Schema, size int) *window {
	if p == nil || size <= 0 || len(p.Features) != len(s.Features) {
		return nil
	}
	w := &window{prof: p, size: size}
	for j := range p.Features {
		if p.Features[j].Name != s.Features[j].Name || p.Features[j].Buckets() == 0 {
			return nil
		}
		w.hists = append(w.hists, &p.Features[j])
	}
	if p.Score != nil && p.Score.Buckets() > 0 {
		w.hists = append(w.hists, p.Score)
	}
	w.ring = make([][]int32, size)
	w.counts = make([][]float64, len(w.hists))
	for j, h := range w.hists {
		w.counts[j] = make([]float64, h.Buckets())
	}
	return w
}

// addRows records encoded rows and their scores. The buckets are found
// before the lock is taken, so that requests on other cores wait only for
// the counts to move.
func (w *window) addRows(x [][]float64, scores []float64) {
	if w == nil {
		return
	}
	nh := len(w.hists)
	var stack [64]int32
	buckets := stack[:0]
	if len(x)*nh > len(stack) {
		buckets = make([]int32, 0, len(x)*nh)
	}
	for i, row := range x {
		if len(row) != len(w.prof.Features) {
			return
		}
		for j, h := range w.hists {
			v := scores[i]
			if j < len(row) {
				v = row[j]
			}
			buckets = append(buckets, int32(h.Bucket(v)))
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range x {
		slot := w.ring[w.next]
		if w.full {
			for j, b := range slot {
				w.counts[j][b]--
			}
		} else {
			slot = make([]int32, nh)
			w.ring[w.next] = slot
		}
		copy(slot, buckets[i*nh:(i+1)*nh])
		for j, b := range slot {
			w.counts[j][b]++
		}
		w.next++
		if w.next == w.size {
			w.next, w.full = 0, true
		}
	}
}

// rows is how many rows the window holds.
func (w *window) rows() int {
	if w.full {
		return w.size
	}
	return w.next
}

// driftCollector exports the PSI of the current window at scrape time.
type driftCollector struct {
	cur     atomic.Pointer[window]
	minRows int
	feature *prometheus.Desc
	score   *prometheus.Desc
	rowsD   *prometheus.Desc
}

func newDriftCollector(minRows int) *driftCollector {
	return &driftCollector{
		minRows: minRows,
		feature: prometheus.NewDesc("model_feature_psi",
			"Population stability index of each feature of recent requests against the training profile.",
			[]string{"feature"}, nil),
		score: prometheus.NewDesc("model_score_psi",
			"Population stability index of recent predicted probabilities against the training scores.", nil, nil),
		rowsD: prometheus.NewDesc("model_drift_window_rows",
			"Rows in the sliding window the PSI gauges are computed over.", nil, nil),
	}
}

func (d *driftCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.feature
	ch <- d.score
	ch <- d.rowsD
}

func (d *driftCollector) Collect(ch chan<- prometheus.Metric) {
	w := d.cur.Load()
	if w == nil {
		return
	}
	w.mu.Lock()
	n := w.rows()
	psis := make([]float64, len(w.hists))
	ok := make([]bool, len(w.hists))
	if n >= d.minRows && n > 0 {
		for j, h := range w.hists {
			if p, err := h.PSI(w.counts[j]); err == nil {
				psis[j], ok[j] = p, true
			}
		}
	}
	w.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(d.rowsD, prometheus.GaugeValue, float64(n))
	for j, h := range w.hists {
		if !ok[j] {
			continue
		}
		if j < len(w.prof.Features) {
			ch <- prometheus.MustNewConstMetric(d.feature, prometheus.GaugeValue, psis[j], h.Name)
		} else {
			ch <- prometheus.MustNewConstMetric(d.score, prometheus.GaugeValue, psis[j])
		}
	}
}
