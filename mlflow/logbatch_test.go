package mlflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creditrisk/engine/internal/testkit"
)

// interleaved returns n points for each key, step by step across the keys
// (the order a training loop logs them in).
func interleaved(keys []string, n int, base int64) []Metric {
	var ms []Metric
	for s := range n {
		for j, k := range keys {
			ms = append(ms, Metric{Key: k, Value: float64(j) + 1/float64(s+1), Timestamp: base + int64(s), Step: int64(s)})
		}
	}
	return ms
}

// batchServer answers log-batch calls after delay, recording each call's
// body and the most calls it saw in flight at once; fail picks calls (by
// their first metric) to answer with 400.
type batchServer struct {
	mu       sync.Mutex
	calls    []Batch
	inFlight atomic.Int32
	most     atomic.Int32
}

func newBatchServer(t *testing.T, delay time.Duration, fail func(Batch) bool) (*Client, *batchServer) {
	s := &batchServer{}
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for {
			m := s.most.Load()
			if n <= m || s.most.CompareAndSwap(m, n) {
				break
			}
		}
		var in struct {
			Metrics []Metric `json:"metrics"`
			Params  []Param  `json:"params"`
			Tags    []Tag    `json:"tags"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &in); err != nil {
			t.Errorf("body: %v", err)
		}
		b := Batch{Metrics: in.Metrics, Params: in.Params, Tags: in.Tags}
		s.mu.Lock()
		s.calls = append(s.calls, b)
		s.mu.Unlock()
		time.Sleep(delay)
		if fail != nil && fail(b) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error_code": "INVALID_PARAMETER_VALUE", "message": fmt.Sprintf("refused step %d", b.Metrics[0].Step)})
			return
		}
		_, _ = io.WriteString(w, "{}")
	})
	return c, s
}

func TestLogBatchConcurrentCalls(t *testing.T) {
	t.Parallel()
	c, s := newBatchServer(t, 30*time.Millisecond, nil)
	ms := interleaved([]string{"loss", "auc", "lr"}, 1500, 1_700_000_000_000) // 4500 points: 5 calls
	if err := c.LogBatch(t.Context(), "r", Batch{Metrics: ms, Params: []Param{{"lr", "0.1"}}, Tags: []Tag{{"t", "1"}}}); err != nil {
		t.Fatal(err)
	}
	if len(s.calls) != 5 {
		t.Fatalf("%d calls, want 5", len(s.calls))
	}
	if m := s.most.Load(); m < 2 || m > batchCalls {
		t.Errorf("%d calls in flight at most, want 2 to %d", m, batchCalls)
	}
	// Every point arrives once, and two calls share at most one key.
	got := map[Metric]int{}
	keys := make([]map[string]bool, len(s.calls))
	params, tags := 0, 0
	for i, b := range s.calls {
		keys[i] = map[string]bool{}
		for _, m := range b.Metrics {
			got[m]++
			keys[i][m.Key] = true
		}
		params += len(b.Params)
		tags += len(b.Tags)
	}
	for _, m := range ms {
		if got[m] != 1 {
			t.Fatalf("point %+v sent %d times", m, got[m])
		}
	}
	if len(got) != len(ms) || params != 1 || tags != 1 {
		t.Errorf("%d distinct points, %d params, %d tags sent", len(got), params, tags)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			shared := 0
			for k := range keys[i] {
				if keys[j][k] {
					shared++
				}
			}
			if shared > 1 {
				t.Errorf("calls %d and %d share %d keys", i, j, shared)
			}
		}
	}
}

func TestLogBatchFirstFailedCallReported(t *testing.T) {
	t.Parallel()
	// Parts 2 and 4 of 5 fail; part 4 answers first.
	ms := interleaved([]string{"loss"}, 4500, 1)
	c, s := newBatchServer(t, 0, func(b Batch) bool {
		if b.Metrics[0].Step == 1000 {
			time.Sleep(80 * time.Millisecond)
			return true
		}
		return b.Metrics[0].Step == 3000
	})
	err := c.LogBatch(t.Context(), "r", Batch{Metrics: ms})
	if err == nil || !strings.Contains(err.Error(), "(part 2 of 5)") || !strings.Contains(err.Error(), "refused step 1000") {
		t.Fatalf("error %v, want part 2's", err)
	}
	if !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("error %v does not match ErrInvalidParameter", err)
	}
	// Part 5 may start only while no failure is known yet.
	if n := len(s.calls); n < 4 || n > 5 {
		t.Errorf("%d calls", n)
	}
}

func TestLogBatchRepeatedTagSentInOrder(t *testing.T) {
	t.Parallel()
	c, s := newBatchServer(t, 5*time.Millisecond, nil)
	var tags []Tag
	for i := range 150 {
		tags = append(tags, Tag{fmt.Sprintf("t%03d", i), "a"})
	}
	tags = append(tags, Tag{"t000", "b"}) // the last value must win
	if err := c.LogBatch(t.Context(), "r", Batch{Tags: tags, Metrics: interleaved([]string{"m"}, 2000, 1)}); err != nil {
		t.Fatal(err)
	}
	if m := s.most.Load(); m != 1 {
		t.Errorf("%d calls in flight at once, want 1", m)
	}
	last := ""
	for _, b := range s.calls {
		for _, tg := range b.Tags {
			if tg.Key == "t000" {
				last = tg.Value
			}
		}
	}
	if len(s.calls) != 3 || last != "b" {
		t.Errorf("%d calls, t000 ends as %q", len(s.calls), last)
	}
}

func TestSplitBatchGroupsKeys(t *testing.T) {
	t.Parallel()
	ms := interleaved([]string{"b", "a", "c"}, 3, 7)
	ms = append(ms, Metric{Key: "a", Value: math.NaN(), Step: 9})
	chunks, err := splitBatch(Batch{Metrics: ms}, 42)
	if err != nil || len(chunks) != 1 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	var order []string
	for _, m := range chunks[0].Metrics {
		order = append(order, fmt.Sprintf("%s%d", m.Key, m.Step))
	}
	if got := strings.Join(order, " "); got != "b0 b1 b2 a0 a1 a2 a9 c0 c1 c2" {
		t.Errorf("order %s", got)
	}
	if ts := chunks[0].Metrics[6].Timestamp; ts != 42 {
		t.Errorf("zero timestamp became %d, want 42", ts)
	}
}

// TestIntegrationLogBatchConcurrent sends a batch whose calls overlap in keys
// to the real servers with retries off: concurrent calls must neither fail
// (lock waits, deadlocks) nor lose or duplicate points, and each key's
// latest value must be its last step's.
func TestIntegrationLogBatchConcurrent(t *testing.T) {
	t.Parallel()
	for _, s := range testkit.Servers(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(s.URI, WithRetries(0, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: newExperiment(t, c, "go-batch-par")})
			if err != nil {
				t.Fatal(err)
			}
			keys := []string{"train/loss", "valid/loss", "valid/auc"}
			// 3 × 1700 points: 6 calls, the calls of a key overlapping.
			ms := interleaved(keys, 1700, time.Now().UnixMilli())
			var params []Param
			for i := range 30 {
				params = append(params, Param{fmt.Sprintf("p%02d", i), fmt.Sprint(i)})
			}
			if err := c.LogBatch(ctx, run.Info.RunID, Batch{Metrics: ms, Params: params}); err != nil {
				t.Fatal(err)
			}
			for j, k := range keys {
				hist, err := c.GetMetricHistory(ctx, run.Info.RunID, k)
				if err != nil {
					t.Fatal(err)
				}
				if len(hist) != 1700 {
					t.Fatalf("%s: %d points, want 1700", k, len(hist))
				}
				sort.Slice(hist, func(a, b int) bool { return hist[a].Step < hist[b].Step })
				for s, m := range hist {
					if m.Step != int64(s) || m.Value != float64(j)+1/float64(s+1) {
						t.Fatalf("%s: point %d is %+v", k, s, m)
					}
				}
			}
			got, err := c.GetRun(ctx, run.Info.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Data.Params) != 30 || len(got.Data.Metrics) != len(keys) {
				t.Fatalf("%d params, %d latest metrics", len(got.Data.Params), len(got.Data.Metrics))
			}
			for _, m := range got.Data.Metrics {
				j := slices.Index(keys, m.Key)
				if j < 0 || m.Step != 1699 || m.Value != float64(j)+1/1700.0 {
					t.Errorf("latest %+v, want step 1699", m)
				}
			}
		})
	}
}

func benchMetrics(n int) []Metric {
	return interleaved([]string{"train_loss", "valid_loss", "valid_auc", "learning_rate"}, n/4, 1_700_000_000_000)
}

func BenchmarkSplitBatch2000(b *testing.B) {
	in := Batch{Metrics: benchMetrics(2000)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := splitBatch(in, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeBatch1000(b *testing.B) {
	chunks, err := splitBatch(Batch{Metrics: benchMetrics(1000)}, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(logBatchRequest{"r", chunks[0].Metrics, nil, nil}); err != nil {
			b.Fatal(err)
		}
	}
}

// refJSON is the metric's JSON form the reflection way.
func refJSON(m Metric) ([]byte, error) {
	return json.Marshal(metricJSON{Key: m.Key, Value: appendDouble(nil, m.Value), Timestamp: m.Timestamp, Step: m.Step,
		DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest, ModelID: m.ModelID, RunID: m.RunID})
}

func checkMetricJSON(t *testing.T, m Metric) {
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := refJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%+v encodes as\n%s, want\n%s", m, got, want)
	}
	if n := m.jsonLen(); n != len(want) {
		t.Errorf("%+v: jsonLen %d, encoded %d bytes", m, n, len(want))
	}
	var back Metric
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if back.Key != m.Key && utf8.ValidString(m.Key) || back.Step != m.Step || back.Timestamp != m.Timestamp || back.links() != m.links() ||
		!(back.Value == m.Value || math.IsNaN(back.Value) && math.IsNaN(m.Value) || math.Abs(m.Value) == math.MaxFloat64) {
		t.Errorf("%s decodes as %+v, want %+v", got, back, m)
	}
}

func TestMetricEncodeLikeReflection(t *testing.T) {
	t.Parallel()
	for _, m := range []Metric{
		{},
		{Key: "train/loss", Value: 0.25, Timestamp: 1_700_000_000_000, Step: 3},
		{Key: "test_auc", Value: 0.8, Timestamp: 1, ModelID: "m-0123", DatasetName: "german <test> & \"x\"", DatasetDigest: "ab12", RunID: "r"},
		{Key: "k", Value: 1, ModelID: "m-1"},
		{Key: "a b:c-d_e.f", Value: -1e-300, Timestamp: -1, Step: math.MinInt64},
		{Key: "größe", Value: 1e21, Step: math.MaxInt64},
		{Key: `q"<b>&\`, Value: math.Inf(1)},
		{Key: "tab\there", Value: math.Inf(-1)},
		{Key: "nan", Value: math.NaN()},
		{Key: "\xff\u2028", Value: 123456789.125},
	} {
		checkMetricJSON(t, m)
	}
}

func FuzzMetricEncode(f *testing.F) {
	f.Add("train/loss", 0.5, int64(1_700_000_000_000), int64(7))
	f.Add(`<&>"\`, math.Inf(-1), int64(-3), int64(0))
	f.Add("\xc3", math.NaN(), int64(0), int64(-1))
	f.Fuzz(func(t *testing.T, key string, v float64, ts, step int64) {
		checkMetricJSON(t, Metric{Key: key, Value: v, Timestamp: ts, Step: step})
	})
}
