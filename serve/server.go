package serve

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
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
	if o.MaxBatch < 1 || o.MaxBody < 1 || o.ReasonCodes < 0 {
		return errors.New("max batch, max body and reason codes must be positive")
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
	if opts.DriftWindow < 0 {
		opts.DriftWindow = 0
	}
	m, err := newMetrics(reg, opts.Version, newDriftCollector(opts.DriftMinRows))
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return &Server{opts: opts, src: src, log: log, m: m, reg: reg, kick: make(chan struct{}, 1), started: time.Now()}, nil
}

// Endpoint names, the endpoint label of the request metrics.
var endpoints = []string{"/predict", "/explain", "/invocations", "/ping", "/health", "/ready", "/version", "/metrics", "/admin/reload", "/webhooks/mlflow"}

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
	return s.instrument(mux)
}

// statusWriter records the status code for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type ctxKey struct{}

// requestID returns the id the instrument middleware gave the request.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// instrument gives each request an id, recovers panics (answering 500 and
// counting them, a last resort), and records metrics and a log line.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, id))
		sw := &statusWriter{ResponseWriter: w}
		endpoint := "other"
		if slices.Contains(endpoints, r.URL.Path) {
			endpoint = r.URL.Path
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.m.panics.Inc()
				s.log.Error("handler panicked", "request_id", id, "path", endpoint, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, http.StatusInternalServerError, "internal", "internal error (request "+id+")", nil)
				}
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			took := time.Since(start)
			s.m.requests.WithLabelValues(endpoint, strconv.Itoa(sw.status)).Inc()
			s.m.latency.WithLabelValues(endpoint).Observe(took.Seconds())
			level := slog.LevelDebug
			if sw.status >= 400 {
				level = slog.LevelInfo
			}
			s.log.Log(r.Context(), level, "request", "request_id", id, "method", r.Method, "path", endpoint,
				"status", sw.status, "took", took)
		}()
		next.ServeHTTP(sw, r)
	})
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
	w.Header().Set("Content-Type", "application/json")
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

func writeError(w http.ResponseWriter, status int, reason, msg string, fields []FieldProblem) {
	var b ErrorBody
	b.Error.Reason, b.Error.Message, b.Error.Fields = reason, msg, fields
	writeJSON(w, status, b)
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

func (s *Server) countUnseen(features []string) {
	for _, f := range features {
		s.m.unseen.WithLabelValues(f).Inc()
	}
}

func (s *Server) noModel(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusServiceUnavailable, "no_model", ErrNoModel.Error()+" yet", nil)
}

// Prediction is one scored applicant.
type Prediction struct {
	ProbabilityOfDefault float64 `json:"probability_of_default"`
	Decision             string  `json:"decision"`
	// Score is a scorecard's points (higher is safer); absent for other
	// families. See reasons.go.
	Score *int `json:"score,omitempty"`
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
		snap.window.add(x[i], v)
	}
	return p, nil
}

func (s *Server) decide(p float64) string {
	d := "approve"
	if p >= s.opts.Threshold {
		d = "decline"
	}
	s.m.decisions.WithLabelValues(d).Inc()
	return d
}

func (s *Server) modelFailed(w http.ResponseWriter, r *http.Request, snap *snapshot, err error) {
	s.log.Error("model failed", "request_id", requestID(r.Context()), "version", snap.ver.Version, "err", err)
	writeError(w, http.StatusInternalServerError, "model_error", "the model failed to score the request (request "+requestID(r.Context())+")", nil)
}

// scored is a /predict or /explain request: the applicants as sent, as
// encoded, and their probabilities of default.
type scored struct {
	rows  []map[string]any
	x     [][]float64
	p     []float64
	batch bool
}

