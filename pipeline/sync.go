package main

import (
	"errors"
	"net/url"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlsync"
)

func syncCommand() *cli.Command {
	return &cli.Command{
		Name:  "sync",
		Usage: "copy the local store's runs, registered versions and aliases to a tracking server",
		UsageText: "pipeline sync --to URI [--from PATH] [--dry-run] [--output text|json]\n\n" +
			"Copies what was recorded in the local store (./mlruns, or MLFLOW_TRACKING_URI=file:…) to the\n" +
			"MLflow server at URI. A second sync adds nothing. Credentials for the server come from\n" +
			"MLFLOW_TRACKING_USERNAME/_PASSWORD or MLFLOW_TRACKING_TOKEN; s3:// artifact roots need\n" +
			"MLFLOW_S3_ENDPOINT_URL and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "tracking server URI, http(s)://host:port"},
			&cli.StringFlag{Name: "from", Usage: "local store (default: MLFLOW_TRACKING_URI when it is file:…, else ./mlruns)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "report what would be copied; write nothing"},
			&cli.StringFlag{Name: "output", Value: "text", Usage: "text or json"},
		},
		OnUsageError: flagUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("sync takes no arguments, got %q", c.Args().First())
			}
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			src, err := syncSource(c.String("from"))
			if err != nil {
				return err
			}
			dst, err := syncTarget(c.String("to"))
			if err != nil {
				return err
			}
			rep, err := mlsync.Sync(c.Context, src, dst, mlsync.Options{DryRun: c.Bool("dry-run")})
			if werr := writeOutput(c.App.Writer, format, rep, rep.WriteText); werr != nil {
				err = errors.Join(err, werr)
			}
			return err
		},
	}
}

// syncSource opens the local store: --from, else a file: tracking URI,
// else ./mlruns.
func syncSource(from string) (*filestore.Store, error) {
	if from == "" {
		from = "mlruns"
		if uri := os.Getenv("MLFLOW_TRACKING_URI"); strings.HasPrefix(uri, "file:") {
			from = uri
		}
	}
	s, err := filestore.Open(from)
	if err != nil {
		return nil, usageError("--from %s: %v", from, err)
	}
	return s, nil
}

// syncTarget is the client for --to, with the Python client's credential
// variables (MLFLOW_TRACKING_URI itself names the local store here).
func syncTarget(to string) (*mlflow.Client, error) {
	if to == "" {
		return nil, usageError("sync needs --to URI, the tracking server to copy to")
	}
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError("--to %q: want an http(s)://host:port tracking server URI", to)
	}
	var opts []mlflow.Option
	if user := os.Getenv("MLFLOW_TRACKING_USERNAME"); user != "" {
		opts = append(opts, mlflow.WithBasicAuth(user, os.Getenv("MLFLOW_TRACKING_PASSWORD")))
	} else if tok := os.Getenv("MLFLOW_TRACKING_TOKEN"); tok != "" {
		opts = append(opts, mlflow.WithToken(tok))
	}
	c, err := mlflow.NewClient(to, opts...)
	if err != nil {
		return nil, usageError("--to %s: %v", u.Redacted(), err)
	}
	return c, nil
}
