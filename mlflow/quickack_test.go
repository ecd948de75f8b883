package mlflow

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// nagleServer answers each request on a keep-alive connection as uvicorn
// does: headers and body in two writes, on a socket without TCP_NODELAY.
func nagleServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.(*net.TCPConn).SetNoDelay(false)
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					body := `{"run":{"info":{"run_id":"r"}}}`
					if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"); err != nil {
						return
					}
					time.Sleep(time.Millisecond) // the handler's work between the two writes
					if _, err := io.WriteString(conn, body); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestReusedConnectionNotDelayed: on Linux, calls on a reused connection
// to a server that sends the body behind the headers without TCP_NODELAY
// take as long as on a new one, not 40 ms more (delayed acknowledgement).
func TestReusedConnectionNotDelayed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_QUICKACK is Linux-only")
	}
	c, err := NewClient(nagleServer(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.GetRun(ctx, "r"); err != nil { // opens the connection
		t.Fatal(err)
	}
	const calls = 10
	start := time.Now()
	for range calls {
		if _, err := c.GetRun(ctx, "r"); err != nil {
			t.Fatal(err)
		}
	}
	// With delayed acknowledgements each call waits about 40 ms; without,
	// a millisecond or two. The bound leaves room for a busy machine.
	if d := time.Since(start); d > calls*20*time.Millisecond {
		t.Errorf("%d calls on a reused connection took %v; acknowledgements are delayed", calls, d)
	}
}

// TestIntegrationReusedConnectionNotDelayed: on the real MLflow 3.x server
// (uvicorn), a call on a reused connection is not slower than one on a new
// connection; before the fix it was about 40 ms slower. Calls alternate, so
// both kinds see the same load.
func TestIntegrationReusedConnectionNotDelayed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_QUICKACK is Linux-only")
	}
	uri := testkit.TrackingURI(t)
	reused, err := NewClient(uri)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := NewClient(uri, WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	exp := newExperiment(t, reused, "go-quickack")
	var re, fr []time.Duration
	for i := range 9 {
		for _, c := range []*Client{reused, fresh} {
			start := time.Now()
			if err := c.SetExperimentTag(ctx, exp, "k", strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
			if c == reused {
				re = append(re, time.Since(start))
			} else {
				fr = append(fr, time.Since(start))
			}
		}
	}
	slices.Sort(re)
	slices.Sort(fr)
	if re[4] > fr[4]+20*time.Millisecond {
		t.Errorf("median call: %v on a reused connection, %v on a new one", re[4], fr[4])
	}
}
