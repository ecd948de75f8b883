package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestHelpGolden pins every command's --help text to a golden file under
// testdata/help/, so a change of a flag or of what a command does shows
// in review beside the code (go test ./pipeline -run TestHelpGolden
// -update rewrites them).
func TestHelpGolden(t *testing.T) {
	var walk func(prefix []string, cmds []*cli.Command)
	walk = func(prefix []string, cmds []*cli.Command) {
		for _, c := range cmds {
			path := append(append([]string(nil), prefix...), c.Name)
			t.Run(strings.Join(path, "_"), func(t *testing.T) {
				code, stdout, stderr := pipeline(t, append(path, "--help")...)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
				testkit.Golden(t, "help/"+strings.Join(path, "_")+".txt", []byte(stdout))
			})
			walk(path, c.Subcommands)
		}
	}
	code, stdout, _ := pipeline(t, "--help")
	if code != 0 {
		t.Fatalf("pipeline --help: exit %d", code)
	}
	testkit.Golden(t, "help/pipeline.txt", []byte(stdout))
	walk(nil, newApp().Commands)
}
