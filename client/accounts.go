package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Account is a tenant of the server. Accounts are managed with the admin
// key.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// CreatedAccount is the result of [Client.CreateAccount]: the new account
// and its first API key. The key is shown only once.
type CreatedAccount struct {
	Account Account `json:"account"`
	Key     string  `json:"key"`
}

// AppKey is an API key of an account. Key (the secret, "tdk_...") is set
// only in the result of [Client.CreateKey]; listings carry only Prefix.
type AppKey struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Key       string    `json:"key,omitempty"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
}

// AccessToken is a short-lived bearer token minted from an API key.
// Pass Token to [WithAPIKey] to use it. Once expired, the server answers
// 403 and [IsAccessTokenExpired] reports true for the error.
type AccessToken struct {
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expires_at"`
	ExpirySeconds int       `json:"expiry_seconds"`
}

// CreateAccount creates an account (POST /v1/accounts; admin key only)
// and returns it together with its first API key.
func (c *Client) CreateAccount(ctx context.Context, name string) (*CreatedAccount, error) {
	var a CreatedAccount
	body := struct {
		Name string `json:"name"`
	}{name}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/accounts", body: body, out: &a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// ListAccounts returns all accounts (GET /v1/accounts; admin key only).
// An empty list is returned as a nil slice.
func (c *Client) ListAccounts(ctx context.Context) ([]Account, error) {
	var as []Account
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/accounts", out: &as}); err != nil {
		return nil, err
	}
	return as, nil
}

// CreateKey creates an API key for the caller's account (POST /v1/keys).
// The result's Key field holds the secret, which is shown only once.
// name may be empty.
func (c *Client) CreateKey(ctx context.Context, name string) (*AppKey, error) {
	var k AppKey
	body := struct {
		Name string `json:"name"`
	}{name}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/keys", body: body, out: &k}); err != nil {
		return nil, err
	}
	return &k, nil
}

// ListKeys returns the caller's account keys without their secrets
// (GET /v1/keys). An empty list is returned as a nil slice.
func (c *Client) ListKeys(ctx context.Context) ([]AppKey, error) {
	var ks []AppKey
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/keys", out: &ks}); err != nil {
		return nil, err
	}
	return ks, nil
}

// DeleteKey revokes the key with the given id (DELETE /v1/keys/{id}).
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/keys/" + url.PathEscape(id)})
}

// CreateAccessToken mints an access token valid for expirySeconds
// (POST /v1/keys/accesstoken). expirySeconds <= 0 leaves the lifetime to
// the server's default.
func (c *Client) CreateAccessToken(ctx context.Context, expirySeconds int) (*AccessToken, error) {
	var t AccessToken
	body := struct {
		ExpirySeconds int `json:"expiry_seconds,omitempty"`
	}{max(expirySeconds, 0)}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/keys/accesstoken", body: body, out: &t}); err != nil {
		return nil, err
	}
	return &t, nil
}
