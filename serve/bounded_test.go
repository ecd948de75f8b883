package serve

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// amplifier builds a body of rows×keys unknown features, in the shape of
// the trust issue's probe: 700 rows × 560 keys is 3.8 MB.
func amplifier(rows, keys int, wrap func(rows string) string) []byte {
	var row strings.Builder
	row.WriteByte('{')
	for k := range keys {
		if k > 0 {
			row.WriteByte(',')
		}
		fmt.Fprintf(&row, `"u%04d":1`, k)
	}
	row.WriteByte('}')
	list := strings.Repeat(row.String()+",", rows)
	return []byte(wrap(list[:len(list)-1]))
}

// heapGrowth serves one request and returns the answer and the bytes
// allocated while serving it (runtime.MemStats.TotalAlloc, an upper bound
// of the heap's growth).
func heapGrowth(t *testing.T, s *Server, path string, body []byte) (*httptest.ResponseRecorder, uint64) {
	t.Helper()
	h := s.Handler()
	r := httptest.NewRequest("POST", path, bytes.NewReader(body))
	r.Header.Set("Content-Type", ctJSON)
	w := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h.ServeHTTP(w, r)
	runtime.ReadMemStats(&after)
	return w, after.TotalAlloc - before.TotalAlloc
}

// 12.3: a body full of unknown keys gets a bounded answer (at most 64 KiB)
// and costs a bounded amount of memory, not tens of megabytes per request.
func TestAmplificationBounded(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	for _, tc := range []struct {
		path string
		body []byte
	}{
		{"/invocations", amplifier(700, 560, func(r string) string { return `{"dataframe_records":[` + r + `]}` })},
		{"/predict", amplifier(1000, 392, func(r string) string { return `{"instances":[` + r + `]}` })},
		{"/predict", amplifier(1, 340000, func(r string) string { return r })},
	} {
		t.Run(fmt.Sprintf("%s %d bytes", tc.path, len(tc.body)), func(t *testing.T) {
			heapGrowth(t, s, tc.path, tc.body) // pools warmed up
			w, grew := heapGrowth(t, s, tc.path, tc.body)
			t.Logf("%d-byte body: %d answer, %d bytes, %.1f MiB allocated", len(tc.body), w.Code, w.Body.Len(), float64(grew)/(1<<20))
			if w.Code != 400 || !strings.Contains(w.Body.String(), "unknown_feature") {
				t.Errorf("answer %d %.200s", w.Code, w.Body)
			}
			if w.Body.Len() > 64<<10 {
				t.Errorf("answer of %d bytes, want at most 64 KiB", w.Body.Len())
			}
			if limit := uint64(len(tc.body)) + 1<<20; grew > limit {
				t.Errorf("serving it allocated %.1f MiB, want at most the body and 1 MiB (%.1f MiB)", float64(grew)/(1<<20), float64(limit)/(1<<20))
			}
		})
	}
}

// 12.3: beyond --max-inflight, scoring requests are shed with 503 and
// Retry-After, counted, while the requests in flight finish normally and
// probes still answer; nothing fails at the transport.
func TestLoadShedding(t *testing.T) {
	const cap, burst = 4, 40
	s, reg, _ := loaded(t, Options{MaxInFlight: cap})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body := mustJSON(t, record(t, 0))
	infer := inferBody(t, s, []int{0}, nil)

	// cap requests whose bodies arrive only when released
	release := make(chan struct{})
	type answer struct {
		code  int
		retry string
		err   error
	}
	slow := make(chan answer, cap)
	for range cap {
		pr, pw := io.Pipe()
		go func() {
			<-release
			pw.Write([]byte(body))
			pw.Close()
		}()
		go func() {
			resp, err := http.Post(srv.URL+"/predict", ctJSON, pr)
			if err != nil {
				slow <- answer{err: err}
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			slow <- answer{code: resp.StatusCode}
		}()
	}
	for s.inflight.Load() < cap {
		runtime.Gosched()
	}

	var wg sync.WaitGroup
	fast := make(chan answer, burst)
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/predict", "/invocations", "/explain", inferPath}[i%4]
			b := body
			switch path {
			case "/invocations":
				b = mustJSON(t, map[string]any{"dataframe_records": []any{record(t, 0)}})
			case inferPath:
				b = infer
			}
			resp, err := http.Post(srv.URL+path, ctJSON, strings.NewReader(b))
			if err != nil {
				fast <- answer{err: err}
				return
			}
			ans, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if path == inferPath && !strings.HasPrefix(string(ans), `{"error":"overloaded`) {
				err = fmt.Errorf("infer shed with %s, want the protocol's {\"error\": …}", ans)
			}
			fast <- answer{code: resp.StatusCode, retry: resp.Header.Get("Retry-After"), err: err}
		}()
	}
	wg.Wait()
	close(fast)
	for a := range fast {
		if a.err != nil || a.code != http.StatusServiceUnavailable || a.retry == "" {
			t.Errorf("request beyond the cap: %d, Retry-After %q, %v", a.code, a.retry, a.err)
		}
	}
	if resp, err := http.Get(srv.URL + "/health"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/health while saturated: %v %v", resp, err)
	}
	close(release)
	for range cap {
		if a := <-slow; a.err != nil || a.code != 200 {
			t.Errorf("request in flight: %d %v", a.code, a.err)
		}
	}
	shed := 0.0
	for _, ep := range []string{"/predict", "/invocations", "/explain", epV2Infer} {
		shed += testutil.ToFloat64(s.m.shed.WithLabelValues(ep))
	}
	if shed != burst {
		t.Errorf("api_requests_shed_total = %v, want %d", shed, burst)
	}
	if n := testutil.ToFloat64(s.m.requests.WithLabelValues("/predict", "503")); n == 0 {
		t.Error("shed requests not in api_requests_total{status=\"503\"}")
	}
	if problems, err := testutil.GatherAndLint(reg, "api_requests_shed_total", "api_requests_in_flight"); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
	// after the burst, answers are normal again
	if w := do(t, s.Handler(), "POST", "/predict", ctJSON, body); w.Code != 200 {
		t.Errorf("after the burst: %d", w.Code)
	}
}
