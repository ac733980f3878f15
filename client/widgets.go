package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Widget is an integration that publishes into streams. Key is the widget
// key used in [Envelope.WidgetKey]; WebhookHosts lists the hosts the
// widget's webhooks may target.
type Widget struct {
	ID           int64    `json:"id"`
	Name         string   `json:"name"`
	Summary      string   `json:"summary"`
	Description  string   `json:"description"`
	Key          string   `json:"key"`
	WebhookHosts []string `json:"webhook_hosts"`
	// WebhookSecret keys the HMAC-SHA256 signature of the widget's
	// webhook calls (see docs/webhooks.md); receivers verify with it.
	WebhookSecret string    `json:"webhook_secret"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CreateWidgetParams are the fields of a new widget. Name is required;
// empty fields are omitted from the request.
type CreateWidgetParams struct {
	Name         string   `json:"name"`
	Summary      string   `json:"summary,omitempty"`
	Description  string   `json:"description,omitempty"`
	WebhookHosts []string `json:"webhook_hosts,omitempty"`
}

// UpdateWidgetParams is a partial widget update: only non-nil fields are
// sent, and the server leaves the others unchanged. A non-nil
// WebhookHosts pointing to an empty slice clears the hosts.
type UpdateWidgetParams struct {
	Name         *string   `json:"name,omitempty"`
	Summary      *string   `json:"summary,omitempty"`
	Description  *string   `json:"description,omitempty"`
	WebhookHosts *[]string `json:"webhook_hosts,omitempty"`
}

// CreateWidget creates a widget (POST /v1/widgets) and returns it,
// including its key.
func (c *Client) CreateWidget(ctx context.Context, p CreateWidgetParams) (*Widget, error) {
	var w Widget
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/widgets", body: p, out: &w}); err != nil {
		return nil, err
	}
	return &w, nil
}

// ListWidgets returns the widgets visible to the API key
// (GET /v1/widgets). An empty list is returned as a nil slice.
func (c *Client) ListWidgets(ctx context.Context) ([]Widget, error) {
	var ws []Widget
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/widgets", out: &ws}); err != nil {
		return nil, err
	}
	return ws, nil
}

// GetWidget returns the widget with the given id (GET /v1/widgets/{id}).
// A missing widget is an [*Error] with status 404.
func (c *Client) GetWidget(ctx context.Context, id int64) (*Widget, error) {
	var w Widget
	if err := c.do(ctx, call{method: http.MethodGet, path: widgetPath(id, ""), out: &w}); err != nil {
		return nil, err
	}
	return &w, nil
}

// UpdateWidget applies a partial update (PATCH /v1/widgets/{id}) and
// returns the updated widget, or nil with a nil error if the server's
// success response carried no data.
func (c *Client) UpdateWidget(ctx context.Context, id int64, p UpdateWidgetParams) (*Widget, error) {
	var w *Widget
	if err := c.do(ctx, call{method: http.MethodPatch, path: widgetPath(id, ""), body: p, out: &w}); err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWidget deletes the widget with the given id
// (DELETE /v1/widgets/{id}).
func (c *Client) DeleteWidget(ctx context.Context, id int64) error {
	return c.do(ctx, call{method: http.MethodDelete, path: widgetPath(id, "")})
}

// RegenerateWidgetKey replaces the widget's key with a fresh one
// (POST /v1/widgets/{id}/key) and returns the widget carrying the new key.
// The old key stops working.
func (c *Client) RegenerateWidgetKey(ctx context.Context, id int64) (*Widget, error) {
	var w Widget
	if err := c.do(ctx, call{method: http.MethodPost, path: widgetPath(id, "key"), out: &w}); err != nil {
		return nil, err
	}
	return &w, nil
}

// RegenerateWebhookSecret replaces the widget's webhook secret
// (POST /v1/widgets/{id}/webhook-secret) and returns the widget carrying
// the new one. Webhook calls made from then on are signed with it.
func (c *Client) RegenerateWebhookSecret(ctx context.Context, id int64) (*Widget, error) {
	var w Widget
	if err := c.do(ctx, call{method: http.MethodPost, path: widgetPath(id, "webhook-secret"), out: &w}); err != nil {
		return nil, err
	}
	return &w, nil
}

// widgetPath returns /v1/widgets/{id}[/sub].
func widgetPath(id int64, sub string) string {
	if sub == "" {
		return fmt.Sprintf("/v1/widgets/%d", id)
	}
	return fmt.Sprintf("/v1/widgets/%d/%s", id, sub)
}
