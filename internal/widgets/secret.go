package widgets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// NewWebhookSecret returns a fresh webhook secret: "whsec_" and 32 random
// bytes in hex.
func NewWebhookSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

// RegenerateWebhookSecret gives the widget a new webhook secret: calls made
// from now on are signed with it (a call already queued is signed when it
// is made, so with the new one).
func (s *Service) RegenerateWebhookSecret(ctx context.Context, account string, id int64) (Widget, error) {
	return s.change(ctx, account, id, func(w *Widget) error {
		w.WebhookSecret = NewWebhookSecret()
		return nil
	})
}

// EnsureWebhookSecret gives the widget a webhook secret if it has none
// (widgets created before webhooks existed) and returns the widget.
func (s *Service) EnsureWebhookSecret(ctx context.Context, account string, id int64) (Widget, error) {
	if w, err := s.Get(account, id); err == nil && w.WebhookSecret != "" {
		return w, nil
	}
	return s.change(ctx, account, id, func(w *Widget) error {
		if w.WebhookSecret == "" {
			w.WebhookSecret = NewWebhookSecret()
		}
		return nil
	})
}
