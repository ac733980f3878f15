package webhooks

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	const secret = "whsec_0123456789abcdef"
	body := []byte(`{"delivery_id":"wh_x","message":{"url":"https://example.com"}}`)
	at := time.Unix(1_800_000_000, 0)
	header := Sign(secret, at, body)
	if !strings.HasPrefix(header, "t=1800000000,v1=") || len(header) != len("t=1800000000,v1=")+64 {
		t.Fatalf("Sign = %q; want t=<unix>,v1=<64 hex digits>", header)
	}
	other := Sign("whsec_other", at, body)
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, header, body, at, nil},
		{"valid within tolerance", secret, header, body, at.Add(4 * time.Minute), nil},
		{"clock a bit behind", secret, header, body, at.Add(-time.Minute), nil},
		{"rotation: second v1 matches", secret, other + ",v1=" + strings.Split(header, "v1=")[1], body, at, nil},
		{"spaces after commas", secret, strings.ReplaceAll(header, ",", ", "), body, at, nil},
		{"wrong secret", "whsec_wrong", header, body, at, ErrBadSignature},
		{"body changed", secret, header, append([]byte(nil), append(body, ' ')...), at, ErrBadSignature},
		{"timestamp changed", secret, strings.Replace(header, "t=1800000000", "t=1800000001", 1), body, at, ErrBadSignature},
		{"too old", secret, header, body, at.Add(6 * time.Minute), ErrStaleSignature},
		{"from the future", secret, header, body, at.Add(-6 * time.Minute), ErrStaleSignature},
		{"empty header", secret, "", body, at, ErrNoSignature},
		{"no v1", secret, "t=1800000000", body, at, ErrNoSignature},
		{"no t", secret, "v1=" + strings.Split(header, "v1=")[1], body, at, ErrNoSignature},
		{"v1 not hex", secret, "t=1800000000,v1=zz", body, at, ErrNoSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyAt(tc.secret, tc.header, tc.body, 0, tc.now)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("verify = %v; want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyUsesTheCurrentTime(t *testing.T) {
	body := []byte(`{}`)
	if err := Verify("s", Sign("s", time.Now(), body), body, time.Minute); err != nil {
		t.Fatalf("Verify(fresh) = %v", err)
	}
	if err := Verify("s", Sign("s", time.Now().Add(-2*time.Minute), body), body, time.Minute); !errors.Is(err, ErrStaleSignature) {
		t.Fatalf("Verify(2 minutes old, tolerance 1m) = %v; want ErrStaleSignature", err)
	}
}
