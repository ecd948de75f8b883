package serve

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/reasons"
)

// Unknown-feature policies.
const (
	UnknownReject = "reject"
	UnknownIgnore = "ignore"
)

// Options configure a Server. Zero values get the defaults noted.
type Options struct {
	Threshold       float64       // decline at or above this probability of default (0.5)
	MaxBatch        int           // most instances per request (1000)
	MaxBody         int64         // most bytes per request body (4 MiB)
	UnknownFeatures string        // UnknownReject (default) or UnknownIgnore
	ReasonCodes     int           // adverse-action reason codes per /explain answer (4)
	Reasons         *reasons.Set  // adverse-action statements of /explain (reasons.Default())
	AdminToken      string        // bearer token of POST /admin/reload; empty disables it
	WebhookSecret   string        // HMAC secret of POST /webhooks/mlflow; empty disables it
	WebhookWindow   time.Duration // accepted age of a webhook timestamp (5m)
	// AllowUnverified loads a model for which nothing was recorded to
	// check its files against (no registry digest; a directory without
	// checksums.json); it is served as IntegrityUnverified.
	AllowUnverified bool
	// VerifyKey, when set, refuses a version whose signature is missing or
	// does not verify with it (see package integrity).
	VerifyKey ed25519.PublicKey
	// MaxModelSize bounds the bytes of one model download (DefaultMaxModelSize).
	MaxModelSize  int64
	DriftWindow   int           // rows in the drift window (1000; negative disables drift)
	DriftMinRows  int           // rows before PSI gauges are exported (100)
	ReloadTimeout time.Duration // limit of one reload (2m)
	WorkDir       string        // parent of downloaded model directories (os.TempDir)
	Version       string        // build version for /version and pipeline_build_info

	// Strict refuses (400) what is otherwise scored with a warning: an
	// unseen category, a value outside the training range, a missing
	// required value.
	Strict bool
	// MaxInFlight caps the scoring requests (/predict, /explain,
	// /invocations, the Open Inference Protocol's infer) served at once;
	// beyond it they are answered 503 with Retry-After and counted (64).
	MaxInFlight int
}

// DefaultMaxModelSize bounds a model download unless Options say
// otherwise: 256 MiB holds some 1.7 million leaves of LightGBM text (about
// 7000 trees of 255 leaves; the models trained here take a few hundred
// KB), while loading it takes about four times its size in memory beside
// the model being served.
const DefaultMaxModelSize = 256 << 20

// MinSecretLen is the shortest admin token or webhook secret accepted: 32
// bytes, as many as `openssl rand -hex 16` prints, 128 bits if random.
const MinSecretLen = 32

func (o *Options) defaults() error {
	if o.Threshold == 0 {
		o.Threshold = 0.5
	}
	if !(o.Threshold > 0 && o.Threshold < 1) {
		return fmt.Errorf("threshold %v: want a probability strictly between 0 and 1", o.Threshold)
	}
	o.MaxBatch = cmp.Or(o.MaxBatch, 1000)
	o.MaxBody = cmp.Or(o.MaxBody, 4<<20)
	o.ReasonCodes = cmp.Or(o.ReasonCodes, 4)
	o.WebhookWindow = cmp.Or(o.WebhookWindow, 5*time.Minute)
	o.DriftWindow = cmp.Or(o.DriftWindow, 1000)
	o.DriftMinRows = cmp.Or(o.DriftMinRows, 100)
	o.ReloadTimeout = cmp.Or(o.ReloadTimeout, 2*time.Minute)
	o.Version = cmp.Or(o.Version, "devel")
	o.MaxInFlight = cmp.Or(o.MaxInFlight, 64)
	o.MaxModelSize = cmp.Or(o.MaxModelSize, DefaultMaxModelSize)
	if o.MaxModelSize < 0 {
		return fmt.Errorf("max model size %d: want a positive number of bytes", o.MaxModelSize)
	}
	for _, sec := range []struct{ name, value string }{{"admin token", o.AdminToken}, {"webhook secret", o.WebhookSecret}} {
		if sec.value != "" && len(sec.value) < MinSecretLen {
			return fmt.Errorf("%s is %d bytes: want at least %d (e.g. `openssl rand -hex 32`)", sec.name, len(sec.value), MinSecretLen)
		}
	}
	switch o.UnknownFeatures {
	case "":
		o.UnknownFeatures = UnknownReject
	case UnknownReject, UnknownIgnore:
	default:
		return fmt.Errorf("unknown-feature policy %q: want reject or ignore", o.UnknownFeatures)
	}
	if o.MaxBatch < 1 || o.MaxBody < 1 || o.ReasonCodes < 0 || o.MaxInFlight < 1 {
		return errors.New("max batch, max body, max in-flight and reason codes must be positive")
	}
	return nil
}

