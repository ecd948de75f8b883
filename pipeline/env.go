package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// The environment is read here and nowhere below: these functions turn
// MLflow's and the S3 variables into configuration that the commands pass
// down (flags with EnvVars are read by urfave/cli, also at this edge).

// trackingConfig is the tracking backend MLFLOW_TRACKING_URI names (a
// server, or without it the local store ./mlruns), with the Python
// client's auth, TLS, retry and timeout variables and the S3 variables.
func trackingConfig(opts ...mlflow.Option) (tracking.Config, error) {
	return serverConfig(os.Getenv("MLFLOW_TRACKING_URI"), opts...)
}

// serverConfig is trackingConfig for another URI (sync's --to): every
// command reaches a server with the same client settings.
func serverConfig(uri string, opts ...mlflow.Option) (tracking.Config, error) {
	cfg := tracking.Config{URI: uri, S3: s3.EnvConfig(os.Getenv)}
	if tracking.IsLocal(uri) {
		return cfg, nil
	}
	envOpts, err := mlflow.EnvOptions(os.Getenv)
	if err != nil {
		return cfg, usageError("%v", err)
	}
	cfg.Client = append(envOpts, opts...)
	return cfg, nil
}

// openTracking opens the backend of the environment for train, predict,
// promote, rollback, models and serve.
func openTracking(opts ...mlflow.Option) (tracking.Backend, error) {
	cfg, err := trackingConfig(opts...)
	if err != nil {
		return nil, err
	}
	b, err := tracking.Open(cfg)
	if err != nil {
		return nil, usageError("MLFLOW_TRACKING_URI: %v", err)
	}
	return b, nil
}

// source is who runs the command from where, as the Python client's
// system tags say it: the tracking user (or login name), the command and
// the commit of the checkout it runs in.
func source(command string) mlflow.Source {
	src := mlflow.SourceFromEnv(os.Getenv)
	src.Name = "pipeline " + command
	if src.GitCommit == "" {
		if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
			src.GitCommit = strings.TrimSpace(string(out))
		}
	}
	return src
}

// tellRetries makes a client say on w why a command waits: each retry of
// an unreachable server or of a failing answer, with the attempt and the
// wait, so that nobody stares at a silent terminal for the retry schedule.
func tellRetries(w io.Writer) mlflow.Option {
	return mlflow.WithRetryNotice(func(n mlflow.RetryNotice) {
		why := "answered with an error"
		if n.Unreachable {
			why = "is unreachable"
		}
		fmt.Fprintf(w, "pipeline: tracking server %s %s (%v); retrying, attempt %d of %d in %v\n",
			n.Server, why, rootCause(n.Err), n.Attempt, n.Attempts, n.Wait.Round(100*time.Millisecond))
	})
}

// rootCause is the innermost error of a chain, the part a person reads
// (connection refused, no such host, the server's message).
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// tagMap is a source's system tags as a map.
func tagMap(src mlflow.Source) map[string]string {
	tags := map[string]string{}
	for _, t := range src.Tags() {
		tags[t.Key] = t.Value
	}
	return tags
}
