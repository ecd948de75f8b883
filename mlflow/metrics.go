package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/creditrisk/engine/internal/fanout"
)

// Metric is one point of a metric's history.
//
// Value may be NaN or ±Inf: they travel as the JSON strings "NaN",
// "Infinity" and "-Infinity" (protobuf's JSON form). MLflow's SQL stores
// keep ±Inf as ±MaxFloat64 and give that back; decoding maps it back to ±Inf.
//
// MLflow 3 links a point to a logged model and to the dataset it was
// measured on (ModelID, DatasetName, DatasetDigest; RunID in answers).
// They are sent only when set, so 2.x servers, which reject unknown
// fields, never see them.
type Metric struct {
	Key           string  `json:"key"`
	Value         float64 `json:"value"`
	Timestamp     int64   `json:"timestamp"` // ms since the epoch
	Step          int64   `json:"step"`
	DatasetName   string  `json:"dataset_name,omitempty"`
	DatasetDigest string  `json:"dataset_digest,omitempty"`
	ModelID       string  `json:"model_id,omitempty"`
	RunID         string  `json:"run_id,omitempty"`
}

type metricJSON struct {
	Key           string          `json:"key"`
	Value         json.RawMessage `json:"value"`
	Timestamp     int64           `json:"timestamp"`
	Step          int64           `json:"step"`
	DatasetName   string          `json:"dataset_name,omitempty"`
	DatasetDigest string          `json:"dataset_digest,omitempty"`
	ModelID       string          `json:"model_id,omitempty"`
	RunID         string          `json:"run_id,omitempty"`
}

// links are the metric's optional string fields, in metricJSON's order.
func (m Metric) links() [4][2]string {
	return [4][2]string{{"dataset_name", m.DatasetName}, {"dataset_digest", m.DatasetDigest}, {"model_id", m.ModelID}, {"run_id", m.RunID}}
}

// MarshalJSON writes non-finite values as protobuf JSON strings.
func (m Metric) MarshalJSON() ([]byte, error) {
	return m.appendJSON(make([]byte, 0, m.jsonLen())), nil
}

// appendJSON appends the metric's JSON form, byte for byte what
// encoding/json writes for metricJSON, without reflection: a log-batch call
// carries up to 1000 of them.
func (m Metric) appendJSON(b []byte) []byte {
	b = append(b, `{"key":`...)
	if plainJSON(m.Key) {
		b = append(b, '"')
		b = append(b, m.Key...)
		b = append(b, '"')
	} else {
		k, _ := json.Marshal(m.Key) // a string always encodes
		b = append(b, k...)
	}
	b = append(b, `,"value":`...)
	b = appendDouble(b, m.Value)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, m.Timestamp, 10)
	b = append(b, `,"step":`...)
	b = strconv.AppendInt(b, m.Step, 10)
	for _, l := range m.links() {
		if l[1] != "" {
			b = append(b, `,"`...)
			b = append(b, l[0]...)
			b = append(b, `":`...)
			v, _ := json.Marshal(l[1]) // a string always encodes
			b = append(b, v...)
		}
	}
	return append(b, '}')
}

// jsonLen is the length of appendJSON's output.
func (m Metric) jsonLen() int {
	n := len(`{"key":,"value":,"timestamp":,"step":}`) + intLen(m.Timestamp) + intLen(m.Step)
	if plainJSON(m.Key) {
		n += len(m.Key) + 2
	} else {
		k, _ := json.Marshal(m.Key)
		n += len(k)
	}
	for _, l := range m.links() {
		if l[1] != "" {
			v, _ := json.Marshal(l[1])
			n += len(`,"":`) + len(l[0]) + len(v)
		}
	}
	var buf [32]byte
	return n + len(appendDouble(buf[:0], m.Value))
}

func intLen(v int64) int {
	var buf [20]byte
	return len(strconv.AppendInt(buf[:0], v, 10))
}

// plainJSON reports whether encoding/json writes s between quotes as it is:
// printable ASCII without the characters it escapes (metric keys that pass
// validation mostly are; other letters take the slow path).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// UnmarshalJSON reads numbers and the strings "NaN", "Infinity", "-Infinity".
func (m *Metric) UnmarshalJSON(b []byte) error {
	var j metricJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	v, err := decodeDouble(j.Value)
	if err != nil {
		return fmt.Errorf("metric %q value: %w", j.Key, err)
	}
	*m = Metric{Key: j.Key, Value: v, Timestamp: j.Timestamp, Step: j.Step,
		DatasetName: j.DatasetName, DatasetDigest: j.DatasetDigest, ModelID: j.ModelID, RunID: j.RunID}
	return nil
}

