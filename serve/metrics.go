package serve

import (
	"runtime"

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
}

func newMetrics(reg prometheus.Registerer, version string, drift *driftCollector) (*metrics, error) {
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
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "pipeline_build_info",
		Help:        "Build of the serving binary (value 1).",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	for _, c := range []prometheus.Collector{
		m.requests, m.latency, m.info, m.reloads, m.reloadFails, m.lastReload,
		m.probability, m.decisions, m.invalid, m.unseen, m.panics, m.webhooks, drift, build,
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
