package serve

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/creditrisk/engine/mlflow"
	"github.com/prometheus/client_golang/prometheus"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogs: request lines carry the request id (the caller's, when sane),
// and neither the admin token nor the webhook secret, nor what a caller
// sent as credentials, reaches the log.
func TestLogs(t *testing.T) {
	const token, secret = "admin-token-value-0123456789abcdef", "webhook-secret-value-0123456789abcdef"
	var buf lockedBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src := &fakeSource{dirs: map[string]string{"1": writeModel(t, t.TempDir(), 10, "run1")}, cur: "1"}
	s, err := New(src, prometheus.NewRegistry(), log, Options{AdminToken: token, WebhookSecret: secret, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	w := do(t, h, "POST", "/predict", ctJSON, `{`, "X-Request-Id", "req-42")
	if w.Header().Get("X-Request-Id") != "req-42" {
		t.Errorf("request id not echoed: %q", w.Header().Get("X-Request-Id"))
	}
	w = do(t, h, "POST", "/predict", ctJSON, `{`, "X-Request-Id", "bad id\nwith newline")
	if id := w.Header().Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Errorf("unsafe request id kept: %q", id)
	}
	do(t, h, "POST", "/admin/reload", "", "", "Authorization", "Bearer wrong-"+token)
	do(t, h, "POST", "/admin/reload", "", "", "Authorization", "Bearer "+token)
	do(t, h, "POST", "/webhooks/mlflow", ctJSON, `{}`, mlflow.HeaderDeliveryID, "d", mlflow.HeaderTimestamp, "1", mlflow.HeaderSignature, mlflow.SignWebhook(secret, "d", "1", []byte(`{}`)))
	out := buf.String()
	for _, secretish := range []string{token, secret} {
		if strings.Contains(out, secretish) {
			t.Errorf("log holds %q:\n%s", secretish, out)
		}
	}
	if !strings.Contains(out, `"request_id":"req-42"`) || !strings.Contains(out, `"status":400`) {
		t.Errorf("request log line lacks id or status:\n%s", out)
	}
}
