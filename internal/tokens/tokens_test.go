package tokens

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUserToken(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	s := NewSigner([]byte("secret-one"), clock)
	other := NewSigner([]byte("secret-two"), clock)
	tok := s.UserToken(15, "42", time.Hour)

	tests := []struct {
		name    string
		signer  *Signer
		token   string
		advance time.Duration
		wantErr error
	}{
		{"valid", s, tok, 0, nil},
		{"expired", s, tok, 2 * time.Hour, ErrExpired},
		{"other secret", other, tok, 0, ErrSignature},
		{"altered user", s, strings.Replace(tok, ".42.", ".43.", 1), 0, ErrSignature},
		{"altered stream", s, "16" + tok[2:], 0, ErrSignature},
		{"garbage", s, "not-a-token", 0, ErrMalformed},
		{"empty", s, "", 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Unix(1_700_000_000, 0).Add(tc.advance)
			u, err := tc.signer.VerifyUser(tc.token)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("VerifyUser err = %v; want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && (u.StreamID != 15 || u.UserID != "42") {
				t.Fatalf("got %+v; want stream 15 user 42", u)
			}
		})
	}
}

func TestAccessToken(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	s := NewSigner([]byte("k"), clock)
	other := NewSigner([]byte("other"), clock)
	tok, exp := s.AccessToken("acct_1", "key_abc", 10*time.Second)
	if !IsAccessToken(tok) {
		t.Fatalf("IsAccessToken(%q) = false", tok)
	}
	if want := now.Add(10 * time.Second); !exp.Equal(want) {
		t.Fatalf("expiry %v; want %v", exp, want)
	}
	// Mid-second, the expiry rounds up: never less than the ttl asked for.
	now = now.Add(900 * time.Millisecond)
	if _, late := s.AccessToken("acct_1", "key_abc", time.Second); late.Sub(now) < time.Second {
		t.Fatalf("1s token minted at %v expires at %v; want at least 1s later", now, late)
	}
	now = time.Unix(1_700_000_000, 0)
	// Re-signing another key's id under the same account must not verify.
	parts := strings.Split(strings.TrimPrefix(tok, "tda_"), ".")
	otherKey := "tda_" + parts[0] + "." + b64.EncodeToString([]byte("key_other")) + "." + parts[2] + "." + parts[3]
	// A token of the old form (account and expiry only) names no key.
	keyless := "tda_" + s.sign("a1", parts[0], parts[2])

	tests := []struct {
		name    string
		signer  *Signer
		token   string
		advance time.Duration
		wantErr error
	}{
		{"valid", s, tok, 0, nil},
		{"expired", s, tok, 11 * time.Second, ErrExpired},
		{"other secret", other, tok, 0, ErrSignature},
		{"altered mac", s, tok[:len(tok)-2] + "AA", 0, ErrSignature},
		{"altered key id", s, otherKey, 0, ErrSignature},
		{"keyless old form", s, keyless, 0, ErrMalformed},
		{"garbage", s, "tda_nope", 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Unix(1_700_000_000, 0).Add(tc.advance)
			a, err := tc.signer.VerifyAccess(tc.token)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("VerifyAccess err = %v; want %v", err, tc.wantErr)
			}
			if (tc.wantErr == nil || tc.wantErr == ErrExpired) && (a.Account != "acct_1" || a.KeyID != "key_abc") {
				t.Fatalf("VerifyAccess = %+v; want account acct_1, key key_abc", a)
			}
		})
	}
}

func TestEventID(t *testing.T) {
	s := NewSigner([]byte("k"), nil)
	tag := s.ResumeTag(7, "1234")
	tests := []struct {
		name     string
		id       string
		wantUser string
		wantSeq  uint64
		wantErr  error
	}{
		{"valid", tag + "-99", "1234", 99, nil},
		{"seq zero", tag + "-0", "1234", 0, nil},
		{"other user", strings.Replace(tag, "1234", "1235", 1) + "-99", "", 0, ErrSignature},
		{"other stream", s.ResumeTag(8, "1234") + "-99", "", 0, ErrSignature},
		{"no seq", tag, "", 0, ErrMalformed},
		{"bad seq", tag + "-x", "", 0, ErrMalformed},
		{"plain number", "99", "", 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user, seq, err := s.ParseEventID(7, tc.id)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v; want %v", err, tc.wantErr)
			}
			if user != tc.wantUser || seq != tc.wantSeq {
				t.Fatalf("got %q %d; want %q %d", user, seq, tc.wantUser, tc.wantSeq)
			}
		})
	}
}
