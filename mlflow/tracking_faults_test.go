package mlflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// fault is what the proxy does to a request it picks.
type fault int

const (
	pass        fault = iota
	unavailable       // answer 503 without forwarding
	dropBefore        // close the connection without forwarding
	dropAfter         // forward to the server, then close without answering
)

// faultProxy sits in front of a real MLflow server and applies faults to
// the first n requests whose path contains match.
type faultProxy struct {
	t     *testing.T
	mu    sync.Mutex
	match string
	fault fault
	left  int
	calls map[string]int // requests per path, faulty or not
	rp    *httputil.ReverseProxy
	srv   *httptest.Server
}

func newFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, calls: map[string]int{}, rp: httputil.NewSingleHostReverseProxy(u)}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

// set arms the proxy: the next n requests to paths containing match get f.
func (p *faultProxy) set(match string, f fault, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.match, p.fault, p.left = match, f, n
	p.calls = map[string]int{}
}

func (p *faultProxy) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[path]
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.calls[r.URL.Path]++
	f := pass
	if p.left > 0 && strings.Contains(r.URL.Path, p.match) {
		f = p.fault
		p.left--
	}
	p.mu.Unlock()
	switch f {
	case unavailable:
		http.Error(w, "upstream busy", http.StatusServiceUnavailable)
	case dropBefore:
		hijackClose(p.t, w)
	case dropAfter:
		p.rp.ServeHTTP(httptest.NewRecorder(), r)
		hijackClose(p.t, w)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

func eachServerBehindProxy(t *testing.T, f func(t *testing.T, p *faultProxy, c *Client)) {
	t.Helper()
	for _, s := range testkit.Servers(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			p := newFaultProxy(t, s.URI)
			c, err := NewClient(p.srv.URL, WithRetries(4, 20*time.Millisecond, 10*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			f(t, p, c)
		})
	}
}

func TestFaultsRetriedThroughProxy(t *testing.T) {
	t.Parallel()
	eachServerBehindProxy(t, func(t *testing.T, p *faultProxy, c *Client) {
		ctx := t.Context()
		for _, f := range []struct {
			name  string
			fault fault
		}{{"503", unavailable}, {"drop before", dropBefore}, {"drop after", dropAfter}} {
			// get-or-create: both the lookup and the create are safe to replay.
			p.set("/experiments/", f.fault, 3)
			name := uniq("go-fault")
			exp, err := c.GetOrCreateExperiment(ctx, CreateExperimentRequest{Name: name})
			if err != nil {
				t.Fatalf("%s: get or create: %v", f.name, err)
			}
			if exp.Name != name {
				t.Errorf("%s: got %+v", f.name, exp)
			}
			run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: exp.ID})
			if err != nil {
				t.Fatal(err)
			}

			// log-batch of 2500 points (3 calls), each call failing first.
			var ms []Metric
			for i := range 2500 {
				ms = append(ms, Metric{Key: "loss", Value: float64(i), Timestamp: 1_700_000_000_000 + int64(i), Step: int64(i)})
			}
			p.set("/runs/log-batch", f.fault, 2)
			if err := c.LogBatch(ctx, run.Info.RunID, Batch{Metrics: ms, Params: []Param{{"lr", "0.1"}}}); err != nil {
				t.Fatalf("%s: log batch: %v", f.name, err)
			}
			if n := p.count("/api/2.0/mlflow/runs/log-batch"); n != 5 {
				t.Errorf("%s: %d log-batch requests, want 3 calls + 2 retries", f.name, n)
			}
			p.set("/metrics/get-history", f.fault, 2)
			hist, err := c.GetMetricHistory(ctx, run.Info.RunID, "loss")
			if err != nil {
				t.Fatal(err)
			}
			// dropAfter means the server stored the points before the
			// answer was lost: the replay must not add duplicates.
			if len(hist) != 2500 {
				t.Errorf("%s: %d points after retries, want 2500", f.name, len(hist))
			}
			p.set("/runs/get", f.fault, 1)
			if r, err := c.GetRun(ctx, run.Info.RunID); err != nil || len(r.Data.Params) != 1 {
				t.Errorf("%s: get run: %+v %v", f.name, r, err)
			}
		}
	})
}

