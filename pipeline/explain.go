package main

import (
	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/reasons"
)

// The adverse-action statements file that predict and serve share.

// reasonsFlag is --reasons with the command's environment variable.
func reasonsFlag(envVar string) cli.Flag {
	return &cli.StringFlag{Name: "reasons", Usage: "adverse-action statements YAML (see configs/reasons.yaml; default: the embedded copy)", EnvVars: []string{envVar}}
}

// loadReasons reads --reasons, or returns the embedded default set.
func loadReasons(c *cli.Context) (*reasons.Set, error) {
	path := c.String("reasons")
	if path == "" {
		return reasons.Default(), nil
	}
	set, err := reasons.Load(path)
	if err != nil {
		return nil, usageError("--reasons: %v", err)
	}
	return set, nil
}
