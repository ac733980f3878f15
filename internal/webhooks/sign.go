package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Headers of every webhook request.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>": the
	// HMAC, keyed with the widget's webhook secret, of "<t>.<body>".
	SignatureHeader = "X-Tidings-Signature"
	// DeliveryHeader carries the delivery id, the same on every attempt:
	// receivers deduplicate on it.
	DeliveryHeader = "X-Tidings-Delivery"
	// AttemptHeader carries the attempt number, from 1.
	AttemptHeader = "X-Tidings-Attempt"
)

// Sign returns the SignatureHeader value for body signed at t with secret.
// Each attempt is signed anew, so its timestamp is current. Receivers check
// it with client.VerifyWebhook (public, so they can import it).
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
