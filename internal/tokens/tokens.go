// Package tokens owns the server-signed credentials Tidings hands out:
// subscriber tokens (which authenticate publishes), access tokens (short-lived
// stand-ins for the application key that minted them, and revoked with it) and resume tags (which bind an SSE event
// id to one user so Last-Event-ID cannot be used to take over an identity).
//
// All are HMAC-SHA256 over a purpose-prefixed payload with one secret shared
// by every node through the engine. Nothing is stored per token; an access
// token names its minting key so that deleting the key revokes it.
package tokens

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors returned by the verifiers.
var (
	ErrMalformed = errors.New("tokens: malformed")
	ErrSignature = errors.New("tokens: bad signature")
	ErrExpired   = errors.New("tokens: expired")
)

const (
	purposeUser   = "u1"
	purposeAccess = "a2" // a1 tokens named no key and are refused
	purposeResume = "r1"
	macLen        = 18 // bytes of HMAC kept: 144 bits
)

var b64 = base64.RawURLEncoding

// Signer signs and verifies tokens with one secret.
type Signer struct {
	secret []byte
	now    func() time.Time
}

// NewSigner returns a Signer. now may be nil (time.Now).
func NewSigner(secret []byte, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: append([]byte(nil), secret...), now: now}
}

func (s *Signer) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, s.secret)
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return h.Sum(nil)[:macLen]
}

// sign returns "<payload>.<mac>" where payload is the dot-joined fields.
func (s *Signer) sign(purpose string, fields ...string) string {
	payload := strings.Join(fields, ".")
	return payload + "." + b64.EncodeToString(s.mac(append([]string{purpose}, fields...)...))
}

// open verifies a token of n fields and returns them.
func (s *Signer) open(purpose, tok string, n int) ([]string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != n+1 {
		return nil, ErrMalformed
	}
	got, err := b64.DecodeString(parts[n])
	if err != nil {
		return nil, ErrMalformed
	}
	if !hmac.Equal(got, s.mac(append([]string{purpose}, parts[:n]...)...)) {
		return nil, ErrSignature
	}
	return parts[:n], nil
}

// User is what a subscriber token proves.
type User struct {
	StreamID int64
	UserID   string
	Expires  time.Time
}

// UserToken mints a token for userID on stream, valid for ttl.
func (s *Signer) UserToken(stream int64, userID string, ttl time.Duration) string {
	exp := s.now().Add(ttl).Unix()
	return s.sign(purposeUser, strconv.FormatInt(stream, 10), userID, strconv.FormatInt(exp, 36))
}

// VerifyUser checks a subscriber token. An expired token returns the user
// and ErrExpired.
func (s *Signer) VerifyUser(tok string) (User, error) {
	f, err := s.open(purposeUser, tok, 3)
	if err != nil {
		return User{}, err
	}
	stream, err1 := strconv.ParseInt(f[0], 10, 64)
	exp, err2 := strconv.ParseInt(f[2], 36, 64)
	if err1 != nil || err2 != nil {
		return User{}, ErrMalformed
	}
	u := User{StreamID: stream, UserID: f[1], Expires: time.Unix(exp, 0)}
	if !s.now().Before(u.Expires) {
		return u, ErrExpired
	}
	return u, nil
}

// Access is what an access token proves: the account it acts for and the
// application key that minted it. The key is what makes the token
// revocable: whoever verifies it must also check that the key still exists.
type Access struct {
	Account string
	KeyID   string
	Expires time.Time
}

// AccessToken mints a short-lived token for account, minted by the
// application key keyID, prefixed "tda_". The expiry, kept in whole
// seconds, is rounded up: a token is never valid for less than ttl.
func (s *Signer) AccessToken(account, keyID string, ttl time.Duration) (string, time.Time) {
	exp := s.now().Add(ttl + time.Second - 1).Truncate(time.Second)
	return "tda_" + s.sign(purposeAccess,
		b64.EncodeToString([]byte(account)), b64.EncodeToString([]byte(keyID)), strconv.FormatInt(exp.Unix(), 36)), exp
}

// IsAccessToken reports whether tok looks like an access token (as opposed to
// an application key).
func IsAccessToken(tok string) bool { return strings.HasPrefix(tok, "tda_") }

// VerifyAccess checks an access token's signature and expiry. An expired
// token returns what it proves and ErrExpired. It does not check that the
// minting key still exists: that needs the key store (package accounts).
func (s *Signer) VerifyAccess(tok string) (Access, error) {
	f, err := s.open(purposeAccess, strings.TrimPrefix(tok, "tda_"), 3)
	if err != nil {
		return Access{}, err
	}
	acct, err1 := b64.DecodeString(f[0])
	key, err2 := b64.DecodeString(f[1])
	exp, err3 := strconv.ParseInt(f[2], 36, 64)
	if err1 != nil || err2 != nil || err3 != nil || len(acct) == 0 || len(key) == 0 {
		return Access{}, ErrMalformed
	}
	a := Access{Account: string(acct), KeyID: string(key), Expires: time.Unix(exp, 0)}
	if !s.now().Before(a.Expires) {
		return a, ErrExpired
	}
	return a, nil
}

// ResumeTag binds a user to a stream for event ids: "<user>.<mac>". It is
// computed once per subscription; each event id is the tag, "-", and the
// engine sequence, so an altered sequence only changes what the same user
// replays, and a different user needs a tag only the server can make.
func (s *Signer) ResumeTag(stream int64, userID string) string {
	return userID + "." + b64.EncodeToString(s.mac(purposeResume, strconv.FormatInt(stream, 10), userID))
}

// ParseEventID splits and verifies an event id made from ResumeTag. It
// returns the user and the sequence.
func (s *Signer) ParseEventID(stream int64, id string) (userID string, seq uint64, err error) {
	dash := strings.LastIndexByte(id, '-')
	if dash < 0 {
		return "", 0, ErrMalformed
	}
	seq, err = strconv.ParseUint(id[dash+1:], 10, 64)
	if err != nil {
		return "", 0, ErrMalformed
	}
	tag := id[:dash]
	dot := strings.IndexByte(tag, '.')
	if dot <= 0 {
		return "", 0, ErrMalformed
	}
	userID = tag[:dot]
	if !hmac.Equal([]byte(tag), []byte(s.ResumeTag(stream, userID))) {
		return "", 0, ErrSignature
	}
	return userID, seq, nil
}
