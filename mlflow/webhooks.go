package mlflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WebhookEvent is one event a webhook subscribes to, e.g.
// {Entity: "MODEL_VERSION_ALIAS", Action: "CREATED"} (MLflow 3.x only).
type WebhookEvent struct {
	Entity string `json:"entity"`
	Action string `json:"action"`
}

// Webhook is a registered webhook; the server never returns its secret.
type Webhook struct {
	ID                   string         `json:"webhook_id"`
	Name                 string         `json:"name"`
	Description          string         `json:"description,omitempty"`
	URL                  string         `json:"url"`
	Events               []WebhookEvent `json:"events"`
	Status               string         `json:"status,omitempty"` // ACTIVE or DISABLED
	CreationTimestamp    int64          `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp int64          `json:"last_updated_timestamp,omitempty"`
}

// CreateWebhookRequest creates a webhook; Secret signs the deliveries
// (X-MLflow-Signature).
type CreateWebhookRequest struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url"`
	Events      []WebhookEvent `json:"events"`
	Secret      string         `json:"secret,omitempty"`
	Status      string         `json:"status,omitempty"`
}

// CreateWebhook registers a webhook (MLflow 3.x with a SQL backend).
func (c *Client) CreateWebhook(ctx context.Context, req CreateWebhookRequest) (*Webhook, error) {
	var out struct {
		Webhook Webhook `json:"webhook"`
	}
	// Not replayed after a lost answer: a second webhook would deliver twice.
	if err := c.doOnce(ctx, "POST", "/api/2.0/mlflow/webhooks", req, &out); err != nil {
		return nil, fmt.Errorf("create webhook %q: %w", req.Name, err)
	}
	return &out.Webhook, nil
}

// DeleteWebhook removes a webhook.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := c.do(ctx, "DELETE", "/api/2.0/mlflow/webhooks/"+url.PathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	return nil
}

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
)

// SignWebhook returns the X-MLflow-Signature value MLflow sends for a delivery:
// "v1," and the base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>".
func SignWebhook(secret, deliveryID, timestamp string, body []byte) string {
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
	want := []byte(SignWebhook(secret, id, ts, body))
	for _, s := range strings.Fields(sig) {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrSignature
}

// WebhookDelivery is the body of a webhook delivery (the part a receiver
// reads): the entity and action of the event and the model it concerns.
type WebhookDelivery struct {
	Entity string `json:"entity"`
	Action string `json:"action"`
	Data   struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Alias   string `json:"alias"`
	} `json:"data"`
}
