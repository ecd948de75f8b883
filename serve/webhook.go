package serve

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers MLflow 3.x sends with each delivery.
const (
	HeaderDeliveryID = "X-MLflow-Delivery-Id"
	HeaderTimestamp  = "X-MLflow-Timestamp"
	HeaderSignature  = "X-MLflow-Signature"
)

// Webhook verification errors.
var (
	ErrSignature = errors.New("webhook signature does not match")
	ErrTimestamp = errors.New("webhook timestamp outside the accepted window")
	ErrReplay    = errors.New("webhook delivery already received")
)

// Sign returns the X-MLflow-Signature value MLflow sends for a delivery:
// "v1," and the base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>".
func Sign(secret, deliveryID, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(deliveryID + "." + timestamp + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a delivery's signature on the raw body and that its
// timestamp is within window of now. The header may carry several
// space-separated signatures (a secret being rotated); one match is enough.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time, window time.Duration) error {
	id, ts, sig := h.Get(HeaderDeliveryID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sig == "" {
		return fmt.Errorf("%w: headers %s, %s and %s are required", ErrSignature, HeaderDeliveryID, HeaderTimestamp, HeaderSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not unix seconds", ErrTimestamp, HeaderTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return fmt.Errorf("%w: %s is %v away from now (window %v)", ErrTimestamp, HeaderTimestamp, d.Round(time.Second), window)
	}
	want := []byte(Sign(secret, id, ts, body))
	for _, s := range strings.Fields(sig) {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrSignature
}

// WebhookEvent is the part of a delivery the server reads.
type WebhookEvent struct {
	Entity string `json:"entity"`
	Action string `json:"action"`
	Data   struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Alias   string `json:"alias"`
	} `json:"data"`
}

// webhook verifies a delivery and, when it concerns the served model,
// triggers a reload (asynchronously: MLflow waits for the answer).
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if s.opts.WebhookSecret == "" {
		writeError(w, http.StatusNotFound, "disabled", "webhooks are disabled: no webhook secret is configured", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		s.m.webhooks.WithLabelValues("rejected").Inc()
		writeError(w, http.StatusRequestEntityTooLarge, ReasonBodyTooLarge, "webhook body too large or unreadable", nil)
		return
	}
	now := time.Now()
	if err := VerifyWebhook(s.opts.WebhookSecret, r.Header, body, now, s.opts.WebhookWindow); err != nil {
		s.m.webhooks.WithLabelValues("rejected").Inc()
		s.log.Warn("webhook refused", "request_id", requestID(r.Context()), "err", err)
		writeError(w, http.StatusUnauthorized, "bad_signature", err.Error(), nil)
		return
	}
	id := r.Header.Get(HeaderDeliveryID)
	s.forgetDeliveries(now)
	if _, dup := s.deliveries.LoadOrStore(id, now); dup {
		s.m.webhooks.WithLabelValues("rejected").Inc()
		writeError(w, http.StatusConflict, "replay", ErrReplay.Error(), nil)
		return
	}
	var ev WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		s.m.webhooks.WithLabelValues("rejected").Inc()
		writeError(w, http.StatusBadRequest, ReasonMalformedJSON, "webhook body: "+err.Error(), nil)
		return
	}
	name := ""
	if n, ok := s.src.(interface{ ModelName() string }); ok {
		name = n.ModelName()
	}
	relevant := strings.HasPrefix(ev.Entity, "model_version") && (name == "" || ev.Data.Name == name)
	if !relevant {
		s.m.webhooks.WithLabelValues("ignored").Inc()
		writeJSON(w, http.StatusOK, map[string]any{"reload": false})
		return
	}
	s.m.webhooks.WithLabelValues("accepted").Inc()
	s.log.Info("webhook: checking the model", "request_id", requestID(r.Context()), "entity", ev.Entity,
		"action", ev.Action, "name", ev.Data.Name, "version", ev.Data.Version, "alias", ev.Data.Alias)
	s.Trigger()
	writeJSON(w, http.StatusAccepted, map[string]any{"reload": true})
}

// forgetDeliveries drops delivery ids older than twice the window: a replay
// of those fails the timestamp check anyway.
func (s *Server) forgetDeliveries(now time.Time) {
	s.deliveries.Range(func(k, v any) bool {
		if now.Sub(v.(time.Time)) > 2*s.opts.WebhookWindow {
			s.deliveries.Delete(k)
		}
		return true
	})
}
