package main

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/promote"
)

func modelsCommand() *cli.Command {
	return &cli.Command{
		Name:         "models",
		Usage:        "show the model registry",
		OnUsageError: flagUsageError,
		Subcommands: []*cli.Command{
			{
				Name:         "list",
				Usage:        "registered models with their version counts and aliases",
				UsageText:    "pipeline models list [--output text|json]",
				Flags:        []cli.Flag{outputFlag()},
				OnUsageError: flagUsageError,
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usageError("models list takes no arguments, got %q", c.Args().First())
					}
					format, err := outputFormat(c)
					if err != nil {
						return err
					}
					b, err := openTracking(tellRetries(c.App.ErrWriter))
					if err != nil {
						return err
					}
					ms, err := promote.List(c.Context, b)
					if err != nil {
						return err
					}
					if ms == nil {
						ms = []promote.ModelSummary{}
					}
					return writeOutput(c.App.Writer, format, ms, func(w io.Writer) error { return promote.WriteModels(w, ms) })
				},
			},
			{
				Name:         "show",
				Usage:        "one model's versions: aliases, stages, test metrics, source run, created and promoted times",
				UsageText:    "pipeline models show NAME [--output text|json]",
				Flags:        []cli.Flag{outputFlag()},
				OnUsageError: flagUsageError,
				Action: func(c *cli.Context) error {
					name, format, err := showArgs(c)
					if err != nil {
						return err
					}
					b, err := openTracking(tellRetries(c.App.ErrWriter))
					if err != nil {
						return err
					}
					m, err := promote.Show(c.Context, b, name)
					if err != nil {
						return err
					}
					return writeOutput(c.App.Writer, format, m, func(w io.Writer) error { return promote.WriteModel(w, m) })
				},
			},
		},
	}
}

// showArgs reads NAME and the output format; urfave/cli stops parsing flags
// at the first argument, so "models show NAME --output json" is read here.
func showArgs(c *cli.Context) (name, format string, err error) {
	args := c.Args().Slice()
	format = c.String("output")
	if len(args) == 3 && (args[1] == "--output" || args[1] == "-output") {
		format, args = args[2], args[:1]
	} else if len(args) == 2 && (strings.HasPrefix(args[1], "--output=") || strings.HasPrefix(args[1], "-output=")) {
		format, args = args[1][strings.Index(args[1], "=")+1:], args[:1]
	}
	if len(args) != 1 {
		return "", "", usageError("models show takes one model NAME, got %d arguments", len(args))
	}
	format, err = checkFormat(format)
	return args[0], format, err
}
