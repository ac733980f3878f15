package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout is the overall timeout of the HTTP client that [New] uses
// for non-streaming requests when no [WithHTTPClient] option is given.
// Streaming requests ([Client.Subscribe]) never have a client timeout; they
// are bounded by their context only.
const DefaultTimeout = 30 * time.Second

// maxBodySize caps how much of a non-streaming response body is read.
const maxBodySize = 32 << 20

// Client talks to one Tidings server. Create it with [New]. A Client is
// immutable after creation and safe for concurrent use.
type Client struct {
	baseURL    string
	apiKey     string
	httpClient *http.Client
	// streamClient is httpClient without its Timeout, for SSE.
	streamClient *http.Client
}

// Option configures a [Client] in [New].
type Option func(*Client)

// WithAPIKey sets the key sent as "Authorization: Bearer <key>" on every
// management (/v1) request. The key may be an app key ("tdk_..."), an
// account key, an admin key or an access token. Channel requests
// (subscribe and publish) never carry it.
func WithAPIKey(key string) Option {
	return func(c *Client) { c.apiKey = key }
}

// WithHTTPClient makes the Client use hc for all requests. For streaming
// subscriptions a shallow copy of hc with Timeout set to zero is used, so
// that a client-wide timeout cannot cut a live stream. A nil hc is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// New returns a Client for the server at baseURL (for example
// "http://127.0.0.1:8080"); a trailing slash is ignored. New does no I/O
// and never fails; an unusable baseURL surfaces as an error on the first
// request.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{
		baseURL:    strings.TrimRight(baseURL, "/"),
		httpClient: &http.Client{Timeout: DefaultTimeout},
	}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	sc := *c.httpClient
	sc.Timeout = 0
	c.streamClient = &sc
	return c
}

// BaseURL returns the server URL the Client was created with, without a
// trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// Error is the error returned for every API response that is not a
// success: a non-2xx HTTP status, or a 2xx whose JSON body carries a
// non-2xx "code". Status is the HTTP status code; Code and Message come
// from the JSON body {"code":<int>,"message":"<text>"} (when the body is
// not such JSON, Code is Status and Message is the body text or the
// status text). Header holds the response headers.
type Error struct {
	Status  int
	Code    int
	Message string
	Header  http.Header
}

// Error returns "tidings: <code> <message>".
func (e *Error) Error() string {
	return fmt.Sprintf("tidings: %d %s", e.Code, e.Message)
}

// IsStatus reports whether err is, or wraps, an [*Error] whose API code
// equals code, or whose HTTP status equals code and is not a 2xx status.
func IsStatus(err error, code int) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == code || (e.Status == code && (code < 200 || code > 299))
}

// IsAccessTokenExpired reports whether err is, or wraps, an [*Error] that
// the server marked as caused by an expired access token (status 403 with
// header "X-Access-Token-Expired: true").
func IsAccessTokenExpired(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusForbidden &&
		strings.EqualFold(e.Header.Get("X-Access-Token-Expired"), "true")
}

// apiResponse is the common JSON response body.
type apiResponse struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// newError builds an *Error from a failed response and its body.
func newError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, Header: resp.Header}
	var r apiResponse
	if json.Unmarshal(body, &r) == nil && (r.Code != 0 || r.Message != "") {
		e.Code, e.Message = r.Code, r.Message
		if e.Code == 0 {
			e.Code = resp.StatusCode
		}
		return e
	}
	e.Code = resp.StatusCode
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "..."
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// call describes one non-streaming API request.
type call struct {
	method string
	path   string     // absolute path, e.g. "/v1/streams"
	query  url.Values // optional
	header http.Header
	body   any  // JSON-encoded when non-nil
	noAuth bool // do not send the API key
	out    any  // "data" is decoded into it when non-nil
}

// url returns the absolute URL for path and query.
func (c *Client) url(path string, query url.Values) string {
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// do performs a non-streaming request and decodes the "data" member of
// a successful response into cl.out.
func (c *Client) do(ctx context.Context, cl call) error {
	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("tidings: encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.url(cl.path, cl.query), body)
	if err != nil {
		return fmt.Errorf("tidings: %w", err)
	}
	for k, vs := range cl.header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !cl.noAuth && c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("tidings: %s %s: %w", cl.method, cl.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBodySize))
	if err != nil {
		return fmt.Errorf("tidings: reading response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newError(resp, raw)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var r apiResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("tidings: decoding response: %w", err)
	}
	if r.Code != 0 && (r.Code < 200 || r.Code > 299) {
		return newError(resp, raw)
	}
	if cl.out != nil && len(r.Data) > 0 && string(r.Data) != "null" {
		if err := json.Unmarshal(r.Data, cl.out); err != nil {
			return fmt.Errorf("tidings: decoding response data: %w", err)
		}
	}
	return nil
}
