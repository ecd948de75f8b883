package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/promote"
)

func rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "move an alias back to the version that held it before",
		UsageText: "pipeline rollback --name NAME [--alias champion] [--to VERSION] [--stage Production] [--reason TEXT] [--output text|json]",
		Description: `Points the alias at the previous holder from the alias history that
pipeline promote keeps (a registered-model tag); repeated rollbacks walk
further back. --to picks the version. The target version is tagged like a
promotion (promoted_at, promoted_by, previous_champion, promotion_kind
rollback). No gates are checked: a rollback restores a version that passed
them before.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "registered model name"},
			&cli.StringFlag{Name: "alias", Value: promote.DefaultAlias, Usage: "alias to move back"},
			&cli.StringFlag{Name: "to", Usage: "version to roll back to (default: the previous holder)"},
			&cli.StringFlag{Name: "stage", Usage: "also transition the target to this stage"},
			&cli.StringFlag{Name: "reason", Usage: "why; recorded in the tags"},
			outputFlag(),
		},
		OnUsageError: flagUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("rollback takes no arguments, got %q", c.Args().First())
			}
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.String("name") == "" {
				return usageError("--name is required (see \"pipeline rollback --help\")")
			}
			opts := promote.RollbackOptions{Name: c.String("name"), Alias: c.String("alias"), To: c.String("to"),
				Stage: c.String("stage"), Reason: c.String("reason"), User: source("rollback").User}
			if err := promote.CheckRollbackOptions(&opts); err != nil {
				return usageError("%v", err)
			}
			b, err := openTracking(tellRetries(c.App.ErrWriter))
			if err != nil {
				return err
			}
			r, err := promote.Rollback(c.Context, b, opts)
			if err != nil {
				return err
			}
			return writeOutput(c.App.Writer, format, r, func(w io.Writer) error { return promote.WriteRollback(w, r) })
		},
	}
}
