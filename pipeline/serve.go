package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/serve"
	"github.com/creditrisk/engine/tracking"
)

func serveCommand() *cli.Command {
	env := func(name string) []string { return []string{"PIPELINE_SERVE_" + name} }
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve a model over HTTP, following its registry alias or stage without restarts",
		ArgsUsage: " ",
		Description: `Loads the model (models:/NAME@ALIAS, models:/NAME/STAGE, models:/NAME/VERSION
through the MLflow registry at MLFLOW_TRACKING_URI, or without one the local
file store ./mlruns that pipeline train registers into, or a local model
directory),
verifies its checksums, warms it up and answers:

  POST /predict   /explain   /invocations (MLflow scoring protocol)
  GET  /ping  /health  /ready  /version  /metrics
  POST /admin/reload (bearer token)  /webhooks/mlflow (signed MLflow 3.x webhooks)

A new version is picked up by polling (--poll), a webhook, /admin/reload or
SIGHUP; the old model serves until the new one is ready. SIGTERM drains
in-flight requests and exits.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "models:/NAME@ALIAS | models:/NAME/STAGE | models:/NAME/VERSION | PATH", EnvVars: env("MODEL")},
			&cli.StringFlag{Name: "addr", Value: ":8000", Usage: "listen address", EnvVars: env("ADDR")},
			&cli.DurationFlag{Name: "poll", Value: 10 * time.Second, Usage: "how often to check the alias or stage (0: never)", EnvVars: env("POLL")},
			&cli.Float64Flag{Name: "threshold", Value: 0.5, Usage: "decline at or above this probability of default", EnvVars: env("THRESHOLD")},
			&cli.IntFlag{Name: "max-batch", Value: 1000, Usage: "most instances per request", EnvVars: env("MAX_BATCH")},
			&cli.Int64Flag{Name: "max-body", Value: 4 << 20, Usage: "most bytes per request body", EnvVars: env("MAX_BODY")},
			&cli.StringFlag{Name: "unknown-features", Value: serve.UnknownReject, Usage: "reject or ignore request fields that are not features", EnvVars: env("UNKNOWN_FEATURES")},
			&cli.IntFlag{Name: "reason-codes", Value: 4, Usage: "adverse-action reason codes per /explain answer", EnvVars: env("REASON_CODES")},
			reasonsFlag(),
			&cli.StringFlag{Name: "admin-token", Usage: "bearer token for POST /admin/reload (unset: disabled)", EnvVars: env("ADMIN_TOKEN")},
			&cli.StringFlag{Name: "webhook-secret", Usage: "MLflow webhook secret for POST /webhooks/mlflow (unset: disabled)", EnvVars: env("WEBHOOK_SECRET")},
			&cli.BoolFlag{Name: "require-checksums", Usage: "refuse model directories without checksums.json", EnvVars: env("REQUIRE_CHECKSUMS")},
			&cli.IntFlag{Name: "drift-window", Value: 1000, Usage: "recent rows the PSI gauges cover (negative: off)", EnvVars: env("DRIFT_WINDOW")},
			&cli.BoolFlag{Name: "wait", Usage: "when the first load fails, keep serving /health and retry instead of exiting", EnvVars: env("WAIT")},
			&cli.DurationFlag{Name: "drain", Value: 30 * time.Second, Usage: "how long shutdown waits for in-flight requests", EnvVars: env("DRAIN")},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: env("LOG_LEVEL")},
			&cli.StringFlag{Name: "log-format", Value: "json", Usage: "json or text", EnvVars: env("LOG_FORMAT")},
		},
		Action: runServe,
	}
}

func serveLogger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usageError("--log-level: %q is not debug, info, warn or error", c.String("log-level"))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.String("log-format") {
	case "json":
		return slog.New(slog.NewJSONHandler(c.App.ErrWriter, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(c.App.ErrWriter, opts)), nil
	}
	return nil, usageError("--log-format: %q is neither json nor text", c.String("log-format"))
}

func runServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("serve takes no arguments (got %q); give the model with --model", c.Args().First())
	}
	if err := requireFlags(c, "model"); err != nil {
		return err
	}
	log, err := serveLogger(c)
	if err != nil {
		return err
	}
	ref := c.String("model")
	// A models:/ or runs:/ reference goes through the backend of the
	// environment: the tracking server's, or without one the local store's.
	r, err := tracking.ParseRef(ref)
	if err != nil {
		return usageError("--model: %v", err)
	}
	var b tracking.Backend
	if r.Dir == "" {
		retries := mlflow.WithRetryNotice(func(n mlflow.RetryNotice) {
			log.Warn("tracking server: retrying", "server", n.Server, "unreachable", n.Unreachable, "err", rootCause(n.Err).Error(),
				"attempt", n.Attempt, "of", n.Attempts, "wait", n.Wait.Round(100*time.Millisecond).String())
		})
		if b, err = openTracking(mlflow.WithUserAgent("pipeline-serve/"+version()), retries); err != nil {
			return err
		}
	}
	src, err := serve.NewSource(ref, b)
	if err != nil {
		return usageError("--model: %v", err)
	}
	if c.Duration("poll") < 0 {
		return usageError("--poll %v: want a duration of 0 or more", c.Duration("poll"))
	}
	set, err := loadReasons(c)
	if err != nil {
		return err
	}
	s, err := serve.New(src, prometheus.NewRegistry(), log, serve.Options{
		Reasons:          set,
		Threshold:        c.Float64("threshold"),
		MaxBatch:         c.Int("max-batch"),
		MaxBody:          c.Int64("max-body"),
		UnknownFeatures:  c.String("unknown-features"),
		ReasonCodes:      c.Int("reason-codes"),
		AdminToken:       c.String("admin-token"),
		WebhookSecret:    c.String("webhook-secret"),
		RequireChecksums: c.Bool("require-checksums"),
		DriftWindow:      c.Int("drift-window"),
		Version:          version(),
	})
	if err != nil {
		return usageError("%v", err)
	}
	defer s.Close()
	ctx := c.Context

	hs := s.HTTPServer(c.String("addr"))
	ln, err := net.Listen("tcp", hs.Addr)
	if err != nil {
		return cli.Exit(fmt.Sprintf("serve: listen on %s: %v", hs.Addr, err), 1)
	}
	if _, err := s.Reload(ctx, false); err != nil {
		if !c.Bool("wait") {
			ln.Close()
			return cli.Exit(fmt.Sprintf("serve: cannot load %s: %v (use --wait to keep retrying)", src, err), 1)
		}
		log.Warn("no model yet; serving /health and retrying", "model", src.String(), "err", err)
		go waitForModel(ctx, s, log)
	}
	log.Info("serving", "addr", ln.Addr().String(), "model", src.String(), "poll", c.Duration("poll"))

	go s.Run(ctx, c.Duration("poll"))
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading the model")
				rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				s.Reload(rctx, true)
				cancel()
			}
		}
	}()
	if err := serve.Serve(ctx, hs, ln, c.Duration("drain")); err != nil {
		return cli.Exit("serve: "+err.Error(), 1)
	}
	log.Info("stopped")
	return nil
}

// waitForModel retries the first load with backoff (1 s doubling to 30 s)
// until it succeeds or ctx ends.
func waitForModel(ctx context.Context, s *serve.Server, log *slog.Logger) {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		_, err := s.Reload(ctx, false)
		if err == nil || errors.Is(err, context.Canceled) {
			return
		}
		if s.Loaded() {
			return
		}
		wait = min(2*wait, 30*time.Second)
	}
}
