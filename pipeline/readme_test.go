package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// readmeSkips are the README's commands that this test does not run, each
// with the reason; every other command line of a README code block runs.
// A new line is run, or added here with its reason, never silently left
// out.
var readmeSkips = []struct{ prefix, why string }{
	{"scripts/test", "the whole suite: this test is part of it"},
	{"scripts/stack", "installs and starts services: covered by internal/testkit's stack tests"},
	{`eval "$(scripts/stack env)"`, "changes the calling shell only"},
	{"pipeline sync", "needs a tracking server: TestSyncCommand runs it against the stack's"},
	{"docker compose", "no Docker engine here: ops/compose_test.go checks the file"},
	{"pipeline promote --name credit-risk-dask", "needs a version that lightgbm.dask trained and Python registered: TestDaskTrainedLightGBM runs it against the stack"},
	{"pipeline serve --model models:/credit-risk-dask", "serves that version: TestDaskTrainedLightGBM runs it"},
}

// readmeCommand is one command of a README code block: a pipeline
// subcommand (args after "pipeline") or a curl of the server started by
// the block's serve line.
type readmeCommand struct {
	line int
	text string
	args []string
}

// TestREADME runs the README's commands as a new user types them, in a
// fresh folder without MLFLOW_TRACKING_URI (so the local store ./mlruns),
// with the repository's examples/ and configs/ and the shared data sets
// beside: each train, predict, promote, rollback and models line must
// succeed; a serve line starts the server (on a free port instead of
// :8000) for the curl lines after it. Promotions run under a permissive
// gate policy, so each line's effect (not the gates, which promote's tests
// cover) is what is checked; a gate refusal (exit 3) is still a documented
// outcome of a promote line.
func TestREADME(t *testing.T) {
	cmds := readmeCommands(t, "../README.md")
	if len(cmds) < 15 {
		t.Fatalf("found only %d commands in README.md", len(cmds))
	}
	bin := testkit.Pipeline(t)
	dir := t.TempDir()
	for _, d := range []string{"examples", "configs"} {
		abs, err := filepath.Abs(filepath.Join("..", d))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(testkit.Path(t, "taiwan_default.csv"), filepath.Join(dir, "taiwan_default.csv")); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "any-gate.yaml")
	if err := os.WriteFile(policy, []byte("min_auc: 0\nmax_brier: 1\nmax_ece: 1\nauc_margin: -1\ndelong_p_value: 0\nallow_schema_change: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "MLFLOW_TRACKING_URI=", "PIPELINE_PROMOTE_POLICY="+policy)

	var server string // base URL of the serve line's server
	for _, c := range cmds {
		t.Logf("README.md:%d: %s", c.line, c.text)
		if c.args[0] == "curl" {
			if server == "" {
				t.Fatalf("README.md:%d: curl before any serve line", c.line)
			}
			out, err := runIn(dir, env, "curl", rewriteURL(c.args[1:], server)...)
			if err != nil || !strings.Contains(out, "probability_of_default") {
				t.Errorf("README.md:%d: %s\n%v: %s", c.line, c.text, err, out)
			}
			continue
		}
		if c.args[0] == "serve" {
			server = startServe(t, bin, dir, env, c)
			continue
		}
		out, err := runIn(dir, env, bin, c.args...)
		code := exitCode(err)
		if code != 0 && !(c.args[0] == "promote" && code == exitGate) {
			t.Errorf("README.md:%d: %s\nexit %d:\n%s", c.line, c.text, code, out)
		}
	}
}

// readmeCommands reads the command lines of path's code blocks (indented
// or fenced), dropping comments and continuation-only lines, and fails on
// a line that is neither runnable here nor in readmeSkips.
func readmeCommands(t *testing.T, path string) []readmeCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []readmeCommand
	fenced, prevBlank := false, true
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		indented := strings.HasPrefix(line, "    ") && (prevBlank || len(out) > 0 && out[len(out)-1].line == n-1 || strings.HasPrefix(strings.TrimSpace(line), "#"))
		prevBlank = strings.TrimSpace(line) == ""
		if !fenced && !indented {
			continue
		}
		text := strings.TrimSpace(line)
		if i := strings.Index(text, "  #"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if skipped(text) {
			continue
		}
		words := shellWords(t, text)
		switch {
		case len(words) >= 3 && words[0] == "go" && words[1] == "run" && words[2] == "./pipeline":
			words = words[3:]
		case words[0] == "pipeline":
			words = words[1:]
		case words[0] == "curl":
		default:
			t.Errorf("README.md:%d: %q is neither run by TestREADME nor in readmeSkips with a reason", n, text)
			continue
		}
		out = append(out, readmeCommand{line: n, text: text, args: words})
	}
	return out
}

func skipped(text string) bool {
	for _, s := range readmeSkips {
		if strings.HasPrefix(text, s.prefix) {
			return true
		}
	}
	return false
}

// shellWords splits a command line as a POSIX shell would for the
// quoting the README uses (single and double quotes).
func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

func runIn(dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

var localhostURL = regexp.MustCompile(`^(http://)?localhost:8000`)

// rewriteURL points the curl arguments at the test's server.
func rewriteURL(args []string, base string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = localhostURL.ReplaceAllString(a, base)
	}
	return out
}

// startServe runs the README's serve line on a free port and waits until
// it is ready; it is stopped when the test ends.
func startServe(t *testing.T, bin, dir string, env []string, c readmeCommand) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string(nil), c.args...)
	for i := range args {
		if i > 0 && args[i-1] == "--addr" {
			args[i] = addr
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var log testkit.Log
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	base := "http://" + addr
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("README.md:%d: %s: not ready: %v\n%s", c.line, c.text, err, log.String())
		}
	}
}
