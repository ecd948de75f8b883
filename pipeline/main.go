// Command pipeline trains, tracks, promotes and serves credit-risk models,
// speaking MLflow's tracking and registry protocols.
//
// Each subcommand lives in its own file; this file only wires the
// application together and maps errors to exit codes: 0 success, 1 failure,
// 2 usage error (and 3, from promote, for a failed gate).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Version is set at build time with -ldflags "-X main.Version=…"; otherwise
// it comes from the module's build information.
var Version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// run runs the command line args and returns the process's exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp()
	app.Writer, app.ErrWriter = stdout, stderr
	// The command line as typed, for hints that repeat it.
	app.Metadata = map[string]any{"args": args[1:]}
	unknown := false
	app.CommandNotFound = func(c *cli.Context, name string) {
		fmt.Fprintf(c.App.ErrWriter, "pipeline: unknown command %q; see \"pipeline help\"\n", name)
		unknown = true
	}
	err := app.RunContext(ctx, args)
	if unknown {
		return 2
	}
	if err == nil {
		return 0
	}
	var exit cli.ExitCoder
	if errors.As(err, &exit) {
		if msg := exit.Error(); msg != "" {
			fmt.Fprintln(app.ErrWriter, "pipeline:", msg)
		}
		return exit.ExitCode()
	}
	fmt.Fprintln(app.ErrWriter, "pipeline:", err)
	return 1
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "pipeline",
		Usage:   "train, track, promote and serve credit-risk models with MLflow",
		Version: version(),
		Commands: []*cli.Command{
			trainCommand(),
			predictCommand(),
			promoteCommand(),
			reportCommand(),
			rollbackCommand(),
			modelsCommand(),
			serveCommand(),
			syncCommand(),
			versionCommand(),
			healthcheckCommand(),
		},
		// A repeatable flag's value is taken whole: --protected
		// age:25,35,50 and --set key=a,b keep their commas.
		DisableSliceFlagSeparator: true,
		// Usage errors (unknown flags, missing arguments) exit with 2.
		OnUsageError: flagUsageError,
		// run reports errors and picks the exit code; urfave/cli must not
		// exit the process itself.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	setUsageErrors(app.Commands)
	return app
}

// setUsageErrors makes bad flags of every (sub)command exit with 2, as the
// app's own OnUsageError does for global flags.
func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		if c.OnUsageError == nil {
			c.OnUsageError = flagUsageError
		}
		setUsageErrors(c.Subcommands)
	}
}

// flagUsageError turns a flag parsing error into a usage error (exit 2).
func flagUsageError(_ *cli.Context, err error, _ bool) error {
	return usageError("%v", err)
}

func version() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// requireFlags fails with a usage error naming the first flag not given.
func requireFlags(c *cli.Context, names ...string) error {
	for _, n := range names {
		if !c.IsSet(n) {
			return usageError("--%s is required (see \"pipeline %s --help\")", n, c.Command.Name)
		}
	}
	return nil
}

// usageError marks a bad flag or argument, which exits with code 2.
func usageError(format string, args ...any) error {
	return cli.Exit(fmt.Sprintf(format, args...), 2)
}
