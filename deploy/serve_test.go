package deploy

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestServeAnswers runs the serve command line the chart renders (every
// option on) with the pipeline binary built here, changing only the model
// (a directory made by cmd/mkmodel), the listen address (a free port on
// 127.0.0.1) and the secret files' folder, and asks each probe's path, a
// prediction (/invocations) and /metrics on it as the kubelet and Prometheus would.
func TestServeAnswers(t *testing.T) {
	pipeline, mkmodel := build(t)
	objs, err := decodeAll(render(t, allOptions))
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := serveContainer(objs)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	model, request := filepath.Join(tmp, "model"), filepath.Join(tmp, "request.json")
	if out, err := exec.Command(mkmodel, model, request).CombinedOutput(); err != nil {
		t.Fatalf("mkmodel: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	args := rewriteArgs(t, c.Args, map[string]string{"model": model, "addr": addr})
	env := []string{"TMPDIR=" + t.TempDir(), "MLFLOW_TRACKING_URI=", "HOME=" + tmp}
	secrets := t.TempDir()
	for _, e := range c.Env {
		if !strings.HasPrefix(e.Name, "PIPELINE_SERVE_") {
			continue
		}
		v := e.Value
		if strings.HasSuffix(e.Name, "_FILE") {
			// The Secret's file, at the same path under a folder made here.
			v = filepath.Join(secrets, strings.TrimPrefix(e.Value, "/var/run/secrets/pipeline/"))
			if err := os.MkdirAll(filepath.Dir(v), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(v, []byte("s3cret-from-a-file-0123456789abcdef\n"), 0o440); err != nil {
				t.Fatal(err)
			}
		}
		env = append(env, e.Name+"="+v)
	}
	var log bytes.Buffer
	cmd := exec.Command(pipeline, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("pipeline %s\n%s", strings.Join(args, " "), log.String())
		}
	}()

	base := "http://" + addr
	path := func(p *corev1.Probe) string { return p.HTTPGet.Path }
	// The startup probe first, as the kubelet does: it allows
	// failureThreshold x periodSeconds.
	sp := c.StartupProbe
	waitOK(t, base+path(sp), time.Duration(sp.PeriodSeconds*sp.FailureThreshold)*time.Second, done)
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		waitOK(t, base+path(p), 30*time.Second, done)
	}
	body, err := os.ReadFile(request)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/invocations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /invocations: %s: %s", resp.Status, out)
	}
	_, series, err := adapterMetric()
	if err != nil {
		t.Fatal(err)
	}
	metrics := get(t, base+"/metrics")
	if !strings.Contains(metrics, series+"{") {
		t.Errorf("/metrics has no %s series (Prometheus Adapter's source for the HPA)", series)
	}
	// SIGTERM, as the kubelet sends after preStop: serve drains and exits 0.
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(time.Minute):
		t.Errorf("serve did not exit within a minute of SIGTERM")
	}
}

// rewriteArgs replaces the values of the flags named in set, each of which
// the command line must have.
func rewriteArgs(t *testing.T, args []string, set map[string]string) []string {
	t.Helper()
	out := append([]string(nil), args...)
	for name, v := range set {
		found := false
		for i, a := range out {
			if strings.HasPrefix(a, "--"+name+"=") {
				out[i], found = "--"+name+"="+v, true
			} else if a == "--"+name && i+1 < len(out) {
				out[i+1], found = v, true
			}
		}
		if !found {
			t.Fatalf("serve's command line %q has no --%s", args, name)
		}
	}
	return out
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, b)
	}
	return string(b)
}

// waitOK polls u until it answers 200, failing when serve exits or the time
// runs out.
func waitOK(t *testing.T, u string, timeout time.Duration, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("serve exited (%v) before GET %s answered 200", err, u)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: no 200 within %v (last: %s)", u, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