// Server answers scoring requests with the current model.
type Server struct {
	opts Options
	src  Source
	log  *slog.Logger
	m    *metrics
	reg  *prometheus.Registry

	current  atomic.Pointer[snapshot]
	reloadMu sync.Mutex
	refused  string // key of the last version refused for its content
	kick     chan struct{}

	deliveries sync.Map // webhook delivery id -> time seen, against replays
	started    time.Time

	inflight atomic.Int64             // scoring requests being served
	em       [epCount]endpointMetrics // request counters and latency, per endpoint
	ids      idSource
}

// New returns a server with no model loaded; call Reload before serving
// (or serve at once: /ready answers 503 until a model is loaded). Metrics
// are registered on reg.
func New(src Source, reg *prometheus.Registry, log *slog.Logger, opts Options) (*Server, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = slog.New(durations{log.Handler()})
	if opts.DriftWindow < 0 {
		opts.DriftWindow = 0
	}
	s := &Server{opts: opts, src: src, log: log, reg: reg, kick: make(chan struct{}, 1), started: time.Now()}
	m, err := newMetrics(reg, opts.Version, newDriftCollector(opts.DriftMinRows), func() float64 { return float64(s.inflight.Load()) })
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	s.m = m
	s.ids.init()
	return s, nil
}

// Endpoints, the endpoint label of the request metrics; the first four
// score, and only they count against --max-inflight. The Open Inference
// Protocol's paths name the model; their label has {name} in its place.
var endpoints = []string{"/predict", "/explain", "/invocations", epV2Infer,
	"/ping", "/health", "/ready", "/version", "/metrics", "/admin/reload", "/webhooks/mlflow",
	"/v2", "/v2/health/live", "/v2/health/ready", epV2Model, epV2ModelReady, "other"}

const (
	epScoring = 4                  // endpoints[:epScoring] score requests
	epOther   = 16                 // index of "other"
	epCount   = epOther + 1        // number of endpoint labels
	retryShed = "1"                // Retry-After of a shed request, in seconds
	ctJSONVal = "application/json" // Content-Type of every answer
)

var (
	jsonType   = []string{ctJSONVal}
	retryAfter = []string{retryShed}
)

func endpointOf(path string) int {
	switch path {
	case "/predict":
		return 0
	case "/explain":
		return 1
	case "/invocations":
		return 2
	}
	if ep, ok := v2Endpoint(path); ok {
		return ep
	}
	for i, e := range endpoints[epScoring:epOther] {
		if e == path {
			return epScoring + i
		}
	}
	return epOther
}

// Handler returns the HTTP handler with every endpoint.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /predict", s.predict)
	mux.HandleFunc("POST /explain", s.explain)
	mux.HandleFunc("POST /invocations", s.invocations)
	mux.HandleFunc("GET /ping", s.ping)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /ready", s.ready)
	mux.HandleFunc("GET /version", s.version)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("POST /admin/reload", s.adminReload)
	mux.HandleFunc("POST /webhooks/mlflow", s.webhook)
	s.v2Routes(mux)
	return s.instrument(mux)
}

// request is the state of one request, pooled so that the hot path does
// not allocate: the response writer the handlers see (recording the
// status), the request id, and the buffers of decoding and answering.
type request struct {
	w      http.ResponseWriter
	status int
	id     string

	body []byte
	sc   scanner
	rows rowSet
	x    [][]float64
	out  []byte
	ts   []v2Input // an infer request's input tensors
}

func (q *request) Header() http.Header { return q.w.Header() }

func (q *request) WriteHeader(code int) {
	if q.status == 0 {
		q.status = code
	}
	q.w.WriteHeader(code)
}

