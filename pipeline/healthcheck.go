package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/urfave/cli/v2"
)

// healthcheckCommand is the container image's health check: the runtime
// image is FROM scratch, without a shell, wget or curl to ask serve.
func healthcheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "healthcheck",
		Usage:     "GET a URL and exit 0 if it answers 2xx, 1 otherwise (a container health check)",
		UsageText: "pipeline healthcheck [--timeout 3s] [URL]",
		Description: `Asks a running pipeline serve, by default /health on 127.0.0.1 at the port
of $PIPELINE_SERVE_ADDR (8000 when unset), the variable serve itself reads
(ask /ready to learn whether a model is loaded). Exits 0 on a 2xx answer and
1 on any other status, a refused connection or no answer within --timeout;
for a Dockerfile HEALTHCHECK or a Kubernetes exec probe where no shell is.`,
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "timeout", Value: 3 * time.Second, Usage: "give up after this long"},
		},
		Action: runHealthcheck,
	}
}

func runHealthcheck(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageError("healthcheck takes one URL, got %d arguments", c.NArg())
	}
	target, err := defaultHealthURL(os.Getenv("PIPELINE_SERVE_ADDR"))
	if err != nil {
		return usageError("healthcheck: PIPELINE_SERVE_ADDR: %v", err)
	}
	if c.NArg() == 1 {
		target = c.Args().First()
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("healthcheck: %q is not an http:// or https:// URL", target)
	}
	timeout := c.Duration("timeout")
	if timeout <= 0 {
		return usageError("--timeout %v: want a positive duration", timeout)
	}
	ctx, cancel := context.WithTimeout(c.Context, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageError("healthcheck: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return cli.Exit(fmt.Sprintf("healthcheck: GET %s: %v", u.Redacted(), err), 1)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return cli.Exit(fmt.Sprintf("healthcheck: GET %s: %s", u.Redacted(), resp.Status), 1)
	}
	fmt.Fprintf(c.App.Writer, "%s: %s\n", u.Redacted(), resp.Status)
	return nil
}

// defaultHealthURL is serve's /health on the loopback interface, at the
// port of serve's listen address (":8000" when addr is empty).
func defaultHealthURL(addr string) (string, error) {
	if addr == "" {
		addr = ":8000"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/health", nil
}
