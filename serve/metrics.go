package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's collectors, registered on the registry passed to
// New. The first two keep the names of the original scoring service.
type metrics struct {
	requests    *prometheus.CounterVec   // endpoint, status
	latency     *prometheus.HistogramVec // endpoint
	info        *prometheus.GaugeVec     // name, version, alias, run_id, integrity
	reloads     *prometheus.CounterVec   // result
	reloadFails *prometheus.CounterVec   // step
	lastReload  prometheus.Gauge
	probability prometheus.Histogram
	decisions   *prometheus.CounterVec // decision
	invalid     *prometheus.CounterVec // reason
	unseen      *prometheus.CounterVec // feature
	panics      prometheus.Counter
	webhooks    *prometheus.CounterVec // result
	drift       *driftCollector
	shed        *prometheus.CounterVec // endpoint

	approve, decline prometheus.Counter // of decisions
}

func newMetrics(reg prometheus.Registerer, version string, drift *driftCollector, inflight func() float64) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "api_requests_total",
			Help: "HTTP requests by endpoint and status code.",
		}, []string{"endpoint", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "api_request_latency_seconds",
			Help:    "HTTP request latency by endpoint.",
			Buckets: []float64{.0001, .00025, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"endpoint"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "model_info",
			Help: "The model being served (value 1); labels name it and say what its integrity rests on (signed, registered, checksums, unverified).",
		}, []string{"name", "version", "alias", "run_id", "integrity"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "model_reloads_total",
			Help: "Model reload attempts by result (success, failure, unchanged, skipped).",
		}, []string{"result"}),
		reloadFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "model_reload_failures_total",
			Help: "Failed model reloads by the step that failed (resolve, download, verify, signature, load, warmup).",
		}, []string{"step"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "model_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful model load.",
		}),
		probability: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "model_probability_of_default",
			Help:    "Predicted probabilities of default.",
			Buckets: prometheus.LinearBuckets(0.05, 0.05, 19),
		}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "model_decisions_total",
			Help: "Decisions by outcome (approve, decline).",
		}, []string{"decision"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "api_validation_errors_total",
			Help: "Rejected request inputs by reason.",
		}, []string{"reason"}),
		unseen: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "model_unseen_categories_total",
			Help: "Category values not seen in training, scored as missing, by feature.",
		}, []string{"feature"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "api_panics_total",
			Help: "Requests whose handler panicked (answered 500).",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_deliveries_total",
			Help: "MLflow webhook deliveries by result (accepted, ignored, rejected).",
		}, []string{"result"}),
		drift: drift,
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "api_requests_shed_total",
			Help: "Scoring requests answered 503 because --max-inflight requests were being served, by endpoint.",
		}, []string{"endpoint"}),
	}
	m.approve, m.decline = m.decisions.WithLabelValues("approve"), m.decisions.WithLabelValues("decline")
	inflightGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "api_requests_in_flight",
		Help: "Scoring requests being served now.",
	}, inflight)
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "pipeline_build_info",
		Help:        "Build of the serving binary (value 1).",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	for _, c := range []prometheus.Collector{
		m.requests, m.latency, m.info, m.reloads, m.reloadFails, m.lastReload,
		m.probability, m.decisions, m.invalid, m.unseen, m.panics, m.webhooks, drift, build, m.shed, inflightGauge,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// statusCodes are the statuses whose request counters are kept at hand;
// others are looked up by label.
var statusCodes = [...]int{200, 202, 400, 401, 404, 405, 409, 413, 415, 422, 500, 501, 502, 503}

func statusIndex(code int) int {
	for i, c := range statusCodes {
		if c == code {
			return i
		}
	}
	return -1
}

// endpointMetrics holds an endpoint's request counters (by status) and
// latency histogram once first used, so that counting a request is an
// atomic add, not a label lookup.
type endpointMetrics struct {
	latency atomic.Pointer[prometheus.Observer]
	status  [len(statusCodes)]atomic.Pointer[prometheus.Counter]
}

func (e *endpointMetrics) count(m *metrics, ep, code int) {
	k := statusIndex(code)
	if k < 0 {
		m.requests.WithLabelValues(endpoints[ep], strconv.Itoa(code)).Inc()
		return
	}
	c := e.status[k].Load()
	if c == nil {
		v := m.requests.WithLabelValues(endpoints[ep], strconv.Itoa(code))
		c = &v
		e.status[k].Store(c) // a racing store holds the same child
	}
	(*c).Inc()
}

func (e *endpointMetrics) observe(m *metrics, ep int, seconds float64) {
	o := e.latency.Load()
	if o == nil {
		v := m.latency.WithLabelValues(endpoints[ep])
		o = &v
		e.latency.Store(o)
	}
	(*o).Observe(seconds)
}

// idSource makes request ids: a random prefix per process and a counter,
// cut from strings made 64 at a time, so that an id costs no allocation.
type idSource struct {
	prefix string
	n      atomic.Uint64
	pool   sync.Pool // of *idBatch
}

type idBatch struct {
	vals []string
	next int
}

const idBatchSize = 64

func (s *idSource) init() {
	var b [4]byte
	rand.Read(b[:])
	s.prefix = hex.EncodeToString(b[:]) + "-"
}

// next returns a new id as a header value.
func (s *idSource) next() []string {
	b, _ := s.pool.Get().(*idBatch)
	if b == nil || b.next == len(b.vals) {
		b = s.fill()
	}
	v := b.vals[b.next : b.next+1 : b.next+1] // no room to append into the next id
	b.next++
	s.pool.Put(b)
	return v
}

func (s *idSource) fill() *idBatch {
	base := s.n.Add(idBatchSize) - idBatchSize
	size := len(s.prefix) + 12
	buf := make([]byte, 0, idBatchSize*size)
	for i := range uint64(idBatchSize) {
		buf = append(buf, s.prefix...)
		n := base + i
		for k := 11; k >= 0; k-- {
			buf = append(buf, "0123456789abcdef"[(n>>(4*k))&15])
		}
	}
	str := string(buf)
	b := &idBatch{vals: make([]string, idBatchSize)}
	for i := range b.vals {
		b.vals[i] = str[i*size : (i+1)*size]
	}
	return b
}

// durations writes time.Duration attributes of log records as Go duration
// strings ("22.3ms", "10s"), not as integer nanoseconds.
type durations struct{ slog.Handler }

func (d durations) Handle(ctx context.Context, r slog.Record) error {
	has := false
	r.Attrs(func(a slog.Attr) bool {
		has = hasDuration(a.Value)
		return !has
	})
	if has {
		nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			nr.AddAttrs(LogDurations(nil, a))
			return true
		})
		r = nr
	}
	return d.Handler.Handle(ctx, r)
}

func (d durations) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = LogDurations(nil, a)
	}
	return durations{d.Handler.WithAttrs(out)}
}

func (d durations) WithGroup(name string) slog.Handler { return durations{d.Handler.WithGroup(name)} }

func hasDuration(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindDuration:
		return true
	case slog.KindGroup:
		return slices.ContainsFunc(v.Group(), func(a slog.Attr) bool { return hasDuration(a.Value) })
	}
	return false
}

// LogDurations is a slog ReplaceAttr function that writes a duration as a
// Go duration string ("1.5s") rather than integer nanoseconds; serve's
// logger applies it to every record, and a command can set it on its
// handler for its own lines.
func LogDurations(groups []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindDuration:
		a.Value = slog.StringValue(a.Value.Duration().String())
	case slog.KindGroup:
		g := a.Value.Group()
		out := make([]slog.Attr, len(g))
		for i, b := range g {
			out[i] = LogDurations(groups, b)
		}
		a.Value = slog.GroupValue(out...)
	}
	return a
}
