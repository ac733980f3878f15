package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
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

// Errors Verify returns.
var (
	ErrNoSignature    = errors.New("webhooks: no usable signature header")
	ErrBadSignature   = errors.New("webhooks: signature does not match")
	ErrStaleSignature = errors.New("webhooks: signature timestamp outside the tolerance")
)

// Sign returns the SignatureHeader value for body signed at t with secret.
// Each attempt is signed anew, so its timestamp is current.
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

// Verify checks a webhook request as its receiver: header is the
// X-Tidings-Signature value, body the raw request body (read it before
// decoding; any change breaks the signature), secret the widget's webhook
// secret. A signature older or newer than tolerance is refused, so a
// captured request cannot be replayed later; tolerance 0 means 5 minutes.
// It returns nil, ErrNoSignature, ErrBadSignature or ErrStaleSignature.
//
// Several v1 entries may appear (one per secret while a secret is being
// rotated); one match is enough.
func Verify(secret, header string, body []byte, tolerance time.Duration) error {
	return verifyAt(secret, header, body, tolerance, time.Now())
}

func verifyAt(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStaleSignature
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrBadSignature
}
