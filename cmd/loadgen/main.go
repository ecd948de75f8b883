// Command loadgen sends one JSON request body to a URL, either as fast as
// -c clients can (closed loop: saturation throughput) or at a fixed -rate
// (open loop: latency is measured from each request's scheduled start, so a
// slow server is not hidden by the generator waiting for it), and prints
// throughput and latency percentiles as one JSON line.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Name       string  `json:"name"`
	Mode       string  `json:"mode"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput_rps"`
	P50        float64 `json:"p50_ms"`
	P90        float64 `json:"p90_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
}

func main() {
	url := flag.String("url", "", "URL to POST to")
	bodyPath := flag.String("body", "", "file with the JSON request body")
	name := flag.String("name", "", "label for the result line")
	clients := flag.Int("c", 8, "concurrent clients (closed loop; ignored with -rate)")
	rate := flag.Float64("rate", 0, "requests per second (open loop); 0 for closed loop")
	dur := flag.Duration("d", 10*time.Second, "duration")
	warm := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up")
	flag.Parse()
	body, err := os.ReadFile(*bodyPath)
	if err != nil || *url == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url and a readable -body are required:", err)
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	send := func() bool {
		resp, err := hc.Post(*url, "application/json", bytes.NewReader(body))
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	// warm-up: connections, JIT of the other side
	wctx, wcancel := context.WithTimeout(context.Background(), *warm)
	for wctx.Err() == nil {
		send()
	}
	wcancel()

	var mu sync.Mutex
	var lat []time.Duration
	var n, errs atomic.Int64
	record := func(d time.Duration, ok bool) {
		n.Add(1)
		if !ok {
			errs.Add(1)
		}
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	start := time.Now()
	end := start.Add(*dur)
	var wg sync.WaitGroup
	mode := fmt.Sprintf("closed loop, %d clients", *clients)
	if *rate > 0 {
		mode = fmt.Sprintf("open loop, %.0f req/s", *rate)
		interval := time.Duration(float64(time.Second) / *rate)
		for i := 0; ; i++ {
			at := start.Add(time.Duration(i) * interval)
			if at.After(end) {
				break
			}
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			wg.Add(1)
			go func(at time.Time) {
				defer wg.Done()
				ok := send()
				record(time.Since(at), ok)
			}(at)
		}
	} else {
		for range *clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					t := time.Now()
					ok := send()
					record(time.Since(t), ok)
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	r := result{Name: *name, Mode: mode, Requests: n.Load(), Errors: errs.Load(), Seconds: elapsed,
		Throughput: float64(n.Load()) / elapsed, P50: pct(0.5), P90: pct(0.9), P99: pct(0.99), Max: pct(1)}
	json.NewEncoder(os.Stdout).Encode(r)
}
