package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/creditrisk/engine/internal/testkit"
)

// page is what the browser found on a rendered report.
type page struct {
	Title   string   `json:"title"`
	Heading string   `json:"h1"`
	Images  []image  `json:"imgs"`
	Links   []string `json:"links"`
	IDs     []string `json:"ids"`
	Metrics []struct {
		Key, Value, Text string
	} `json:"metrics"`
	// Sections are the ids of the report's sections, in order.
	Sections []string `json:"sections"`
	Height   float64  `json:"height"`
	// Problems are console errors and warnings, uncaught exceptions and
	// requests for anything but the file itself and data: URIs.
	Problems []string `json:"-"`
	// Shot is a full-page screenshot (PNG).
	Shot []byte `json:"-"`
}

type image struct {
	Alt    string  `json:"alt"`
	Loaded bool    `json:"loaded"`
	Width  float64 `json:"width"`
	Data   bool    `json:"data"`
}

const inspect = `(() => ({
  title: document.title,
  h1: document.querySelector('h1').textContent.trim(),
  imgs: [...document.images].map(i => ({alt: i.alt, loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth, data: i.src.startsWith('data:image/png;base64,')})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  metrics: [...document.querySelectorAll('[data-metric]')].map(e => ({key: e.dataset.metric, value: e.dataset.value, text: e.textContent.trim()})),
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  height: document.documentElement.scrollHeight,
}))()`

// render opens the HTML file in Debian's headless Chromium, with a fresh
// profile, and reports what it found.
func render(t *testing.T, path string) *page {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	bctx := testkit.Browser(t, ctx)
	url := "file://" + path
	p := &page{}
	var mu sync.Mutex
	problem := func(format string, args ...any) {
		mu.Lock()
		p.Problems = append(p.Problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	listen := func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problem("console %s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problem("exception: %s", ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problem("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; u != url && !strings.HasPrefix(u, "data:") {
				problem("request for %s", u)
			}
		case *network.EventLoadingFailed:
			problem("loading failed: %s", ev.ErrorText)
		}
	}
	if err := chromedp.Listen(bctx, listen); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	for _, enable := range []func() error{
		func() error { _, err := chromedp.Call(bctx, log.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(bctx, runtime.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); return err },
	} {
		if err := enable(); err != nil {
			t.Fatalf("chromium: %v", err)
		}
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("chromium: open %s: %v", url, err)
	}
	raw, err := chromedp.Run(bctx, chromedp.Evaluate[json.RawMessage](inspect))
	if err != nil {
		t.Fatalf("chromium: inspect the page: %v", err)
	}
	if p.Shot, err = chromedp.Run(bctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	if err := json.Unmarshal(raw, p); err != nil {
		t.Fatalf("page inspection: %v: %s", err, raw)
	}
	return p
}

// checkPage fails the test for every problem pageProblems finds, and
// keeps the page's screenshot (go test -artifacts).
func checkPage(t *testing.T, p *page) {
	t.Helper()
	for _, pr := range pageProblems(p) {
		t.Error(pr)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "report.png"), p.Shot, 0o644); err != nil {
		t.Error(err)
	}
}

// pageProblems lists console errors and requests for anything outside the
// page, images that did not load or are not inlined PNGs, duplicate ids,
// and links that lead nowhere: in-page anchors must name an element,
// http(s) links must answer below 400.
func pageProblems(p *page) []string {
	out := append([]string(nil), p.Problems...)
	if len(p.Images) == 0 {
		out = append(out, "no images")
	}
	for _, img := range p.Images {
		if !img.Loaded || !img.Data || img.Width < 100 {
			out = append(out, fmt.Sprintf("image %q: loaded %v, inlined %v, %v px wide", img.Alt, img.Loaded, img.Data, img.Width))
		}
	}
	ids := map[string]bool{}
	for _, id := range p.IDs {
		if ids[id] {
			out = append(out, fmt.Sprintf("id %q is used twice", id))
		}
		ids[id] = true
	}
	client := &http.Client{Timeout: 20 * time.Second}
	for _, l := range p.Links {
		switch {
		case strings.HasPrefix(l, "#"):
			if !ids[l[1:]] {
				out = append(out, fmt.Sprintf("link %s leads to no element", l))
			}
		case strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://"):
			resp, err := client.Get(l)
			if err != nil {
				out = append(out, fmt.Sprintf("link %s: %v", l, err))
				continue
			}
			resp.Body.Close()
			if resp.StatusCode >= 400 {
				out = append(out, fmt.Sprintf("link %s: %s", l, resp.Status))
			}
		default:
			out = append(out, fmt.Sprintf("link %q is neither in the page nor http(s)", l))
		}
	}
	return out
}

// TestBrowserCheckCatches: the browser check is not blind. A page with a
// script error, a broken inlined image, an external image, a dead anchor
// and a dead link gives each of those problems.
func TestBrowserCheckCatches(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	defer dead.Close()
	bad := `<!DOCTYPE html><html><head><title>bad</title></head><body><main><h1>bad</h1>
<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB" alt="truncated png">
<img src="http://127.0.0.1:1/x.png" alt="external">
<a href="#nowhere">anchor</a> <a href="` + dead.URL + `/gone">dead</a>
<script>console.error("boom"); undefinedFunction();</script>
<section id="s"></section><footer>f</footer></main></body></html>`
	path := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(pageProblems(render(t, path)), "\n")
	for _, want := range []string{"console error: \"boom\"", "exception", "truncated png", "request for http://127.0.0.1:1/x.png", "#nowhere leads to no element", "/gone: 404"} {
		if !strings.Contains(got, want) {
			t.Errorf("the check missed %q; it found:\n%s", want, got)
		}
	}
}
