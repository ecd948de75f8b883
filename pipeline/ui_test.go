package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditrisk/engine/internal/testkit"
)

// screenshotDir is where the UI test keeps its screenshots:
// $PIPELINE_SCREENSHOTS when set (CI keeps them as artifacts), else the
// test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("PIPELINE_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestUI opens both MLflow UIs in headless Chromium over runs `pipeline
// train` made, and checks from the DOM what a user sees: MLflow 3.17.2's
// experiment page lists our logged model on its Models tab, and MLflow
// 2.9.2's metric page draws the validation loss over relative time (its
// default x-axis) as a curve, not as one vertical line: the plotted x
// values are more than one.
func TestUI(t *testing.T) {
	uri3, uri2 := testkit.TrackingURI(t), testkit.TrackingURI2(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	browser := testkit.Browser(t, ctx)
	dir := screenshotDir(t)
	sfx := strconv.FormatInt(time.Now().UnixNano(), 36)
	quick := []string{"--set", "num_iterations=40", "--set", "early_stopping_round=0"}

	t.Run("3.x models tab", func(t *testing.T) {
		t.Setenv("MLFLOW_TRACKING_URI", uri3)
		res := trainJSON(t, append(quick, "--experiment", "ui-models-"+sfx, "--register", "ui-models-"+sfx)...)
		if res.ModelID == "" {
			t.Fatalf("no logged model on MLflow 3: %+v", res)
		}
		open(t, browser, fmt.Sprintf("%s/#/experiments/%s/models", uri3, res.ExperimentID))
		row := wait[string](t, browser, 60*time.Second, "a link to logged model "+res.ModelID+" on the Models tab",
			fmt.Sprintf(`(() => { const a = [...document.querySelectorAll('a[href*=%q]')]; return a.length ? a[0].closest('[role=row], tr, div').innerText : null; })()`, res.ModelID))
		t.Logf("Models tab lists %s: %q; screenshot %s", res.ModelID, row, screenshot(t, browser, dir, "mlflow3-models-tab.png"))
	})

	t.Run("2.9.2 metric page", func(t *testing.T) {
		t.Setenv("MLFLOW_TRACKING_URI", uri2)
		res := trainJSON(t, append(quick, "--experiment", "ui-metric-"+sfx)...)
		js := func(v any) string { b, _ := json.Marshal(v); return url.QueryEscape(string(b)) }
		const key = "validation_log_loss"
		u := fmt.Sprintf("%s/#/metric/?runs=%s&metric=%s&experiments=%s&plot_metric_keys=%s&plot_layout=%%7B%%7D&x_axis=relative&y_axis_scale=linear&line_smoothness=1&show_point=false&deselected_curves=%%5B%%5D&last_linear_y_axis_range=%%5B%%5D",
			uri2, js([]string{res.RunID}), js(key), js([]string{res.ExperimentID}), js([]string{key}))
		open(t, browser, u)
		xs := wait[[]float64](t, browser, 60*time.Second, "the plotted curve of "+key,
			`(() => { const g = document.querySelector('.js-plotly-plot'); return g && g.data && g.data.length && g.data[0].x && g.data[0].x.length ? Array.from(g.data[0].x) : null; })()`)
		distinct := slices.Compact(slices.Sorted(slices.Values(xs)))
		if len(xs) != res.Iterations || len(distinct) < 2 || distinct[len(distinct)-1] <= distinct[0] {
			t.Errorf("the chart plots %d points at %d distinct x values %v; want %d points over an x-range wider than one point",
				len(xs), len(distinct), distinct, res.Iterations)
		}
		ticks := wait[[]string](t, browser, 30*time.Second, "the x-axis ticks",
			`(() => { const e = [...document.querySelectorAll('.xtick text')].map(e => e.textContent); return e.length ? e : null; })()`)
		t.Logf("2.9.2 plots %d points over x %v..%v (relative time, s), ticks %v; screenshot %s",
			len(xs), distinct[0], distinct[len(distinct)-1], ticks, screenshot(t, browser, dir, "mlflow2-metric-page.png"))
	})
}

func open(t *testing.T, browser context.Context, u string) {
	t.Helper()
	if err := chromedp.Do(browser, chromedp.Navigate(u)); err != nil {
		t.Fatalf("chromium: open %s: %v", u, err)
	}
}

// wait polls expr until it is truthy and returns its value. The MLflow UI
// navigates inside the page as it loads; an evaluation such a navigation
// cut is tried again.
func wait[T any](t *testing.T, browser context.Context, timeout time.Duration, what, expr string) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := chromedp.Run(browser, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return v
		}
		if time.Now().After(deadline) || browser.Err() != nil {
			t.Fatalf("chromium: waiting %v for %s: %v", timeout, what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// screenshot keeps a PNG of the page in dir and returns its path.
func screenshot(t *testing.T, browser context.Context, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
