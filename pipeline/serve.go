package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/integrity"
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
		Description: `Loads the model (models:/NAME@ALIAS, models:/NAME/STAGE, models:/NAME/VERSION,
models:/MODEL_ID of an MLflow 3 logged model or runs:/RUN_ID/model through the
MLflow tracking server at MLFLOW_TRACKING_URI, or without one the local store
./mlruns that pipeline train records into; or a local model directory),
verifies its files (below), warms it up and answers:

  POST /predict   /explain   /invocations (MLflow scoring protocol)
  POST /v2/models/NAME/infer (Open Inference Protocol, KServe v2: one tensor per feature)
  GET  /v2/health/live  /v2/health/ready  /v2/models/NAME  /v2/models/NAME/ready
  GET  /ping  /health  /ready  /version  /metrics
  POST /admin/reload (bearer token)  /webhooks/mlflow (signed MLflow 3.x webhooks)

An alias or a stage is followed: a new version is picked up by polling (--poll),
a webhook, /admin/reload or SIGHUP, and the old model serves until the new one is
ready. A version, a run or a directory is fixed: it is not polled (SIGHUP and
/admin/reload still reload it). SIGTERM drains in-flight requests and exits.

Every model file must match the digest the registry recorded when the
version was registered (or promoted), not only checksums.json beside the
files; with --verify-key the version must also be signed (pipeline promote
--sign-key). A version that fails is refused and the old model keeps
serving; --allow-unverified admits a model that has nothing recorded.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "models:/NAME@ALIAS | models:/NAME/STAGE | models:/NAME/VERSION | models:/MODEL_ID | runs:/RUN_ID/model | PATH", EnvVars: env("MODEL")},
			&cli.StringFlag{Name: "addr", Value: ":8000", Usage: "listen address", EnvVars: env("ADDR")},
			&cli.DurationFlag{Name: "poll", Value: 10 * time.Second, Usage: "how often to check the alias or stage (0: never)", EnvVars: env("POLL")},
			&cli.Float64Flag{Name: "threshold", Value: 0.5, Usage: "decline at or above this probability of default", EnvVars: env("THRESHOLD")},
			&cli.IntFlag{Name: "max-batch", Value: 1000, Usage: "most instances per request", EnvVars: env("MAX_BATCH")},
			&cli.Int64Flag{Name: "max-body", Value: 4 << 20, Usage: "most bytes per request body", EnvVars: env("MAX_BODY")},
			&cli.StringFlag{Name: "unknown-features", Value: serve.UnknownReject, Usage: "reject or ignore request fields that are not features", EnvVars: env("UNKNOWN_FEATURES")},
			&cli.IntFlag{Name: "reason-codes", Value: 4, Usage: "adverse-action reason codes per /explain answer", EnvVars: env("REASON_CODES")},
			reasonsFlag(env("REASONS")[0]),
			&cli.StringFlag{Name: "admin-token", Usage: "bearer token for POST /admin/reload, at least 32 bytes (unset: disabled; prefer --admin-token-file: a command line is visible to every user)", EnvVars: env("ADMIN_TOKEN")},
			&cli.StringFlag{Name: "webhook-secret", Usage: "MLflow webhook secret for POST /webhooks/mlflow, at least 32 bytes (unset: disabled; prefer --webhook-secret-file)", EnvVars: env("WEBHOOK_SECRET")},
			// Model integrity and secrets from files (docs/operations.md, Security).
			&cli.StringFlag{Name: "admin-token-file", Usage: "read the admin token from `FILE` (surrounding whitespace ignored)", EnvVars: env("ADMIN_TOKEN_FILE")},
			&cli.StringFlag{Name: "webhook-secret-file", Usage: "read the webhook secret from `FILE`", EnvVars: env("WEBHOOK_SECRET_FILE")},
			&cli.StringFlag{Name: "verify-key", Usage: "refuse a version unless pipeline promote --sign-key signed it with the private half of this Ed25519 public key (PEM `FILE`)", EnvVars: env("VERIFY_KEY")},
			&cli.BoolFlag{Name: "allow-unverified", Usage: "load a model with nothing recorded to check its files against (logged by Python's mlflow and never promoted, or a directory without checksums.json); /version and model_info say \"unverified\"", EnvVars: env("ALLOW_UNVERIFIED")},
			&cli.Int64Flag{Name: "max-model-size", Value: serve.DefaultMaxModelSize, Usage: "most bytes of one model download", EnvVars: env("MAX_MODEL_SIZE")},
			&cli.BoolFlag{Name: "require-checksums", Hidden: true, Usage: "no effect: checksums are required unless --allow-unverified", EnvVars: env("REQUIRE_CHECKSUMS")},
			&cli.IntFlag{Name: "drift-window", Value: 1000, Usage: "recent rows the PSI gauges cover (negative: off)", EnvVars: env("DRIFT_WINDOW")},
			&cli.BoolFlag{Name: "wait", Usage: "when the first load fails, keep serving /health and retry instead of exiting", EnvVars: env("WAIT")},
			&cli.DurationFlag{Name: "drain", Value: 30 * time.Second, Usage: "how long shutdown waits for in-flight requests", EnvVars: env("DRAIN")},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: env("LOG_LEVEL")},
			&cli.StringFlag{Name: "log-format", Value: "json", Usage: "json or text", EnvVars: env("LOG_FORMAT")},
			// Input semantics and load shedding (serve/README.md).
			&cli.BoolFlag{Name: "strict", Usage: "refuse (400) what is otherwise scored with a warning: unseen category, value outside the training range, missing value", EnvVars: env("STRICT")},
			&cli.IntFlag{Name: "max-inflight", Value: 64, Usage: "scoring requests served at once; beyond, 503 with Retry-After", EnvVars: env("MAX_INFLIGHT")},
		},
		Action: runServe,
	}
}

func serveLogger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usageError("--log-level: %q is not debug, info, warn or error", c.String("log-level"))
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: serve.LogDurations}
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
	trust, err := serveTrust(c, log, r)
	if err != nil {
		return err
	}
	set, err := loadReasons(c)
	if err != nil {
		return err
	}
	s, err := serve.New(src, prometheus.NewRegistry(), log, serve.Options{
		Threshold:       c.Float64("threshold"),
		MaxBatch:        c.Int("max-batch"),
		MaxBody:         c.Int64("max-body"),
		UnknownFeatures: c.String("unknown-features"),
		ReasonCodes:     c.Int("reason-codes"),
		Reasons:         set,
		AdminToken:      trust.AdminToken,
		WebhookSecret:   trust.WebhookSecret,
		AllowUnverified: trust.AllowUnverified,
		VerifyKey:       trust.VerifyKey,
		MaxModelSize:    trust.MaxModelSize,
		DriftWindow:     c.Int("drift-window"),
		Version:         version(),
		Strict:          c.Bool("strict"),
		MaxInFlight:     c.Int("max-inflight"),
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
	poll := c.Duration("poll")
	if !r.Follows() {
		poll = 0 // nothing to follow: a version, a run or a directory is fixed
	}
	log.Info("serving", "addr", ln.Addr().String(), "model", src.String(), "poll", poll.String())

	go s.Run(ctx, poll)
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

// serveTrust reads the options about secrets and model integrity: the
// secrets from their flags or files, the verify key, the download cap.
func serveTrust(c *cli.Context, log *slog.Logger, ref tracking.Ref) (serve.Options, error) {
	var o serve.Options
	var err error
	if o.AdminToken, err = secret(c, log, "admin-token"); err != nil {
		return o, err
	}
	if o.WebhookSecret, err = secret(c, log, "webhook-secret"); err != nil {
		return o, err
	}
	if c.IsSet("require-checksums") {
		log.Warn("--require-checksums has no effect: checksums are required unless --allow-unverified")
	}
	o.AllowUnverified = c.Bool("allow-unverified")
	if path := c.String("verify-key"); path != "" {
		if !ref.Registered() {
			return o, usageError("--verify-key needs a registered model (models:/…): signatures are made by pipeline promote and kept in the registry")
		}
		if o.VerifyKey, err = integrity.ReadPublicKeyFile(path); err != nil {
			return o, usageError("--verify-key: %v", err)
		}
	}
	if o.MaxModelSize = c.Int64("max-model-size"); o.MaxModelSize < 1 {
		return o, usageError("--max-model-size %d: want a positive number of bytes", o.MaxModelSize)
	}
	return o, nil
}

// maxSecretFile bounds a secret file: a token is tens of bytes.
const maxSecretFile = 64 << 10

// secret returns the secret of --NAME or, read from the file, of
// --NAME-file (not both). A secret in this process's command line is
// visible to every user of the machine (ps, /proc/PID/cmdline): it is
// warned about.
func secret(c *cli.Context, log *slog.Logger, name string) (string, error) {
	v, path := c.String(name), c.String(name+"-file")
	if v != "" && path != "" {
		return "", usageError("give --%s or --%s-file, not both", name, name)
	}
	if path == "" {
		if v != "" && slices.ContainsFunc(os.Args[1:], func(a string) bool { return strings.Contains(a, v) }) {
			log.Warn("a secret on the command line is visible to every user of this machine (ps, /proc/PID/cmdline); use --"+name+"-file or PIPELINE_SERVE_"+envName(name)+"_FILE", "flag", "--"+name)
		}
		return v, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", usageError("--%s-file: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", usageError("--%s-file: read %s: %v", name, path, err)
	}
	if len(b) > maxSecretFile {
		return "", usageError("--%s-file: %s is more than %d bytes, not a secret", name, path, maxSecretFile)
	}
	if v = strings.TrimSpace(string(b)); v == "" {
		return "", usageError("--%s-file: %s is empty", name, path)
	}
	return v, nil
}

// envName is a flag's name as in its variable: admin-token -> ADMIN_TOKEN.
func envName(flag string) string { return strings.ToUpper(strings.ReplaceAll(flag, "-", "_")) }

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