func (q *request) Write(b []byte) (int, error) {
	if q.status == 0 {
		q.status = http.StatusOK
	}
	return q.w.Write(b)
}

// Unwrap gives http.ResponseController the connection's writer.
func (q *request) Unwrap() http.ResponseWriter { return q.w }

// requestOf returns the request state behind w (a fresh one when a
// handler is called without the instrument middleware, as in tests).
func requestOf(w http.ResponseWriter) *request {
	if q, ok := w.(*request); ok {
		return q
	}
	return &request{w: w}
}

// requestID returns the id the instrument middleware gave the request.
func requestID(w http.ResponseWriter) string { return requestOf(w).id }

// Large buffers are not kept past the request that needed them, so that an
// idle server does not hold max-inflight × max-body bytes.
const keepBuffer = 1 << 20

var requests = sync.Pool{New: func() any { return new(request) }}

func (q *request) release() {
	q.w = nil
	if cap(q.body) > keepBuffer {
		q.body = nil
	}
	if cap(q.out) > keepBuffer {
		q.out = nil
	}
	if cap(q.ts) > 1024 { // tensors of a request with many (ignored) inputs
		q.ts = nil
	}
	if cap(q.rows.flat) > keepBuffer/8 {
		q.rows = rowSet{}
		q.x = nil
	}
	q.sc = scanner{key: q.sc.key[:0], val: q.sc.val[:0]}
	q.rows.enc, q.rows.known = nil, nil // the model may be replaced; do not keep it alive
	requests.Put(q)
}

// instrument gives each request an id, sheds scoring requests beyond
// --max-inflight (503 with Retry-After), recovers panics (answering 500
// and counting them, a last resort), and records metrics and a log line.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		q := requests.Get().(*request)
		q.w, q.status = w, 0
		if id := r.Header["X-Request-Id"]; len(id) == 1 && validID(id[0]) {
			q.id = id[0]
			w.Header()["X-Request-Id"] = id
		} else {
			v := s.ids.next()
			q.id = v[0]
			w.Header()["X-Request-Id"] = v
		}
		ep := endpointOf(r.URL.Path)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.m.panics.Inc()
				s.log.Error("handler panicked", "request_id", q.id, "path", endpoints[ep], "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if q.status == 0 {
					writeError(q, http.StatusInternalServerError, "internal", "internal error (request "+q.id+")", nil)
				}
			}
			if q.status == 0 {
				q.status = http.StatusOK
			}
			took := time.Since(start)
			s.em[ep].count(s.m, ep, q.status)
			s.em[ep].observe(s.m, ep, took.Seconds())
			level := slog.LevelDebug
			if q.status >= 400 {
				level = slog.LevelInfo
			}
			if s.log.Enabled(r.Context(), level) {
				s.log.Log(r.Context(), level, "request", "request_id", q.id, "method", r.Method, "path", endpoints[ep],
					"status", q.status, "took", took)
			}
			q.release()
		}()
		if ep < epScoring {
			n := s.inflight.Add(1)
			defer s.inflight.Add(-1)
			if n > int64(s.opts.MaxInFlight) {
				s.shed(q, ep)
				return
			}
		}
		next.ServeHTTP(q, r)
	})
}

