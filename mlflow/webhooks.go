package mlflow

import (
	"context"
	"fmt"
	"net/url"
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
