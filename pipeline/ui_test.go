package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

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
	browser := testkit.Chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	dir := screenshotDir(t)
	sfx := strconv.FormatInt(time.Now().UnixNano(), 36)
	quick := []string{"--set", "num_iterations=40", "--set", "early_stopping_round=0"}

	t.Run("3.x models tab", func(t *testing.T) {
		t.Setenv("MLFLOW_TRACKING_URI", uri3)
		res := trainJSON(t, append(quick, "--experiment", "ui-models-"+sfx, "--register", "ui-models-"+sfx)...)
		if res.ModelID == "" {
			t.Fatalf("no logged model on MLflow 3: %+v", res)
		}
		page := browser.Open(t, ctx, fmt.Sprintf("%s/#/experiments/%s/models", uri3, res.ExperimentID))
		var row string
		page.Wait(t, ctx, 60*time.Second, "a link to logged model "+res.ModelID+" on the Models tab",
			fmt.Sprintf(`(() => { const a = [...document.querySelectorAll('a[href*=%q]')]; return a.length ? a[0].closest('[role=row], tr, div').innerText : null; })()`, res.ModelID), &row)
		t.Logf("Models tab lists %s: %q; screenshot %s", res.ModelID, row, page.Screenshot(t, ctx, dir, "mlflow3-models-tab.png"))
	})

	t.Run("2.9.2 metric page", func(t *testing.T) {
		t.Setenv("MLFLOW_TRACKING_URI", uri2)
		res := trainJSON(t, append(quick, "--experiment", "ui-metric-"+sfx)...)
		js := func(v any) string { b, _ := json.Marshal(v); return url.QueryEscape(string(b)) }
		const key = "validation_log_loss"
		u := fmt.Sprintf("%s/#/metric/?runs=%s&metric=%s&experiments=%s&plot_metric_keys=%s&plot_layout=%%7B%%7D&x_axis=relative&y_axis_scale=linear&line_smoothness=1&show_point=false&deselected_curves=%%5B%%5D&last_linear_y_axis_range=%%5B%%5D",
			uri2, js([]string{res.RunID}), js(key), js([]string{res.ExperimentID}), js([]string{key}))
		page := browser.Open(t, ctx, u)
		var xs []float64
		page.Wait(t, ctx, 60*time.Second, "the plotted curve of "+key,
			`(() => { const g = document.querySelector('.js-plotly-plot'); return g && g.data && g.data.length && g.data[0].x && g.data[0].x.length ? Array.from(g.data[0].x) : null; })()`, &xs)
		distinct := slices.Compact(slices.Sorted(slices.Values(xs)))
		if len(xs) != res.Iterations || len(distinct) < 2 || distinct[len(distinct)-1] <= distinct[0] {
			t.Errorf("the chart plots %d points at %d distinct x values %v; want %d points over an x-range wider than one point",
				len(xs), len(distinct), distinct, res.Iterations)
		}
		var ticks []string
		page.Wait(t, ctx, 30*time.Second, "the x-axis ticks",
			`[...document.querySelectorAll('.xtick text')].map(e => e.textContent)`, &ticks)
		t.Logf("2.9.2 plots %d points over x %v..%v (relative time, s), ticks %v; screenshot %s",
			len(xs), distinct[0], distinct[len(distinct)-1], ticks, page.Screenshot(t, ctx, dir, "mlflow2-metric-page.png"))
	})
}
