package serve

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
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