func TestFaultsCreateRunNotDuplicated(t *testing.T) {
	t.Parallel()
	eachServerBehindProxy(t, func(t *testing.T, p *faultProxy, c *Client) {
		ctx := t.Context()
		expID := newExperiment(t, c, "go-fault-run")
		const path = "/api/2.0/mlflow/runs/create"

		// The server created the run but the answer was lost: a replay would
		// make a second run, so the client reports the error instead.
		p.set("/runs/create", dropAfter, 1)
		_, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: expID, RunName: "lost-answer"})
		if err == nil || !strings.Contains(err.Error(), "may exist") {
			t.Errorf("lost answer: %v", err)
		}
		if n := p.count(path); n != 1 {
			t.Errorf("%d create requests after a dropped answer, want 1", n)
		}

		// 503 and a dropped connection before the server: the first is
		// safe to retry, the second cannot be told apart from a lost answer.
		p.set("/runs/create", unavailable, 2)
		if _, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: expID, RunName: "after-503"}); err != nil {
			t.Errorf("after 503: %v", err)
		}
		if n := p.count(path); n != 3 {
			t.Errorf("%d create requests, want 2 refused + 1", n)
		}

		page, err := c.SearchRuns(ctx, SearchRunsRequest{ExperimentIDs: []string{expID}})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]int{}
		for _, r := range page.Runs {
			names[r.Info.RunName]++
		}
		if len(page.Runs) != 2 || names["lost-answer"] != 1 || names["after-503"] != 1 {
			t.Errorf("runs %v, want one of each", names)
		}
	})
}

func TestFaults400NotRetried(t *testing.T) {
	t.Parallel()
	eachServerBehindProxy(t, func(t *testing.T, p *faultProxy, c *Client) {
		ctx := t.Context()
		name := uniq("go-fault-400")
		if _, err := c.CreateExperiment(ctx, CreateExperimentRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
		p.set("", pass, 0)
		_, err := c.CreateExperiment(ctx, CreateExperimentRequest{Name: name})
		if !errors.Is(err, ErrAlreadyExists) {
			t.Errorf("duplicate: %v", err)
		}
		if n := p.count("/api/2.0/mlflow/experiments/create"); n != 1 {
			t.Errorf("duplicate create (HTTP 400): %d requests, want 1", n)
		}
		run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: newExperiment(t, c, "go-fault-400")})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.LogParam(ctx, run.Info.RunID, "a", "1"); err != nil {
			t.Fatal(err)
		}
		p.set("", pass, 0)
		if err := c.LogParam(ctx, run.Info.RunID, "a", "2"); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("changed param: %v", err)
		}
		if _, err := c.GetRun(ctx, strings.Repeat("0", 32)); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing run: %v", err)
		}
		for path, want := range map[string]int{
			"/api/2.0/mlflow/runs/log-batch": 1, // 400 INVALID_PARAMETER_VALUE
			"/api/2.0/mlflow/runs/get":       1, // 404 RESOURCE_DOES_NOT_EXIST
		} {
			if n := p.count(path); n != want {
				t.Errorf("%s: %d requests, want %d", path, n, want)
			}
		}
	})
}

func TestFaultsCancelStopsRetries(t *testing.T) {
	t.Parallel()
	uri := testkit.TrackingURI(t)
	p := newFaultProxy(t, uri)
	p.set("", unavailable, 1_000_000)
	const backoff = 10 * time.Second
	c, err := NewClient(p.srv.URL, WithRetries(7, backoff, 0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.GetExperimentByName(ctx, "whatever")
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if took >= backoff/2 {
		t.Errorf("returned after %v, the first backoff is %v", took, backoff)
	}
	t.Logf("cancelled call returned after %v: %v", took, err)

	// A deadline during a request that hangs upstream returns too.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)
	c2, err := NewClient(hang.URL, WithRetries(7, backoff, 0))
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, err = c2.GetRun(ctx2, "x")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("hanging server: %v after %v", err, time.Since(start))
	}
}

// Make sure the fault kinds print in failures.
func (f fault) String() string {
	return [...]string{"pass", "503", "drop before", "drop after"}[f]
}

var _ fmt.Stringer = fault(0)
