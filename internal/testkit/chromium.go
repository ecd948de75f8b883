package testkit

import (
	"os"
	"os/exec"
	"testing"
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
