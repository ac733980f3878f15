package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Webhook request headers, as a receiver of a widget's webhook calls sees
// them.
const (
	// WebhookSignatureHeader is "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>" keyed with the widget's webhook secret>".
	WebhookSignatureHeader = "X-Tidings-Signature"
	// WebhookDeliveryHeader is the delivery id, the same on every attempt:
	// deduplicate on it.
	WebhookDeliveryHeader = "X-Tidings-Delivery"
	// WebhookAttemptHeader is the attempt number, from 1.
	WebhookAttemptHeader = "X-Tidings-Attempt"
)

// ErrWebhookSignature is returned by [VerifyWebhook] for a request that was
// not signed with the secret, was altered, or is outside the tolerance.
var ErrWebhookSignature = errors.New("tidings: webhook signature is not valid")

// VerifyWebhook checks that a webhook request comes from the Tidings server
// that holds secret (the widget's [Widget.WebhookSecret]): header is the
// request's X-Tidings-Signature value and body its raw body, read before
// any decoding. A signature made more than tolerance before or after now is
// refused, so a captured request cannot be replayed later; tolerance 0
// means 5 minutes. Any of several v1 values may match.
func VerifyWebhook(secret, header string, body []byte, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrWebhookSignature
	}
	if age := time.Since(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return ErrWebhookSignature
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrWebhookSignature
}
