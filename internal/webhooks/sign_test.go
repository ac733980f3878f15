package webhooks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
	"github.com/tidings/tidings/internal/webhooks"
)

// Signatures are checked with the receivers' verifier, the documented one.
func TestSignVerifiesWithTheClient(t *testing.T) {
	const secret = "whsec_0123456789abcdef"
	body := []byte(`{"delivery_id":"wh_x","message":{"url":"https://example.com"}}`)
	now := time.Now()
	header := webhooks.Sign(secret, now, body)
	ts := "t=" + strings.TrimPrefix(strings.Split(header, ",")[0], "t=")
	if !strings.HasPrefix(header, ts+",v1=") || len(header) != len(ts+",v1=")+64 {
		t.Fatalf("Sign = %q; want t=<unix>,v1=<64 hex digits>", header)
	}
	v1 := strings.Split(header, "v1=")[1]
	other := webhooks.Sign("whsec_other", now, body)
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		ok     bool
	}{
		{"valid", secret, header, body, true},
		{"signed 4 minutes ago", secret, webhooks.Sign(secret, now.Add(-4*time.Minute), body), body, true},
		{"clock a bit behind", secret, webhooks.Sign(secret, now.Add(time.Minute), body), body, true},
		{"rotation: second v1 matches", secret, other + ",v1=" + v1, body, true},
		{"spaces after commas", secret, strings.ReplaceAll(header, ",", ", "), body, true},
		{"wrong secret", "whsec_wrong", header, body, false},
		{"body changed", secret, header, append(append([]byte(nil), body...), ' '), false},
		{"timestamp changed", secret, strings.Replace(header, ts, ts+"1", 1), body, false},
		{"too old", secret, webhooks.Sign(secret, now.Add(-6*time.Minute), body), body, false},
		{"from the future", secret, webhooks.Sign(secret, now.Add(6*time.Minute), body), body, false},
		{"empty header", secret, "", body, false},
		{"no v1", secret, ts, body, false},
		{"no t", secret, "v1=" + v1, body, false},
		{"v1 not hex", secret, ts + ",v1=zz", body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := client.VerifyWebhook(tc.secret, tc.header, tc.body, 0)
			if (err == nil) != tc.ok {
				t.Fatalf("VerifyWebhook = %v; want ok %v", err, tc.ok)
			}
		})
	}
}