func appendDouble(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// decodeDouble reads a protobuf JSON double: a number, or a string holding
// a number, NaN, Infinity or -Infinity. Absent (empty) is 0.
func decodeDouble(raw json.RawMessage) (float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	num := raw
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		num = []byte(s)
	}
	// JSON number syntax only: ParseFloat alone would take "inf" and hex.
	var n json.Number
	if json.Unmarshal(num, &n) != nil || len(num) == 0 || num[0] == '"' {
		return 0, fmt.Errorf("not a number: %s", shortText(raw[:min(len(raw), 40)]))
	}
	v, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return 0, fmt.Errorf("not a double: %s", shortText(raw[:min(len(raw), 40)]))
	}
	switch v {
	case math.MaxFloat64:
		return math.Inf(1), nil
	case -math.MaxFloat64:
		return math.Inf(-1), nil
	}
	return v, nil
}

// GetMetricHistory returns every point logged for a run's metric, in the
// server's order (by timestamp, step and value). Servers from about 2.10 on
// page the answer (max_results, page_token); 2.9 ignores both and sends all
// points at once. Both work here.
func (c *Client) GetMetricHistory(ctx context.Context, runID, key string) ([]Metric, error) {
	return collect(Paginate("", func(token string) ([]Metric, string, error) {
		page, err := c.MetricHistoryPage(ctx, runID, key, 25000, token)
		if err != nil {
			return nil, "", err
		}
		return page.Metrics, page.NextPageToken, nil
	}))
}

// MetricHistory is one page of a metric's history.
type MetricHistory struct {
	Metrics       []Metric `json:"metrics"`
	NextPageToken string   `json:"next_page_token"`
}

// MetricHistoryPage returns one page of a metric's history; maxResults 0
// asks for everything (the only mode of 2.9 servers, which ignore paging).
func (c *Client) MetricHistoryPage(ctx context.Context, runID, key string, maxResults int64, pageToken string) (*MetricHistory, error) {
	q := url.Values{"run_id": {runID}, "metric_key": {key}}
	if maxResults > 0 {
		q.Set("max_results", strconv.FormatInt(maxResults, 10))
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var out MetricHistory
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/metrics/get-history", q, &out); err != nil {
		return nil, fmt.Errorf("get history of metric %q of run %s: %w", key, runID, err)
	}
	return &out, nil
}

// Server limits for one log-batch call (mlflow/utils/validation.py, the
// same in 2.9 and 3.x).
const (
	maxMetricsPerBatch  = 1000
	maxParamsPerBatch   = 100
	maxTagsPerBatch     = 100
	maxEntitiesPerBatch = 1000
	// The server's limit is 1e6 bytes of request; keep room for the
	// envelope and the JSON escaping of odd characters.
	maxBatchBytes = 900_000
)

// Batch is what one LogBatch call records.
type Batch struct {
	Metrics []Metric
	Params  []Param
	Tags    []Tag
}

// batchCalls bounds the log-batch calls one LogBatch has in flight. A
// server spends most of a large call waiting (on its database, on a busy
// CPU), so a few calls at once cut the wall time; more would only queue at
// its workers (MLflow's default is a handful of processes).
const batchCalls = 4

// LogBatch records metrics, params and tags for a run, split into as many
// log-batch calls as the server's limits need (1000 metrics, 100 params,
// 100 tags, 1000 entities, 1 MB per call). Everything is validated first, so
// bad input fails before anything is sent, with an error naming the key.
// Metrics with a zero timestamp get the current time; identical duplicate
// params are sent once. Each param travels in exactly one call, and a call
// replayed after a lost answer is harmless (same timestamps, same values).
//
// The calls of a large batch go out up to four at a time; metrics are
// grouped by key, so concurrent calls share at most one key and the server
// orders points by step and timestamp, not by arrival. A batch that sets the
// same tag twice is sent one call after another, so the last value wins as
// in a single call. When a call fails, no further call starts, the ones
// under way finish, and the error names the first failed call (part i of n);
// calls before and beside it may have been recorded.
func (c *Client) LogBatch(ctx context.Context, runID string, b Batch) error {
	chunks, err := splitBatch(b, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("log batch to run %s: %w", runID, err)
	}
	send := func(i int) error {
		ch := chunks[i]
		in := logBatchRequest{runID, ch.Metrics, ch.Params, ch.Tags}
		if err := c.do(ctx, "POST", "/api/2.0/mlflow/runs/log-batch", in, nil); err != nil {
			return fmt.Errorf("log batch to run %s (part %d of %d): %w", runID, i+1, len(chunks), err)
		}
		return nil
	}
	par := batchCalls
	if repeatsTag(b.Tags) {
		par = 1
	}
	return fanout.Each(len(chunks), par, send)
}

