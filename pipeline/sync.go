package main

import (
	"errors"
	"net/url"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/mlsync"
	"github.com/creditrisk/engine/tracking"
)

func syncCommand() *cli.Command {
	return &cli.Command{
		Name:  "sync",
		Usage: "copy the local store's runs, registered versions and aliases to a tracking server",
		UsageText: "pipeline sync --to URI [--from PATH] [--dry-run] [--output text|json]\n\n" +
			"Copies what was recorded in the local store (./mlruns, or MLFLOW_TRACKING_URI=file:…) to the\n" +
			"MLflow server at URI. A second sync adds nothing. The server is reached as every other\n" +
			"command reaches one: MLFLOW_TRACKING_USERNAME/_PASSWORD (or ~/.mlflow/credentials) or\n" +
			"MLFLOW_TRACKING_TOKEN, the TLS variables (MLFLOW_TRACKING_SERVER_CERT_PATH, …), retries and\n" +
			"timeouts; s3:// artifact roots need MLFLOW_S3_ENDPOINT_URL and AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "tracking server URI, http(s)://host:port"},
			&cli.StringFlag{Name: "from", Usage: "local store (default: MLFLOW_TRACKING_URI when it is file:…, else ./mlruns)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "report what would be copied; write nothing"},
			outputFlag(),
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
			dst, err := syncTarget(c.String("to"), tellRetries(c.App.ErrWriter))
			if err != nil {
				return err
			}
			rep, err := mlsync.Sync(c.Context, src, dst, mlsync.Options{DryRun: c.Bool("dry-run")})
			// A sync that failed before it got anywhere has nothing to
			// report; "0 copied" would only hide the error.
			if rep != nil && (err == nil || len(rep.Runs)+len(rep.Versions)+len(rep.Aliases) > 0) {
				if werr := writeOutput(c.App.Writer, format, rep, rep.WriteText); werr != nil {
					err = errors.Join(err, werr)
				}
			}
			return err
		},
	}
}

// syncSource opens the local store: --from, else a file: tracking URI,
// else ./mlruns.
func syncSource(from string) (tracking.Backend, error) {
	if from == "" {
		from = tracking.DefaultLocalStore
		if uri := os.Getenv("MLFLOW_TRACKING_URI"); strings.HasPrefix(uri, "file:") {
			from = uri
		}
	}
	if !tracking.IsLocal(from) {
		return nil, usageError("--from %s: want a local store (a path or file: URI); sync copies to the server --to names", from)
	}
	b, err := tracking.Open(tracking.Config{URI: from})
	if err != nil {
		return nil, usageError("--from %s: %v", from, err)
	}
	return b, nil
}

// syncTarget is the server --to names, reached with the same client
// settings as every other command (credentials and the credentials file,
// TLS and CA variables, retries and timeouts); MLFLOW_TRACKING_URI itself
// names the local store here.
func syncTarget(to string, opts ...mlflow.Option) (tracking.Backend, error) {
	if to == "" {
		return nil, usageError("sync needs --to URI, the tracking server to copy to")
	}
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError("--to %q: want an http(s)://host:port tracking server URI", to)
	}
	cfg, err := serverConfig(to, opts...)
	if err != nil {
		return nil, err
	}
	b, err := tracking.Open(cfg)
	if err != nil {
		return nil, usageError("--to %s: %v", u.Redacted(), err)
	}
	return b, nil
}
