package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/creditrisk/engine/mlflow"
)

// LogBatch records params, metrics and tags of a run, in that order, as
// MLflow's file store does. Everything is validated before anything is
// written. A param already logged with another value is an error
// (ErrInvalidParameter); the same value again is fine.
func (s *Store) LogBatch(ctx context.Context, runID string, b mlflow.Batch) error {
	for _, p := range b.Params {
		if err := mlflow.ValidateParam(p.Key, p.Value); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	for _, m := range b.Metrics {
		if err := mlflow.ValidateKey("metric", m.Key); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
		if err := validateMetricLinks(m); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	for _, t := range b.Tags {
		if err := mlflow.ValidateTag(t.Key, t.Value); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, _, err := s.activeRun(runID)
	if err != nil {
		return fmt.Errorf("log batch: %w", err)
	}
	for _, p := range b.Params {
		if err := s.logParam(dir, p); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	// One append per key keeps a batch's points of a key together.
	lines := map[string][]byte{}
	var keys []string
	now := s.now().UnixMilli()
	for _, m := range b.Metrics {
		ts := m.Timestamp
		if ts == 0 {
			ts = now
		}
		if _, ok := lines[m.Key]; !ok {
			keys = append(keys, m.Key)
		}
		lines[m.Key] = fmt.Appendf(lines[m.Key], "%d %s %d\n", ts, pyFloat(m.Value), m.Step)
	}
	for _, k := range keys {
		if err := appendFile(join(filepath.Join(dir, metricsDir), k), lines[k]); err != nil {
			return fmt.Errorf("log batch to run %s: metric %s: %w", runID, k, err)
		}
	}
	if err := s.logModelMetrics(runID, b.Metrics, now); err != nil {
		return fmt.Errorf("log batch to run %s: %w", runID, err)
	}
	for _, t := range b.Tags {
		if err := s.setTag(ctx, runID, dir, t); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	return nil
}

func (s *Store) logParam(runDir string, p mlflow.Param) error {
	path := join(filepath.Join(runDir, paramsDir), p.Key)
	err := s.createFile(path, []byte(p.Value))
	if !errors.Is(err, fs.ErrExist) {
		if err != nil {
			return fmt.Errorf("param %s: %w", p.Key, err)
		}
		return nil
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("param %s: %w", p.Key, err)
	}
	if string(old) != p.Value {
		return fmt.Errorf("param %s was logged as %q; it cannot change to %q: %w", p.Key, old, p.Value, mlflow.ErrInvalidParameter)
	}
	return nil
}

// latest is the point MLflow shows as a metric's value: the greatest
// (step, timestamp, value), compared as Python compares tuples.
func latest(hist []mlflow.Metric) mlflow.Metric {
	best := hist[0]
	for _, m := range hist[1:] {
		switch {
		case m.Step != best.Step:
			if m.Step > best.Step {
				best = m
			}
		case m.Timestamp != best.Timestamp:
			if m.Timestamp > best.Timestamp {
				best = m
			}
		case m.Value > best.Value: // false with NaN on either side, as in Python
			best = m
		}
	}
	return best
}

func parseHistory(key, content string) ([]mlflow.Metric, error) {
	var out []mlflow.Metric
	for i, line := range strings.Split(content, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		// MLflow 3 adds the dataset of a point measured on one.
		var dataset []string
		if f := strings.Fields(line); len(f) == 5 {
			line, dataset = strings.Join(f[:3], " "), f[3:]
		}
		ts, v, step, err := parseMetricLine(line)
		if err != nil {
			return nil, fmt.Errorf("metric %s line %d: %w", key, i+1, err)
		}
		m := mlflow.Metric{Key: key, Value: v, Timestamp: ts, Step: step}
		if dataset != nil {
			m.DatasetName, m.DatasetDigest = dataset[0], dataset[1]
		}
		out = append(out, m)
	}
	return out, nil
}

// GetMetricHistory returns every point logged for a run's metric, in the
// order logged; none when the metric was never logged.
func (s *Store) GetMetricHistory(ctx context.Context, runID, key string) ([]mlflow.Metric, error) {
	if err := mlflow.ValidateKey("metric", key); err != nil {
		return nil, fmt.Errorf("metric history of run %s: %w", runID, err)
	}
	dir, err := s.runDir(runID)
	if err != nil {
		return nil, fmt.Errorf("metric history: %w", err)
	}
	b, err := os.ReadFile(join(filepath.Join(dir, metricsDir), key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("metric history of run %s: %w", runID, err)
	}
	hist, err := parseHistory(key, string(b))
	if err != nil {
		return nil, fmt.Errorf("metric history of run %s: %w", runID, err)
	}
	return hist, nil
}
