package serve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/model"
)

// Reload steps, as ReloadError.Step and the step label of
// model_reload_failures_total.
const (
	StepResolve   = "resolve"
	StepDownload  = "download"
	StepVerify    = "verify"    // files differ from what was recorded, or nothing was
	StepSignature = "signature" // with a verify key: the signature is missing or wrong
	StepLoad      = "load"
	StepWarmup    = "warmup"
)

// ErrNoModel is answered while no model is loaded yet.
var ErrNoModel = errors.New("no model loaded")

// ReloadError says which step of a reload failed; the old model stays.
type ReloadError struct {
	Step    string
	Version Version
	Err     error
}

func (e *ReloadError) Error() string {
	if e.Version.Version != "" {
		return fmt.Sprintf("reload %s: version %s: %s: %v", e.Version.Name, e.Version.Version, e.Step, e.Err)
	}
	return fmt.Sprintf("reload: %s: %v", e.Step, e.Err)
}

func (e *ReloadError) Unwrap() error { return e.Err }

// permanent reports whether retrying the same version cannot help: its
// files are wrong, not the way to them.
func (e *ReloadError) permanent() bool {
	return e.Step == StepVerify || e.Step == StepSignature || e.Step == StepLoad || e.Step == StepWarmup
}

// ReloadResult tells what a reload did.
type ReloadResult struct {
	Changed bool    // a new version was swapped in
	Version Version // the version now served
	Took    time.Duration
}

// Reload checks what the source points at and, when it differs from the
// model being served (or force is set), loads it and swaps it in. A failure
// leaves the current model serving. A version that failed verification,
// loading or warm-up is not tried again until force or until the reference
// moves, so polling does not download a broken version over and over.
func (s *Server) Reload(ctx context.Context, force bool) (ReloadResult, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	v, err := s.src.Latest(ctx)
	if err != nil {
		return ReloadResult{}, s.reloadFailed(&ReloadError{Step: StepResolve, Err: err})
	}
	cur := s.current.Load()
	if !force && cur != nil && cur.ver.Key == v.Key {
		s.m.reloads.WithLabelValues("unchanged").Inc()
		return ReloadResult{Version: cur.ver}, nil
	}
	if !force && cur != nil && s.refused == v.Key {
		s.m.reloads.WithLabelValues("skipped").Inc()
		return ReloadResult{Version: cur.ver}, nil
	}
	snap, err := s.load(ctx, v)
	if err != nil {
		var re *ReloadError
		if errors.As(err, &re) && re.permanent() {
			s.refused = v.Key
		}
		return ReloadResult{}, s.reloadFailed(err)
	}
	s.refused = ""
	s.swap(snap)
	res := ReloadResult{Changed: true, Version: v, Took: time.Since(start)}
	s.log.Info("model loaded", "model", s.src.String(), "name", v.Name, "version", v.Version,
		"run_id", v.RunID, "flavor", snap.flavor, "integrity", snap.integrity, "drift", snap.window != nil, "took", res.Took)
	return res, nil
}

func (s *Server) reloadFailed(err error) error {
	var re *ReloadError
	step := "unknown"
	if errors.As(err, &re) {
		step = re.Step
	}
	s.m.reloads.WithLabelValues("failure").Inc()
	s.m.reloadFails.WithLabelValues(step).Inc()
	attrs := []any{"model", s.src.String(), "step", step, "err", err}
	if cur := s.current.Load(); cur != nil {
		attrs = append(attrs, "serving", cur.ver.Version)
	}
	s.log.Error("model reload failed; keeping the current model", attrs...)
	return err
}