// shed answers a scoring request beyond the in-flight cap.
func (s *Server) shed(q *request, ep int) {
	s.m.shed.WithLabelValues(endpoints[ep]).Inc()
	q.Header()["Retry-After"] = retryAfter
	msg := fmt.Sprintf("overloaded: more than %d requests in flight; retry after %s s", s.opts.MaxInFlight, retryShed)
	switch ep {
	case 2:
		writeJSON(q, http.StatusServiceUnavailable, map[string]string{"error_code": "TEMPORARILY_UNAVAILABLE", "message": msg})
		return
	case epV2InferIdx:
		writeV2Error(q, http.StatusServiceUnavailable, msg, nil)
		return
	}
	writeError(q, http.StatusServiceUnavailable, "overloaded", msg, nil)
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

// ErrorBody is the JSON of every error answer but /invocations'.
type ErrorBody struct {
	Error struct {
		Reason  string         `json:"reason"`
		Message string         `json:"message"`
		Fields  []FieldProblem `json:"fields,omitempty"`
	} `json:"error"`
}

// writeError answers an error; the answer stays under maxErrorBody
// whatever the fields hold (they are capped and cut already; this is the
// last guard).
func writeError(w http.ResponseWriter, status int, reason, msg string, fields []FieldProblem) {
	var b ErrorBody
	b.Error.Reason, b.Error.Message, b.Error.Fields = reason, msg, fields
	writeBounded(w, status, &b, func() bool {
		if len(b.Error.Fields) == 0 {
			return false
		}
		b.Error.Fields = b.Error.Fields[:len(b.Error.Fields)/2]
		return true
	})
}

// InvocationsError is the JSON of an /invocations error answer, MLflow's
// shape with the field problems added.
type InvocationsError struct {
	ErrorCode string         `json:"error_code"`
	Message   string         `json:"message"`
	Fields    []FieldProblem `json:"fields"`
}

// writeBounded encodes v, halving what shrink cuts until the answer fits
// in maxErrorBody.
func writeBounded(w http.ResponseWriter, status int, v any, shrink func() bool) {
	b, err := json.Marshal(v)
	for err == nil && len(b) > maxErrorBody && shrink() {
		b, err = json.Marshal(v)
	}
	if err != nil || len(b) > maxErrorBody {
		b = []byte(`{"error":{"reason":"internal","message":"the error answer did not fit"}}`)
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// refuse answers an input error and counts it.
func (s *Server) refuse(w http.ResponseWriter, e *inputError) {
	s.countInvalid(e)
	writeError(w, e.status, e.reason, e.msg, e.fields)
}

func (s *Server) countInvalid(e *inputError) {
	if len(e.fields) == 0 {
		s.m.invalid.WithLabelValues(e.reason).Inc()
	}
	for _, f := range e.fields {
		s.m.invalid.WithLabelValues(f.Reason).Inc()
	}
}

func (s *Server) countUnseen(snap *snapshot, rs *rowSet) {
	for _, j := range rs.unseen {
		s.m.unseen.WithLabelValues(snap.schema.Features[j].Name).Inc()
	}
}

func (s *Server) noModel(w http.ResponseWriter) {
	w.Header()["Retry-After"] = []string{"5"}
	writeError(w, http.StatusServiceUnavailable, "no_model", ErrNoModel.Error()+" yet", nil)
}

// Prediction is one scored applicant. Warnings (absent when none) say how
// values were scored: an unseen category or a missing required value as
// missing, a number outside the training range as given.
type Prediction struct {
	ProbabilityOfDefault float64 `json:"probability_of_default"`
	Decision             string  `json:"decision"`
	// Score is a scorecard's points (higher is safer); absent for other
	// families. See reasons.go.
	Score    *int      `json:"score,omitempty"`
	Warnings []Warning `json:"warnings,omitempty"`
}

// PredictResponse is the answer to a single /predict.
type PredictResponse struct {
	Prediction
	Model ModelInfo `json:"model"`
}

// BatchResponse is the answer to a /predict with instances.
type BatchResponse struct {
	Predictions []Prediction `json:"predictions"`
	Model       ModelInfo    `json:"model"`
}

// InvocationsResponse is the answer to /invocations: MLflow's, with the
// warnings of each instance (absent when none).
type InvocationsResponse struct {
	Predictions []float64         `json:"predictions"`
	Warnings    []InstanceWarning `json:"warnings,omitempty"`
}

// InstanceWarning is a warning about one row of an /invocations request.
type InstanceWarning struct {
	Instance int `json:"instance"`
	Warning
}

// score predicts rows and records the scores in the metrics and drift window.
func (s *Server) score(snap *snapshot, x [][]float64) ([]float64, error) {
	p, err := snap.model.Predict(x)
	if err != nil {
		return nil, err
	}
	if len(p) != len(x) {
		return nil, fmt.Errorf("model gave %d answers for %d rows", len(p), len(x))
	}
	for i, v := range p {
		if math.IsNaN(v) {
			return nil, fmt.Errorf("model gave NaN for row %d", i)
		}
		s.m.probability.Observe(v)
	}
	snap.window.addRows(x, p)
	return p, nil
}

func (s *Server) decide(p float64) string {
	if p >= s.opts.Threshold {
		s.m.decline.Inc()
		return "decline"
	}
	s.m.approve.Inc()
	return "approve"
}

func (s *Server) modelFailed(w http.ResponseWriter, snap *snapshot, err error) {
	id := requestID(w)
	s.log.Error("model failed", "request_id", id, "version", snap.ver.Version, "err", err)
	writeError(w, http.StatusInternalServerError, "model_error", "the model failed to score the request (request "+id+")", nil)
}

// scoreRequest reads, validates and scores the body of /predict or
// /explain into q. When the request is bad or the model fails it has
// answered already and returns false.
func (s *Server) scoreRequest(q *request, r *http.Request, snap *snapshot) (p []float64, batch, ok bool) {
	if _, e := mediaType(r, ctJSONVal); e != nil {
		s.refuse(q, e)
		return nil, false, false
	}
	var e *inputError
	if q.body, e = readBody(r, s.opts.MaxBody, q.body); e != nil {
		s.refuse(q, e)
		return nil, false, false
	}
	q.rows.reset(snap.enc, s.opts.MaxBatch, s.opts.UnknownFeatures == UnknownIgnore, s.opts.Strict)
	batch = decodePredict(&q.sc, &q.rows, q.body)
	s.countUnseen(snap, &q.rows)
	if q.x, e = q.rows.result(q.x); e != nil {
		s.refuse(q, e)
		return nil, false, false
	}
	p, err := s.score(snap, q.x)
	if err != nil {
		s.modelFailed(q, snap, err)
		return nil, false, false
	}
	return p, batch, true
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	q := requestOf(w)
	snap := s.current.Load()
	if snap == nil {
		s.noModel(q)
		return
	}
	p, batch, ok := s.scoreRequest(q, r, snap)
	if !ok {
		return
	}
	b := q.out[:0]
	if batch {
		b = append(b, `{"predictions":[`...)
	}
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"probability_of_default":`...)
		b = appendFloat(b, v)
		b = append(b, `,"decision":"`...)
		b = append(b, s.decide(v)...)
		b = append(b, '"')
		if sc := snap.score(q.x[i]); sc != nil {
			b = append(b, `,"score":`...)
			b = strconv.AppendInt(b, int64(*sc), 10)
		}
		if ws := q.rows.warnings(i); ws != nil {
			b = append(b, `,"warnings":`...)
			b = appendJSON(b, ws)
		}
		if !batch {
			b = append(b, ',')
		} else {
			b = append(b, '}')
		}
	}
	if batch {
		b = append(b, "],"...)
	}
	b = append(b, `"model":`...)
	b = append(b, snap.infoJSON...)
	b = append(b, "}\n"...)
	q.out = b
	q.Header()["Content-Type"] = jsonType
	q.Write(b)
}

// ReasonCode is one feature that raised the risk, for adverse-action notices.
type ReasonCode struct {
	Feature      string  `json:"feature"`
	Contribution float64 `json:"contribution"`
	Value        any     `json:"value"`
}

// Explanation is the answer to /explain for one applicant.
type Explanation struct {
	Prediction
	// RawScore is the log-odds: BaseValue plus the sum of Contributions.
	RawScore      float64            `json:"raw_score"`
	BaseValue     float64            `json:"base_value"`
	Contributions map[string]float64 `json:"contributions"`
	ReasonCodes   []ReasonCode       `json:"reason_codes"`
	// Reasons are the adverse-action reasons with their statements: points
	// lost for a scorecard, positive contributions otherwise (reasons.go).
	Reasons []model.Reason `json:"reasons"`
}

// ExplainResponse is the answer to /explain; a batch has Explanations.
type ExplainResponse struct {
	*Explanation
	Explanations []Explanation `json:"explanations,omitempty"`
	Model        ModelInfo     `json:"model"`
}

func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	q := requestOf(w)
	snap := s.current.Load()
	if snap == nil {
		s.noModel(q)
		return
	}
	top := s.opts.ReasonCodes
	if v := r.URL.Query().Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > len(snap.schema.Features) {
			s.refuse(q, badRequest(ReasonBadRequest, "top: %s is not a number of features between 0 and %d", data.Quote(v), len(snap.schema.Features)))
			return
		}
		top = n
	}
	p, batch, ok := s.scoreRequest(q, r, snap)
	if !ok {
		return
	}
	out := ExplainResponse{Model: snap.info()}
	for i, x := range q.x {
		contrib, base, err := snap.model.Explain(x)
		if errors.Is(err, model.ErrNoExplain) {
			writeError(q, http.StatusNotImplemented, "no_explain", fmt.Sprintf("the %s model cannot explain its predictions", snap.flavor), nil)
			return
		}
		if err != nil {
			s.modelFailed(q, snap, err)
			return
		}
		pred := Prediction{ProbabilityOfDefault: p[i], Decision: s.decide(p[i]), Score: snap.score(x), Warnings: q.rows.warnings(i)}
		ex := Explanation{Prediction: pred, BaseValue: base,
			Contributions: make(map[string]float64, len(contrib))}
		if ex.Reasons, err = snap.explainer.ReasonsFrom(x, contrib, top); err != nil {
			s.modelFailed(q, snap, err)
			return
		}
		raw := base
		for j, c := range contrib {
			ex.Contributions[snap.schema.Features[j].Name] = c
			raw += c
		}
		ex.RawScore = raw
		ex.ReasonCodes = reasonCodes(snap, x, contrib, top)
		out.Explanations = append(out.Explanations, ex)
	}
	if !batch {
		out.Explanation, out.Explanations = &out.Explanations[0], nil
	}
	writeJSON(q, http.StatusOK, out)
}