type logBatchRequest struct {
	RunID   string   `json:"run_id"`
	Metrics []Metric `json:"metrics,omitempty"`
	Params  []Param  `json:"params,omitempty"`
	Tags    []Tag    `json:"tags,omitempty"`
}

// repeatsTag reports whether a tag key occurs twice; the order of the calls
// then decides the tag's value.
func repeatsTag(tags []Tag) bool {
	if len(tags) < 2 {
		return false
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if seen[t.Key] {
			return true
		}
		seen[t.Key] = true
	}
	return false
}

// LogMetric records one metric point (a one-entry LogBatch).
func (c *Client) LogMetric(ctx context.Context, runID, key string, value float64, step int64) error {
	return c.LogBatch(ctx, runID, Batch{Metrics: []Metric{{Key: key, Value: value, Step: step}}})
}

// LogParam records one param.
func (c *Client) LogParam(ctx context.Context, runID, key, value string) error {
	return c.LogBatch(ctx, runID, Batch{Params: []Param{{key, value}}})
}

// splitBatch validates b and cuts it into calls within the server limits,
// params first, then tags, then metrics.
func splitBatch(b Batch, now int64) ([]Batch, error) {
	seen := make(map[string]string, len(b.Params))
	var params []Param
	for _, p := range b.Params {
		if err := ValidateParam(p.Key, p.Value); err != nil {
			return nil, err
		}
		if old, ok := seen[p.Key]; ok {
			if old != p.Value {
				return nil, fmt.Errorf("param %q given twice with different values (%q, %q); params cannot change", p.Key, old, p.Value)
			}
			continue
		}
		seen[p.Key] = p.Value
		params = append(params, p)
	}
	for _, t := range b.Tags {
		if err := ValidateTag(t.Key, t.Value); err != nil {
			return nil, err
		}
	}
	// Metrics are grouped by key (keys in order of first appearance, the
	// points of a key in their order), so that the calls of a batch, sent
	// concurrently, share at most one key: the server locks each key's
	// latest value while it writes points.
	group := make(map[string]int)
	var counts []int
	for _, m := range b.Metrics {
		if err := ValidateKey("metric", m.Key); err != nil {
			return nil, err
		}
		g, ok := group[m.Key]
		if !ok {
			g = len(counts)
			group[m.Key] = g
			counts = append(counts, 0)
		}
		counts[g]++
	}
	next := make([]int, len(counts)) // where the next point of each group goes
	for g := 1; g < len(counts); g++ {
		next[g] = next[g-1] + counts[g-1]
	}
	metrics := make([]Metric, len(b.Metrics))
	for _, m := range b.Metrics {
		if m.Timestamp == 0 {
			m.Timestamp = now
		}
		g := group[m.Key]
		metrics[next[g]] = m
		next[g]++
	}

	// Each call takes as many params, then tags, then metrics as the
	// limits allow, so calls are few and every entry is sent once.
	var out []Batch
	for len(params)+len(b.Tags)+len(metrics) > 0 {
		var cur Batch
		size := 0
		room := func(n int) bool {
			return len(cur.Metrics)+len(cur.Params)+len(cur.Tags) < maxEntitiesPerBatch && size+n <= maxBatchBytes
		}
		for len(params) > 0 && len(cur.Params) < maxParamsPerBatch {
			n := jsonSize(params[0])
			if !room(n) {
				break
			}
			cur.Params, params, size = append(cur.Params, params[0]), params[1:], size+n
		}
		tags := b.Tags
		for len(tags) > 0 && len(cur.Tags) < maxTagsPerBatch {
			n := jsonSize(tags[0])
			if !room(n) {
				break
			}
			cur.Tags, tags, size = append(cur.Tags, tags[0]), tags[1:], size+n
		}
		b.Tags = tags
		for len(metrics) > 0 && len(cur.Metrics) < maxMetricsPerBatch {
			n := metrics[0].jsonLen() + 1
			if !room(n) {
				break
			}
			cur.Metrics, metrics, size = append(cur.Metrics, metrics[0]), metrics[1:], size+n
		}
		out = append(out, cur)
	}
	return out, nil
}

// jsonSize is the encoded size of an entry plus its separator.
func jsonSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return maxBatchBytes // cannot happen for these types; forces a call of its own
	}
	return len(b) + 1
}