// load fetches, verifies, loads and warms up a version; nothing is swapped.
func (s *Server) load(ctx context.Context, v Version) (*snapshot, error) {
	fail := func(step string, err error) error { return &ReloadError{Step: step, Version: v, Err: err} }
	tmp, err := os.MkdirTemp(s.opts.WorkDir, "model-")
	if err != nil {
		return nil, fail(StepDownload, fmt.Errorf("temporary directory: %w", err))
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(tmp)
		}
	}()
	// The download is bounded before anything is read: a version of
	// gigabytes (or of millions of files) is refused while it arrives.
	dctx := artifact.WithDownloadLimit(ctx, s.opts.MaxModelSize, integrity.MaxFiles)
	f, err := s.src.Fetch(dctx, v, tmp)
	if err != nil {
		return nil, fail(StepDownload, err)
	}
	dir := f.Dir
	level, step, err := s.verify(ctx, v, f, tmp)
	if err != nil {
		return nil, fail(step, err)
	}
	if level == IntegrityUnverified {
		s.log.Warn("model loaded unverified (--allow-unverified): nothing recorded to check its files against",
			"version", v.Version, "dir", dir)
	}
	d, err := model.Open(dir)
	if err != nil {
		return nil, fail(StepLoad, err)
	}
	prof, err := model.ReadProfile(dir)
	snap := newSnapshot(v, d, prof)
	snap.integrity = level
	if len(snap.schema.Features) == 0 {
		return nil, fail(StepLoad, errors.New("the model's schema has no features"))
	}
	if err := warmup(snap, d.Example); err != nil {
		return nil, fail(StepWarmup, err)
	}
	snap.explainer = model.NewExplainer(d.Model, s.opts.Reasons, prof) // prof may be nil
	if err != nil {
		s.log.Warn("reference profile unreadable; drift gauges off", "version", v.Version, "err", err)
	} else if prof == nil {
		s.log.Info("model directory has no reference profile; drift gauges off", "version", v.Version)
	} else if snap.window = newWindow(prof, snap.schema, s.opts.DriftWindow); snap.window == nil {
		s.log.Warn("reference profile does not match the model's features; drift gauges off", "version", v.Version)
	}
	if strings.HasPrefix(dir, tmp) {
		snap.tmp = tmp
		keep = true
	}
	return snap, nil
}

// warmup scores the input example (or one row of missing values) and checks
// the answers are probabilities, so that a broken model is refused before
// it serves, and the first request does not pay for lazy initialisation.
func warmup(s *snapshot, example [][]float64) error {
	rows := example
	if len(rows) == 0 {
		row := make([]float64, len(s.schema.Features))
		for i := range row {
			row[i] = math.NaN()
		}
		rows = [][]float64{row}
	}
	for i, r := range rows {
		if len(r) != len(s.schema.Features) {
			return fmt.Errorf("input example row %d has %d values, the schema %d features", i, len(r), len(s.schema.Features))
		}
	}
	p, err := s.model.Predict(rows)
	if err != nil {
		return fmt.Errorf("predict the input example: %w", err)
	}
	if len(p) != len(rows) {
		return fmt.Errorf("predict the input example: %d answers for %d rows", len(p), len(rows))
	}
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("predict the input example: row %d: %v is not a probability", i, v)
		}
	}
	return nil
}

// swap makes snap the served model and updates the model gauges.
func (s *Server) swap(snap *snapshot) {
	old := s.current.Swap(snap)
	s.m.drift.cur.Store(snap.window)
	s.m.info.Reset()
	i := snap.info()
	s.m.info.WithLabelValues(i.Name, i.Version, snap.ver.Alias, i.RunID, snap.integrity).Set(1)
	s.m.reloads.WithLabelValues("success").Inc()
	s.m.lastReload.Set(float64(snap.loadedAt.UnixNano()) / 1e9)
	// The old model is in memory; its files are not needed by requests
	// still using it.
	if old != nil && old.tmp != "" {
		os.RemoveAll(old.tmp)
	}
}

// Run polls the source every interval (with up to 10% jitter) and on every
// Trigger until ctx ends. Errors are logged and counted, never fatal.
func (s *Server) Run(ctx context.Context, interval time.Duration) {
	for {
		var wait <-chan time.Time
		var t *time.Timer
		if interval > 0 {
			j := time.Duration(rand.Int64N(int64(interval)/10 + 1))
			t = time.NewTimer(interval + j)
			wait = t.C
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-wait:
		case <-s.kick:
			if t != nil {
				t.Stop()
			}
		}
		rctx, cancel := context.WithTimeout(ctx, s.opts.ReloadTimeout)
		s.Reload(rctx, false)
		cancel()
	}
}

// Trigger asks Run to check the source now, without waiting.
func (s *Server) Trigger() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Close removes the served model's temporary files.
func (s *Server) Close() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if cur := s.current.Load(); cur != nil && cur.tmp != "" {
		return os.RemoveAll(cur.tmp)
	}
	return nil
}
