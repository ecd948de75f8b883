package serve

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/creditrisk/engine/mlflow"
)

// ErrReplay is returned for a delivery id seen before.
var ErrReplay = errors.New("webhook delivery already received")

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
	if err := mlflow.VerifyWebhook(s.opts.WebhookSecret, r.Header, body, now, s.opts.WebhookWindow); err != nil {
		s.m.webhooks.WithLabelValues("rejected").Inc()
		s.log.Warn("webhook refused", "request_id", requestID(w), "err", err)
		writeError(w, http.StatusUnauthorized, "bad_signature", err.Error(), nil)
		return
	}
	id := r.Header.Get(mlflow.HeaderDeliveryID)
	s.forgetDeliveries(now)
	if _, dup := s.deliveries.LoadOrStore(id, now); dup {
		s.m.webhooks.WithLabelValues("rejected").Inc()
		writeError(w, http.StatusConflict, "replay", ErrReplay.Error(), nil)
		return
	}
	var ev mlflow.WebhookDelivery
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
	s.log.Info("webhook: checking the model", "request_id", requestID(w), "entity", ev.Entity,
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