// reasonCodes lists the top features that raised the risk, largest first,
// each with its value as scored: a category's level, a number, or null
// for a missing value.
func reasonCodes(snap *snapshot, x, contrib []float64, top int) []ReasonCode {
	codes := []ReasonCode{}
	for j, c := range contrib {
		if c > 0 {
			codes = append(codes, ReasonCode{Feature: snap.schema.Features[j].Name, Contribution: c, Value: scoredValue(snap, j, x[j])})
		}
	}
	slices.SortStableFunc(codes, func(a, b ReasonCode) int { return cmp.Compare(b.Contribution, a.Contribution) })
	if len(codes) > top {
		codes = codes[:top]
	}
	return codes
}

// scoredValue is feature j's encoded value as a client would send it.
func scoredValue(snap *snapshot, j int, v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	if f := snap.schema.Features[j]; f.Type == data.Categorical {
		return f.Levels[int(v)]
	}
	return v
}

// invocations speaks MLflow's scoring protocol; errors are MLflow-shaped.
func (s *Server) invocations(w http.ResponseWriter, r *http.Request) {
	q := requestOf(w)
	snap := s.current.Load()
	if snap == nil {
		writeJSON(q, http.StatusServiceUnavailable, map[string]string{"error_code": "TEMPORARILY_UNAVAILABLE", "message": ErrNoModel.Error()})
		return
	}
	fail := func(e *inputError) {
		s.countInvalid(e)
		body := InvocationsError{ErrorCode: "BAD_REQUEST", Message: e.msg, Fields: e.fields}
		writeBounded(q, e.status, &body, func() bool {
			if len(body.Fields) == 0 {
				return false
			}
			body.Fields = body.Fields[:len(body.Fields)/2]
			return true
		})
	}
	mt, e := mediaType(r, ctJSONVal, "text/csv")
	if e != nil {
		fail(e)
		return
	}
	if q.body, e = readBody(r, s.opts.MaxBody, q.body); e != nil {
		fail(e)
		return
	}
	q.rows.reset(snap.enc, s.opts.MaxBatch, s.opts.UnknownFeatures == UnknownIgnore, s.opts.Strict)
	q.rows.known = &snap.columns
	if mt == "text/csv" {
		decodeCSV(&q.rows, q.body)
	} else {
		decodeInvocations(&q.sc, &q.rows, q.body)
	}
	s.countUnseen(snap, &q.rows)
	if q.x, e = q.rows.result(q.x); e != nil {
		fail(e)
		return
	}
	p, err := s.score(snap, q.x)
	if err != nil {
		s.modelFailed(q, snap, err)
		return
	}
	b := append(q.out[:0], `{"predictions":[`...)
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFloat(b, v)
		s.decide(v)
	}
	b = append(b, ']')
	q.closeWithWarnings(b)
}

