package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/reasons"
)

// repeated streams a header and then rows of the German file over and
// over until n rows, without holding them: an input of any size.
type repeated struct {
	rows [][]byte
	n, i int
	buf  []byte
}

func newRepeated(n int) *repeated {
	lines := bytes.Split(bytes.TrimRight(data.DefaultCSV(), "\r\n"), []byte("\n"))
	r := &repeated{n: n, buf: append(bytes.TrimRight(lines[0], "\r"), '\n')}
	for _, l := range lines[1:] {
		r.rows = append(r.rows, append(bytes.TrimRight(l, "\r"), '\n'))
	}
	return r
}

func (r *repeated) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.i < r.n {
		r.buf = append(r.buf, r.rows[r.i%len(r.rows)]...)
		r.i++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.buf)
	r.buf = r.buf[:copy(r.buf, r.buf[k:])]
	return k, nil
}

// counter counts what is written, keeping nothing.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// peakHeap scores n generated rows with --explain and returns the largest
// heap in use seen (runtime.MemStats.HeapAlloc, sampled every
// millisecond) and the bytes written.
func peakHeap(t *testing.T, m model.Model, n int) (uint64, int64) {
	t.Helper()
	enc, err := data.NewEncoder(m.Schema(), nil)
	if err != nil {
		t.Fatal(err)
	}
	br, err := enc.NewBatchReader(newRepeated(n), "generated.csv")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var c counter
	if _, err := score(t.Context(), br, m, &output{w: &c}, scoring{explain: true, threshold: 0.5, reasons: 4, explainer: model.NewExplainer(m, reasons.Default(), nil)}); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	return peak.Load(), c.n
}

// Streaming scoring holds a bounded number of blocks, not the file: the
// peak heap scoring 250,000 rows (about 40 MB in, 127 MB out) is about that
// of scoring 20,000 (which fills every block in flight already), and far
// below 100 MB.
func TestPredictConstantMemory(t *testing.T) {
	m, err := model.Load(filepath.Join("testdata", "predict", "model"))
	if err != nil {
		t.Fatal(err)
	}
	small, _ := peakHeap(t, m, 20_000)
	large, written := peakHeap(t, m, 250_000)
	t.Logf("peak heap: %.1f MiB for 20,000 rows, %.1f MiB for 250,000 rows (%.0f MB written)", float64(small)/(1<<20), float64(large)/(1<<20), float64(written)/1e6)
	if large > 100<<20 || large > small+16<<20 {
		t.Errorf("peak heap %.1f MiB for 250,000 rows against %.1f MiB for 20,000: memory grows with the input", float64(large)/(1<<20), float64(small)/(1<<20))
	}
}

// Gzipped input and output, by extension: the same rows as plain files,
// and the output readable by gzip readers as one stream.
func TestPredictGzip(t *testing.T) {
	dir := filepath.Join("testdata", "predict")
	in, err := os.ReadFile(filepath.Join(dir, "applicants.csv"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(in)
	zw.Close()
	gzIn := filepath.Join(tmp, "applicants.csv.gz")
	os.WriteFile(gzIn, z.Bytes(), 0o600)
	out := filepath.Join(tmp, "scored.csv.gz")
	if code, _, stderr := pipeline(t, "predict", "--model", filepath.Join(dir, "model"), "--data", gzIn, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "scored.csv"))
	if !bytes.Equal(got, want) {
		t.Errorf("gzipped round trip differs from the golden file")
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm()&0o007 != 0 {
		t.Errorf("scored file mode %v (%v): applicants' scores world-readable", fi.Mode(), err)
	}
}

// A file that fails part-way leaves no output file behind, and the error
// names the file and line.
func TestPredictFailureLeavesNoOutput(t *testing.T) {
	dir := filepath.Join("testdata", "predict")
	in, _ := os.ReadFile(filepath.Join(dir, "applicants.csv"))
	lines := strings.Split(string(in), "\n")
	lines[40] = strings.Replace(lines[40], ",4,", ",four,", 1) // a number column
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
	out := filepath.Join(t.TempDir(), "scored.csv")
	code, _, stderr := pipeline(t, "predict", "--model", filepath.Join(dir, "model"), "--data", bad, "--out", out)
	if code != 1 || !strings.Contains(stderr, "bad.csv:41") || !strings.Contains(stderr, `"four"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