// scoreRequest reads, validates and scores the body of /predict or
// /explain. When the request is bad or the model fails it has answered
// already and returns nil.
func (s *Server) scoreRequest(w http.ResponseWriter, r *http.Request, snap *snapshot) *scored {
	b, e := readJSONBody(w, r, s.opts.MaxBody)
	if e != nil {
		s.refuse(w, e)
		return nil
	}
	rows, batch, e := decodePredict(b, s.opts.MaxBatch)
	if e != nil {
		s.refuse(w, e)
		return nil
	}
	x, unseen, e := encodeRows(snap, rows, batch, s.opts.UnknownFeatures == UnknownIgnore)
	s.countUnseen(unseen)
	if e != nil {
		s.refuse(w, e)
		return nil
	}
	p, err := s.score(snap, x)
	if err != nil {
		s.modelFailed(w, r, snap, err)
		return nil
	}
	return &scored{rows, x, p, batch}
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	snap := s.current.Load()
	if snap == nil {
		s.noModel(w)
		return
	}
	req := s.scoreRequest(w, r, snap)
	if req == nil {
		return
	}
	p, batch := req.p, req.batch
	if !batch {
		writeJSON(w, http.StatusOK, PredictResponse{Prediction{p[0], s.decide(p[0]), snap.score(req.x[0])}, snap.info()})
		return
	}
	out := BatchResponse{Predictions: make([]Prediction, len(p)), Model: snap.info()}
	for i, v := range p {
		out.Predictions[i] = Prediction{v, s.decide(v), snap.score(req.x[i])}
	}
	writeJSON(w, http.StatusOK, out)
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
	snap := s.current.Load()
	if snap == nil {
		s.noModel(w)
		return
	}
	top := s.opts.ReasonCodes
	if q := r.URL.Query().Get("top"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 || n > len(snap.schema.Features) {
			s.refuse(w, badRequest(ReasonBadRequest, "top: %q is not a number of features between 0 and %d", q, len(snap.schema.Features)))
			return
		}
		top = n
	}
	req := s.scoreRequest(w, r, snap)
	if req == nil {
		return
	}
	rows, x, p, batch := req.rows, req.x, req.p, req.batch
	out := ExplainResponse{Model: snap.info()}
	for i := range x {
		contrib, base, err := snap.model.Explain(x[i])
		if errors.Is(err, model.ErrNoExplain) {
			writeError(w, http.StatusNotImplemented, "no_explain", fmt.Sprintf("the %s model cannot explain its predictions", snap.flavor), nil)
			return
		}
		if err != nil {
			s.modelFailed(w, r, snap, err)
			return
		}
		ex := Explanation{Prediction: Prediction{p[i], s.decide(p[i]), snap.score(x[i])}, BaseValue: base,
			Contributions: make(map[string]float64, len(contrib))}
		if ex.Reasons, err = snap.explainer.ReasonsFrom(x[i], contrib, top); err != nil {
			s.modelFailed(w, r, snap, err)
			return
		}
		raw := base
		var codes []ReasonCode
		for j, c := range contrib {
			name := snap.schema.Features[j].Name
			ex.Contributions[name] = c
			raw += c
			if c > 0 {
				codes = append(codes, ReasonCode{Feature: name, Contribution: c, Value: rows[i][name]})
			}
		}
		slices.SortStableFunc(codes, func(a, b ReasonCode) int { return cmp.Compare(b.Contribution, a.Contribution) })
		if len(codes) > top {
			codes = codes[:top]
		}
		ex.RawScore, ex.ReasonCodes = raw, codes
		if ex.ReasonCodes == nil {
			ex.ReasonCodes = []ReasonCode{}
		}
		out.Explanations = append(out.Explanations, ex)
	}
	if !batch {
		out.Explanation, out.Explanations = &out.Explanations[0], nil
	}
	writeJSON(w, http.StatusOK, out)
}

// invocations speaks MLflow's scoring protocol; errors are MLflow-shaped.
func (s *Server) invocations(w http.ResponseWriter, r *http.Request) {
	snap := s.current.Load()
	if snap == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error_code": "TEMPORARILY_UNAVAILABLE", "message": ErrNoModel.Error()})
		return
	}
	fail := func(e *inputError) {
		s.countInvalid(e)
		writeJSON(w, e.status, map[string]any{"error_code": "BAD_REQUEST", "message": e.msg, "fields": e.fields})
	}
	b, mt, e := readBody(w, r, s.opts.MaxBody, "application/json", "text/csv")
	if e != nil {
		fail(e)
		return
	}
	decode := decodeInvocations
	if mt == "text/csv" {
		decode = decodeCSV
	}
	x, unseen, e := decode(snap, b, s.opts.MaxBatch, s.opts.UnknownFeatures == UnknownIgnore)
	s.countUnseen(unseen)
	if e != nil {
		fail(e)
		return
	}
	p, err := s.score(snap, x)
	if err != nil {
		s.modelFailed(w, r, snap, err)
		return
	}
	for _, v := range p {
		s.decide(v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"predictions": p})
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
	Model *struct {
		ModelInfo
		Alias    string    `json:"alias,omitempty"`
		Stage    string    `json:"stage,omitempty"`
		Flavor   string    `json:"flavor"`
		Source   string    `json:"source"`
		LoadedAt time.Time `json:"loaded_at"`
		// Integrity says what the model's integrity rests on: signed,
		// registered, checksums or unverified.
		Integrity string `json:"integrity"`
	} `json:"model"`
	Build struct {
		Version   string    `json:"version"`
		GoVersion string    `json:"go_version"`
		Started   time.Time `json:"started"`
	} `json:"build"`
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	var v VersionResponse
	v.Build.Version, v.Build.GoVersion, v.Build.Started = s.opts.Version, runtime.Version(), s.started.UTC()
	if snap := s.current.Load(); snap != nil {
		v.Model = &struct {
			ModelInfo
			Alias     string    `json:"alias,omitempty"`
			Stage     string    `json:"stage,omitempty"`
			Flavor    string    `json:"flavor"`
			Source    string    `json:"source"`
			LoadedAt  time.Time `json:"loaded_at"`
			Integrity string    `json:"integrity"`
		}{snap.info(), snap.ver.Alias, snap.ver.Stage, snap.flavor, s.src.String(), snap.loadedAt.UTC(), snap.integrity}
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