// closeWithWarnings appends the request's warnings per instance (when it
// has any) to the answer b, closes its object and writes it.
func (q *request) closeWithWarnings(b []byte) {
	if len(q.rows.warns) > 0 {
		ws := make([]InstanceWarning, len(q.rows.warns))
		for i, w := range q.rows.warns {
			ws[i] = InstanceWarning{w.row, w.Warning}
		}
		b = append(b, `,"warnings":`...)
		b = appendJSON(b, ws)
	}
	b = append(b, "}\n"...)
	q.out = b
	q.Header()["Content-Type"] = jsonType
	q.Write(b)
}

// appendFloat writes a float64 as encoding/json does: the shortest
// representation, in exponent form below 1e-6 and from 1e21 on.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, f, fmt, -1, 64)
	if fmt == 'e' {
		// e-07 → e-7, as encoding/json writes it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSON appends v as encoding/json encodes it (for the rare parts of
// an answer, such as warnings).
func appendJSON(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

func (s *Server) ping(w http.ResponseWriter, r *http.Request) {
	if s.current.Load() == nil {
		s.noModel(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("\n"))
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	snap := s.current.Load()
	if snap == nil {
		s.noModel(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "model": snap.info()})
}

// VersionResponse is the answer to /version.
type VersionResponse struct {
	Model *LoadedModel `json:"model"`
	Build struct {
		Version   string    `json:"version"`
		GoVersion string    `json:"go_version"`
		Started   time.Time `json:"started"`
	} `json:"build"`
}

// LoadedModel is the model /version reports.
type LoadedModel struct {
	ModelInfo
	Alias    string    `json:"alias,omitempty"`
	Stage    string    `json:"stage,omitempty"`
	Flavor   string    `json:"flavor"`
	Source   string    `json:"source"`
	LoadedAt time.Time `json:"loaded_at"`
	// Integrity says what the model's integrity rests on: signed,
	// registered, checksums or unverified.
	Integrity string `json:"integrity"`
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	var v VersionResponse
	v.Build.Version, v.Build.GoVersion, v.Build.Started = s.opts.Version, runtime.Version(), s.started.UTC()
	if snap := s.current.Load(); snap != nil {
		v.Model = &LoadedModel{snap.info(), snap.ver.Alias, snap.ver.Stage, snap.flavor, s.src.String(), snap.loadedAt.UTC(), snap.integrity}
	}
	writeJSON(w, http.StatusOK, v)
}

// bearer checks the Authorization header against the token in constant time.
func bearer(r *http.Request, token string) bool {
	h := r.Header.Get("Authorization")
	got, ok := strings.CutPrefix(h, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

func (s *Server) adminReload(w http.ResponseWriter, r *http.Request) {
	if s.opts.AdminToken == "" {
		writeError(w, http.StatusNotFound, "disabled", "admin endpoints are disabled: no admin token is configured", nil)
		return
	}
	if !bearer(r, s.opts.AdminToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pipeline serve"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token", nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.ReloadTimeout)
	defer cancel()
	res, err := s.Reload(ctx, r.URL.Query().Get("force") != "false")
	if err != nil {
		status := http.StatusUnprocessableEntity
		var re *ReloadError
		if errors.As(err, &re) && (re.Step == StepResolve || re.Step == StepDownload) {
			status = http.StatusBadGateway
		}
		writeError(w, status, "reload_failed", err.Error()+"; the current model keeps serving", nil)
		return
	}
	snap := s.current.Load()
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": res.Changed, "model": snap.info(), "took_seconds": res.Took.Seconds()})
}

// HTTPServer returns an http.Server for the handler with the timeouts and
// limits a public endpoint needs.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve runs hs on ln (or, when ln is nil, on hs.Addr) until ctx ends, then
// shuts it down gracefully: it stops accepting, and waits up to drain for
// in-flight requests to finish.
func Serve(ctx context.Context, hs *http.Server, ln net.Listener, drain time.Duration) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", hs.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", hs.Addr, err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Loaded reports whether a model is being served.
func (s *Server) Loaded() bool { return s.current.Load() != nil }
