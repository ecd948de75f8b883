package testkit

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium is Debian's headless-capable Chromium ($PIPELINE_CHROMIUM, else
// chromium or chromium-browser on PATH; scripts/stack installs it), or
// Unavailable.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PIPELINE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Unavailable(t, "no Chromium: apt-get install chromium (scripts/stack installs it), or set PIPELINE_CHROMIUM")
	return ""
}

// ChromiumFlags are the flags a test runs Chromium with: headless, no
// sandbox (tests run as root), no GPU, and nothing that reaches out on its
// own (background networking, component updates, sync, first-run pages).
var ChromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run"}

// Browser starts a headless Chromium (Chromium's binary, ChromiumFlags, a
// fresh profile, a 1200×900 window) for the test and returns the chromedp
// context of its first tab; it is closed with the test.
func Browser(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	bin := Chromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900)}
	for _, f := range ChromiumFlags {
		opts = append(opts, chromedp.Flag(strings.TrimPrefix(f, "--"), true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	return bctx
}
