package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/webhooks"
)

// The client's verifier accepts exactly what the server signs.
func TestVerifyWebhookMatchesTheServer(t *testing.T) {
	body := []byte(`{"type":"webhook","delivery_id":"wh_abc"}`)
	const secret = "whsec_0123"
	if client.WebhookSignatureHeader != webhooks.SignatureHeader || client.WebhookDeliveryHeader != webhooks.DeliveryHeader ||
		client.WebhookAttemptHeader != webhooks.AttemptHeader {
		t.Fatal("header names differ between client and server")
	}
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		ok     bool
	}{
		{"signed now", secret, webhooks.Sign(secret, time.Now(), body), body, true},
		{"signed a minute ago", secret, webhooks.Sign(secret, time.Now().Add(-time.Minute), body), body, true},
		{"other secret", "whsec_other", webhooks.Sign(secret, time.Now(), body), body, false},
		{"altered body", secret, webhooks.Sign(secret, time.Now(), body), []byte(`{}`), false},
		{"too old", secret, webhooks.Sign(secret, time.Now().Add(-10*time.Minute), body), body, false},
		{"no header", secret, "", body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := client.VerifyWebhook(tc.secret, tc.header, tc.body, 0)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, client.ErrWebhookSignature)) {
				t.Fatalf("VerifyWebhook = %v; want ok %v", err, tc.ok)
			}
		})
	}
}
