package testkit

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Browser is a headless Chromium (Debian's chromium package, which
// scripts/stack installs) driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ending in a NUL byte), so tests
// can open a page, read its DOM and take a screenshot without a WebSocket
// library.
type Browser struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	mu      sync.Mutex
	next    int
	pending map[int]chan cdpAnswer
	log     Log
}

type cdpAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Chromium starts a headless Chromium with a fresh profile, stopped when
// the test ends. Without the chromium command the test is Unavailable.
func Chromium(t testing.TB) *Browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		Unavailable(t, "the screenshot test needs Debian's chromium (scripts/stack up installs it): %v", err)
	}
	toChrome, chromeIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	chromeOut, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{in: chromeIn, pending: map[int]chan cdpAnswer{}}
	b.cmd = exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--window-size=1400,1000", "--remote-debugging-pipe", "about:blank")
	// The pipe's ends for Chromium are its file descriptors 3 (commands)
	// and 4 (answers).
	b.cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	b.cmd.Stdout, b.cmd.Stderr = &b.log, &b.log
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	toChrome.Close()
	fromChrome.Close()
	go b.read(chromeOut)
	t.Cleanup(func() {
		chromeIn.Close()
		b.cmd.Process.Kill()
		b.cmd.Wait()
	})
	return b
}

// read delivers Chromium's answers to the calls waiting for them.
func (b *Browser) read(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.pending {
				ch <- cdpAnswer{Error: &struct {
					Message string `json:"message"`
				}{"chromium closed the pipe: " + err.Error()}}
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var a struct {
			ID int `json:"id"`
			cdpAnswer
		}
		if json.Unmarshal(msg[:len(msg)-1], &a) != nil || a.ID == 0 {
			continue // an event
		}
		b.mu.Lock()
		ch := b.pending[a.ID]
		delete(b.pending, a.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- a.cdpAnswer
		}
	}
}

// call sends a DevTools command (to a page's session when session is set)
// and decodes its result into out.
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpAnswer, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	buf, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(buf, 0)); err != nil {
		return fmt.Errorf("chromium %s: %w", method, err)
	}
	select {
	case a := <-ch:
		if a.Error != nil {
			return fmt.Errorf("chromium %s: %s", method, a.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(a.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("chromium %s: %w\n%s", method, ctx.Err(), b.log.String())
	}
}

// Page is a browser tab.
type Page struct {
	b       *Browser
	session string
}

// Open opens url in a new tab; t is the (sub)test that uses it.
func (b *Browser) Open(t testing.TB, ctx context.Context, url string) *Page {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": url}, &target); err != nil {
		t.Fatal(err)
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	return &Page{b: b, session: att.SessionID}
}

// Wait evaluates the JavaScript expression in the page every 200 ms until
// it gives a truthy value, which is decoded into out, or until timeout,
// which fails the test naming what did not appear. A page that navigates
// meanwhile (a single-page app rewriting its route) is asked again.
func (p *Page) Wait(t testing.TB, ctx context.Context, timeout time.Duration, what, expr string, out any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := p.wait(t, ctx, time.Until(deadline), what, expr, out)
		if err == nil {
			return
		}
		if !retryable(err) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (p *Page) wait(t testing.TB, ctx context.Context, timeout time.Duration, what, expr string, out any) error {
	t.Helper()
	js := fmt.Sprintf(`new Promise(resolve => {
		const until = Date.now() + %d;
		const poll = () => {
			let v;
			try { v = (%s); } catch (e) { v = undefined; }
			if (v || Date.now() > until) { resolve(v === undefined ? null : v); } else { setTimeout(poll, 200); }
		};
		poll();
	})`, timeout.Milliseconds(), expr)
	ctx, cancel := context.WithTimeout(ctx, timeout+30*time.Second)
	defer cancel()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{"expression": js, "awaitPromise": true, "returnByValue": true}, &res); err != nil {
		return err
	}
	if res.Exception != nil {
		return fmt.Errorf("%s: %s", what, res.Exception.Text)
	}
	v := res.Result.Value
	if len(v) == 0 || string(v) == "null" || string(v) == "false" || string(v) == `""` || string(v) == "0" {
		return fmt.Errorf("%s: not in the page after %v", what, timeout)
	}
	if out != nil {
		if err := json.Unmarshal(v, out); err != nil {
			return fmt.Errorf("%s: %v (%s)", what, err, v)
		}
	}
	return nil
}

// Screenshot writes the page as a PNG file into dir and returns its path.
func (p *Page) Screenshot(t testing.TB, ctx context.Context, dir, name string) string {
	t.Helper()
	var shot struct {
		Data string `json:"data"`
	}
	if err := p.b.call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// retryable reports an evaluation that failed because the page navigated
// under it.
func retryable(err error) bool {
	for _, s := range []string{"context was destroyed", "Cannot find context", "navigated or closed"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}
