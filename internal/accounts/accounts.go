package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/store"
	"github.com/tidings/tidings/internal/tokens"
)

// AdminID is the operator's account, which may create other accounts.
const AdminID = "admin"

// Account is a tenant.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Key describes an application key; the secret itself is shown only once.
type Key struct {
	ID        string    `json:"id"`
	Account   string    `json:"-"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
}

type keyRecord struct {
	Key
	Account string `json:"account"`
}

// Principal is who a management call acts for.
type Principal struct {
	Account string
	// Actor is what created_by and updated_by record: the id of the
	// application key used ("key_…"), also when it was used through an
	// access token it minted. Changes the server makes on its own (the
	// demo) record the account id instead.
	Actor string
	// KeyID is the application key used, directly or through an access
	// token it minted.
	KeyID string
	// AccessToken is set when the credential was an access token rather
	// than the application key itself.
	AccessToken bool
}

// Errors returned by Authenticate and AccessToken.
var (
	ErrNoCredentials = fault.New(fault.ErrUnauthorized, "missing credentials: send Authorization: Bearer <application key or access token>")
	ErrBadCredential = fault.New(fault.ErrUnauthorized, "invalid application key or access token")
	ErrTokenExpired  = fault.New(fault.ErrForbidden, "access token expired: mint a new one with POST /v1/keys/accesstoken")
	// ErrKeyRevoked: the access token is genuine but the application key
	// that minted it has been deleted, which revokes its tokens too.
	ErrKeyRevoked = fault.New(fault.ErrUnauthorized, "access token revoked: the application key that minted it has been deleted")
	// ErrMintNeedsKey: only an application key may mint access tokens, so
	// a token cannot renew itself past its key's life.
	ErrMintNeedsKey = fault.New(fault.ErrForbidden, "access tokens can only be minted with an application key, not with another access token")
)

// Config holds the Service's dependencies.
type Config struct {
	Accounts store.Bucket // key = account id
	Keys     store.Bucket // key = "k." + sha256(secret); "i." + key id → hash
	Signer   *tokens.Signer
	Now      func() time.Time
}

// Service manages accounts and credentials.
type Service struct {
	accounts store.Bucket
	keys     store.Bucket
	signer   *tokens.Signer
	now      func() time.Time
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{accounts: cfg.Accounts, keys: cfg.Keys, signer: cfg.Signer, now: cfg.Now}
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return idEncoding.EncodeToString(b)
}

func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// EnsureAdmin creates the admin account if missing and, when apiKey is not
// empty, registers it as an admin application key. Safe on every start and
// on every node.
func (s *Service) EnsureAdmin(ctx context.Context, apiKey string) error {
	acct, _ := json.Marshal(Account{ID: AdminID, Name: "admin", CreatedAt: s.now().UTC()})
	if _, err := s.accounts.Create(ctx, AdminID, acct); err != nil && !errors.Is(err, store.ErrExists) {
		return fmt.Errorf("accounts: admin: %w", err)
	}
	if apiKey == "" {
		return nil
	}
	if len(apiKey) < 16 {
		return errors.New("accounts: TIDINGS_API_KEY must be at least 16 characters")
	}
	_, err := s.storeKey(ctx, AdminID, "TIDINGS_API_KEY", apiKey)
	if errors.Is(err, store.ErrExists) {
		return nil
	}
	return err
}

// CreateAccount creates a tenant and its first application key.
func (s *Service) CreateAccount(ctx context.Context, name string) (Account, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return Account{}, "", fault.New(fault.ErrInvalid, "name is required (at most 200 bytes)")
	}
	a := Account{ID: "acct_" + randomID(8), Name: name, CreatedAt: s.now().UTC()}
	val, _ := json.Marshal(a)
	if _, err := s.accounts.Create(ctx, a.ID, val); err != nil {
		return Account{}, "", fmt.Errorf("accounts: create: %w", err)
	}
	_, k, err := s.CreateKey(ctx, a.ID, "first key")
	if err != nil {
		return Account{}, "", err
	}
	return a, k, nil
}

// Accounts lists every account, oldest first (for the operator).
func (s *Service) Accounts(ctx context.Context) ([]Account, error) {
	entries, err := s.accounts.Entries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Account, 0, len(entries))
	for _, e := range entries {
		var a Account
		if json.Unmarshal(e.Value, &a) == nil {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// Keys lists account's application keys (without their secrets).
func (s *Service) Keys(ctx context.Context, account string) ([]Key, error) {
	entries, err := s.keys.Entries(ctx)
	if err != nil {
		return nil, err
	}
	out := []Key{}
	for _, e := range entries {
		var k keyRecord
		if strings.HasPrefix(e.Key, "k.") && json.Unmarshal(e.Value, &k) == nil && k.Account == account {
			out = append(out, k.Key)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// DeleteKey revokes one of account's application keys.
func (s *Service) DeleteKey(ctx context.Context, account, id string) error {
	notFound := fault.Errorf(fault.ErrNotFound, "key %s not found", id)
	e, err := s.keys.Get(ctx, "i."+id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	h := string(e.Value)
	ke, err := s.keys.Get(ctx, "k."+h)
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	var k keyRecord
	if err := json.Unmarshal(ke.Value, &k); err != nil || k.Account != account {
		return notFound
	}
	if _, err := s.keys.Delete(ctx, "k."+h); err != nil {
		return err
	}
	_, err = s.keys.Delete(ctx, "i."+id)
	return err
}

// CreateKey mints a new application key for account and returns it with
// its secret, which is not kept and cannot be shown again.
func (s *Service) CreateKey(ctx context.Context, account, name string) (Key, string, error) {
	if len(name) > 200 {
		return Key{}, "", fault.New(fault.ErrInvalid, "name is longer than 200 bytes")
	}
	secret := "tdk_" + randomID(20)
	k, err := s.storeKey(ctx, account, name, secret)
	if err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

func (s *Service) storeKey(ctx context.Context, account, name, secret string) (Key, error) {
	h := hashKey(secret)
	k := keyRecord{Account: account, Key: Key{ID: "key_" + h[:12], Name: name, Prefix: secret[:min(8, len(secret))], CreatedAt: s.now().UTC()}}
	val, _ := json.Marshal(k)
	if _, err := s.keys.Create(ctx, "k."+h, val); err != nil {
		return Key{}, err
	}
	if _, err := s.keys.Put(ctx, "i."+k.ID, []byte(h)); err != nil {
		return Key{}, err
	}
	return k.Key, nil
}

// Authenticate resolves a bearer credential: an application key or an
// access token. An access token is valid only while the application key
// that minted it exists (ErrKeyRevoked otherwise); like an application key
// it is checked against the replicated keys bucket, so a deletion on one
// node is in force on all of them.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if bearer == "" {
		return Principal{}, ErrNoCredentials
	}
	if tokens.IsAccessToken(bearer) {
		a, err := s.signer.VerifyAccess(bearer)
		switch {
		case errors.Is(err, tokens.ErrExpired):
			return Principal{}, ErrTokenExpired
		case err != nil:
			return Principal{}, ErrBadCredential
		}
		k, err := s.keyByID(ctx, a.KeyID)
		if errors.Is(err, store.ErrNotFound) || err == nil && k.Account != a.Account {
			return Principal{}, ErrKeyRevoked
		}
		if err != nil {
			return Principal{}, err
		}
		return Principal{Account: k.Account, Actor: k.ID, KeyID: k.ID, AccessToken: true}, nil
	}
	e, err := s.keys.Get(ctx, "k."+hashKey(bearer))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrBadCredential
	}
	if err != nil {
		return Principal{}, err
	}
	var k keyRecord
	if err := json.Unmarshal(e.Value, &k); err != nil {
		return Principal{}, fmt.Errorf("accounts: decode key: %w", err)
	}
	return Principal{Account: k.Account, Actor: k.ID, KeyID: k.ID}, nil
}

// keyByID returns the key record with id, or store.ErrNotFound. Both the
// id index and the key itself must exist: DeleteKey removes the key first.
func (s *Service) keyByID(ctx context.Context, id string) (keyRecord, error) {
	e, err := s.keys.Get(ctx, "i."+id)
	if err != nil {
		return keyRecord{}, err
	}
	ke, err := s.keys.Get(ctx, "k."+string(e.Value))
	if err != nil {
		return keyRecord{}, err
	}
	var k keyRecord
	if err := json.Unmarshal(ke.Value, &k); err != nil {
		return keyRecord{}, fmt.Errorf("accounts: decode key %s: %w", id, err)
	}
	if k.ID != id {
		return keyRecord{}, store.ErrNotFound
	}
	return k, nil
}

// AccessToken mints a token for p valid for expiry (1s to 24h). p must have
// authenticated with an application key (else ErrMintNeedsKey); the token
// names that key and dies with it.
func (s *Service) AccessToken(p Principal, expiry time.Duration) (string, time.Time, error) {
	if p.AccessToken {
		return "", time.Time{}, ErrMintNeedsKey
	}
	if expiry < time.Second || expiry > 24*time.Hour {
		return "", time.Time{}, fault.New(fault.ErrInvalid, "expiry_seconds must be between 1 and 86400")
	}
	tok, exp := s.signer.AccessToken(p.Account, p.KeyID, expiry)
	return tok, exp, nil
}
